// Calls: one row per attempt or cache hit. The runner logs them through a buffer (`logCall`) that is
// written with the next batch of results (or every 1024 calls, or at close).
import { bool, id, jsonText, num, optNum, optStr, parseJson, str, StoreError, type Ctx, type Row } from './db.ts';
import type { CallInput, CallRow } from './types.ts';

const CALL_BATCH = 1024;

export interface CallsTable {
  /** validates the whole batch, then writes it in one transaction */
  recordCalls(calls: CallInput[]): void;
  listCalls(run: string, arm?: string): CallRow[];
  /** buffer a call of (run, arm) (a models CallRecord as is); see flushCalls */
  logCall(c: CallInput & { provider?: string; model?: string; ok?: boolean }, run: string, arm: string): void;
  /** write buffered calls now */
  flushCalls(): void;
}

export function callsTable(ctx: Ctx): CallsTable {
  const { db, scrub } = ctx;
  const q = {
    ins: db.prepare(`INSERT INTO calls (run, arm, example_id, model_id, request_hash, request, response, usage_in, usage_out,
      latency_ms, cost_usd, error, error_kind, status, attempt, cached, created_at)
      VALUES (@run, @arm, @exampleId, @modelId, @hash, @request, @response, @usageIn, @usageOut, @latencyMs, @costUsd,
        @error, @errorKind, @status, @attempt, @cached, @createdAt)`),
    list: db.prepare('SELECT * FROM calls WHERE run = ? ORDER BY id'),
    listArm: db.prepare('SELECT * FROM calls WHERE run = ? AND arm = ? ORDER BY id'),
  };
  const check = (c: CallInput, where: string) => {
    if (!c || typeof c !== 'object') throw new StoreError(where, 'expected an object');
    const meta = c.meta && typeof c.meta === 'object' ? c.meta : {};
    const run = str(`${where}.run`, c.run ?? (typeof meta.run === 'string' ? meta.run : undefined), { optional: true });
    const arm = str(`${where}.arm`, c.arm ?? (typeof meta.arm === 'string' ? meta.arm : undefined), { optional: true });
    const exampleId = str(`${where}.exampleId`, c.exampleId ?? (typeof meta.exampleId === 'string' ? meta.exampleId : undefined), {
      optional: true,
    });
    const resp = c.response == null ? null : typeof c.response === 'string' ? c.response : c.response.text;
    if (resp != null && typeof resp !== 'string') throw new StoreError(`${where}.response`, 'expected text');
    if (!c.usage || typeof c.usage !== 'object') throw new StoreError(`${where}.usage`, 'required');
    const row = {
      run,
      arm,
      exampleId,
      modelId: id(`${where}.modelId`, c.modelId),
      hash: id(`${where}.hash`, c.hash),
      request: scrub(jsonText(`${where}.request`, c.request)),
      response: scrub(resp),
      usageIn: num(`${where}.usage.input`, c.usage.input, { int: true, min: 0 }),
      usageOut: num(`${where}.usage.output`, c.usage.output, { int: true, min: 0 }),
      latencyMs: num(`${where}.latencyMs`, c.latencyMs, { min: 0 }),
      costUsd: num(`${where}.costUsd`, c.costUsd, { min: 0 }),
      error: scrub(str(`${where}.error`, c.error, { optional: true })),
      errorKind: str(`${where}.errorKind`, c.errorKind, { optional: true }),
      status: num(`${where}.status`, c.status, { int: true, optional: true }),
      attempt: num(`${where}.attempt`, c.attempt, { int: true, min: 0 }),
      cached: bool(`${where}.cached`, c.cached, true),
      createdAt: Math.round(num(`${where}.at`, c.at ?? Date.now(), { min: 0 }) as number),
    };
    if (run) ctx.requireRun(`${where}.run`, run);
    return row;
  };
  const insert = db.transaction((rows: ReturnType<typeof check>[]) => {
    for (const row of rows) q.ins.run(row);
  });
  const toRow = (r: Row): CallRow => {
    const c: CallRow = {
      id: Number(r.id),
      modelId: String(r.model_id),
      hash: String(r.request_hash),
      request: parseJson(r.request),
      usage: { input: Number(r.usage_in), output: Number(r.usage_out) },
      latencyMs: Number(r.latency_ms),
      costUsd: Number(r.cost_usd),
      attempt: Number(r.attempt),
      cached: r.cached === 1,
      createdAt: Number(r.created_at),
    };
    const opt = {
      run: optStr(r.run),
      arm: optStr(r.arm),
      exampleId: optStr(r.example_id),
      response: optStr(r.response),
      error: optStr(r.error),
      errorKind: optStr(r.error_kind),
      status: optNum(r.status),
    };
    for (const [k, v] of Object.entries(opt)) if (v !== undefined) Object.assign(c, { [k]: v });
    return c;
  };
  let buffer: CallInput[] = [];
  const t: CallsTable = {
    recordCalls(calls) {
      if (!Array.isArray(calls)) throw new StoreError('recordCalls', 'expected an array');
      insert(calls.map((c, i) => check(c, `recordCalls[${i}]`)));
    },
    listCalls(run, arm) {
      return ((arm == null ? q.list.all(run) : q.listArm.all(run, arm)) as Row[]).map(toRow);
    },
    logCall(c, run, arm) {
      buffer.push({ ...c, run, arm, exampleId: typeof c.meta?.exampleId === 'string' ? c.meta.exampleId : c.exampleId, meta: undefined });
      if (buffer.length >= CALL_BATCH) t.flushCalls();
    },
    flushCalls() {
      if (!buffer.length) return;
      const batch = buffer;
      buffer = [];
      t.recordCalls(batch);
    },
  };
  return t;
}
