/**
 * `node:http` as the Lambda bundles import it: Node's own `http` through `require`, without the
 * ES module facade. Node builds that facade by reading every property of `http` once, and on
 * Node 22 and later three of them (`WebSocket`, `CloseEvent`, `MessageEvent`) are getters that
 * load Node's whole fetch implementation (undici): 25–40 ms of every cold start on Node 24 for
 * a bundle that imports `node:http` at all, as the light AWS client and the export download
 * do. `BundledFunction` aliases `http` and `node:http` here. A static import of a name not
 * exported below fails the build, so it is added here; a namespace import or an `import()`
 * reads only what is exported (its `default` is the whole module, which is what the SDK's
 * `import("node:http")` reads), so the names such code may read are exported too.
 */
import { createRequire } from 'node:module';

const http: typeof import('node:http') = createRequire(import.meta.url)('node:http');

export default http;
export const {
  Agent,
  ClientRequest,
  get,
  globalAgent,
  IncomingMessage,
  METHODS,
  OutgoingMessage,
  request,
  STATUS_CODES,
} = http;
