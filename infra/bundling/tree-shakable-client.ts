/**
 * A copy of an AWS SDK client whose schemas esbuild can tree-shake.
 *
 * Since 2025 each SDK client describes its operations as data, in `dist-es/schemas/schemas_0.js`
 * (135 KB for S3). The traits in those schemas have computed keys, `{ [_hH]: "x-amz-acl" }`,
 * where `_hH` is a string constant of the same file. esbuild cannot prove that a computed key is
 * free of side effects, so it keeps every schema: the S3 client brought the schemas of all its
 * 100-odd operations into the exporter (65 KB minified), and Lambda built them all at each cold
 * start, 15 ms of the exporter's on Node 20 and 24 (docs/performance.md).
 *
 * The copy writes each such key as the literal it names, `{ "httpHeader": "x-amz-acl" }`: the
 * same object, which esbuild can drop when nothing uses it. Everything else is copied as it is.
 * Before a copy is used, its schemas are built and compared with the package's, object for
 * object; a copy that differs, or cannot be made, is not used (the package is bundled as it
 * is, larger and the same). `BundledFunction` aliases the package to the copy; the tests and
 * `npm start` use the package.
 */
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** `const _hH = "httpHeader";`: the schema files' string constants, one per line. */
const STRING_CONSTANT = /^const (_[A-Za-z0-9_]+) = ("(?:[^"\\\n]|\\.)*");$/gm;
/** `{ [_hH]: …` or `, [_hH]: …`: a computed key of an object literal naming an identifier. */
const COMPUTED_KEY = /([{,]\s*)\[(_[A-Za-z0-9_]+)\]:/g;

/** A name declared by `const`, `let`, `var`, `function` or `class`. */
const DECLARATION = /\b(?:const|let|var|function|class)\s+([A-Za-z0-9_$]+)/g;
/** The parameters of a function or of an arrow function: `(a, b) =>`, `function f(a)`, `a =>`. */
const PARAMETERS =
  /(?:function\s*[A-Za-z0-9_$]*\s*)?\(([^()]*)\)\s*(?:=>|\{)|([A-Za-z0-9_$]+)\s*=>/g;

export interface SchemaRewrite {
  readonly text: string;
  /** Computed keys written as literals. */
  readonly keys: number;
}

/**
 * Writes each computed key of `text` that names one of its top-level string constants as that
 * constant's literal. A key naming anything else is left as it is, and so is every key of a
 * file that declares one of those names again (a parameter or an inner variable could shadow
 * it): the schema files declare each once, at the top.
 */
export function rewriteSchemaKeys(text: string): SchemaRewrite {
  const constants = new Map<string, string>();
  for (const [, name, literal] of text.matchAll(STRING_CONSTANT)) {
    // `__proto__` as a literal key would set the prototype instead of a property.
    if (name !== undefined && literal !== undefined && literal !== '"__proto__"') {
      constants.set(name, literal);
    }
  }
  const declared = [...text.matchAll(DECLARATION)].map(([, name]) => name);
  const parameters = [...text.matchAll(PARAMETERS)].flatMap(([, list = '', single = '']) =>
    `${list},${single}`.split(',').map((parameter) => parameter.trim()),
  );
  const shadowed = [...constants.keys()].some(
    (name) => declared.filter((other) => other === name).length !== 1 || parameters.includes(name),
  );
  if (shadowed) return { text, keys: 0 };
  let keys = 0;
  const rewritten = text.replace(COMPUTED_KEY, (key: string, before: string, name: string) => {
    const literal = constants.get(name);
    if (literal === undefined) return key;
    keys += 1;
    return `${before}${literal}:`;
  });
  return { text: rewritten, keys };
}

/**
 * Whether two schema values are the same: the same keys and literals all the way down, the
 * thunks (`() => OtherSchema$`) followed, Maps compared entry by entry (keys too), classes
 * (the error types) compared by name. A value met again must pair with the value it was paired with.
 */
export function sameSchema(a: unknown, b: unknown, pairs = new Map<unknown, unknown>()): boolean {
  if (typeof a === 'function' && typeof b === 'function') {
    if (a.prototype !== undefined || b.prototype !== undefined) return a.name === b.name;
    if (pairs.has(a)) return pairs.get(a) === b;
    pairs.set(a, b);
    return a.length === 0 && b.length === 0 && sameSchema(a(), b(), pairs);
  }
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return Object.is(a, b);
  }
  if (pairs.has(a)) return pairs.get(a) === b;
  pairs.set(a, b);
  if (Array.isArray(a) !== Array.isArray(b) || a instanceof Map !== b instanceof Map) return false;
  if (a instanceof Map && b instanceof Map) {
    // In the order of insertion, which the same code keeps: the keys may be objects.
    const entriesOfB = [...b];
    return (
      a.size === b.size &&
      [...a].every(
        ([key, value], index) =>
          sameSchema(key, entriesOfB[index]?.[0], pairs) &&
          sameSchema(value, entriesOfB[index]?.[1], pairs),
      )
    );
  }
  const keys = Object.keys(a);
  if (keys.join('\n') !== Object.keys(b).join('\n')) return false;
  return keys.every((key) =>
    sameSchema((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], pairs),
  );
}

/** The exports of `file` bundled alone (its imports resolved from where it is), as CommonJS. */
function loadBundled(file: string, scratch: string): Record<string, unknown> {
  const outfile = join(scratch, `${relative(scratch, file).replace(/[^A-Za-z0-9]+/g, '-')}.cjs`);
  buildSync({
    entryPoints: [file],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    outfile,
    logLevel: 'silent',
  });
  return createRequire(import.meta.url)(outfile) as Record<string, unknown>;
}

/** A file of `dir` and below, with its path from `dir`, in a stable order. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

export type TreeShakableClient =
  | { readonly ok: true; readonly directory: string }
  | { readonly ok: false; readonly reason: string };

/**
 * A tree-shakable copy of `packageName` (an AWS SDK client installed under
 * `<projectRoot>/node_modules`), its folder to alias the package to: made under
 * `node_modules/.cache` and checked on first use, and reused while the package's files and
 * this file are the same. The copy sits inside the project, so its imports of other packages
 * resolve to the versions installed for the package; one with a `node_modules` of its own is
 * not copied. Never throws: what stops a copy is the reason it returns.
 */
export function treeShakableClient(projectRoot: string, packageName: string): TreeShakableClient {
  try {
    return { ok: true, directory: makeCopy(projectRoot, packageName) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Removes the copies of the same package made for other files (an older version or rewrite),
 * and copies left half-made over an hour ago (a synth stopped while making one).
 */
function removeOtherCopies(cacheDir: string, copyDir: string): void {
  const packagePart = basename(copyDir).replace(/-[0-9a-f]{16}$/, '');
  // This package's copies only: `client-s3-<hash>`, never `client-s3-control-<hash>`.
  const sameClient = /^(.*)-[0-9a-f]{16}(?:\.tmp-.*)?$/;
  const anHourAgo = Date.now() - 3_600_000;
  for (const entry of readdirSync(cacheDir)) {
    const path = join(cacheDir, entry);
    if (sameClient.exec(entry)?.[1] !== packagePart || path === copyDir) continue;
    if (entry.includes('.tmp-') && statSync(path).mtimeMs > anHourAgo) continue;
    rmSync(path, { recursive: true, force: true });
  }
}

function makeCopy(projectRoot: string, packageName: string): string {
  const packageDir = join(projectRoot, 'node_modules', packageName);
  const manifestText = readFileSync(join(packageDir, 'package.json'), 'utf8');
  const manifest = JSON.parse(manifestText) as Record<string, unknown> & { module?: string };
  if (typeof manifest.module !== 'string') {
    throw new Error(`${packageName} has no ES module build ("module" in its package.json)`);
  }
  if (existsSync(join(packageDir, 'node_modules'))) {
    throw new Error(
      `${packageName} has dependencies of its own (node_modules), which a copy would not find`,
    );
  }
  const esmDir = dirname(manifest.module);
  const files = filesUnder(join(packageDir, esmDir));
  const hash = createHash('sha256')
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .update(manifestText)
    .update(files.join('\n'));
  for (const file of files) hash.update(readFileSync(join(packageDir, esmDir, file)));
  const cacheDir = join(projectRoot, 'node_modules', '.cache', 'tree-shakable-clients');
  const copyDir = join(
    cacheDir,
    `${packageName.replace('/', '+')}-${hash.digest('hex').slice(0, 16)}`,
  );
  if (existsSync(join(copyDir, 'package.json'))) return copyDir;

  // Made beside the copy and renamed into place, so two synths at once never see half a copy.
  mkdirSync(cacheDir, { recursive: true });
  const staging = mkdtempSync(`${copyDir}.tmp-`);
  try {
    cpSync(join(packageDir, esmDir), join(staging, esmDir), { recursive: true });
    const schemaFiles = files.filter((file) => /^schemas[\\/]schemas_\d+\.js$/.test(file));
    let keys = 0;
    for (const file of schemaFiles) {
      const path = join(staging, esmDir, file);
      const rewrite = rewriteSchemaKeys(readFileSync(path, 'utf8'));
      writeFileSync(path, rewrite.text);
      keys += rewrite.keys;
    }
    if (keys === 0) throw new Error(`no schema of ${packageName} could be rewritten`);
    // What of the manifest is read: its version by dist-es (the user agent; the bundle holds
    // the whole manifest it imports), its `sideEffects` (whole modules dropped), `type` and
    // `module` by esbuild. Written before the check, which bundles the copy, and renamed with
    // it: its presence marks a complete copy.
    const { name, version, type, module, sideEffects } = manifest;
    writeFileSync(
      join(staging, 'package.json'),
      `${JSON.stringify({ name, version, type, module, sideEffects }, null, 2)}\n`,
    );
    const scratch = mkdtempSync(join(staging, '.check-'));
    for (const file of schemaFiles) {
      const original = loadBundled(join(packageDir, esmDir, file), scratch);
      let copied: Record<string, unknown>;
      try {
        copied = loadBundled(join(staging, esmDir, file), scratch);
      } catch (error) {
        const errors = (error as { errors?: { text: string }[] }).errors ?? [];
        throw new Error(
          `the rewritten ${file} does not build: ${errors[0]?.text ?? (error as Error).message}`,
        );
      }
      const different = Object.keys(original).filter(
        (name) => !sameSchema(original[name], copied[name]),
      );
      if (different.length > 0 || Object.keys(copied).length !== Object.keys(original).length) {
        throw new Error(
          `the rewritten ${file} differs from the package's (${different.slice(0, 3).join(', ')})`,
        );
      }
    }
    rmSync(scratch, { recursive: true, force: true });
    renameSync(staging, copyDir);
    removeOtherCopies(cacheDir, copyDir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another synth made the same copy first.
    if (existsSync(join(copyDir, 'package.json'))) return copyDir;
    throw error;
  }
  return copyDir;
}
