/**
 * A copy of an AWS SDK client whose schemas esbuild can tree-shake.
 *
 * Since 2025 each SDK client describes its operations as data, in `dist-es/schemas/schemas_0.js`
 * (135 KB for S3). The traits in those schemas have computed keys, `{ [_hH]: "x-amz-acl" }`,
 * where `_hH` is a string constant of the same file. esbuild cannot prove that a computed key is
 * free of side effects, so it keeps every schema: the S3 client brought the schemas of all its
 * 100-odd operations into the exporter (65 KB minified), and Lambda built them all at each cold
 * start, 20–25 ms on Node 24 (docs/performance.md).
 *
 * The copy writes each such key as the literal it names, `{ "httpHeader": "x-amz-acl" }`: the
 * same object, which esbuild can drop when nothing uses it. Everything else is copied as it is.
 * `BundledFunction` aliases the package to the copy; the tests and `npm start` use the package.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/** Bumped when the rewrite changes, so a copy made by an older rewrite is not reused. */
const REWRITE_VERSION = 1;

/** `const _hH = "httpHeader";`: the schema files' string constants, one per line. */
const STRING_CONSTANT = /^const (_[A-Za-z0-9_]+) = ("(?:[^"\\\n]|\\.)*");$/gm;
/** `[_hH]:`, a computed key naming one of them. */
const COMPUTED_KEY = /\[(_[A-Za-z0-9_]+)\]:/g;

export interface SchemaRewrite {
  readonly text: string;
  /** Computed keys written as literals. */
  readonly keys: number;
}

/**
 * Writes each computed key of `text` that names one of its string constants as that constant's
 * literal. A key naming anything else is left as it is.
 */
export function rewriteSchemaKeys(text: string): SchemaRewrite {
  const constants = new Map<string, string>();
  for (const [, name, literal] of text.matchAll(STRING_CONSTANT)) {
    if (name !== undefined && literal !== undefined) constants.set(name, literal);
  }
  let keys = 0;
  const rewritten = text.replace(COMPUTED_KEY, (key: string, name: string) => {
    const literal = constants.get(name);
    if (literal === undefined) return key;
    keys += 1;
    return `${literal}:`;
  });
  return { text: rewritten, keys };
}

/**
 * The entry of a tree-shakable copy of `packageName` (an AWS SDK client installed under
 * `<projectRoot>/node_modules`), made under `node_modules/.cache` on first use and reused while
 * the installed version is the same. The copy sits inside the project, so its imports of other
 * packages resolve to the same installed versions.
 */
export function treeShakableClient(projectRoot: string, packageName: string): string {
  const packageDir = join(projectRoot, 'node_modules', packageName);
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
    module?: string;
    sideEffects?: unknown;
  };
  if (manifest.module === undefined) {
    throw new Error(`${packageName} has no ES module build ("module" in its package.json)`);
  }
  const copyDir = join(
    projectRoot,
    'node_modules',
    '.cache',
    'tree-shakable-clients',
    `${packageName.replace('/', '+')}@${manifest.version}.${REWRITE_VERSION}`,
  );
  const entry = join(copyDir, manifest.module);
  if (existsSync(join(copyDir, 'package.json'))) return entry;

  // Made beside the copy and renamed into place, so two synths at once never see half a copy.
  const staging = `${copyDir}.${process.pid}.${Date.now()}`;
  mkdirSync(staging, { recursive: true });
  try {
    const esmDir = dirname(manifest.module);
    cpSync(join(packageDir, esmDir), join(staging, esmDir), { recursive: true });
    const schemasDir = join(staging, esmDir, 'schemas');
    for (const file of existsSync(schemasDir) ? readdirSync(schemasDir) : []) {
      if (!/^schemas_\d+\.js$/.test(file)) continue;
      const path = join(schemasDir, file);
      writeFileSync(path, rewriteSchemaKeys(readFileSync(path, 'utf8')).text);
    }
    // Last: its presence marks a complete copy. `sideEffects` lets esbuild drop whole modules.
    writeFileSync(
      join(staging, 'package.json'),
      `${JSON.stringify({ name: packageName, version: manifest.version, module: manifest.module, sideEffects: manifest.sideEffects }, null, 2)}\n`,
    );
    renameSync(staging, copyDir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another synth made the same copy first.
    if (existsSync(join(copyDir, 'package.json'))) return entry;
    throw error;
  }
  return entry;
}
