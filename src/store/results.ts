// Results: one row per (run, arm, test example), idempotent, written in batches.
import { bool, id, num, optNum, optStr, str, StoreError, type Ctx } from './db.ts';
import type { ResultRecord } from './types.ts';

export interface ResultsTable {
  /** validates the whole batch, then inserts it in one transaction; rows already stored are skipped; returns how many were new */
  putResults(run: string, arm: string, rows: Omit<ResultRecord, 'idx'>[]): number;
  /** one arm's results in the order they were written */
  results(run: string, arm: string): ResultRecord[];
  /** the same records one at a time, read from SQLite as they are consumed (nothing held but the current row) */
  iterateResults(run: string, arm: string): IterableIterator<ResultRecord>;
  /** example ids already stored for (run, arm) */
  doneIds(run: string, arm: string): Set<string>;
  countResults(run: string, arm?: string): number;
}

export function resultsTable(ctx: Ctx): ResultsTable {
  const { db, scrub } = ctx;
  const q = {
    ins: db.prepare(`INSERT INTO results (run, arm, example_id, output, score, pass, extracted, expected, latency_ms, cost_usd,
      tokens_in, tokens_out, cached, error, created_at, cpu_ms)
      VALUES (@run, @arm, @exampleId, @output, @score, @pass, @extracted, @expected, @latencyMs, @costUsd, @tokensIn, @tokensOut,
        @cached, @error, @createdAt, @cpuMs)
      ON CONFLICT(run, arm, example_id) DO NOTHING`),
    // columns as arrays (raw), in this order: no per-row column-name object while reading a million rows
    list: db
      .prepare(
        `SELECT example_id, expected, output, score, pass, tokens_in, tokens_out, latency_ms, cost_usd, cached, extracted, error, cpu_ms
        FROM results WHERE run = ? AND arm = ? ORDER BY id`,
      )
      .raw(),
    doneIds: db.prepare('SELECT example_id FROM results WHERE run = ? AND arm = ?').pluck(),
    count: db.prepare('SELECT count(*) FROM results WHERE run = ?').pluck(),
    countArm: db.prepare('SELECT count(*) FROM results WHERE run = ? AND arm = ?').pluck(),
  };
  const check = (run: string, arm: string, r: Omit<ResultRecord, 'idx'>, where: string) => {
    if (!r || typeof r !== 'object') throw new StoreError(where, 'expected an object');
    return {
      run,
      arm,
      exampleId: id(`${where}.exampleId`, r.exampleId),
      output: scrub(str(`${where}.output`, r.output)),
      score: num(`${where}.score`, r.score),
      pass: bool(`${where}.pass`, r.pass),
      extracted: scrub(str(`${where}.extracted`, r.extracted, { optional: true })),
      expected: scrub(str(`${where}.expected`, r.expected)),
      latencyMs: num(`${where}.latencyMs`, r.latencyMs, { min: 0 }),
      costUsd: num(`${where}.costUsd`, r.costUsd, { min: 0 }),
      tokensIn: num(`${where}.tokensIn`, r.tokensIn, { int: true, min: 0 }),
      tokensOut: num(`${where}.tokensOut`, r.tokensOut, { int: true, min: 0 }),
      cached: bool(`${where}.cached`, r.cached, true),
      error: scrub(str(`${where}.error`, r.error, { optional: true })),
      createdAt: Date.now(),
      cpuMs: num(`${where}.cpuMs`, r.cpuMs, { min: 0, optional: true }),
    };
  };
  const insert = db.transaction((rows: ReturnType<typeof check>[]) => {
    let n = 0;
    for (const row of rows) n += q.ins.run(row).changes;
    return n;
  });
  function* readRows(run: string, arm: string): IterableIterator<ResultRecord> {
    // labels and short answers repeat across rows: one string each (a bounded table), not one per row
    const table = new Map<string, string>();
    const intern = (v: unknown): string => {
      const t = String(v);
      if (t.length > 64) return t;
      const hit = table.get(t);
      if (hit !== undefined) return hit;
      if (table.size < 4096) table.set(t, t);
      return t;
    };
    let idx = 0;
    for (const r of q.list.iterate(run, arm) as IterableIterator<unknown[]>) {
      const rec: ResultRecord = {
        exampleId: String(r[0]),
        idx: idx++,
        expected: intern(r[1]),
        output: intern(r[2]),
        score: Number(r[3]),
        pass: r[4] === 1,
        tokensIn: Number(r[5]),
        tokensOut: Number(r[6]),
        latencyMs: Number(r[7]),
        costUsd: Number(r[8]),
        cached: r[9] === 1,
      };
      if (r[10] != null) rec.extracted = intern(r[10]);
      const error = optStr(r[11]);
      if (error !== undefined) rec.error = error;
      const cpuMs = optNum(r[12]);
      if (cpuMs !== undefined) rec.cpuMs = cpuMs;
      yield rec;
    }
  }
  return {
    putResults(run, arm, batch) {
      const r = id('putResults.run', run);
      const a = id('putResults.arm', arm);
      if (!Array.isArray(batch)) throw new StoreError('putResults', 'expected an array');
      const rows = batch.map((x, i) => check(r, a, x, `putResults[${i}]`));
      ctx.requireRun('putResults.run', r);
      return insert(rows);
    },
    results(run, arm) {
      return Array.from(readRows(run, arm));
    },
    iterateResults(run, arm) {
      return readRows(run, arm);
    },
    doneIds(run, arm) {
      return new Set(q.doneIds.all(run, arm) as string[]);
    },
    countResults(run, arm) {
      return (arm == null ? q.count.get(run) : q.countArm.get(run, arm)) as number;
    },
  };
}
