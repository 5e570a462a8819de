/** Runs at most `limit` tasks at a time; the rest wait their turn in arrival order. */
export function limitConcurrency(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`concurrency must be a whole number ≥ 1, got ${limit}`);
  }
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    // A waiter is handed the finishing task's slot, so no newcomer can slip in between.
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next === undefined) running -= 1;
      else next();
    }
  };
}
