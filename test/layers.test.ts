/**
 * The layering of `shared/` (`.dependency-cruiser.mjs`) holds on the real tree, and the rules
 * catch what they are there to catch: checked on a copy of `shared/` with one bad import added.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';
import architecture, { LAYERS } from '../.dependency-cruiser.mjs';

const ROOT = resolve(import.meta.dirname, '..');

async function violationsIn(
  baseDir: string,
): Promise<{ rule: string; from: string; to: string }[]> {
  const { forbidden, options } = architecture;
  const result = await cruise(['shared'], {
    ...options,
    baseDir,
    validate: true,
    ruleSet: { forbidden },
    tsConfig: { fileName: join(baseDir, 'tsconfig.json') },
  });
  const output = result.output as ICruiseResult;
  return output.summary.violations.map((violation) => ({
    rule: violation.rule.name,
    from: violation.from,
    to: violation.to,
  }));
}

describe('the layers of shared/', () => {
  const copies: string[] = [];
  afterAll(() => {
    for (const copy of copies) rmSync(copy, { recursive: true, force: true });
  });

  it('every module of shared/ sits in one capability folder named in the layer table', () => {
    const entries = readdirSync(join(ROOT, 'shared'), { withFileTypes: true });
    expect(entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))).toEqual([]);
    const folders = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    expect(folders.sort()).toEqual(LAYERS.flat().sort());
  });

  it('the tree as it is breaks no rule', async () => {
    expect(await violationsIn(ROOT)).toEqual([]);
  });

  it('fails when a store file imports an export file, a capability imports its neighbour, or shared imports a Lambda event type', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'layers-'));
    copies.push(copy);
    cpSync(join(ROOT, 'shared'), join(copy, 'shared'), { recursive: true });
    cpSync(join(ROOT, 'tsconfig.json'), join(copy, 'tsconfig.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    writeFileSync(
      join(copy, 'shared/store/uses-export.ts'),
      "export { createExporter } from '../export/exporter.ts';\n",
    );
    writeFileSync(
      join(copy, 'shared/bus/uses-reconcile.ts'),
      "export * from '../reconcile/reconcile.ts';\n",
    );
    writeFileSync(
      join(copy, 'shared/webhook/uses-lambda.ts'),
      "import type { SQSEvent } from 'aws-lambda';\nexport type Event = SQSEvent;\n",
    );
    const violations = await violationsIn(copy);
    expect(violations).toEqual(
      expect.arrayContaining([
        {
          rule: 'layer-store',
          from: 'shared/store/uses-export.ts',
          to: 'shared/export/exporter.ts',
        },
        {
          rule: 'layer-bus',
          from: 'shared/bus/uses-reconcile.ts',
          to: 'shared/reconcile/reconcile.ts',
        },
        {
          rule: 'no-aws-lambda-event-types',
          from: 'shared/webhook/uses-lambda.ts',
          to: expect.stringMatching(/node_modules\/@types\/aws-lambda\/index\.d\.ts$/),
        },
      ]),
    );
    expect(violations).toHaveLength(3);
  });
});
