// The record model: what a run, an arm, a result, a call, a cache entry, a job and a file are, in the
// runner's words. The runner, the report builder, the viewer and the server all speak these types.

/** A run: `running` while a process works on it (or was killed doing so), `interrupted` after a stop, `done`, `failed`. */
export type RunStatus = 'running' | 'interrupted' | 'done' | 'failed';

/**
 * An arm of a run: `pending` (row written, nothing done), `preparing` (prepare() in progress: its spent
 * time and saved state accrue in `progress`), `prepared` (predictor ready; results are being written),
 * `done` (every test example has a result), `failed` (`error` says why).
 */
export type ArmStatus = 'pending' | 'preparing' | 'prepared' | 'done' | 'failed';

/** Calls, tokens, cost and time spent (preparing an arm). */
export interface Spent {
  calls: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  ms: number;
}

/** Stored once per run: enough to re-render the report without the config or the data. */
export interface RunMeta {
  seed: number;
  sizes: { train: number; dev: number; test: number };
  metric: { name: string; labels?: string[]; type: string };
  data: string;
  baseline?: string;
  /** arm names in config order (the report keeps it) */
  arms: string[];
  warnings: string[];
  /** test example ids in split order (the denominator of every arm) */
  testIds?: string[];
  /** the validated config (holds env var names only, never keys) */
  config: unknown;
}

export interface RunRecord {
  id: string;
  experiment: string;
  /** config hash + data hash: a run of the same key that did not finish is resumed */
  runKey: string;
  status: RunStatus;
  createdAt: number;
  finishedAt?: number;
  meta: RunMeta;
}

export interface TrainingInfo {
  seconds: number;
  costUsd: number;
  modelId: string;
  details?: Record<string, unknown>;
}

/** What an interrupted prepare() left: what it spent so far (across sessions) and the state it saved. */
export interface ArmProgress {
  spent: Spent;
  /** sessions that worked on preparing this arm */
  sessions: number;
  /** the arm's own resume state (ArmContext.save): a job id, a finished search round... */
  state?: unknown;
}

export interface ArmRecord {
  run: string;
  name: string;
  kind: string;
  status: ArmStatus;
  modelId?: string;
  promptHash?: string;
  /** what prepare() produced (frozen prompt, fine-tuned model dir...), so a resumed run need not redo it */
  artifact?: unknown;
  spent?: Spent;
  training?: TrainingInfo;
  notes?: Record<string, unknown>;
  progress?: ArmProgress;
  error?: string;
}

/** One test example's outcome for one arm. */
export interface ResultRecord {
  exampleId: string;
  /** position in the arm's results (the order they were written) */
  idx: number;
  expected: string;
  output: string;
  extracted?: string;
  score: number;
  pass: boolean;
  error?: string;
  tokensIn: number;
  tokensOut: number;
  latencyMs: number;
  costUsd: number;
  /** process CPU time of the call (local models), ms */
  cpuMs?: number;
  cached: boolean;
}

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
 * One call attempt. Shaped so a models CallRecord can be passed as is; `run` / `arm` / `exampleId`
 * default to `meta.run` / `meta.arm` / `meta.exampleId`.
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

/** What the cache holds: a ChatResponse without `raw` / `cached`. */
export interface CachedResponse {
  text: string;
  usage: { input: number; output: number };
  latencyMs: number;
  costUsd: number;
}

/** A fine-tuning job row. Its status is finetune's JobStatus (the store keeps it as text). */
export interface JobInput {
  id?: string;
  backend: string;
  status: string;
  options: unknown;
  state?: unknown;
}
export interface JobRow {
  id: string;
  backend: string;
  status: string;
  options: unknown;
  state?: unknown;
  createdAt: number;
  updatedAt: number;
}
export interface FileInput {
  id?: string;
  filename: string;
  purpose: string;
  bytes: number;
  path: string;
}
export interface FileRow extends Required<FileInput> {
  createdAt: number;
}
