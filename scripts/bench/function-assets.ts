/**
 * Synthesizes the real stack (the local esbuild bundles every function exactly as `cdk deploy`
 * would) and lists each function's asset directory and environment. Run as a script, in a
 * process of its own (bundles.ts starts it): `function-assets.ts <outdir> <list.json>` writes
 * the list to `<list.json>` and exits, so the synthesized stack's heap never lives in the
 * bench's process. There it was collected on the machine's other core while the first cold
 * starts were timed: 3.1-3.6 s of the bench process's CPU during the 6 s of the first row's
 * runs, against 0.4 s for each later row (docs/performance.md).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { addWebhookStack } from '../../infra/stack.ts';
import { LOCAL_WEBHOOK_PATH_TOKEN } from '../local/defaults.ts';

export interface FunctionAsset {
  /** `ingest`, `worker`, `exporter`, `enrich`, or the function's logical id. */
  readonly name: string;
  readonly directory: string;
  /** The function's environment in the template: strings, or references to resources. */
  readonly environment: Readonly<Record<string, unknown>>;
}

/** Synthesizes the stack into `outdir`, in this process, and returns each function's asset. */
export function synthesizeFunctionAssets(outdir: string): FunctionAsset[] {
  // The CLI turns asset metadata on; an App created in code has to ask for it.
  const app = new App({
    outdir,
    // Any valid path token: the bundles do not depend on it. The functions on the webhook's
    // path, the exporter and the enrichment have budgets; the hourly reconciler is left out.
    context: {
      'aws:cdk:enable-asset-metadata': true,
      webhookPathToken: LOCAL_WEBHOOK_PATH_TOKEN,
      reconcileEvery: 'off',
    },
  });
  const stack = addWebhookStack(app);
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as {
    Resources: Record<
      string,
      {
        Type: string;
        Metadata?: Record<string, string>;
        Properties?: { Environment?: { Variables?: Record<string, unknown> } };
      }
    >;
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
            : /Enricher/i.test(logicalId)
              ? 'enrich'
              : logicalId;
      const environment = resource.Properties?.Environment?.Variables ?? {};
      return [{ name, directory: join(outdir, assetPath), environment }];
    });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [outdir, listFile] = process.argv.slice(2);
  if (outdir === undefined || listFile === undefined) {
    process.stderr.write('usage: function-assets.ts <outdir> <list.json>\n');
    process.exit(2);
  }
  writeFileSync(listFile, JSON.stringify(synthesizeFunctionAssets(outdir)));
}
