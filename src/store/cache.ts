// The response cache (models' ResponseCache, structurally): request hash → text, usage, latency, cost.
// `cache` group-commits: every answer that arrives in one turn of the event loop is written in one
// transaction at the next setImmediate (a commit per call costs more than the call); the window is
// that of reading the socket, so a crash repeats only calls in flight.
import { id, num, str, StoreError, type Ctx } from './db.ts';
import type { CachedResponse } from './types.ts';

export interface CacheTable {
  /** group-committed reads and writes (what models' createModel takes as `cache`) */
  readonly cache: { get(key: string): CachedResponse | undefined; put(key: string, modelId: string, resp: CachedResponse): void };
  /** write pending cache entries now */
  flushCache(): void;
}

export function cacheTable(ctx: Ctx): CacheTable {
  const { db, scrub } = ctx;
  const q = {
    get: db.prepare('SELECT response FROM cache WHERE hash = ?').pluck(),
    put: db.prepare(
      'INSERT INTO cache (hash, model_id, response, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(hash) DO UPDATE SET response = excluded.response, model_id = excluded.model_id, created_at = excluded.created_at',
    ),
  };
  const read = (key: string): CachedResponse | undefined => {
    if (typeof key !== 'string') return undefined;
    const s = q.get.get(key) as string | undefined;
    if (s == null) return undefined;
    try {
      const v = JSON.parse(s);
      if (typeof v?.text !== 'string' || typeof v?.usage?.input !== 'number' || typeof v?.usage?.output !== 'number') return undefined;
      return {
        text: v.text,
        usage: { input: v.usage.input, output: v.usage.output },
        latencyMs: Number(v.latencyMs) || 0,
        costUsd: Number(v.costUsd) || 0,
      };
    } catch {
      return undefined;
    }
  };
  const check = (key: string, modelId: string, resp: CachedResponse) => {
    const k = id('cache.put.key', key);
    const m = id('cache.put.modelId', modelId);
    if (!resp || typeof resp !== 'object') throw new StoreError('cache.put.response', 'expected an object');
    const text = str('cache.put.response.text', resp.text) as string;
    if (!resp.usage || typeof resp.usage !== 'object') throw new StoreError('cache.put.response.usage', 'required');
    // only these fields are kept: never `raw`, which may hold SDK objects
    const v = {
      text,
      usage: {
        input: num('cache.put.response.usage.input', resp.usage.input, { int: true, min: 0 }),
        output: num('cache.put.response.usage.output', resp.usage.output, { int: true, min: 0 }),
      },
      latencyMs: num('cache.put.response.latencyMs', resp.latencyMs, { min: 0 }),
      costUsd: num('cache.put.response.costUsd', resp.costUsd, { min: 0 }),
    };
    return { k, m, v };
  };
  const pending = new Map<string, { modelId: string; resp: CachedResponse }>();
  let scheduled: NodeJS.Immediate | undefined;
  const flushCache = () => {
    if (scheduled) {
      clearImmediate(scheduled);
      scheduled = undefined;
    }
    if (!pending.size || !db.open) return;
    const items = [...pending];
    pending.clear();
    db.transaction(() => {
      for (const [key, p] of items) {
        const { k, m, v } = check(key, p.modelId, p.resp);
        q.put.run(k, m, scrub(JSON.stringify(v)), Date.now());
      }
    })();
  };
  return {
    cache: {
      get(key) {
        const p = pending.get(key);
        return p ? { ...p.resp } : read(key);
      },
      put(key, modelId, resp) {
        check(key, modelId, resp);
        pending.set(key, { modelId, resp: { text: resp.text, usage: resp.usage, latencyMs: resp.latencyMs, costUsd: resp.costUsd } });
        scheduled ??= setImmediate(flushCache);
      },
    },
    flushCache,
  };
}
