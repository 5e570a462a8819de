/**
 * Each function's bundle as deployed: synthesizes the real stack (the local esbuild bundles
 * every function exactly as `cdk deploy` would), then measures each bundle's size and how
 * long a fresh `node` process takes to load it, next to an empty module as the floor.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { addWebhookStack } from '../../infra/stack.ts';
import { LOCAL_WEBHOOK_PATH_TOKEN } from '../local/defaults.ts';
import { median } from './measure.ts';

export interface BundleResult {
  readonly name: string;
  readonly bundleBytes: number;
  readonly sourceMapBytes: number;
  readonly loadMedianMs: number;
  readonly loadMinMs: number;
  readonly floorMedianMs: number;
  readonly floorMinMs: number;
  readonly overFloorMs: number;
}

interface FunctionAsset {
  readonly name: string;
  readonly directory: string;
}

/** Synthesizes the stack into `outdir` and returns each function's asset directory. */
function synthesizeFunctionAssets(outdir: string): FunctionAsset[] {
  // The CLI turns asset metadata on; an App created in code has to ask for it.
  const app = new App({
    outdir,
    // Any valid path token: the bundles do not depend on it.
    context: { 'aws:cdk:enable-asset-metadata': true, webhookPathToken: LOCAL_WEBHOOK_PATH_TOKEN },
  });
  const stack = addWebhookStack(app);
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as {
    Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
  };
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .flatMap(([logicalId, resource]) => {
      const assetPath = resource.Metadata?.['aws:asset:path'];
      if (assetPath === undefined) return [];
      const name = /Ingest/i.test(logicalId)
        ? 'ingest'
        : /Worker/i.test(logicalId)
          ? 'worker'
          : /Exporter/i.test(logicalId)
            ? 'exporter'
            : logicalId;
      return [{ name, directory: join(outdir, assetPath) }];
    });
}

/** Milliseconds a fresh `node` process spends importing `file`, measured inside it. */
function loadTime(file: string, environment: NodeJS.ProcessEnv): number {
  const script = `const t=performance.now();await import(${JSON.stringify(file)});console.log(performance.now()-t)`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: environment,
    encoding: 'utf8',
  });
  return Number(output.trim().split('\n').pop());
}

export function benchBundles(options: { runs: number }): BundleResult[] {
  const outdir = mkdtempSync(join(tmpdir(), 'bench-cdk-'));
  try {
    const assets = synthesizeFunctionAssets(outdir);
    const empty = join(outdir, 'empty.mjs');
    writeFileSync(empty, 'export {};\n');
    // What each entry reads at start-up; nothing is called, so no AWS is reached.
    const environment = {
      ...process.env,
      AWS_REGION: 'us-east-1',
      QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench',
      WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
      TABLE_NAME: 'bench',
      EVENT_BUS_NAME: 'default',
      EXPORT_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-exports',
      DATASAUR_CREDENTIALS_SECRET_ARN:
        'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-datasaur',
      ARCHIVE_BUCKET: 'bench-archive',
    };
    return assets.map(({ name, directory }) => {
      const files = readdirSync(directory);
      const bundle = files.find((file) => /^index\.m?js$/.test(file));
      if (bundle === undefined) throw new Error(`no bundle in ${directory}`);
      const bundlePath = join(directory, bundle);
      const map = files.find((file) => file.endsWith('.map'));
      const loads: number[] = [];
      const floors: number[] = [];
      for (let run = 0; run < options.runs; run++) {
        floors.push(loadTime(empty, environment));
        loads.push(loadTime(bundlePath, environment));
      }
      return {
        name,
        bundleBytes: statSync(bundlePath).size,
        sourceMapBytes: map === undefined ? 0 : statSync(join(directory, map)).size,
        loadMedianMs: median(loads),
        loadMinMs: Math.min(...loads),
        floorMedianMs: median(floors),
        floorMinMs: Math.min(...floors),
        overFloorMs: median(loads) - median(floors),
      };
    });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
