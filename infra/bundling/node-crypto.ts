/**
 * `node:crypto` as the Lambda bundles import it: Node's own `crypto` through `require`, without
 * the ES module facade, which reads every property of `crypto` once: `webcrypto` and `subtle`
 * are getters that load Node's Web Crypto implementation, about 1 ms of every cold start on
 * Node 24, for a module no function uses. `BundledFunction` aliases `crypto` and `node:crypto`
 * here; a bundled import of another name fails the build, so it is added below.
 */
import { createRequire } from 'node:module';

const crypto: typeof import('node:crypto') = createRequire(import.meta.url)('node:crypto');

export default crypto;
export const {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  getRandomValues,
  randomBytes,
  randomInt,
  randomUUID,
  sign,
  timingSafeEqual,
} = crypto;
