// Persistence for the server's files and fine-tuning jobs. The server talks to this small interface;
// `storeBackedServerStore` keeps them in the project store's jobs/files tables (src/store) and
// `dirServerStore` keeps everything under one folder (JSON + raw file contents), for embedding and tests.
import { mkdirSync, readFileSync, writeFileSync, readdirSync, renameSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { JobStatus } from '../finetune/index.ts';
import type { FilesTable, JobsTable } from '../store/index.ts';

export interface FileRecord {
  id: string;
  filename: string;
  purpose: string;
  bytes: number;
  createdAt: number;
}

export interface CheckpointRecord {
  id: string;
  step: number;
  createdAt: number;
  modelId: string;
  metrics: Record<string, number>;
}

export interface JobRecord {
  id: string;
  model: string;
  status: JobStatus;
  createdAt: number;
  finishedAt: number | null;
  trainingFile: string;
  validationFile: string | null;
  hyperparameters: { n_epochs: number; batch_size: number; learning_rate_multiplier: number };
  method: 'lora' | 'full';
  /** LoRA rank (tunelab extension `tunelab.rank`); the server's default when absent */
  rank?: number;
  seed: number;
  suffix: string | null;
  metadata: Record<string, string> | null;
  /** OpenAI-style name clients use in chat calls */
  fineTunedModel: string | null;
  /** what that name resolves to (e.g. local:/path/to/output) */
  resultModelId: string | null;
  outputDir: string;
  trainedTokens: number | null;
  estimatedFinish: number | null;
  error: { code: string; message: string; param: string | null } | null;
  events: {
    id: string;
    createdAt: number;
    level: 'info' | 'warn' | 'error';
    message: string;
    type: 'message' | 'metrics';
    data: Record<string, number> | null;
  }[];
  checkpoints: CheckpointRecord[];
  /** the backend's own job handle, to poll or cancel within one server process */
  backendJob?: unknown;
}

export interface ServerStore {
  putFile(rec: FileRecord, content: Buffer): void;
  getFile(id: string): FileRecord | undefined;
  fileContent(id: string): Buffer | undefined;
  listFiles(): FileRecord[];
  deleteFile(id: string): boolean;
  putJob(job: JobRecord): void;
  getJob(id: string): JobRecord | undefined;
  listJobs(): JobRecord[];
  close?(): void;
}

function atomicWrite(path: string, data: string | Buffer): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Everything under one folder: files/<id>.json + files/<id>.bin, jobs/<id>.json; writes are atomic renames. */
export function dirServerStore(dir: string): ServerStore {
  const fdir = join(dir, 'files');
  const jdir = join(dir, 'jobs');
  mkdirSync(fdir, { recursive: true });
  mkdirSync(jdir, { recursive: true });
  const readJson = <T>(p: string): T | undefined => (existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as T) : undefined);
  const safe = (id: string) => /^[A-Za-z0-9_-]+$/.test(id);
  return {
    putFile(rec, content) {
      atomicWrite(join(fdir, `${rec.id}.bin`), content);
      atomicWrite(join(fdir, `${rec.id}.json`), JSON.stringify(rec));
    },
    getFile: (id) => (safe(id) ? readJson<FileRecord>(join(fdir, `${id}.json`)) : undefined),
    fileContent: (id) => (safe(id) && existsSync(join(fdir, `${id}.bin`)) ? readFileSync(join(fdir, `${id}.bin`)) : undefined),
    listFiles: () =>
      readdirSync(fdir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => readJson<FileRecord>(join(fdir, f))!)
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)),
    deleteFile(id) {
      if (!safe(id) || !existsSync(join(fdir, `${id}.json`))) return false;
      rmSync(join(fdir, `${id}.json`), { force: true });
      rmSync(join(fdir, `${id}.bin`), { force: true });
      return true;
    },
    putJob(job) {
      const { backendJob, ...rest } = job;
      atomicWrite(join(jdir, `${job.id}.json`), JSON.stringify({ ...rest, backendJob: backendJob ?? null }));
    },
    getJob: (id) => (safe(id) ? readJson<JobRecord>(join(jdir, `${id}.json`)) : undefined),
    listJobs: () =>
      readdirSync(jdir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => readJson<JobRecord>(join(jdir, f))!)
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)),
  };
}

/** The project store's jobs and files tables (src/store's Store has them). */
export type JobsFilesStore = JobsTable & FilesTable & { close?(): void };

/**
 * Server records in the project store: a job row per fine-tuning job (backend "tunelab-server", the
 * whole JobRecord as its state), a file row per upload with its content under `filesDir`.
 */
export function storeBackedServerStore(store: JobsFilesStore, filesDir: string): ServerStore {
  mkdirSync(filesDir, { recursive: true });
  const BACKEND = 'tunelab-server';
  const sec = (t: number) => (t > 1e12 ? Math.floor(t / 1000) : t);
  const toFile = (r: { id: string; filename: string; purpose: string; bytes: number; createdAt: number }): FileRecord => ({
    id: r.id,
    filename: r.filename,
    purpose: r.purpose,
    bytes: r.bytes,
    createdAt: sec(r.createdAt),
  });
  const toJob = (r: { state?: unknown } | undefined): JobRecord | undefined => (r?.state ? (r.state as JobRecord) : undefined);
  return {
    putFile(rec, content) {
      const path = join(filesDir, `${rec.id}.bin`);
      atomicWrite(path, content);
      store.createFile({ id: rec.id, filename: rec.filename, purpose: rec.purpose, bytes: rec.bytes, path });
    },
    getFile: (id) => {
      const r = store.getFile(id);
      return r ? toFile(r) : undefined;
    },
    fileContent: (id) => {
      const r = store.getFile(id);
      return r && existsSync(r.path) ? readFileSync(r.path) : undefined;
    },
    listFiles: () =>
      store
        .listFiles()
        .map(toFile)
        .sort((a, b) => b.createdAt - a.createdAt),
    deleteFile(id) {
      const r = store.getFile(id);
      if (!r) return false;
      store.deleteFile(id);
      rmSync(r.path, { force: true });
      return true;
    },
    putJob(job) {
      const { backendJob, ...rest } = job;
      const state = { ...rest, backendJob: backendJob ?? null };
      if (store.getJob(job.id)) store.updateJob(job.id, { status: job.status, state });
      else
        store.createJob({
          id: job.id,
          backend: BACKEND,
          status: job.status,
          options: { model: job.model, hyperparameters: job.hyperparameters, method: job.method },
          state,
        });
    },
    getJob: (id) => toJob(store.getJob(id)),
    listJobs: () =>
      store
        .listJobs({ backend: BACKEND, limit: 10_000 })
        .map(toJob)
        .filter((j): j is JobRecord => !!j)
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)),
    close: () => store.close?.(),
  };
}
