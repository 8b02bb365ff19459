// Where submitted batches are remembered: one small JSON file next to the run's store. A batch is
// written the moment the provider has created it (before the first poll), so a run killed while it
// waits finds the batch again on the next start and polls it instead of submitting a second one.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface StoredBatch {
  /** the provider's batch id */
  id: string;
  /** 'openai' | 'anthropic' (the batch API it was sent to) */
  api: string;
  /** base URL the batch lives at */
  endpoint: string;
  /** the config id and the provider's model name */
  modelId: string;
  model: string;
  /** the request hashes sent as custom_id */
  customIds: string[];
  /** epoch ms */
  createdAt: number;
}

interface FileShape {
  version: 1;
  batches: StoredBatch[];
}

/** The batches a store knows of that have not yet been delivered. One instance per file per process. */
export class BatchState {
  private batches = new Map<string, StoredBatch>();
  private byCustomId = new Map<string, string>();

  constructor(readonly file: string | undefined) {
    if (file && existsSync(file)) {
      let parsed: FileShape | undefined;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8')) as FileShape;
      } catch {
        parsed = undefined; // a torn write cannot happen (rename), but a hand-edited file might: start empty
      }
      for (const b of parsed?.batches ?? []) if (b && typeof b.id === 'string' && Array.isArray(b.customIds)) this.index(b);
    }
  }

  private index(b: StoredBatch): void {
    this.batches.set(b.id, b);
    for (const c of b.customIds) this.byCustomId.set(c, b.id);
  }

  /** The undelivered batch that holds this request (same endpoint and model), if any. */
  find(customId: string, endpoint: string, model: string): StoredBatch | undefined {
    const id = this.byCustomId.get(customId);
    const b = id ? this.batches.get(id) : undefined;
    return b && b.endpoint === endpoint && b.model === model ? b : undefined;
  }

  get(id: string): StoredBatch | undefined {
    return this.batches.get(id);
  }

  list(): StoredBatch[] {
    return [...this.batches.values()];
  }

  add(b: StoredBatch): void {
    this.index(b);
    this.save();
  }

  /** Forget a batch whose results were delivered (or that no longer exists). */
  remove(id: string): void {
    const b = this.batches.get(id);
    if (!b) return;
    this.batches.delete(id);
    for (const c of b.customIds) if (this.byCustomId.get(c) === id) this.byCustomId.delete(c);
    this.save();
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const data: FileShape = { version: 1, batches: [...this.batches.values()] };
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(data));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}

const open = new Map<string, BatchState>();

/** The state for a file, shared by every model in this process that uses it (undefined: in memory only). */
export function batchState(file: string | undefined): BatchState {
  if (!file) return new BatchState(undefined);
  let s = open.get(file);
  if (!s) {
    s = new BatchState(file);
    open.set(file, s);
  }
  return s;
}
