/**
 * `node:process` as the Lambda bundles import it: the global `process`, without the ES module
 * facade. Node builds that facade by reading every property of `process` once, and some are
 * getters that do real work (the allowed flags, the diagnostic report module): about 3 ms of
 * every cold start on Node 20 and 24, for the two names the AWS SDK imports. `BundledFunction`
 * aliases `process` and `node:process` here; a bundled import of another name fails the build,
 * so it is added below.
 */
export default process;
export const env = process.env;
export const versions = process.versions;
