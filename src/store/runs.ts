// Runs (and the experiments they belong to): the one run-id generator, create, read, resume lookup,
// status updates, and delete (a new run stopped by bad input while preparing leaves no trace).
import { randomBytes } from 'node:crypto';
import { id, jsonText, num, optNum, parseJson, StoreError, type Ctx, type Row } from './db.ts';
import type { RunMeta, RunRecord, RunStatus } from './types.ts';

const RUN_STATUS = new Set<RunStatus>(['running', 'done', 'failed', 'interrupted']);

/** The one run-id generator: UTC time to the second plus 3 random bytes, e.g. 20261205-091200-a1b2c3. */
export function newRunId(now = Date.now()): string {
  const d = new Date(now);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}-${randomBytes(3).toString('hex')}`;
}

export interface NewRun {
  /** default: newRunId() */
  id?: string;
  experiment: string;
  runKey: string;
  meta: RunMeta;
  /** epoch ms (default now) */
  createdAt?: number;
}

export interface RunsTable {
  /** writes the run (status running) and its experiment row */
  createRun(r: NewRun): RunRecord;
  getRun(id: string): RunRecord | undefined;
  /** newest first */
  listRuns(opts?: { experiment?: string; limit?: number }): RunRecord[];
  /** the newest run (of one experiment, when given) */
  latestRun(experiment?: string): RunRecord | undefined;
  /** the newest run of this experiment and key, when it did not finish */
  findResumable(experiment: string, runKey: string): RunRecord | undefined;
  /** finishedAt defaults to now for done/failed/interrupted and is cleared for running */
  updateRun(id: string, patch: { status?: RunStatus; finishedAt?: number; meta?: RunMeta }): void;
  /** removes the run with its arms, results and calls (and its experiment row when no run is left) */
  deleteRun(id: string): void;
}

export function runsTable(ctx: Ctx): RunsTable {
  const { db, scrub } = ctx;
  const q = {
    insExperiment: db.prepare('INSERT INTO experiments (id, created_at, meta) VALUES (?, ?, NULL) ON CONFLICT(id) DO NOTHING'),
    delExperimentIfEmpty: db.prepare('DELETE FROM experiments WHERE id = ? AND NOT EXISTS (SELECT 1 FROM runs WHERE experiment = ?)'),
    insRun: db.prepare('INSERT INTO runs (id, experiment, config, status, created_at, meta, run_key) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
    listRuns: db.prepare('SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    listRunsExp: db.prepare('SELECT * FROM runs WHERE experiment = ? ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    latestByKey: db.prepare('SELECT * FROM runs WHERE experiment = ? AND run_key = ? ORDER BY created_at DESC, rowid DESC LIMIT 1'),
    setStatus: db.prepare('UPDATE runs SET status = ?, finished_at = ? WHERE id = ?'),
    setMeta: db.prepare('UPDATE runs SET meta = ?, config = ? WHERE id = ?'),
    delRun: db.prepare('DELETE FROM runs WHERE id = ?'),
  };
  const toRecord = (r: Row): RunRecord => {
    const meta = (parseJson<Omit<RunMeta, 'config'>>(r.meta) ?? {}) as RunMeta;
    const rec: RunRecord = {
      id: String(r.id),
      experiment: String(r.experiment),
      runKey: r.run_key == null ? '' : String(r.run_key),
      status: r.status as RunStatus,
      createdAt: Number(r.created_at),
      meta: { ...meta, config: parseJson(r.config) },
    };
    const f = optNum(r.finished_at);
    if (f !== undefined) rec.finishedAt = f;
    return rec;
  };
  const split = (where: string, meta: RunMeta) => {
    if (!meta || typeof meta !== 'object') throw new StoreError(`${where}.meta`, 'expected an object');
    const { config, ...rest } = meta;
    return { config: scrub(jsonText(`${where}.meta.config`, config ?? null)), meta: scrub(jsonText(`${where}.meta`, rest)) };
  };
  const t: RunsTable = {
    createRun(input) {
      if (!input || typeof input !== 'object') throw new StoreError('createRun', 'expected an object');
      const experiment = id('createRun.experiment', input.experiment);
      const runKey = id('createRun.runKey', input.runKey);
      const { config, meta } = split('createRun', input.meta);
      const now = input.createdAt ?? Date.now();
      const runId = input.id == null ? newRunId(now) : id('createRun.id', input.id);
      if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(runId))
        throw new StoreError('createRun.id', `"${runId}" may hold only letters, digits and . _ : -`);
      if (runId === 'latest') throw new StoreError('createRun.id', '"latest" is reserved');
      db.transaction(() => {
        if (q.getRun.get(runId)) throw new StoreError('createRun.id', `a run with id "${runId}" exists`);
        q.insExperiment.run(experiment, now);
        q.insRun.run(runId, experiment, config, 'running', now, meta, runKey);
      })();
      return toRecord(q.getRun.get(runId) as Row);
    },
    getRun(runId) {
      const r = q.getRun.get(runId) as Row | undefined;
      return r ? toRecord(r) : undefined;
    },
    listRuns(o = {}) {
      const limit = o.limit == null ? -1 : (num('listRuns.limit', o.limit, { int: true, min: 0 }) as number);
      const rows = (o.experiment != null ? q.listRunsExp.all(o.experiment, limit) : q.listRuns.all(limit)) as Row[];
      return rows.map(toRecord);
    },
    latestRun(experiment) {
      return t.listRuns({ experiment, limit: 1 })[0];
    },
    findResumable(experiment, runKey) {
      const r = q.latestByKey.get(experiment, runKey) as Row | undefined;
      return r && r.status !== 'done' ? toRecord(r) : undefined;
    },
    updateRun(runId, patch) {
      if (patch.status !== undefined && !RUN_STATUS.has(patch.status)) {
        throw new StoreError('updateRun.status', `expected one of ${[...RUN_STATUS].join(', ')}, got ${JSON.stringify(patch.status)}`);
      }
      const f =
        patch.finishedAt != null
          ? num('updateRun.finishedAt', patch.finishedAt, { min: 0 })
          : patch.status === 'running'
            ? null
            : Date.now();
      const m = patch.meta ? split('updateRun', patch.meta) : undefined;
      ctx.requireRun('updateRun.id', runId);
      db.transaction(() => {
        if (m) q.setMeta.run(m.meta, m.config, runId);
        if (patch.status) q.setStatus.run(patch.status, f, runId);
      })();
    },
    deleteRun(runId) {
      const r = q.getRun.get(runId) as Row | undefined;
      if (!r) return;
      db.transaction(() => {
        q.delRun.run(runId);
        q.delExperimentIfEmpty.run(r.experiment, r.experiment);
      })();
      ctx.forgetRun(runId);
    },
  };
  return t;
}
