/**
 * `node:https` as the Lambda bundles import it, through `require` like `node:http` beside it:
 * the facade itself costs little, but the two are aliased together so that no bundle builds an
 * ES module facade of either. A static import of a name not exported below fails the build,
 * so it is added here; a namespace import or an `import()` reads only what is exported (its
 * `default` is the whole module).
 */
import { createRequire } from 'node:module';

const https: typeof import('node:https') = createRequire(import.meta.url)('node:https');

export default https;
export const { Agent, get, globalAgent, request } = https;
