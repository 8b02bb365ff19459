/** A counting semaphore: at most `limit` holders at once, FIFO. */
export class Semaphore {
  private active = 0;
  private waiters: (() => void)[] = [];
  constructor(public readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError('concurrency limit must be at least 1');
  }
  get inUse(): number {
    return this.active;
  }
  get waiting(): number {
    return this.waiters.length;
  }
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal!.reason ?? new Error('aborted'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(grant);
    });
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next(); // hand the slot over: active stays the same
    else this.active--;
  }
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

const shared = new Map<string, Semaphore>();

/**
 * The limiter shared by every model on one endpoint (provider + base URL + limit): two model ids on
 * the same server with the same concurrency share one budget of in-flight requests.
 */
export function endpointLimiter(key: string, limit: number): Semaphore {
  const k = `${key}|${limit}`;
  let s = shared.get(k);
  if (!s) {
    s = new Semaphore(limit);
    shared.set(k, s);
  }
  return s;
}
