/**
 * Each function's cold-start budget (issue 27): milliseconds over an empty module for the
 * import and the first call in a fresh process, as deployed (no source maps), and the bundle
 * size. `npm run bench` marks every row against them; test/infra-synth.test.ts fails when a
 * bundle grows past its size (sizes are deterministic, times are not).
 */
export interface ColdStartBudget {
  readonly overFloorMs: number;
  readonly bundleBytes: number;
}

export const COLD_START_BUDGETS: Readonly<Record<string, ColdStartBudget>> = {
  // 210 KB with the SDK's SQS and Secrets Manager clients; 51 KB since the light client
  // (issue 27): an SDK client back in the bundle fails the size test.
  ingest: { overFloorMs: 50, bundleBytes: 100 * 1024 },
  // 320 KB with the SDK's DynamoDB and EventBridge clients and zod/mini; 139 KB since the
  // light client (issue 27): an SDK client, or classic zod, back in the bundle fails the size test.
  worker: { overFloorMs: 80, bundleBytes: 200 * 1024 },
  // 615 KB with the export URL policy (issue 20: ipaddr.js, the guarded download), 537 KB
  // since zod/mini and the event-stream serde apart, 426 KB since the light client for all
  // but S3, 157 KB since its uploads go through the light client too (issue 27): an SDK
  // client, or lib-storage, back in the bundle fails the size test.
  exporter: { overFloorMs: 80, bundleBytes: 200 * 1024 },
  // 273 KB at first (issue 25, deployed): the Datasaur client and DynamoDB; no S3, no SQS.
  // 83 KB since DynamoDB goes through the light client (issue 27): an SDK client back in the
  // bundle fails the size test.
  enrich: { overFloorMs: 80, bundleBytes: 120 * 1024 },
};

/** The budget of a function the bench found, or a clear error for one without. */
export function coldStartBudget(name: string): ColdStartBudget {
  const budget = COLD_START_BUDGETS[name];
  if (budget === undefined) throw new Error(`no cold-start budget for the ${name} function`);
  return budget;
}
