/**
 * `node:fs` as the Lambda bundles import it: Node's own `fs` through `require`, without the ES
 * module facade, which reads every property of `fs` once (1–2 ms of every cold start on Node 20
 * and 24). `BundledFunction` aliases `fs` and `node:fs` to this folder, `…/promises` included;
 * a bundled import of another name fails the build, so it is added below.
 */
import { createRequire } from 'node:module';

const fs: typeof import('node:fs') = createRequire(import.meta.url)('node:fs');

export default fs;
export const {
  createReadStream,
  fstatSync,
  lstatSync,
  promises,
  ReadStream,
  readFileSync,
  statSync,
} = fs;
