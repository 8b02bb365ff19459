// Persistence for the server's files and fine-tuning jobs. The server talks to this small interface;
// `storeBackedServerStore` maps it onto the project store's jobs/files tables and `dirServerStore`
// keeps everything under one folder (JSON + raw file contents), for embedding and tests.
import { mkdirSync, readFileSync, writeFileSync, readdirSync, renameSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

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
  status: 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  createdAt: number;
  finishedAt: number | null;
  trainingFile: string;
  validationFile: string | null;
  hyperparameters: { n_epochs: number; batch_size: number; learning_rate_multiplier: number };
  method: 'lora' | 'full';
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
  events: { id: string; createdAt: number; level: 'info' | 'warn' | 'error'; message: string; type: 'message' | 'metrics'; data: Record<string, number> | null }[];
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
    listFiles: () => readdirSync(fdir).filter((f) => f.endsWith('.json')).map((f) => readJson<FileRecord>(join(fdir, f))!).sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)),
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
    listJobs: () => readdirSync(jdir).filter((f) => f.endsWith('.json')).map((f) => readJson<JobRecord>(join(jdir, f))!).sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)),
  };
}
