/** Small timing helpers: side-by-side rounds so both sides see the same machine noise. */

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** The value below which `fraction` of the values fall (nearest rank). */
export function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/**
 * Runs every side in interleaved rounds of `operations` each and returns each side's median
 * microseconds per operation: interleaving cancels the drift of a shared machine that
 * separate runs would see. The order rotates so no side always runs on a warmer cache.
 */
export async function interleavedRounds<Side extends string>(
  rounds: number,
  operations: number,
  sides: Record<Side, () => Promise<unknown> | unknown>,
): Promise<Record<Side, number>> {
  const names = Object.keys(sides) as Side[];
  const times = new Map<Side, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let offset = 0; offset < names.length; offset++) {
      const name = names[(round + offset) % names.length] as Side;
      const run = sides[name];
      const start = process.hrtime.bigint();
      for (let index = 0; index < operations; index++) await run();
      times.get(name)?.push(Number(process.hrtime.bigint() - start) / 1000 / operations);
    }
  }
  return Object.fromEntries(names.map((name) => [name, median(times.get(name) ?? [])])) as Record<
    Side,
    number
  >;
}
