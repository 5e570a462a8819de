/**
 * The app synthesized once with its cdk-nag checks and real bundling: the AWS Solutions checks
 * leave no finding unacknowledged, and the local esbuild really produces both bundles.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookStack } from '../infra/stack.ts';
import { functionWithEnvironment, synthesizeApp } from './support/cdk-template.ts';

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    violations: {
      ruleName: string;
      severity: string;
      violatingConstructs: { constructPath: string }[];
    }[];
  }[];
}

let outdir: string;
let stack: WebhookStack;
let synthesisError: unknown;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'datasaur-webhooks-synth-'));
  const synthesized = synthesizeApp({}, { bundle: true, outdir });
  stack = synthesized.stack;
  try {
    synthesized.app.synth();
  } catch (error) {
    // Kept for the assertions below, which say what failed more clearly than the throw.
    synthesisError = error;
  }
});

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

describe('cdk-nag AwsSolutions checks', () => {
  it('report no finding that is not acknowledged in code', () => {
    const report = JSON.parse(
      readFileSync(join(outdir, 'validation-report.json'), 'utf8'),
    ) as ValidationReport;
    const findings = report.pluginReports.flatMap((plugin) =>
      plugin.violations.flatMap((violation) =>
        violation.violatingConstructs.map(
          (construct) =>
            `${plugin.pluginName} ${violation.severity} ${violation.ruleName} at ${construct.constructPath}`,
        ),
      ),
    );
    expect(findings).toEqual([]);
    expect(synthesisError).toBeUndefined();
  });
});

describe('function bundles', () => {
  const bundleOf = (environmentVariable: string): { code: string; files: string[] } => {
    const fn = functionWithEnvironment(Template.fromStack(stack), environmentVariable);
    const objectKey = (fn.Properties.Code as { S3Key: string }).S3Key;
    const assetDirectory = join(outdir, `asset.${objectKey.replace(/\.zip$/, '')}`);
    return {
      code: readFileSync(join(assetDirectory, 'index.mjs'), 'utf8'),
      files: readdirSync(assetDirectory).sort(),
    };
  };

  it.each([
    ['ingest', 'WEBHOOK_SECRET_ARN'],
    ['worker', 'WORKER_CONCURRENCY'],
    ['exporter', 'DATASAUR_CREDENTIALS_SECRET_ARN'],
  ])('builds the %s as one minified ES module with its source map', (_name, variable) => {
    const { code, files } = bundleOf(variable);
    expect(files).toEqual(['index.mjs', 'index.mjs.map']);
    expect(code.startsWith("import { createRequire as __createRequire } from 'node:module';")).toBe(
      true,
    );
    expect(code).toMatch(/export\s*\{[^}]*\bhandler\b[^}]*\}/);
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
    // Minified: long lines (line breaks survive only inside template literals), where
    // unminified code averages a few dozen characters per line.
    expect(code.length / code.split('\n').length).toBeGreaterThan(1_000);
  });
});
