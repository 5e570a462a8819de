/**
 * `node:crypto` as the Lambda bundles import it: Node's own `crypto` through `require`, without
 * the ES module facade, which reads every property of `crypto` once: `webcrypto` and `subtle`
 * are getters that load Node's Web Crypto implementation, about 1 ms of every cold start on
 * Node 24, for a module no function uses. `BundledFunction` aliases `crypto` and `node:crypto`
 * here. A static import of a name not exported below fails the build, so it is added here; a
 * namespace import or an `import()` reads only what is exported (its `default` is the whole
 * module). `webcrypto` and `subtle` are left out on purpose: reading them loads Web Crypto.
 */
import { createRequire } from 'node:module';

const crypto: typeof import('node:crypto') = createRequire(import.meta.url)('node:crypto');

export default crypto;
export const {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  createSign,
  createVerify,
  getRandomValues,
  randomBytes,
  randomFillSync,
  randomInt,
  randomUUID,
  sign,
  timingSafeEqual,
  verify,
} = crypto;
