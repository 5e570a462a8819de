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
  machine: '2 × Intel(R) Xeon(R) Processor, Node v20.20.2',
  command: 'npm run bench (full sizes)',
  // Local HTTP p50 at 1 in flight, 3.35 ms, minus the floor's 1.03 ms.
  ingestMillisecondsPerEvent: 2.32,
  // Batches of 10 took 32.94 ms, single records 3.05 ms: dynalite gains nothing from the
  // worker's concurrency, so the whole duration is per record.
  workerMillisecondsPerBatch: 0,
  workerMillisecondsPerEvent: 3.32,
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
