/** Runs async tasks with at most `limit` in flight; later calls wait in FIFO order. */
export type ConcurrencyLimit = <T>(task: () => Promise<T>) => Promise<T>;

/** Creates a counting semaphore (bounds sharp decodes on the libuv pool across prefetched batches). */
export function createConcurrencyLimit(limit: number): ConcurrencyLimit {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
