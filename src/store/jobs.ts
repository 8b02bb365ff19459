// Fine-tuning jobs (the server's; status is finetune's JobStatus, kept as text).
import { randomBytes } from 'node:crypto';
import { id, jsonText, num, parseJson, StoreError, type Ctx, type Row } from './db.ts';
import type { JobInput, JobRow } from './types.ts';

export interface JobsTable {
  createJob(job: JobInput): JobRow;
  getJob(id: string): JobRow | undefined;
  updateJob(id: string, patch: { status?: string; state?: unknown }): JobRow;
  /** newest first */
  listJobs(opts?: { backend?: string; limit?: number }): JobRow[];
}

export function jobsTable(ctx: Ctx): JobsTable {
  const { db, scrub } = ctx;
  const q = {
    ins: db.prepare('INSERT INTO jobs (id, backend, status, options, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    get: db.prepare('SELECT * FROM jobs WHERE id = ?'),
    upd: db.prepare('UPDATE jobs SET status = ?, state = ?, updated_at = ? WHERE id = ?'),
    list: db.prepare('SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    listBackend: db.prepare('SELECT * FROM jobs WHERE backend = ? ORDER BY created_at DESC, rowid DESC LIMIT ?'),
  };
  const toRow = (r: Row): JobRow => ({
    id: String(r.id),
    backend: String(r.backend),
    status: String(r.status),
    options: parseJson(r.options),
    state: parseJson(r.state),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  });
  return {
    createJob(job) {
      if (!job || typeof job !== 'object') throw new StoreError('createJob', 'expected an object');
      const jid = job.id == null ? `ftjob-${randomBytes(12).toString('hex')}` : id('createJob.id', job.id);
      const backend = id('createJob.backend', job.backend);
      const status = id('createJob.status', job.status);
      const options = scrub(jsonText('createJob.options', job.options));
      const state = scrub(jsonText('createJob.state', job.state, true));
      const now = Date.now();
      db.transaction(() => {
        if (q.get.get(jid)) throw new StoreError('createJob.id', `a job with id "${jid}" exists`);
        q.ins.run(jid, backend, status, options, state, now, now);
      })();
      return toRow(q.get.get(jid) as Row);
    },
    getJob(jid) {
      const r = q.get.get(jid) as Row | undefined;
      return r ? toRow(r) : undefined;
    },
    updateJob(jid, patch) {
      if (!patch || typeof patch !== 'object') throw new StoreError('updateJob', 'expected an object');
      const status = patch.status === undefined ? undefined : id('updateJob.status', patch.status);
      const state = patch.state === undefined ? undefined : scrub(jsonText('updateJob.state', patch.state));
      return db.transaction(() => {
        const cur = q.get.get(jid) as Row | undefined;
        if (!cur) throw new StoreError('updateJob.id', `no job with id "${jid}"`);
        q.upd.run(status ?? cur.status, state === undefined ? cur.state : state, Date.now(), jid);
        return toRow(q.get.get(jid) as Row);
      })();
    },
    listJobs(o = {}) {
      const limit = o.limit == null ? -1 : (num('listJobs.limit', o.limit, { int: true, min: 0 }) as number);
      return ((o.backend != null ? q.listBackend.all(o.backend, limit) : q.list.all(limit)) as Row[]).map(toRow);
    },
  };
}
