// One abort listener per signal, however many calls wait on it. A run signal is shared by every call
// of a run (tens of thousands): adding a listener to an AbortSignal per call costs a scan of the
// listeners already there (EventTarget checks for duplicates) and trips MaxListenersExceededWarning.
// Here each signal gets one real listener the first time anyone subscribes; subscriptions are entries
// of a Set (O(1) to add and remove).

type Subs = Set<() => void>;
const subs = new WeakMap<AbortSignal, Subs>();

/**
 * Calls `fn` once when `signal` aborts (at once, synchronously, if it already has). Returns the
 * unsubscribe function; call it when the work ends so nothing is kept for it.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    fn();
    return noop;
  }
  let set = subs.get(signal);
  if (!set) {
    const s: Subs = (set = new Set());
    subs.set(signal, s);
    signal.addEventListener(
      'abort',
      () => {
        subs.delete(signal);
        for (const f of [...s]) f();
        s.clear();
      },
      { once: true },
    );
  }
  const s = set;
  s.add(fn);
  return () => {
    s.delete(fn);
  };
}

function noop(): void {}

/** A child signal that aborts (with the parent's reason) when `parent` does; `dispose` detaches it. */
export function childSignal(parent?: AbortSignal): { signal: AbortSignal; abort(reason?: unknown): void; dispose(): void } {
  const c = new AbortController();
  const off = parent ? onAbort(parent, () => c.abort(parent.reason)) : noop;
  return { signal: c.signal, abort: (reason?: unknown) => c.abort(reason), dispose: off };
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    let off = noop;
    const t = setTimeout(() => {
      off();
      resolve();
    }, ms);
    if (signal) {
      off = onAbort(signal, () => {
        clearTimeout(t);
        reject(signal.reason);
      });
    }
  });
}
