// The runner's RunStore over src/store's SQLite store. Calls are logged in batches (they ride along with
// the results' transactions); cache writes go straight through, so a call that completed is never
// repeated after a crash even when its result was not yet written.
import { openStore, type ArmStatus as StoreArmStatus, type CallInput, type RunRow, type Store } from '../store/index.ts';
import type { CallRecord, ResponseCache } from '../models/index.ts';
import type { ArmRecord, ArmStatus, ResultRecord, RunRecord, RunStore } from './persist.ts';

export interface ExperimentStore extends RunStore {
  /** the underlying store (for queries this adapter lacks) */
  readonly raw: Store;
  /** the response cache (models' ResponseCache) */
  readonly cache: ResponseCache;
  /** createModel's onCall hook, bound to a run and arm */
  logCall(c: CallRecord, runId: string, arm: string): void;
  /** write buffered call records now */
  flushCalls(): void;
  /** more secret values to scrub from everything written */
  addSecrets(values: string[]): void;
}

const CALL_BATCH = 1024;

function toStoreStatus(s: ArmStatus): StoreArmStatus {
  switch (s) {
    case 'prepared':
    case 'partial':
      return 'evaluating';
    default:
      return s;
  }
}

function runRecord(r: RunRow): RunRecord {
  const meta = (r.meta ?? {}) as any;
  const { runKey, ...rest } = meta;
  return {
    id: r.id,
    experiment: r.experiment,
    configHash: String(runKey ?? ''),
    status: r.status,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
    meta: { ...rest, config: r.config },
  };
}

export function openRunStore(path: string, opts: { secrets?: string[]; env?: NodeJS.ProcessEnv } = {}): ExperimentStore {
  const s = openStore(path, { secrets: opts.secrets, env: opts.env });
  // A new run is written with the first thing that belongs to it (an arm, a result, a call), so a run
  // that fails on bad input before doing anything leaves no trace in the store.
  let pendingRun: RunRecord | undefined;
  let pendingArms = new Map<string, ArmRecord>();
  const materialize = () => {
    if (!pendingRun) return;
    const r = pendingRun;
    const arms = [...pendingArms.values()];
    pendingRun = undefined;
    pendingArms = new Map();
    s.transaction(() => {
      const { config, ...meta } = r.meta;
      s.createRun({ id: r.id, experiment: r.experiment, config, meta: { ...meta, runKey: r.configHash } });
      if (r.status !== 'running') s.setRunStatus(r.id, r.status, r.finishedAt);
      for (const a of arms) writeArm(a);
    });
  };
  const writeArm = (a: ArmRecord) =>
    s.upsertArm({
      run: a.run,
      name: a.name,
      kind: a.kind,
      status: toStoreStatus(a.status),
      predictor: { modelId: a.modelId, promptHash: a.promptHash, artifact: a.artifact, training: a.training, notes: a.notes, status: a.status },
      spent: a.spent,
      error: a.error ?? null,
    });
  let calls: CallInput[] = [];
  const flushCalls = () => {
    if (!calls.length) return;
    materialize();
    const batch = calls;
    calls = [];
    s.recordCalls(batch);
  };
  // Cache writes are group-committed: every answer that arrives in one turn of the event loop is
  // written in one transaction at the next setImmediate (a commit per call costs more than the call).
  // The window is that of reading the socket, so a crash still repeats only calls in flight.
  const pending = new Map<string, { modelId: string; resp: Parameters<Store['put']>[2] }>();
  let scheduled: NodeJS.Immediate | undefined;
  const flushCache = () => {
    if (scheduled) {
      clearImmediate(scheduled);
      scheduled = undefined;
    }
    if (!pending.size) return;
    const items = [...pending];
    pending.clear();
    s.transaction(() => {
      for (const [k, v] of items) s.put(k, v.modelId, v.resp);
    });
  };
  const cache: ResponseCache = {
    get(key) {
      const p = pending.get(key);
      return p ? { ...p.resp } : s.get(key);
    },
    put(key, modelId, resp) {
      pending.set(key, { modelId, resp: { text: resp.text, usage: resp.usage, latencyMs: resp.latencyMs, costUsd: resp.costUsd } });
      scheduled ??= setImmediate(flushCache);
    },
  };
  const store: ExperimentStore = {
    path: s.path,
    raw: s,
    cache,
    addSecrets: (v) => s.addSecrets(v),
    logCall(c, runId, arm) {
      calls.push({
        run: runId,
        arm,
        exampleId: typeof c.meta?.exampleId === 'string' ? c.meta.exampleId : undefined,
        modelId: c.modelId,
        hash: c.hash,
        request: c.request,
        response: c.response ?? null,
        error: c.error ?? null,
        errorKind: c.errorKind ?? null,
        status: c.status ?? null,
        usage: c.usage,
        latencyMs: c.latencyMs,
        costUsd: c.costUsd,
        attempt: c.attempt,
        cached: c.cached,
        at: c.at,
      });
      if (calls.length >= CALL_BATCH && !pendingRun) flushCalls();
    },
    flushCalls,
    findResumable(experiment, key) {
      const latest = s.listRuns({ experiment }).find((r) => (r.meta as any)?.runKey === key);
      return latest && latest.status !== 'done' ? runRecord(latest) : undefined;
    },
    createRun(r) {
      materialize();
      const id = r.id ?? `run-${Date.now()}`;
      if (s.getRun(id)) throw new Error(`a run with id ${id} exists`);
      pendingRun = { ...r, id, status: 'running' };
      return { ...pendingRun };
    },
    updateRun(id, patch) {
      if (pendingRun?.id === id) {
        pendingRun = { ...pendingRun, ...(patch.status ? { status: patch.status } : {}), ...(patch.finishedAt ? { finishedAt: patch.finishedAt } : {}), ...(patch.meta ? { meta: patch.meta } : {}) };
        return;
      }
      flushCalls();
      if (patch.meta) {
        const { config: _c, ...meta } = patch.meta;
        const cur = s.getRun(id);
        s.updateRunMeta(id, { ...meta, runKey: (cur?.meta as any)?.runKey });
      }
      if (patch.status) s.setRunStatus(id, patch.status, patch.finishedAt);
    },
    getRun(id) {
      if (pendingRun?.id === id) return { ...pendingRun };
      const r = s.getRun(id);
      return r ? runRecord(r) : undefined;
    },
    latestRun() {
      const r = s.latestRun();
      return r ? runRecord(r) : undefined;
    },
    listRuns() {
      return s.listRuns().map(runRecord);
    },
    getArm(run, name) {
      if (pendingRun?.id === run) {
        const p = pendingArms.get(name);
        return p ? { ...p } : undefined;
      }
      const a = s.getArm(run, name);
      return a ? armRecord(a) : undefined;
    },
    listArms(run) {
      if (pendingRun?.id === run) return [...pendingArms.values()].map((a) => ({ ...a }));
      return s.listArms(run).map(armRecord);
    },
    putArm(a) {
      if (pendingRun?.id === a.run) {
        pendingArms.set(a.name, { ...a });
        return;
      }
      flushCalls();
      writeArm(a);
    },
    committed(runId) {
      return pendingRun?.id !== runId && s.getRun(runId) !== undefined;
    },
    commit(runId) {
      if (pendingRun?.id === runId) {
        materialize();
        flushCalls();
      }
    },
    doneIds(run, arm) {
      return s.doneExampleIds(run, arm);
    },
    putResults(run, arm, rows) {
      materialize();
      s.transaction(() => {
        flushCache();
        flushCalls();
        s.recordResults(
          rows.map((r) => ({
            run,
            arm,
            exampleId: r.exampleId,
            output: r.output,
            score: r.score,
            pass: r.pass,
            extracted: r.extracted ?? null,
            expected: r.expected,
            latencyMs: r.latencyMs,
            costUsd: r.costUsd,
            tokensIn: r.tokensIn,
            tokensOut: r.tokensOut,
            cached: r.cached,
            error: r.error ?? null,
          })),
        );
      });
    },
    results(run, arm) {
      return s.resultsFor(run, arm).map(
        (r, idx): ResultRecord => ({
          exampleId: r.exampleId,
          idx,
          expected: r.expected,
          output: r.output,
          extracted: r.extracted,
          score: r.score,
          pass: r.pass,
          error: r.error,
          tokensIn: r.tokensIn,
          tokensOut: r.tokensOut,
          latencyMs: r.latencyMs,
          costUsd: r.costUsd,
          cached: r.cached,
        }),
      );
    },
    close() {
      try {
        flushCache();
        if (pendingRun) {
          // nothing was written for it: it never existed (its calls' answers stay in the cache)
          const id = pendingRun.id;
          calls = calls.filter((c) => c.run !== id);
          pendingRun = undefined;
          pendingArms.clear();
        }
        flushCalls();
      } finally {
        s.close();
      }
    },
  };
  return store;
}

function armRecord(a: { run: string; name: string; kind: string; predictor?: unknown; spent?: unknown; status: StoreArmStatus; error?: string | null }): ArmRecord {
  const p = (a.predictor ?? {}) as any;
  const status: ArmStatus = a.status === 'evaluating' || a.status === 'preparing' ? (p.status === 'partial' ? 'partial' : a.status === 'preparing' ? 'pending' : 'prepared') : a.status;
  const r: ArmRecord = { run: a.run, name: a.name, kind: a.kind, status };
  if (p.modelId !== undefined) r.modelId = p.modelId;
  if (p.promptHash !== undefined) r.promptHash = p.promptHash;
  if (p.artifact !== undefined) r.artifact = p.artifact;
  if (p.training !== undefined) r.training = p.training;
  if (p.notes !== undefined) r.notes = p.notes;
  if (a.spent) r.spent = a.spent as ArmRecord['spent'];
  if (a.error) r.error = a.error;
  return r;
}
