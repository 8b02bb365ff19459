/**
 * EngineWorker: runs training, generation and scoring on a worker thread so a server's event loop stays free.
 * Models are copied into the worker once (loadModel) and referred to by id.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LoraAdapter, Tokenizer, Weights } from './types.ts';
import type { LlamaModel, TrainOptions, TrainProgress, TrainResult, TrainExample } from './train.ts';
import type { CandidateScore, GenerateOptions, Generation } from './generate.ts';

/** Where the worker entry lives: worker.ts next to this file (tsx), or worker.js / engine-worker.js (bundles). */
export function defaultWorkerUrl(): URL {
  for (const name of ['./worker.ts', './worker.js', './engine-worker.js']) {
    const u = new URL(name, import.meta.url);
    if (existsSync(fileURLToPath(u))) return u;
  }
  throw new Error('engine worker entry not found next to the engine (bundle src/engine/worker.ts as engine-worker.js)');
}

export type WorkerTrainResult = Omit<TrainResult, 'model'> & { weights?: Weights };

export interface TrainJob {
  result: Promise<WorkerTrainResult>;
  cancel(): void;
}

export class EngineWorker {
  private worker: Worker;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; progress?: (p: any) => void }>();
  private closed = false;

  constructor(opts: { threads?: number; workerUrl?: URL | string } = {}) {
    const url = new URL(String(opts.workerUrl ?? defaultWorkerUrl()), import.meta.url);
    const workerData = { tunelabEngineWorker: true, threads: opts.threads };
    if (url.pathname.endsWith('.ts')) {
      // running from TypeScript sources: register tsx inside the worker, then load the entry
      const tsxApi = import.meta.resolve('tsx/esm/api');
      const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
      this.worker = new Worker(boot, { eval: true, workerData });
    } else this.worker = new Worker(url, { workerData });
    this.worker.on('message', (m: any) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.progress) { p.progress?.(m.progress); return; }
      if (m.token) { p.progress?.(m.token); return; }
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value); else p.reject(new Error(m.error));
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => { if (!this.closed) this.failAll(new Error(`engine worker exited with code ${code}`)); });
  }

  private failAll(e: Error) {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private call<T>(msg: Record<string, unknown>, progress?: (p: any) => void): { id: number; promise: Promise<T> } {
    if (this.closed) throw new Error('engine worker is closed');
    const id = this.nextId++;
    const promise = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve, reject, progress }));
    this.worker.postMessage({ ...msg, id });
    return { id, promise };
  }

  /** Copy a model into the worker under an id (with `adapter`: merged into the weights once, for inference). */
  loadModel(modelId: string, model: LlamaModel, adapter?: LoraAdapter): Promise<boolean> { return this.call<boolean>({ op: 'load', modelId, model, adapter }).promise; }
  unloadModel(modelId: string): Promise<boolean> { return this.call<boolean>({ op: 'unload', modelId }).promise; }

  /**
   * Train a loaded model. LoRA: returns the adapter (base untouched). Full fine-tuning trains a copy, returns its
   * weights, and keeps it in the worker as `outputId` when given.
   */
  train(modelId: string, records: TrainExample[], opts: Omit<TrainOptions, 'signal'>, onProgress?: (p: TrainProgress) => void, outputId?: string): TrainJob {
    const { id, promise } = this.call<WorkerTrainResult>({ op: 'train', modelId, records, opts, outputId }, onProgress);
    return { result: promise, cancel: () => { if (!this.closed) this.worker.postMessage({ op: 'cancel', target: id }); } };
  }

  /** Generate in the worker; `opts.onToken` streams each new token (row, token) as it is sampled. */
  generate(modelId: string, prompts: number[][], opts: GenerateOptions = {}, adapter?: LoraAdapter): Promise<Generation[]> {
    const { tokenizer, onToken, signal: _signal, ...rest } = opts;
    const cb = onToken ? (t: { row: number; token: number }) => onToken(t.row, t.token) : undefined;
    return this.call<Generation[]>({ op: 'generate', modelId, prompts, opts: rest, adapter, tokenizerJson: tokenizer?.toJSON(), stream: !!onToken }, cb).promise;
  }

  scoreCandidates(modelId: string, prompts: number[][], candidates: number[][] | number[][][], adapter?: LoraAdapter): Promise<CandidateScore[][]> {
    return this.call<CandidateScore[][]>({ op: 'score', modelId, prompts, candidates, adapter }).promise;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new Error('engine worker closed'));
    await this.worker.terminate();
  }
}
