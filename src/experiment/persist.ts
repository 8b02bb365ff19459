// What the runner and the report builder need from the store, in the runner's own words.
// Implemented over src/store's openStore (see store-adapter.ts), so the runner stays independent of
// the schema's details.
import type { Spent } from '../prompting/types.ts';

export type RunStatus = 'running' | 'interrupted' | 'done' | 'failed';
export type ArmStatus = 'pending' | 'prepared' | 'done' | 'failed' | 'partial';

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
  configHash: string;
  status: RunStatus;
  createdAt: number;
  finishedAt?: number;
  meta: RunMeta;
}

export interface ArmRecord {
  run: string;
  name: string;
  kind: string;
  status: ArmStatus;
  modelId?: string;
  promptHash?: string;
  /** what prepare() produced (frozen prompt, fine-tuned model id...), so a resumed run need not redo it */
  artifact?: unknown;
  spent?: Spent;
  training?: { seconds: number; costUsd: number; modelId: string; details?: Record<string, unknown> };
  notes?: Record<string, unknown>;
  error?: string;
}

/** One test example's outcome for one arm. */
export interface ResultRecord {
  exampleId: string;
  /** position in the test split */
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
  cached: boolean;
}

export interface RunStore {
  readonly path: string;
  findResumable(experiment: string, configHash: string): RunRecord | undefined;
  /**
   * A new run is held in memory (with its arms and calls) until `commit` or its first result, so a run
   * that stops on bad input while preparing leaves nothing behind.
   */
  createRun(r: Omit<RunRecord, 'id'> & { id?: string }): RunRecord;
  /** write a held run now (no-op when already written) */
  commit(runId: string): void;
  /** whether the run has been written */
  committed(runId: string): boolean;
  updateRun(id: string, patch: Partial<Pick<RunRecord, 'status' | 'finishedAt' | 'meta'>>): void;
  getRun(id: string): RunRecord | undefined;
  latestRun(): RunRecord | undefined;
  listRuns(): RunRecord[];
  getArm(run: string, name: string): ArmRecord | undefined;
  listArms(run: string): ArmRecord[];
  putArm(a: ArmRecord): void;
  /** example ids already stored for (run, arm) */
  doneIds(run: string, arm: string): Set<string>;
  /** write many results in one transaction */
  putResults(run: string, arm: string, rows: ResultRecord[]): void;
  results(run: string, arm: string): ResultRecord[];
  close(): void;
}
