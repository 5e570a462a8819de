/**
 * The tree-shakable copy of the S3 client that the functions bundle
 * (`infra/bundling/tree-shakable-client.ts`): its schemas are the SDK's, object for object,
 * and a client bundled from it uploads (single and multipart), reads and fails against s3rver
 * as the SDK does.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import {
  rewriteSchemaKeys,
  sameSchema,
  treeShakableClient,
} from '../infra/bundling/tree-shakable-client.ts';
import { LOCAL_S3_CREDENTIALS } from '../scripts/local/servers.ts';
import { startedForTests, startLocalS3 } from './support/local-aws.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
const S3_PACKAGE = '@aws-sdk/client-s3';
const copy = treeShakableClient(PROJECT_ROOT, S3_PACKAGE);
if (!copy.ok) throw new Error(`no copy of ${S3_PACKAGE}: ${copy.reason}`);
const copyDir = copy.directory;
const originalSchemas = join(
  PROJECT_ROOT,
  'node_modules',
  S3_PACKAGE,
  'dist-es/schemas/schemas_0.js',
);
const copiedSchemas = join(copyDir, 'dist-es', 'schemas', 'schemas_0.js');

const outdir = mkdtempSync(join(tmpdir(), 'datasaur-webhooks-shakable-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** Bundles `contents` (resolved from the project root) into one CommonJS file and loads it. */
async function bundle(
  name: string,
  contents: string,
  { alias = {}, minify = false }: { alias?: Record<string, string>; minify?: boolean } = {},
) {
  const outfile = join(outdir, `${name}.cjs`);
  await build({
    stdin: { contents, resolveDir: PROJECT_ROOT, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    alias,
    minify,
    outfile,
    logLevel: 'error',
  });
  return { module: createRequire(import.meta.url)(outfile), code: readFileSync(outfile, 'utf8') };
}

describe('rewriteSchemaKeys', () => {
  it('writes a computed key naming a string constant as its literal, and nothing else', () => {
    const source = [
      'const _hH = "httpHeader";',
      'const _q = "a \\"quoted\\" name";',
      'export var A$ = [3, n0, _A, 0, [_hH], [[0, { [_hH]: "x-amz-acl" }], [0, { [_q]: 1, [other]: 2 }]]];',
    ].join('\n');
    const { text, keys } = rewriteSchemaKeys(source);
    expect(keys).toBe(2);
    expect(text.split('\n')[2]).toBe(
      'export var A$ = [3, n0, _A, 0, [_hH], [[0, { "httpHeader": "x-amz-acl" }], [0, { "a \\"quoted\\" name": 1, [other]: 2 }]]];',
    );
  });

  it('leaves a file alone where a name could be shadowed, and keys that are not object keys', () => {
    const constants = 'const _a = "x";\nconst _p = "__proto__";\n';
    expect(rewriteSchemaKeys(`${constants}export var A = [c ? [_a]: 0, { [_p]: 1 }];`)).toEqual({
      text: `${constants}export var A = [c ? [_a]: 0, { [_p]: 1 }];`,
      keys: 0,
    });
    for (const shadowing of [
      '(_a) => ({ [_a]: 1 })',
      'function f(b, _a) { return { [_a]: 1 }; }',
      '_a => ({ [_a]: 1 })',
      '{ let _a = "y"; }',
    ]) {
      expect(rewriteSchemaKeys(`${constants}export var B = { [_a]: 1 }; ${shadowing}`).keys).toBe(
        0,
      );
    }
  });

  it('rewrites the S3 schemas: no computed key of theirs is left', () => {
    const original = readFileSync(originalSchemas, 'utf8');
    const { text, keys } = rewriteSchemaKeys(original);
    expect(keys).toBeGreaterThan(1000);
    expect(text).not.toMatch(/\[_[A-Za-z0-9_]+\]:/);
    expect(readFileSync(copiedSchemas, 'utf8')).toBe(text);
  });
});

describe('treeShakableClient', () => {
  function fakeProject(files: Record<string, string>): string {
    const root = mkdtempSync(join(outdir, 'project-'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  }
  const manifest = JSON.stringify({
    name: '@aws-sdk/client-x',
    version: '1.0.0',
    module: './dist-es/index.js',
  });

  const client = (schemas: string) => ({
    'node_modules/@aws-sdk/client-x/package.json': manifest,
    'node_modules/@aws-sdk/client-x/dist-es/index.js': "export * from './schemas/schemas_0';",
    'node_modules/@aws-sdk/client-x/dist-es/schemas/schemas_0.js': schemas,
  });

  it('makes a checked copy, and a new one in its place when the package changes', () => {
    const root = fakeProject(client('const _a = "x";\nexport var A$ = [0, { [_a]: 1 }];\n'));
    const first = treeShakableClient(root, '@aws-sdk/client-x');
    if (!first.ok) throw new Error(first.reason);
    expect(readFileSync(join(first.directory, 'dist-es/schemas/schemas_0.js'), 'utf8')).toBe(
      'const _a = "x";\nexport var A$ = [0, { "x": 1 }];\n',
    );
    expect(JSON.parse(readFileSync(join(first.directory, 'package.json'), 'utf8'))).toEqual({
      name: '@aws-sdk/client-x',
      version: '1.0.0',
      module: './dist-es/index.js',
    });
    writeFileSync(
      join(root, 'node_modules/@aws-sdk/client-x/dist-es/schemas/schemas_0.js'),
      'const _a = "y";\nexport var A$ = [0, { [_a]: 2 }];\n',
    );
    // Another client's copy, whose name begins with this one's: not this client's to remove.
    const otherClient = join(
      root,
      'node_modules/.cache/tree-shakable-clients/@aws-sdk+client-x-control-0123456789abcdef',
    );
    mkdirSync(otherClient);
    const second = treeShakableClient(root, '@aws-sdk/client-x');
    if (!second.ok) throw new Error(second.reason);
    expect(second.directory).not.toBe(first.directory);
    expect(readdirSync(join(root, 'node_modules/.cache/tree-shakable-clients')).sort()).toEqual(
      [basename(otherClient), basename(second.directory)].sort(),
    );
  });

  it('does not use a copy whose schemas differ from the package', () => {
    // Not a key: a string that only looks like one, which the rewrite would change.
    const schemas = 'const _a = "x";\nexport var A$ = [0, { [_a]: 1 }];\n';
    const differs = fakeProject(client(`${schemas}export var S = '{ [_a]: 1 }';\n`));
    expect(treeShakableClient(differs, '@aws-sdk/client-x')).toEqual({
      ok: false,
      reason: "the rewritten schemas/schemas_0.js differs from the package's (S)",
    });
    const broken = fakeProject(client(`${schemas}export var S = "{ [_a]: 1 }";\n`));
    expect(treeShakableClient(broken, '@aws-sdk/client-x')).toEqual({
      ok: false,
      reason: expect.stringMatching(
        /^the rewritten schemas\/schemas_0\.js does not build: Expected ";"/,
      ),
    });
  });

  it('finds the copy it made while the package is the same', () => {
    expect(treeShakableClient(PROJECT_ROOT, S3_PACKAGE)).toEqual(copy);
  });

  it('says why when it cannot copy a client, and makes nothing', () => {
    const nested = fakeProject({
      'node_modules/@aws-sdk/client-x/package.json': manifest,
      'node_modules/@aws-sdk/client-x/dist-es/index.js': 'export {};',
      'node_modules/@aws-sdk/client-x/node_modules/dep/package.json': '{}',
    });
    expect(treeShakableClient(nested, '@aws-sdk/client-x')).toEqual({
      ok: false,
      reason:
        '@aws-sdk/client-x has dependencies of its own (node_modules), which a copy would not find',
    });
    const noSchemas = fakeProject({
      'node_modules/@aws-sdk/client-x/package.json': manifest,
      'node_modules/@aws-sdk/client-x/dist-es/index.js': 'export {};',
    });
    expect(treeShakableClient(noSchemas, '@aws-sdk/client-x')).toEqual({
      ok: false,
      reason: 'no schema of @aws-sdk/client-x could be rewritten',
    });
    expect(readdirSync(join(noSchemas, 'node_modules', '.cache', 'tree-shakable-clients'))).toEqual(
      [],
    );
    expect(treeShakableClient(join(outdir, 'nowhere'), S3_PACKAGE)).toMatchObject({ ok: false });
  });
});

describe('the tree-shakable copy of the S3 client', () => {
  it("has the SDK's schemas, every one the same object", async () => {
    const original = await bundle(
      'original',
      `module.exports = require(${JSON.stringify(originalSchemas)});`,
    );
    const copied = await bundle(
      'copied',
      `module.exports = require(${JSON.stringify(copiedSchemas)});`,
    );
    const names = Object.keys(original.module);
    expect(names.length).toBeGreaterThan(400);
    expect(Object.keys(copied.module)).toEqual(names);
    const different = names.filter(
      (name) => !sameSchema(original.module[name], copied.module[name]),
    );
    expect(different).toEqual([]);
  });

  it('lets esbuild leave out the schemas of operations a bundle never sends', async () => {
    const entry =
      "export { S3Client } from '@aws-sdk/client-s3'; export { Upload } from '@aws-sdk/lib-storage';";
    const plain = await bundle('plain', entry, { minify: true });
    const shaken = await bundle('shaken', entry, {
      alias: { [S3_PACKAGE]: copyDir },
      minify: true,
    });
    expect(plain.code).toContain('SelectObjectContentRequest');
    expect(shaken.code).not.toContain('SelectObjectContentRequest');
    // 54 KB of the 65 KB the schemas took, minified.
    expect(shaken.code.length).toBeLessThan(plain.code.length - 45_000);
  });

  describe('bundled, against s3rver', () => {
    const local = startedForTests(startLocalS3);

    async function bundledClient() {
      const { module } = await bundle(
        'client',
        "module.exports = { ...require('@aws-sdk/client-s3'), ...require('@aws-sdk/lib-storage') };",
        { alias: { [S3_PACKAGE]: copyDir } },
      );
      const client = new module.S3Client({
        region: 'us-east-1',
        endpoint: local.server.endpoint,
        forcePathStyle: true,
        credentials: LOCAL_S3_CREDENTIALS,
        maxAttempts: 1,
      });
      return { module, client };
    }

    it('uploads a small body and a multipart one that read back as sent', async () => {
      const { module, client } = await bundledClient();
      const bucket = await local.createBucket();
      const small = Buffer.from('PK small archive');
      const large = Buffer.alloc(6 * 1024 * 1024 + 17, 7);
      for (const [key, body] of [
        ['small.zip', small],
        ['large.zip', large],
      ] as const) {
        const upload = new module.Upload({
          client,
          params: { Bucket: bucket, Key: key, Body: body, ContentType: 'application/zip' },
        });
        await upload.done();
        const read = await local.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        expect(read.ContentType).toBe('application/zip');
        const bytes = await read.Body?.transformToByteArray();
        expect(Buffer.from(bytes ?? []).equals(body)).toBe(true);
      }
      const head = await client.send(
        new module.HeadObjectCommand({ Bucket: bucket, Key: 'large.zip' }),
      );
      expect(head.ContentLength).toBe(large.length);
      client.destroy();
    });

    it("fails as the SDK does, with the service's error types", async () => {
      const { module, client } = await bundledClient();
      const upload = new module.Upload({
        client,
        params: { Bucket: 'no-such-bucket-here', Key: 'k', Body: Buffer.from('x') },
      });
      const error = await upload.done().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(module.NoSuchBucket);
      expect(error).toMatchObject({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } });
      client.destroy();
    });
  });
});
