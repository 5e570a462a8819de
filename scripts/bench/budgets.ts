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
  ingest: { overFloorMs: 50, bundleBytes: 250 * 1024 },
  worker: { overFloorMs: 80, bundleBytes: 450 * 1024 },
  // 640 KB: the export URL policy (issue 20) added ipaddr.js and the guarded download.
  exporter: { overFloorMs: 80, bundleBytes: 640 * 1024 },
  // 273 KB at first (issue 25, deployed): the Datasaur client and DynamoDB; no S3, no SQS.
  enrich: { overFloorMs: 80, bundleBytes: 320 * 1024 },
};

/** The budget of a function the bench found, or a clear error for one without. */
export function coldStartBudget(name: string): ColdStartBudget {
  const budget = COLD_START_BUDGETS[name];
  if (budget === undefined) throw new Error(`no cold-start budget for the ${name} function`);
  return budget;
}
