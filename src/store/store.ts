import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.ts';

/** Bad data handed to the store (nothing is written), or a store file tunelab cannot use. `where` names the method and field. */
export class StoreError extends Error {
  constructor(public where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = 'StoreError';
  }
}

export type RunStatus = 'running' | 'done' | 'failed' | 'interrupted';
export type ArmStatus = 'pending' | 'preparing' | 'evaluating' | 'done' | 'failed';

export interface RunRow {
  id: string;
  experiment: string;
  /** the parsed config as given to createRun (it holds env var NAMES, never keys) */
  config: unknown;
  status: RunStatus;
  createdAt: number;
  finishedAt?: number;
  meta?: Record<string, unknown>;
}

export interface ArmInput {
  run: string;
  name: string;
  kind: string;
  /** predictor description: model id, prompt hash, frozen prompt, training info... (JSON) */
  predictor?: unknown;
  /** what preparing cost (JSON, e.g. Spent) */
  spent?: unknown;
  status: ArmStatus;
  error?: string | null;
}
export interface ArmRow extends ArmInput { createdAt: number; updatedAt: number }

/** What a call attempt has both as handed to the store (CallInput) and as read back (CallRow). */
export interface CallFields {
  run?: string;
  arm?: string;
  exampleId?: string;
  modelId: string;
  hash: string;
  request: unknown;
  usage: { input: number; output: number };
  latencyMs: number;
  costUsd: number;
  attempt: number;
}
/**
 * One call attempt. Shaped so a models CallRecord can be passed as is: `store.recordCall(record)`.
 * `run` / `arm` / `exampleId` default to `meta.run` / `meta.arm` / `meta.exampleId`.
 */
export interface CallInput extends CallFields {
  response?: { text: string } | string | null;
  error?: string | null;
  errorKind?: string | null;
  status?: number | null;
  cached?: boolean;
  /** epoch ms (default now) */
  at?: number;
  meta?: Record<string, unknown>;
}
export interface CallRow extends CallFields {
  id: number;
  response?: string;
  error?: string;
  errorKind?: string;
  status?: number;
  cached: boolean;
  createdAt: number;
}

export interface ResultInput {
  run: string;
  arm: string;
  exampleId: string;
  /** the model's raw output */
  output: string;
  score: number;
  pass: boolean;
  /** the answer the metric scored (after parsing / label extraction) */
  extracted?: string | null;
  expected: string;
  latencyMs: number;
  costUsd: number;
  tokensIn: number;
  tokensOut: number;
  cached?: boolean;
  /** set when the example could not be answered (the call failed after retries) */
  error?: string | null;
}
export interface ResultRow extends Required<Omit<ResultInput, 'extracted' | 'error'>> {
  extracted?: string;
  error?: string;
  createdAt: number;
}

/** What the cache holds: a ChatResponse without `raw` / `cached`. */
export interface CachedResponse { text: string; usage: { input: number; output: number }; latencyMs: number; costUsd: number }

export interface JobInput { id?: string; backend: string; status: string; options: unknown; state?: unknown }
export interface JobRow { id: string; backend: string; status: string; options: unknown; state?: unknown; createdAt: number; updatedAt: number }
export interface FileInput { id?: string; filename: string; purpose: string; bytes: number; path: string }
export interface FileRow extends Required<FileInput> { createdAt: number }

/** Totals over calls; tokens, cost and latency count only calls that reached the provider (cache hits excluded). */
export interface CallStats { calls: number; failed: number; cached: number; tokensIn: number; tokensOut: number; costUsd: number; latencyMs: number }

export interface OpenStoreOptions {
  /** secret values to scrub from everything written (replaced by "[redacted]"); added to those found in env */
  secrets?: string[];
  /** env scanned for secrets: values (8+ chars) of variables whose names contain KEY, TOKEN, SECRET, PASSWORD or CREDENTIAL. Default process.env; pass {} to disable. */
  env?: NodeJS.ProcessEnv;
  readonly?: boolean;
}

const RUN_STATUS = new Set<RunStatus>(['running', 'done', 'failed', 'interrupted']);
const ARM_STATUS = new Set<ArmStatus>(['pending', 'preparing', 'evaluating', 'done', 'failed']);
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

/** Secret values found in an env: see OpenStoreOptions.env. */
export function secretsFromEnv(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env)) if (v && v.length >= 8 && SECRET_NAME.test(k)) out.push(v);
  return out;
}

// ---- validation helpers (throw StoreError before anything is written) ----
function str(where: string, v: unknown, opts: { optional?: boolean; nonEmpty?: boolean; max?: number } = {}): string | null {
  if (v == null) {
    if (opts.optional) return null;
    throw new StoreError(where, 'required');
  }
  if (typeof v !== 'string') throw new StoreError(where, `expected a string, got ${typeof v}`);
  if (opts.nonEmpty !== false && opts.nonEmpty && v.length === 0) throw new StoreError(where, 'must not be empty');
  if (opts.max && v.length > opts.max) throw new StoreError(where, `longer than ${opts.max} characters`);
  return v;
}
const id = (where: string, v: unknown) => str(where, v, { nonEmpty: true, max: 512 }) as string;
function num(where: string, v: unknown, opts: { int?: boolean; min?: number; optional?: boolean } = {}): number | null {
  if (v == null && opts.optional) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new StoreError(where, `expected a finite number, got ${v === null ? 'null' : typeof v === 'number' ? String(v) : typeof v}`);
  if (opts.int && !Number.isInteger(v)) throw new StoreError(where, `expected a whole number, got ${v}`);
  if (opts.min != null && v < opts.min) throw new StoreError(where, `must be at least ${opts.min}, got ${v}`);
  return v;
}
function bool(where: string, v: unknown, optional = false): 0 | 1 {
  if (v == null && optional) return 0;
  if (typeof v !== 'boolean') throw new StoreError(where, `expected true or false, got ${v === null ? 'null' : typeof v}`);
  return v ? 1 : 0;
}
function jsonText(where: string, v: unknown, optional = false): string | null {
  if (v === undefined) {
    if (optional) return null;
    throw new StoreError(where, 'required');
  }
  let s: string | undefined;
  try {
    s = JSON.stringify(v, (_k, x) => {
      if (typeof x === 'bigint') throw new Error('a BigInt is not JSON');
      if (typeof x === 'number' && !Number.isFinite(x)) throw new Error(`${x} is not JSON`);
      return x;
    });
  } catch (e) {
    throw new StoreError(where, `not serializable as JSON (${(e as Error).message})`);
  }
  if (s === undefined) throw new StoreError(where, 'not serializable as JSON');
  return s;
}
const parse = (s: string | null | undefined): any => (s == null ? undefined : JSON.parse(s));
const undef = <T>(v: T | null): T | undefined => (v == null ? undefined : v);

function newRunId(now: number): string {
  const d = new Date(now);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}-${randomBytes(2).toString('hex')}`;
}

export interface Store {
  /** absolute path of the SQLite file */
  readonly path: string;
  readonly schemaVersion: number;
  /** the better-sqlite3 handle, for queries this API lacks (read-only use recommended) */
  readonly db: Database.Database;
  close(): void;
  /** runs fn in one transaction (nested calls join the outer one) */
  transaction<T>(fn: () => T): T;
  /** more secret values to scrub from everything written from now on */
  addSecrets(values: string[]): void;

  // experiments and runs
  ensureExperiment(id: string, meta?: Record<string, unknown>): void;
  listExperiments(): { id: string; createdAt: number; meta?: Record<string, unknown> }[];
  createRun(input: { experiment: string; config: unknown; id?: string; meta?: Record<string, unknown> }): RunRow;
  getRun(id: string): RunRow | undefined;
  listRuns(opts?: { experiment?: string; limit?: number }): RunRow[];
  /** the newest run (of one experiment, when given) */
  latestRun(experiment?: string): RunRow | undefined;
  /** set status; finishedAt defaults to now for done/failed/interrupted, and is cleared for running */
  setRunStatus(id: string, status: RunStatus, finishedAt?: number): void;
  updateRunMeta(id: string, meta: Record<string, unknown>): void;

  // arms
  upsertArm(arm: ArmInput): void;
  getArm(run: string, name: string): ArmRow | undefined;
  listArms(run: string): ArmRow[];

  // calls
  recordCall(call: CallInput): number;
  recordCalls(calls: CallInput[]): void;
  listCalls(run: string, arm?: string): CallRow[];
  callStats(run: string, arm?: string): CallStats;

  // results
  /** inserts one result; returns false (and changes nothing) when (run, arm, exampleId) is already recorded */
  recordResult(r: ResultInput): boolean;
  /** validates the whole batch first, then inserts it in one transaction; returns how many were new */
  recordResults(batch: ResultInput[]): number;
  /** results of one arm in the order they were recorded */
  resultsFor(run: string, arm: string): ResultRow[];
  doneExampleIds(run: string, arm: string): Set<string>;
  countResults(run: string, arm?: string): number;

  // response cache (implements models' ResponseCache)
  get(key: string): CachedResponse | undefined;
  put(key: string, modelId: string, resp: CachedResponse): void;
  cacheSize(): number;
  clearCache(modelId?: string): number;

  // fine-tuning server: jobs and files
  createJob(job: JobInput): JobRow;
  getJob(id: string): JobRow | undefined;
  updateJob(id: string, patch: { status?: string; state?: unknown }): JobRow;
  listJobs(opts?: { backend?: string; limit?: number }): JobRow[];
  createFile(file: FileInput): FileRow;
  getFile(id: string): FileRow | undefined;
  listFiles(opts?: { purpose?: string }): FileRow[];
  deleteFile(id: string): boolean;
}

/**
 * Opens (creating if needed) a tunelab store: one SQLite file in WAL mode, migrated to the current
 * schema. Every write is validated first and runs in a transaction; every text written is scrubbed of
 * known secret values.
 */
export function openStore(path: string, opts: OpenStoreOptions = {}): Store {
  const abs = resolve(path);
  let db: Database.Database;
  try {
    if (!opts.readonly) mkdirSync(dirname(abs), { recursive: true });
    db = new Database(abs, { readonly: !!opts.readonly, fileMustExist: !!opts.readonly });
  } catch (e) {
    throw new StoreError(abs, `cannot open the store (${(e as Error).message})`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    // look before changing anything: a foreign or newer file must stay byte-for-byte as it was
    const version = checkVersion(db, abs, !!opts.readonly);
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    if (version < SCHEMA_VERSION) migrate(db, version);
  } catch (e) {
    db.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError(abs, `cannot open the store (${(e as Error).message})`);
  }

  let secrets = [...new Set([...(opts.secrets ?? []), ...secretsFromEnv(opts.env ?? process.env)])].filter((s) => s.length >= 4);
  const scrub = (s: string | null): string | null => {
    if (s == null || secrets.length === 0) return s;
    for (const k of secrets) if (s.includes(k)) s = s.split(k).join('[redacted]');
    return s;
  };

  const q = {
    insExperiment: db.prepare('INSERT INTO experiments (id, created_at, meta) VALUES (?, ?, ?) ON CONFLICT(id) DO NOTHING'),
    updExperimentMeta: db.prepare('UPDATE experiments SET meta = ? WHERE id = ?'),
    listExperiments: db.prepare('SELECT * FROM experiments ORDER BY created_at, id'),
    insRun: db.prepare('INSERT INTO runs (id, experiment, config, status, created_at, meta) VALUES (?, ?, ?, ?, ?, ?)'),
    getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
    listRuns: db.prepare('SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    listRunsExp: db.prepare('SELECT * FROM runs WHERE experiment = ? ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    setRunStatus: db.prepare('UPDATE runs SET status = ?, finished_at = ? WHERE id = ?'),
    setRunMeta: db.prepare('UPDATE runs SET meta = ? WHERE id = ?'),
    upsertArm: db.prepare(`INSERT INTO arms (run, name, kind, predictor, spent, status, error, created_at, updated_at)
      VALUES (@run, @name, @kind, @predictor, @spent, @status, @error, @now, @now)
      ON CONFLICT(run, name) DO UPDATE SET kind = excluded.kind, predictor = excluded.predictor, spent = excluded.spent,
        status = excluded.status, error = excluded.error, updated_at = excluded.updated_at`),
    getArm: db.prepare('SELECT * FROM arms WHERE run = ? AND name = ?'),
    listArms: db.prepare('SELECT * FROM arms WHERE run = ? ORDER BY created_at, rowid'),
    insCall: db.prepare(`INSERT INTO calls (run, arm, example_id, model_id, request_hash, request, response, usage_in, usage_out,
      latency_ms, cost_usd, error, error_kind, status, attempt, cached, created_at)
      VALUES (@run, @arm, @exampleId, @modelId, @hash, @request, @response, @usageIn, @usageOut, @latencyMs, @costUsd,
        @error, @errorKind, @status, @attempt, @cached, @createdAt)`),
    listCalls: db.prepare('SELECT * FROM calls WHERE run = ? ORDER BY id'),
    listCallsArm: db.prepare('SELECT * FROM calls WHERE run = ? AND arm = ? ORDER BY id'),
    callStats: db.prepare(`SELECT count(*) AS calls, coalesce(sum(error IS NOT NULL), 0) AS failed, coalesce(sum(cached), 0) AS cached,
      coalesce(sum(usage_in * (1 - cached)), 0) AS tokensIn, coalesce(sum(usage_out * (1 - cached)), 0) AS tokensOut,
      coalesce(sum(cost_usd * (1 - cached)), 0) AS costUsd, coalesce(sum(latency_ms * (1 - cached)), 0) AS latencyMs FROM calls WHERE run = ?`),
    callStatsArm: db.prepare(`SELECT count(*) AS calls, coalesce(sum(error IS NOT NULL), 0) AS failed, coalesce(sum(cached), 0) AS cached,
      coalesce(sum(usage_in * (1 - cached)), 0) AS tokensIn, coalesce(sum(usage_out * (1 - cached)), 0) AS tokensOut,
      coalesce(sum(cost_usd * (1 - cached)), 0) AS costUsd, coalesce(sum(latency_ms * (1 - cached)), 0) AS latencyMs FROM calls WHERE run = ? AND arm = ?`),
    insResult: db.prepare(`INSERT INTO results (run, arm, example_id, output, score, pass, extracted, expected, latency_ms, cost_usd,
      tokens_in, tokens_out, cached, error, created_at)
      VALUES (@run, @arm, @exampleId, @output, @score, @pass, @extracted, @expected, @latencyMs, @costUsd, @tokensIn, @tokensOut,
        @cached, @error, @createdAt)
      ON CONFLICT(run, arm, example_id) DO NOTHING`),
    resultsFor: db.prepare('SELECT * FROM results WHERE run = ? AND arm = ? ORDER BY id'),
    doneIds: db.prepare('SELECT example_id FROM results WHERE run = ? AND arm = ?').pluck(),
    countResults: db.prepare('SELECT count(*) FROM results WHERE run = ?').pluck(),
    countResultsArm: db.prepare('SELECT count(*) FROM results WHERE run = ? AND arm = ?').pluck(),
    cacheGet: db.prepare('SELECT response FROM cache WHERE hash = ?').pluck(),
    cachePut: db.prepare('INSERT INTO cache (hash, model_id, response, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(hash) DO UPDATE SET response = excluded.response, model_id = excluded.model_id, created_at = excluded.created_at'),
    cacheSize: db.prepare('SELECT count(*) FROM cache').pluck(),
    cacheClear: db.prepare('DELETE FROM cache'),
    cacheClearModel: db.prepare('DELETE FROM cache WHERE model_id = ?'),
    insJob: db.prepare('INSERT INTO jobs (id, backend, status, options, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    getJob: db.prepare('SELECT * FROM jobs WHERE id = ?'),
    updJob: db.prepare('UPDATE jobs SET status = ?, state = ?, updated_at = ? WHERE id = ?'),
    listJobs: db.prepare('SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    listJobsBackend: db.prepare('SELECT * FROM jobs WHERE backend = ? ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    insFile: db.prepare('INSERT INTO files (id, filename, purpose, bytes, path, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    getFile: db.prepare('SELECT * FROM files WHERE id = ?'),
    listFiles: db.prepare('SELECT * FROM files ORDER BY created_at, rowid'),
    listFilesPurpose: db.prepare('SELECT * FROM files WHERE purpose = ? ORDER BY created_at, rowid'),
    delFile: db.prepare('DELETE FROM files WHERE id = ?'),
  };

  const runRow = (r: any): RunRow => ({
    id: r.id,
    experiment: r.experiment,
    config: parse(r.config),
    status: r.status,
    createdAt: r.created_at,
    finishedAt: undef(r.finished_at),
    meta: parse(r.meta),
  });
  const armRow = (r: any): ArmRow => ({
    run: r.run,
    name: r.name,
    kind: r.kind,
    predictor: parse(r.predictor),
    spent: parse(r.spent),
    status: r.status,
    error: undef(r.error),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
  const callRow = (r: any): CallRow => ({
    id: r.id,
    run: undef(r.run),
    arm: undef(r.arm),
    exampleId: undef(r.example_id),
    modelId: r.model_id,
    hash: r.request_hash,
    request: parse(r.request),
    response: undef(r.response),
    error: undef(r.error),
    errorKind: undef(r.error_kind),
    status: undef(r.status),
    usage: { input: r.usage_in, output: r.usage_out },
    latencyMs: r.latency_ms,
    costUsd: r.cost_usd,
    attempt: r.attempt,
    cached: r.cached === 1,
    createdAt: r.created_at,
  });
  const resultRow = (r: any): ResultRow => ({
    run: r.run,
    arm: r.arm,
    exampleId: r.example_id,
    output: r.output,
    score: r.score,
    pass: r.pass === 1,
    extracted: undef(r.extracted),
    expected: r.expected,
    latencyMs: r.latency_ms,
    costUsd: r.cost_usd,
    tokensIn: r.tokens_in,
    tokensOut: r.tokens_out,
    cached: r.cached === 1,
    error: undef(r.error),
    createdAt: r.created_at,
  });
  const jobRow = (r: any): JobRow => ({ id: r.id, backend: r.backend, status: r.status, options: parse(r.options), state: parse(r.state), createdAt: r.created_at, updatedAt: r.updated_at });
  const fileRow = (r: any): FileRow => ({ id: r.id, filename: r.filename, purpose: r.purpose, bytes: r.bytes, path: r.path, createdAt: r.created_at });

  // runs are never deleted through this API, so a run seen once exists for the life of the handle
  const knownRuns = new Set<string>();
  function requireRun(where: string, runId: string) {
    if (knownRuns.has(runId)) return;
    if (!q.getRun.get(runId)) throw new StoreError(where, `no run with id "${runId}"`);
    knownRuns.add(runId);
  }

  function checkCall(c: CallInput, where: string) {
    if (!c || typeof c !== 'object') throw new StoreError(where, 'expected an object');
    const meta = c.meta && typeof c.meta === 'object' ? c.meta : {};
    const run = str(`${where}.run`, c.run ?? (typeof meta.run === 'string' ? meta.run : undefined), { optional: true });
    const arm = str(`${where}.arm`, c.arm ?? (typeof meta.arm === 'string' ? meta.arm : undefined), { optional: true });
    const exampleId = str(`${where}.exampleId`, c.exampleId ?? (typeof meta.exampleId === 'string' ? meta.exampleId : undefined), { optional: true });
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
      createdAt: num(`${where}.at`, c.at ?? Date.now(), { int: false, min: 0 }),
    };
    row.createdAt = Math.round(row.createdAt as number);
    if (run) requireRun(`${where}.run`, run);
    return row;
  }

  function checkResult(r: ResultInput, where: string) {
    if (!r || typeof r !== 'object') throw new StoreError(where, 'expected an object');
    return {
      run: id(`${where}.run`, r.run),
      arm: id(`${where}.arm`, r.arm),
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
    };
  }

  const insertResults = db.transaction((rows: ReturnType<typeof checkResult>[]) => {
    let n = 0;
    for (const row of rows) n += q.insResult.run(row).changes;
    return n;
  });
  const insertCalls = db.transaction((rows: ReturnType<typeof checkCall>[]) => {
    for (const row of rows) q.insCall.run(row);
  });

  const store: Store = {
    path: abs,
    schemaVersion: SCHEMA_VERSION,
    db,
    close() {
      if (db.open) db.close();
    },
    transaction<T>(fn: () => T): T {
      return db.transaction(fn)();
    },
    addSecrets(values) {
      secrets = [...new Set([...secrets, ...values.filter((v) => typeof v === 'string' && v.length >= 4)])];
    },

    ensureExperiment(expId, meta) {
      const e = id('ensureExperiment.id', expId);
      const m = meta === undefined ? null : scrub(jsonText('ensureExperiment.meta', meta));
      db.transaction(() => {
        const r = q.insExperiment.run(e, Date.now(), m);
        if (r.changes === 0 && m != null) q.updExperimentMeta.run(m, e);
      })();
    },
    listExperiments() {
      return (q.listExperiments.all() as any[]).map((r) => ({ id: r.id, createdAt: r.created_at, meta: parse(r.meta) }));
    },
    createRun(input) {
      if (!input || typeof input !== 'object') throw new StoreError('createRun', 'expected an object');
      const experiment = id('createRun.experiment', input.experiment);
      const config = scrub(jsonText('createRun.config', input.config));
      const meta = input.meta === undefined ? null : scrub(jsonText('createRun.meta', input.meta));
      const now = Date.now();
      const runId = input.id == null ? newRunId(now) : id('createRun.id', input.id);
      if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(runId)) throw new StoreError('createRun.id', `"${runId}" may hold only letters, digits and . _ : -`);
      if (runId === 'latest') throw new StoreError('createRun.id', '"latest" is reserved');
      db.transaction(() => {
        if (q.getRun.get(runId)) throw new StoreError('createRun.id', `a run with id "${runId}" exists`);
        q.insExperiment.run(experiment, now, null);
        q.insRun.run(runId, experiment, config, 'running', now, meta);
      })();
      return runRow(q.getRun.get(runId));
    },
    getRun(runId) {
      const r = q.getRun.get(runId);
      return r ? runRow(r) : undefined;
    },
    listRuns(o = {}) {
      const limit = o.limit == null ? -1 : (num('listRuns.limit', o.limit, { int: true, min: 0 }) as number);
      const rows = o.experiment != null ? q.listRunsExp.all(o.experiment, limit) : q.listRuns.all(limit);
      return (rows as any[]).map(runRow);
    },
    latestRun(experiment) {
      return store.listRuns({ experiment, limit: 1 })[0];
    },
    setRunStatus(runId, status, finishedAt) {
      if (!RUN_STATUS.has(status)) throw new StoreError('setRunStatus.status', `expected one of ${[...RUN_STATUS].join(', ')}, got ${JSON.stringify(status)}`);
      const f = finishedAt != null ? num('setRunStatus.finishedAt', finishedAt, { min: 0 }) : status === 'running' ? null : Date.now();
      requireRun('setRunStatus.id', runId);
      q.setRunStatus.run(status, f, runId);
    },
    updateRunMeta(runId, meta) {
      const m = scrub(jsonText('updateRunMeta.meta', meta));
      requireRun('updateRunMeta.id', runId);
      q.setRunMeta.run(m, runId);
    },

    upsertArm(arm) {
      if (!arm || typeof arm !== 'object') throw new StoreError('upsertArm', 'expected an object');
      if (!ARM_STATUS.has(arm.status)) throw new StoreError('upsertArm.status', `expected one of ${[...ARM_STATUS].join(', ')}, got ${JSON.stringify(arm.status)}`);
      const row = {
        run: id('upsertArm.run', arm.run),
        name: id('upsertArm.name', arm.name),
        kind: id('upsertArm.kind', arm.kind),
        predictor: scrub(jsonText('upsertArm.predictor', arm.predictor, true)),
        spent: scrub(jsonText('upsertArm.spent', arm.spent, true)),
        status: arm.status,
        error: scrub(str('upsertArm.error', arm.error, { optional: true })),
        now: Date.now(),
      };
      requireRun('upsertArm.run', row.run);
      q.upsertArm.run(row);
    },
    getArm(runId, name) {
      const r = q.getArm.get(runId, name);
      return r ? armRow(r) : undefined;
    },
    listArms(runId) {
      return (q.listArms.all(runId) as any[]).map(armRow);
    },

    recordCall(call) {
      const row = checkCall(call, 'recordCall');
      return Number(q.insCall.run(row).lastInsertRowid);
    },
    recordCalls(calls) {
      if (!Array.isArray(calls)) throw new StoreError('recordCalls', 'expected an array');
      insertCalls(calls.map((c, i) => checkCall(c, `recordCalls[${i}]`)));
    },
    listCalls(runId, arm) {
      const rows = arm == null ? q.listCalls.all(runId) : q.listCallsArm.all(runId, arm);
      return (rows as any[]).map(callRow);
    },
    callStats(runId, arm) {
      return (arm == null ? q.callStats.get(runId) : q.callStatsArm.get(runId, arm)) as CallStats;
    },

    recordResult(r) {
      const row = checkResult(r, 'recordResult');
      requireRun('recordResult.run', row.run);
      return q.insResult.run(row).changes === 1;
    },
    recordResults(batch) {
      if (!Array.isArray(batch)) throw new StoreError('recordResults', 'expected an array');
      const rows = batch.map((r, i) => checkResult(r, `recordResults[${i}]`));
      const runs = new Set(rows.map((r) => r.run));
      for (const r of runs) requireRun('recordResults.run', r);
      return insertResults(rows);
    },
    resultsFor(runId, arm) {
      return (q.resultsFor.all(runId, arm) as any[]).map(resultRow);
    },
    doneExampleIds(runId, arm) {
      return new Set(q.doneIds.all(runId, arm) as string[]);
    },
    countResults(runId, arm) {
      return (arm == null ? q.countResults.get(runId) : q.countResultsArm.get(runId, arm)) as number;
    },

    get(key) {
      if (typeof key !== 'string') return undefined;
      const s = q.cacheGet.get(key) as string | undefined;
      if (s == null) return undefined;
      try {
        const v = JSON.parse(s);
        if (typeof v?.text !== 'string' || typeof v?.usage?.input !== 'number' || typeof v?.usage?.output !== 'number') return undefined;
        return { text: v.text, usage: { input: v.usage.input, output: v.usage.output }, latencyMs: Number(v.latencyMs) || 0, costUsd: Number(v.costUsd) || 0 };
      } catch {
        return undefined;
      }
    },
    put(key, modelId, resp) {
      const k = id('cache.put.key', key);
      const m = id('cache.put.modelId', modelId);
      if (!resp || typeof resp !== 'object') throw new StoreError('cache.put.response', 'expected an object');
      const text = str('cache.put.response.text', resp.text) as string;
      if (!resp.usage || typeof resp.usage !== 'object') throw new StoreError('cache.put.response.usage', 'required');
      const v = {
        text,
        usage: {
          input: num('cache.put.response.usage.input', resp.usage.input, { int: true, min: 0 }),
          output: num('cache.put.response.usage.output', resp.usage.output, { int: true, min: 0 }),
        },
        latencyMs: num('cache.put.response.latencyMs', resp.latencyMs, { min: 0 }),
        costUsd: num('cache.put.response.costUsd', resp.costUsd, { min: 0 }),
      };
      // only these fields are kept: never `raw`, which may hold SDK objects
      q.cachePut.run(k, m, scrub(JSON.stringify(v)), Date.now());
    },
    cacheSize() {
      return q.cacheSize.get() as number;
    },
    clearCache(modelId) {
      return (modelId == null ? q.cacheClear.run() : q.cacheClearModel.run(modelId)).changes;
    },

    createJob(job) {
      if (!job || typeof job !== 'object') throw new StoreError('createJob', 'expected an object');
      const jid = job.id == null ? `ftjob-${randomBytes(12).toString('hex')}` : id('createJob.id', job.id);
      const backend = id('createJob.backend', job.backend);
      const status = id('createJob.status', job.status);
      const options = scrub(jsonText('createJob.options', job.options));
      const state = scrub(jsonText('createJob.state', job.state, true));
      const now = Date.now();
      db.transaction(() => {
        if (q.getJob.get(jid)) throw new StoreError('createJob.id', `a job with id "${jid}" exists`);
        q.insJob.run(jid, backend, status, options, state, now, now);
      })();
      return jobRow(q.getJob.get(jid));
    },
    getJob(jid) {
      const r = q.getJob.get(jid);
      return r ? jobRow(r) : undefined;
    },
    updateJob(jid, patch) {
      if (!patch || typeof patch !== 'object') throw new StoreError('updateJob', 'expected an object');
      const status = patch.status === undefined ? undefined : id('updateJob.status', patch.status);
      const state = patch.state === undefined ? undefined : scrub(jsonText('updateJob.state', patch.state));
      return db.transaction(() => {
        const cur = q.getJob.get(jid) as any;
        if (!cur) throw new StoreError('updateJob.id', `no job with id "${jid}"`);
        q.updJob.run(status ?? cur.status, state === undefined ? cur.state : state, Date.now(), jid);
        return jobRow(q.getJob.get(jid));
      })();
    },
    listJobs(o = {}) {
      const limit = o.limit == null ? -1 : (num('listJobs.limit', o.limit, { int: true, min: 0 }) as number);
      const rows = o.backend != null ? q.listJobsBackend.all(o.backend, limit) : q.listJobs.all(limit);
      return (rows as any[]).map(jobRow);
    },
    createFile(file) {
      if (!file || typeof file !== 'object') throw new StoreError('createFile', 'expected an object');
      const fid = file.id == null ? `file-${randomBytes(12).toString('hex')}` : id('createFile.id', file.id);
      const row = [
        fid,
        id('createFile.filename', file.filename),
        id('createFile.purpose', file.purpose),
        num('createFile.bytes', file.bytes, { int: true, min: 0 }),
        id('createFile.path', file.path),
        Date.now(),
      ] as const;
      db.transaction(() => {
        if (q.getFile.get(fid)) throw new StoreError('createFile.id', `a file with id "${fid}" exists`);
        q.insFile.run(...row);
      })();
      return fileRow(q.getFile.get(fid));
    },
    getFile(fid) {
      const r = q.getFile.get(fid);
      return r ? fileRow(r) : undefined;
    },
    listFiles(o = {}) {
      const rows = o.purpose != null ? q.listFilesPurpose.all(o.purpose) : q.listFiles.all();
      return (rows as any[]).map(fileRow);
    },
    deleteFile(fid) {
      return q.delFile.run(fid).changes === 1;
    },
  };
  return store;
}

function checkVersion(db: Database.Database, where: string, readonly: boolean): number {
  const v = db.pragma('user_version', { simple: true }) as number;
  if (v > SCHEMA_VERSION) throw new StoreError(where, `store schema version ${v} is newer than this tunelab understands (${SCHEMA_VERSION}); upgrade tunelab`);
  if (v === SCHEMA_VERSION) return v;
  if (readonly) throw new StoreError(where, `store schema version ${v} needs migrating to ${SCHEMA_VERSION}; open it read-write once`);
  if (v === 0) {
    // a non-empty database that is not a tunelab store must not be touched
    const n = db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get() as number;
    if (n > 0) throw new StoreError(where, 'this SQLite file is not a tunelab store (it has tables but no tunelab schema version)');
  }
  return v;
}

function migrate(db: Database.Database, from: number) {
  db.transaction(() => {
    for (let i = from; i < SCHEMA_VERSION; i++) {
      db.exec(MIGRATIONS[i]);
      db.pragma(`user_version = ${i + 1}`);
    }
  })();
}
