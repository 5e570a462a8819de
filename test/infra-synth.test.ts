/**
 * The app synthesized once with its cdk-nag checks and real bundling: the AWS Solutions checks
 * leave no finding unacknowledged, and the local esbuild really produces both bundles.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookStack } from '../infra/stack.ts';
import { coldStartBudget } from '../scripts/bench/budgets.ts';
import { ENRICH_METRICS } from '../shared/enrich/enrich.ts';
import {
  environmentOf,
  functionWithEnvironment,
  functionWithService,
  synthesizeApp,
  validationReport,
} from './support/cdk-template.ts';

const ENRICH_VARIABLE = { service: ENRICH_METRICS.service };

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
    const findings = validationReport(outdir).pluginReports.flatMap((plugin) =>
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
  /** The function with this environment variable, or whose Powertools service this is. */
  const bundleOf = (
    selector: string | { readonly service: string },
  ): {
    code: string;
    files: string[];
    directory: string;
    entry: string;
    environment: Record<string, string>;
  } => {
    const template = Template.fromStack(stack);
    const fn =
      typeof selector === 'string'
        ? functionWithEnvironment(template, selector)
        : functionWithService(template, selector.service);
    const objectKey = (fn.Properties.Code as { S3Key: string }).S3Key;
    const assetDirectory = join(outdir, `asset.${objectKey.replace(/\.zip$/, '')}`);
    const variables = environmentOf(fn);
    return {
      code: readFileSync(join(assetDirectory, 'index.mjs'), 'utf8'),
      files: readdirSync(assetDirectory).sort(),
      directory: assetDirectory,
      entry: join(assetDirectory, 'index.mjs'),
      // References to other resources resolve only at deploy: any name will do here.
      environment: Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [
          name,
          typeof value === 'string' ? value : `deployed-${name.toLowerCase()}`,
        ]),
      ),
    };
  };

  /**
   * Imports a bundle in a new process of the Node.js running the tests (CI runs this file on
   * Node 24 too, Lambda's runtime), as Lambda does, and calls its handler with `event`.
   */
  const RESULT = 'handler answered: ';
  const loadAndCall = (variable: string, event: unknown) => {
    const { entry, environment } = bundleOf(variable);
    const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(entry).href)});
if (typeof handler !== 'function') throw new Error('no handler export');
const context = { awsRequestId: 'bundle-test', getRemainingTimeInMillis: () => 10000 };
process.stdout.write('\\n${RESULT}' + JSON.stringify(await handler(${JSON.stringify(event)}, context)));`;
    const result = spawnSync(process.execPath, ['--input-type=module', '--eval', script], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'bundle-test',
        AWS_SECRET_ACCESS_KEY: 'bundle-test',
        AWS_LAMBDA_FUNCTION_NAME: 'bundle-test',
        ...environment,
      },
    });
    // The handler's answer comes after whatever it logged or published on stdout.
    const answer = result.stdout.slice(result.stdout.lastIndexOf(RESULT) + RESULT.length);
    return { ...result, answer: JSON.parse(answer) as unknown };
  };

  it('loads the ingest bundle and answers a request for another path with 404, touching no AWS service', () => {
    const event = {
      version: '2.0',
      routeKey: 'ANY /webhooks/datasaur',
      rawPath: '/elsewhere',
      rawQueryString: '',
      headers: {},
      requestContext: {
        http: { method: 'POST', path: '/elsewhere', sourceIp: '203.0.113.7' },
        requestId: 'bundle-test',
        timeEpoch: 1_764_000_000_000,
      },
      body: '',
      isBase64Encoded: false,
    };
    const result = loadAndCall('WEBHOOK_SECRET_ARN', event);
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.answer).toMatchObject({ statusCode: 404 });
  });

  it.each([
    ['worker', 'WORKER_CONCURRENCY'],
    ['exporter', 'EXPORT_BUDGET_SECONDS'],
  ])('loads the %s bundle and handles an empty batch', (_name, variable) => {
    const result = loadAndCall(variable, { Records: [] });
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    expect(result.answer).toEqual({ batchItemFailures: [] });
  });

  it('loads the enrichment bundle, which reads its configuration and creates its clients at import', () => {
    // Import only: a pass needs the table and Datasaur (test/enrich-function.test.ts runs one).
    const result = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '--eval',
        `const { handler } = await import(${JSON.stringify(pathToFileURL(bundleOf(ENRICH_VARIABLE).entry).href)});
process.stdout.write('\\n' + typeof handler);`,
      ],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'eu-west-1',
          AWS_LAMBDA_FUNCTION_NAME: 'bundle-test',
          ...bundleOf(ENRICH_VARIABLE).environment,
        },
      },
    );
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n').pop()).toBe('function');
  });

  const FUNCTIONS = [
    ['ingest', 'WEBHOOK_SECRET_ARN'],
    ['worker', 'WORKER_CONCURRENCY'],
    ['exporter', 'EXPORT_BUDGET_SECONDS'],
    ['enrich', ENRICH_VARIABLE],
  ] as const;
  /** Every function of the default stack: the four with budgets and the hourly reconciler. */
  const EVERY_FUNCTION = [...FUNCTIONS, ['reconcile', 'RECONCILE_LOOKBACK_DAYS']] as const;

  it.each(FUNCTIONS)(
    'builds the %s as one minified ES module with its source map',
    (_name, variable) => {
      const { code, files } = bundleOf(variable);
      // What is loaded on first use (the SDK's event-stream serde; S3 in the ingest and the
      // worker, for claim-checked bodies) is bundled apart, under node_modules.
      expect(files).toEqual(['index.mjs', 'index.mjs.map', 'node_modules']);
      expect(
        code.startsWith("import { createRequire as __createRequire } from 'node:module';"),
      ).toBe(true);
      expect(code).toMatch(/export\s*\{[^}]*\bhandler\b[^}]*\}/);
      expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
      // Minified: long lines (line breaks survive only inside template literals), where
      // unminified code averages a few dozen characters per line.
      expect(code.length / code.split('\n').length).toBeGreaterThan(1_000);
    },
  );

  it.each(EVERY_FUNCTION)(
    'reads node:process, fs, http, https and crypto in the %s bundle through require, not their ES module facades',
    (_name, variable) => {
      // Node builds a built-in's facade by reading every property once: process's getters
      // compute the allowed flags and load the report module, and on Node 22+ http's
      // WebSocket getter loads Node's whole fetch (undici), 25-40 ms (infra/bundling/). The
      // packages bundled apart, loaded on first use, are built with the same aliases.
      const { code, directory } = bundleOf(variable);
      const firstUse = readdirSync(join(directory, 'node_modules'), { recursive: true })
        .map(String)
        .filter((file) => file.endsWith('.mjs'))
        .map((file) => readFileSync(join(directory, 'node_modules', file), 'utf8'));
      const builtIn = '["\'](?:node:)?(?:process|fs|fs\\/promises|http|https|crypto)["\']';
      for (const source of [code, ...firstUse]) {
        expect(source).not.toMatch(new RegExp(`from\\s*${builtIn}`));
        expect(source).not.toMatch(new RegExp(`import\\(\\s*${builtIn}\\s*\\)`));
      }
      expect(firstUse.length).toBeGreaterThan(0);
    },
  );

  it.each(EVERY_FUNCTION)(
    "imports the %s bundle without loading Node's fetch (undici), as Lambda's runtime would",
    (_name, variable) => {
      // Meaningful on Node 22+ (the CI runs this suite again on Node 24, Lambda's runtime),
      // where an ES module import of node:http loads undici through its WebSocket getter.
      const { entry, environment } = bundleOf(variable);
      const script = `require('node:http');
const before = new Set(process.moduleLoadList);
await import(${JSON.stringify(pathToFileURL(entry).href)});
process.stdout.write('\\n${RESULT}' + JSON.stringify(process.moduleLoadList.filter((name) => !before.has(name))));`;
      const result = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '--eval',
          `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
${script}`,
        ],
        {
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            AWS_REGION: 'eu-west-1',
            AWS_LAMBDA_FUNCTION_NAME: 'bundle-test',
            ...environment,
          },
        },
      );
      expect(result.stderr).not.toMatch(/Error/);
      const loaded = JSON.parse(
        result.stdout.slice(result.stdout.lastIndexOf(RESULT) + RESULT.length),
      ) as string[];
      expect(loaded.length).toBeGreaterThan(0);
      expect(loaded.filter((name) => /undici|http2|worker_threads/.test(name))).toEqual([]);
    },
  );

  it.each(FUNCTIONS)('keeps the %s bundle within its size budget', (name, variable) => {
    const { code } = bundleOf(variable);
    expect(Buffer.byteLength(code)).toBeLessThanOrEqual(coldStartBudget(name).bundleBytes);
  });

  it.each([
    ['ingest', 'WEBHOOK_SECRET_ARN'],
    ['worker', 'WORKER_CONCURRENCY'],
  ])(
    'ships the S3 client the %s loads on first use, resolvable from the bundle',
    async (_name, variable) => {
      const { code, directory } = bundleOf(variable);
      expect(code).toContain('import("@aws-sdk/client-s3")');
      // S3's service model (its namespace is in every S3 schema) is not in the bundle.
      expect(code).not.toContain('com.amazonaws.s3');
      const resolved = createRequire(join(directory, 'index.mjs')).resolve('@aws-sdk/client-s3');
      const s3 = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
      expect(Object.keys(s3)).toEqual(
        expect.arrayContaining(['S3Client', 'PutObjectCommand', 'GetObjectCommand']),
      );
    },
  );

  it.each(FUNCTIONS)(
    'bundles no AWS SDK client into the %s: its calls go through the light client',
    (_name, variable) => {
      const { code } = bundleOf(variable);
      // Every SDK client sends its x-amz-user-agent header; the light client does not.
      expect(code).not.toContain('x-amz-user-agent');
      expect(code).toContain('AWS4-HMAC-SHA256');
      // The S3 client of the rare paths is loaded on first use, from node_modules; the
      // exporter's uploads go through the light client too.
      expect(code).not.toContain('com.amazonaws.s3');
    },
  );

  it("signs the exporter's uploads for S3, with their payload's hash, and makes no other S3 call", () => {
    const { code } = bundleOf('EXPORT_BUDGET_SECONDS');
    for (const operation of [
      'PutObject',
      'CreateMultipartUpload',
      'UploadPart',
      'CompleteMultipartUpload',
      'AbortMultipartUpload',
    ]) {
      expect(code).toContain(`"${operation}"`);
    }
    expect(code).toContain('x-amz-content-sha256');
    for (const operation of ['GetObject', 'DeleteObject', 'ListObjectsV2']) {
      expect(code).not.toContain(operation);
    }
  });

  it.each(EVERY_FUNCTION.filter(([name]) => name === 'reconcile'))(
    "ships the SDK's event-stream serde apart from the %s bundle, where its import() finds it",
    (_name, variable) => {
      const { code, directory } = bundleOf(variable);
      expect(code).toContain('import("@smithy/core/event-streams")');
      // As the bundle's own import() would, from the bundle's directory (ESM resolution).
      const result = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '--eval',
          "const m = await import('@smithy/core/event-streams'); process.stdout.write(typeof m.EventStreamSerde + ' ' + typeof m.eventStreamSerdeProvider);",
        ],
        { cwd: directory, encoding: 'utf8', env: { PATH: process.env.PATH } },
      );
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('function function');
    },
  );
});
