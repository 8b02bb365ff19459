import { onAbort } from './abort.ts';

interface Waiter {
  grant: () => void;
  /** set when its caller aborted: skipped when its turn comes */
  gone: boolean;
}

/**
 * A counting semaphore: at most `limit` holders at once, FIFO. Every operation is O(1) (amortized):
 * waiters sit in an array with a moving head, an aborted waiter is marked and skipped, and a waiter
 * subscribes to its signal through abort.ts, which puts one listener on each signal whatever the
 * number of waiters.
 */
export class Semaphore {
  private active = 0;
  private queue: Waiter[] = [];
  private head = 0;
  private live = 0;
  constructor(public readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError('concurrency limit must be at least 1');
  }
  get inUse(): number {
    return this.active;
  }
  get waiting(): number {
    return this.live;
  }
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.active < this.limit && this.live === 0) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
      let off: () => void = () => {};
      const w: Waiter = {
        gone: false,
        grant: () => {
          off();
          resolve();
        },
      };
      if (signal) {
        off = onAbort(signal, () => {
          if (w.gone) return;
          w.gone = true;
          this.live--;
          reject(signal.reason ?? new Error('aborted'));
        });
      }
      this.queue.push(w);
      this.live++;
    });
  }
  release(): void {
    while (this.head < this.queue.length) {
      const w = this.queue[this.head++];
      if (w.gone) continue;
      w.gone = true;
      this.live--;
      this.compact();
      w.grant(); // hand the slot over: active stays the same
      return;
    }
    this.compact();
    this.active--;
  }
  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
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
