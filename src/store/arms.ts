// Arms of a run: one row per (run, arm name) holding the runner's status, what prepare() produced, what
// it spent, and the progress of a prepare() that was interrupted.
import { id, jsonText, optStr, parseJson, str, StoreError, type Ctx, type Row } from './db.ts';
import type { ArmProgress, ArmRecord, ArmStatus, Spent, TrainingInfo } from './types.ts';

const ARM_STATUS = new Set<ArmStatus>(['pending', 'preparing', 'prepared', 'done', 'failed']);

export interface ArmsTable {
  /** insert or replace the whole record */
  putArm(a: ArmRecord): void;
  getArm(run: string, name: string): ArmRecord | undefined;
  /** in the order they were first written */
  listArms(run: string): ArmRecord[];
  /** record what an arm's prepare() has spent and saved so far (status becomes preparing) */
  saveProgress(run: string, name: string, progress: ArmProgress): void;
}

export function armsTable(ctx: Ctx): ArmsTable {
  const { db, scrub } = ctx;
  const q = {
    upsert:
      db.prepare(`INSERT INTO arms (run, name, kind, status, model_id, prompt_hash, artifact, spent, training, notes, progress, error, created_at, updated_at)
      VALUES (@run, @name, @kind, @status, @modelId, @promptHash, @artifact, @spent, @training, @notes, @progress, @error, @now, @now)
      ON CONFLICT(run, name) DO UPDATE SET kind = excluded.kind, status = excluded.status, model_id = excluded.model_id,
        prompt_hash = excluded.prompt_hash, artifact = excluded.artifact, spent = excluded.spent, training = excluded.training,
        notes = excluded.notes, progress = excluded.progress, error = excluded.error, updated_at = excluded.updated_at`),
    progress: db.prepare("UPDATE arms SET progress = ?, status = 'preparing', updated_at = ? WHERE run = ? AND name = ?"),
    get: db.prepare('SELECT * FROM arms WHERE run = ? AND name = ?'),
    list: db.prepare('SELECT * FROM arms WHERE run = ? ORDER BY created_at, rowid'),
  };
  const toRecord = (r: Row): ArmRecord => {
    const a: ArmRecord = { run: String(r.run), name: String(r.name), kind: String(r.kind), status: r.status as ArmStatus };
    const modelId = optStr(r.model_id);
    if (modelId !== undefined) a.modelId = modelId;
    const promptHash = optStr(r.prompt_hash);
    if (promptHash !== undefined) a.promptHash = promptHash;
    if (r.artifact != null) a.artifact = parseJson(r.artifact);
    if (r.spent != null) a.spent = parseJson<Spent>(r.spent);
    if (r.training != null) a.training = parseJson<TrainingInfo>(r.training);
    if (r.notes != null) a.notes = parseJson<Record<string, unknown>>(r.notes);
    if (r.progress != null) a.progress = parseJson<ArmProgress>(r.progress);
    const error = optStr(r.error);
    if (error !== undefined) a.error = error;
    return a;
  };
  return {
    putArm(a) {
      if (!a || typeof a !== 'object') throw new StoreError('putArm', 'expected an object');
      if (!ARM_STATUS.has(a.status))
        throw new StoreError('putArm.status', `expected one of ${[...ARM_STATUS].join(', ')}, got ${JSON.stringify(a.status)}`);
      const row = {
        run: id('putArm.run', a.run),
        name: id('putArm.name', a.name),
        kind: id('putArm.kind', a.kind),
        status: a.status,
        modelId: str('putArm.modelId', a.modelId, { optional: true }),
        promptHash: str('putArm.promptHash', a.promptHash, { optional: true }),
        artifact: scrub(jsonText('putArm.artifact', a.artifact, true)),
        spent: jsonText('putArm.spent', a.spent, true),
        training: scrub(jsonText('putArm.training', a.training, true)),
        notes: scrub(jsonText('putArm.notes', a.notes, true)),
        progress: scrub(jsonText('putArm.progress', a.progress, true)),
        error: scrub(str('putArm.error', a.error, { optional: true })),
        now: Date.now(),
      };
      ctx.requireRun('putArm.run', row.run);
      q.upsert.run(row);
    },
    getArm(run, name) {
      const r = q.get.get(run, name) as Row | undefined;
      return r ? toRecord(r) : undefined;
    },
    listArms(run) {
      return (q.list.all(run) as Row[]).map(toRecord);
    },
    saveProgress(run, name, progress) {
      const text = scrub(jsonText('saveProgress.progress', progress));
      if (q.progress.run(text, Date.now(), run, name).changes !== 1)
        throw new StoreError('saveProgress', `no arm "${name}" in run "${run}"`);
    },
  };
}
