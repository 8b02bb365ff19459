/**
 * Training: full fine-tuning and LoRA with AdamW, clipping, warmup + cosine, gradient accumulation,
 * length bucketing, seeded data order, validation + early stopping, atomic checkpoints and exact resume.
 */
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { LlamaConfig, LoraAdapter, Weights } from './types.ts';
import { buildLossGraph, causalMask, configKey, initLora, initWeights, ropeTables, type LoraSpec } from './llama.ts';
import { checkWeights, headDim, normalizeLlamaConfig } from './config.ts';
import { bucketLength, compileCached, type HostArray } from './runtime.ts';
import { adamwUpdate, scheduleLr, sumSquares, type ScheduleKind } from './optim.ts';
import { Rng } from '../core/index.ts';
import { readCheckpoint, writeCheckpoint, checkpointExists } from './checkpoint.ts';
import { EtaEstimator } from './eta.ts';

/** A model: config (HF field names) and weights (HF names and layouts). */
export interface LlamaModel {
  config: LlamaConfig;
  weights: Weights;
}

/** Create a model with freshly initialised weights (seeded). */
export function createModel(
  config: Partial<LlamaConfig> & { hidden_size: number; num_hidden_layers: number; num_attention_heads: number; vocab_size: number },
  opts: { seed?: number } = {},
): LlamaModel {
  // createModel's one convenience over config.json: intermediate_size defaults to 4 × hidden_size
  const cfg = normalizeLlamaConfig({ intermediate_size: 4 * config.hidden_size, ...config }, 'createModel');
  return { config: cfg, weights: initWeights(cfg, opts.seed ?? 0) };
}

/** One training sequence. mask[i] = 1 when ids[i] is a target (predicted from ids[0..i-1]); default: all tokens. */
export interface TrainExample {
  ids: number[];
  mask?: number[];
}

export interface TrainerOptions {
  lr?: number;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** clip the global gradient norm to this (null: no clipping); default 1 */
  clipNorm?: number | null;
  warmupSteps?: number;
  /** steps of the schedule (default 1000) */
  totalSteps?: number;
  schedule?: ScheduleKind;
  minLrRatio?: number;
  /** LoRA: a spec (new adapter, seeded) or an adapter to continue training; absent: full fine-tuning */
  lora?: LoraSpec | LoraAdapter;
  seed?: number;
  /** sequences longer than this are truncated (default max_position_embeddings) */
  maxSeqLen?: number;
  /** padded lengths are rounded up to a multiple of this (fewer compiled shapes); default 16 */
  padMultiple?: number;
  /** token id used for padding (never a target); default 0 */
  padId?: number;
  /** micro-batches with fewer rows are padded to this many (one compiled shape); default 0 (no padding) */
  padRowsTo?: number;
  /** recompute cheap activations in the backward pass (less memory, more compute); default: rematByDefault (llama.ts) */
  remat?: boolean;
}

export interface StepResult {
  step: number;
  /** mean loss per target token over the step's micro-batches */
  loss: number;
  gradNorm: number;
  lr: number;
  /** target tokens in the step */
  tokens: number;
  /** tokens fed (padding included) */
  tokensFed: number;
  ms: { total: number; graph: number; optimizer: number };
}

interface Batch {
  B: number;
  T: number;
  tokens: BigInt64Array;
  targets: BigInt64Array;
  weights: Float32Array;
  nTargets: number;
  /** when set: the LM head runs only at these rows (K = length, padded with weight-0 rows); targets/weights are per row */
  targetIndex?: BigInt64Array;
}

/** K rows for the LM head: a power of two from 16 (few compiled shapes). */
function targetBucket(n: number): number {
  let k = 16;
  while (k < n) k *= 2;
  return k;
}

/**
 * Keep only the rows that carry loss weight when they are at most half of the batch (answers after long prompts):
 * the LM head (a quarter of the small model's work) then runs on K rows instead of B*T.
 */
export function compactTargets(b: Batch): Batch {
  const n = b.B * b.T;
  let count = 0;
  for (let i = 0; i < n; i++) if (b.weights[i] !== 0) count++;
  const K = targetBucket(Math.max(1, count));
  if (K * 2 > n) return b;
  const targetIndex = new BigInt64Array(K),
    targets = new BigInt64Array(K),
    weights = new Float32Array(K);
  let k = 0;
  for (let i = 0; i < n; i++)
    if (b.weights[i] !== 0) {
      targetIndex[k] = BigInt(i);
      targets[k] = b.targets[i];
      weights[k] = b.weights[i];
      k++;
    }
  return { ...b, targets, weights, targetIndex };
}

/** Turn examples into a padded batch; loss weights are mask / `norm` (norm defaults to the batch's target count). */
export function makeBatch(
  examples: TrainExample[],
  o: { maxSeqLen: number; padMultiple: number; padId: number },
  norm?: number,
  rowsTo = 0,
): Batch {
  const rows = examples.map((e) => truncate(e, o.maxSeqLen));
  const maxLen = Math.max(2, ...rows.map((r) => r.ids.length));
  const T = Math.min(o.maxSeqLen, bucketLength(maxLen, o.padMultiple));
  // rows beyond the examples are padding (zero loss weight): keeps one compiled shape per length
  const B = Math.max(rows.length, rowsTo);
  const tokens = new BigInt64Array(B * T).fill(BigInt(o.padId));
  const targets = new BigInt64Array(B * T);
  const w = new Float32Array(B * T);
  let nTargets = 0;
  rows.forEach((r, b) => {
    for (let t = 0; t < r.ids.length; t++) tokens[b * T + t] = BigInt(r.ids[t]);
    for (let t = 0; t + 1 < r.ids.length; t++) {
      const m = r.mask ? r.mask[t + 1] : 1;
      if (m) {
        targets[b * T + t] = BigInt(r.ids[t + 1]);
        w[b * T + t] = m;
        nTargets += m;
      }
    }
  });
  const scale = 1 / Math.max(1e-9, norm ?? nTargets);
  for (let i = 0; i < w.length; i++) w[i] *= scale;
  return { B, T, tokens, targets, weights: w, nTargets };
}

function truncate(e: TrainExample, max: number): TrainExample {
  if (e.ids.length <= max) return e;
  // keep the end when targets are masked (completions sit at the end), else the beginning
  if (e.mask) return { ids: e.ids.slice(-max), mask: e.mask.slice(-max) };
  return { ids: e.ids.slice(0, max) };
}

function countTargets(e: TrainExample, max: number): number {
  const r = truncate(e, max);
  let n = 0;
  for (let t = 1; t < r.ids.length; t++) n += r.mask ? r.mask[t] : 1;
  return n;
}

const ropeCache = new Map<string, { cos: Float32Array; sin: Float32Array; mask: Float32Array }>();
function trainTables(cfg: LlamaConfig, T: number) {
  const key = `${cfg.rope_theta}|${JSON.stringify(cfg.rope_scaling ?? null)}|${headDim(cfg)}|${T}`;
  let t = ropeCache.get(key);
  if (!t) {
    const { cos, sin } = ropeTables(cfg, [[...Array(T).keys()]]);
    t = { cos: cos as Float32Array, sin: sin as Float32Array, mask: causalMask(T) as Float32Array };
    ropeCache.set(key, t);
  }
  return t;
}

function isAdapter(x: LoraSpec | LoraAdapter): x is LoraAdapter {
  return (x as LoraAdapter).weights instanceof Map;
}

export interface TrainerState {
  step: number;
  rng: number;
  options: Required<Omit<TrainerOptions, 'lora' | 'remat'>>;
  lora?: { rank: number; alpha: number; dropout: number; targetModules: string[] };
}

/** Optimizer-step trainer over a model (full fine-tuning or LoRA). */
export class Trainer {
  readonly model: LlamaModel;
  /** the LoRA adapter being trained (undefined for full fine-tuning) */
  readonly adapter?: LoraAdapter;
  readonly opts: Required<Omit<TrainerOptions, 'lora' | 'remat'>>;
  /** optimizer steps taken */
  stepCount = 0;
  private rng: Rng;
  private params = new Map<string, Float32Array>();
  private shapes = new Map<string, number[]>();
  private m = new Map<string, Float32Array>();
  private v = new Map<string, Float32Array>();
  private loraSpec?: LoraSpec;

  private remat?: boolean;

  constructor(model: LlamaModel, opts: TrainerOptions = {}) {
    this.model = model;
    this.remat = opts.remat;
    checkWeights(model.config, model.weights);
    this.opts = {
      lr: opts.lr ?? 1e-3,
      weightDecay: opts.weightDecay ?? 0,
      beta1: opts.beta1 ?? 0.9,
      beta2: opts.beta2 ?? 0.999,
      eps: opts.eps ?? 1e-8,
      clipNorm: opts.clipNorm === undefined ? 1 : opts.clipNorm,
      warmupSteps: opts.warmupSteps ?? 0,
      totalSteps: opts.totalSteps ?? 1000,
      schedule: opts.schedule ?? 'cosine',
      minLrRatio: opts.minLrRatio ?? 0,
      seed: opts.seed ?? 0,
      maxSeqLen: opts.maxSeqLen ?? model.config.max_position_embeddings,
      padMultiple: opts.padMultiple ?? 16,
      padId: opts.padId ?? 0,
      padRowsTo: opts.padRowsTo ?? 0,
    };
    this.rng = new Rng(this.opts.seed ^ 0x2545f491);
    if (opts.lora) {
      this.adapter = isAdapter(opts.lora) ? opts.lora : initLora(model.config, model.weights, opts.lora, this.opts.seed);
      this.loraSpec = {
        rank: this.adapter.rank,
        alpha: this.adapter.alpha,
        dropout: this.adapter.dropout,
        targetModules: this.adapter.targetModules,
      };
      for (const [mod, { A, B }] of this.adapter.weights) {
        this.params.set(`${mod}.lora_A.weight`, A.data);
        this.shapes.set(`${mod}.lora_A.weight`, A.shape);
        this.params.set(`${mod}.lora_B.weight`, B.data);
        this.shapes.set(`${mod}.lora_B.weight`, B.shape);
      }
    } else {
      for (const [name, t] of model.weights) {
        this.params.set(name, t.data);
        this.shapes.set(name, t.shape);
      }
    }
    for (const [name, p] of this.params) {
      this.m.set(name, new Float32Array(p.length));
      this.v.set(name, new Float32Array(p.length));
    }
  }

  /** number of trainable parameters */
  get trainableParams(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.length;
    return n;
  }

  lrAt(step: number): number {
    return scheduleLr(step, this.opts);
  }

  /** full fine-tuning feeds embedding rows and scatters their gradient in JS (exact, thread-order independent) */
  private embedRows(withGrads: boolean): boolean {
    return withGrads && !this.adapter;
  }

  private graphKey(B: number, T: number, withGrads: boolean, K?: number): string {
    const l = this.loraSpec
      ? `lora:${this.loraSpec.rank}:${this.loraSpec.alpha}:${(this.loraSpec.dropout ?? 0) > 0 ? 'd' : ''}:${[...this.loraSpec.targetModules].sort().join('+')}`
      : 'full';
    return `loss|${configKey(this.model.config)}|${B}x${T}|${l}|${withGrads ? 'g' : 'f'}|k${K ?? '-'}|${this.embedRows(withGrads) ? 'e' : 't'}|r${this.remat ?? 'auto'}`;
  }

  private async session(B: number, T: number, withGrads: boolean, K?: number) {
    return compileCached(
      this.graphKey(B, T, withGrads, K),
      () =>
        buildLossGraph({
          cfg: this.model.config,
          batch: B,
          seqLen: T,
          lora: this.loraSpec,
          withGrads,
          targetRows: K,
          embedRows: this.embedRows(withGrads),
          remat: this.remat,
        }).graph,
      withGrads ? 'train' : 'eval',
    );
  }

  private feeds(batch: Batch, withGrads: boolean): Record<string, HostArray> {
    const cfg = this.model.config;
    const f: Record<string, HostArray> = {};
    for (const [name, t] of this.model.weights) f[name] = t.data;
    if (this.adapter) for (const [name, p] of this.params) f[name] = p;
    const tab = trainTables(cfg, batch.T);
    if (this.embedRows(withGrads)) {
      const D = cfg.hidden_size,
        emb = this.model.weights.get('model.embed_tokens.weight')!.data;
      const rows = new Float32Array(batch.tokens.length * D);
      for (let i = 0; i < batch.tokens.length; i++) {
        const r = Number(batch.tokens[i]) * D;
        rows.set(emb.subarray(r, r + D), i * D);
      }
      f.embed_rows = rows;
    } else f.tokens = batch.tokens;
    if (batch.targetIndex) f.target_index = batch.targetIndex;
    f.targets = batch.targets;
    f.loss_weights = batch.weights;
    f.rope_cos = tab.cos;
    f.rope_sin = tab.sin;
    f.attn_mask = tab.mask;
    if (withGrads && this.adapter && this.adapter.dropout > 0) {
      const p = this.adapter.dropout,
        keep = 1 / (1 - p);
      for (const [mod, { A }] of this.adapter.weights) {
        const inp = A.shape[1];
        const mask = new Float32Array(batch.B * batch.T * inp);
        for (let i = 0; i < mask.length; i++) mask[i] = this.rng.next() < p ? 0 : keep;
        f[`${mod}.lora_dropout_mask`] = mask;
      }
    }
    return f;
  }

  /**
   * One optimizer step over one micro-batch (TrainExample[]) or several (TrainExample[][], gradient accumulation).
   * The loss is the mean over all target tokens of the step.
   */
  async step(batch: TrainExample[] | TrainExample[][]): Promise<StepResult> {
    const t0 = performance.now();
    const micro: TrainExample[][] = Array.isArray(batch[0]) ? (batch as TrainExample[][]) : [batch as TrainExample[]];
    const o = this.opts;
    const total = micro.reduce((s, mb) => s + mb.reduce((a, e) => a + countTargets(e, o.maxSeqLen), 0), 0);
    if (total === 0) throw new Error('batch has no target tokens');
    let grads: Map<string, Float32Array> | null = null;
    let loss = 0,
      fed = 0,
      graphMs = 0;
    const rowsTo = Math.max(o.padRowsTo, ...micro.map((mb) => mb.length));
    for (const mb of micro) {
      const b = compactTargets(makeBatch(mb, o, total, rowsTo));
      fed += b.B * b.T;
      const tg = performance.now();
      const sess = await this.session(b.B, b.T, true, b.targetIndex?.length);
      const out = await sess.run(this.feeds(b, true));
      graphMs += performance.now() - tg;
      loss += Number((out.loss as Float32Array)[0]);
      if (this.embedRows(true)) {
        // the embedding's gradient from its lookups, added row by row in token order (deterministic)
        const D = this.model.config.hidden_size,
          name = 'model.embed_tokens.weight';
        const ge = out[`grad:${name}`] as Float32Array,
          gr = out['grad:embed_rows'] as Float32Array;
        for (let i = 0; i < b.tokens.length; i++) {
          const r = Number(b.tokens[i]) * D,
            src = i * D;
          for (let d = 0; d < D; d++) ge[r + d] += gr[src + d];
        }
      }
      if (!grads) {
        grads = new Map();
        for (const name of this.params.keys()) grads.set(name, out[`grad:${name}`] as Float32Array);
      } else {
        for (const [name, acc] of grads) {
          const gi = out[`grad:${name}`] as Float32Array;
          for (let i = 0; i < acc.length; i++) acc[i] += gi[i];
        }
      }
    }
    const to = performance.now();
    let sq = 0;
    for (const g of grads!.values()) sq += sumSquares(g);
    const gradNorm = Math.sqrt(sq);
    const clip = o.clipNorm && gradNorm > o.clipNorm ? o.clipNorm / (gradNorm + 1e-6) : 1;
    const lr = this.lrAt(this.stepCount);
    const t = this.stepCount + 1;
    const ao = { lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay };
    for (const [name, p] of this.params) {
      const decay = this.shapes.get(name)!.length >= 2;
      adamwUpdate(p, grads!.get(name)!, this.m.get(name)!, this.v.get(name)!, t, ao, decay, clip);
    }
    this.stepCount = t;
    const tEnd = performance.now();
    return { step: t, loss, gradNorm, lr, tokens: total, tokensFed: fed, ms: { total: tEnd - t0, graph: graphMs, optimizer: tEnd - to } };
  }

  /** Mean loss per target token over examples (no update). */
  async evalLoss(examples: TrainExample[], batchSize = 8): Promise<number> {
    const o = this.opts;
    const sorted = examples.slice().sort((a, b) => a.ids.length - b.ids.length);
    let sum = 0,
      n = 0;
    for (let i = 0; i < sorted.length; i += batchSize) {
      const mb = sorted.slice(i, i + batchSize);
      const b = compactTargets(makeBatch(mb, o, 1, Math.min(batchSize, sorted.length)));
      if (b.nTargets === 0) continue;
      const sess = await this.session(b.B, b.T, false, b.targetIndex?.length);
      const out = await sess.run(this.feeds(b, false));
      sum += Number((out.loss as Float32Array)[0]);
      n += b.nTargets;
    }
    return n ? sum / n : NaN;
  }

  /** Serializable trainer state; tensors holds params and moments. */
  checkpointData(extra: unknown = null): {
    tensors: Map<string, { shape: number[]; data: Float32Array }>;
    state: { trainer: TrainerState; extra: unknown };
  } {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, p] of this.params) {
      const shape = this.shapes.get(name)!;
      tensors.set(`param:${name}`, { shape, data: p });
      tensors.set(`m:${name}`, { shape, data: this.m.get(name)! });
      tensors.set(`v:${name}`, { shape, data: this.v.get(name)! });
    }
    const trainer: TrainerState = {
      step: this.stepCount,
      rng: this.rng.state(),
      options: this.opts,
      lora: this.loraSpec ? { ...this.loraSpec, dropout: this.loraSpec.dropout ?? 0 } : undefined,
    };
    return { tensors, state: { trainer, extra } };
  }

  /** Restore params, moments, step and RNG from checkpointData()'s output. */
  restore(ck: { tensors: Map<string, { shape: number[]; data: Float32Array }>; state: any }): unknown {
    const st = ck.state.trainer as TrainerState;
    for (const [name, p] of this.params) {
      for (const [pre, dst] of [
        ['param', p],
        ['m', this.m.get(name)!],
        ['v', this.v.get(name)!],
      ] as const) {
        const t = ck.tensors.get(`${pre}:${name}`);
        if (!t || t.data.length !== dst.length) throw new Error(`checkpoint lacks ${pre}:${name} or its shape differs`);
        dst.set(t.data);
      }
    }
    this.stepCount = st.step;
    this.rng = new Rng(st.rng);
    return ck.state.extra;
  }

  /** Copy of the trainable tensors (for keeping the best weights). */
  snapshot(): Map<string, Float32Array> {
    const s = new Map<string, Float32Array>();
    for (const [n, p] of this.params) s.set(n, Float32Array.from(p));
    return s;
  }
  load(snap: Map<string, Float32Array>): void {
    for (const [n, p] of this.params) p.set(snap.get(n)!);
  }
}

export interface TrainOptions extends TrainerOptions {
  /** examples per micro-batch (default 8) */
  batchSize?: number;
  /** micro-batches per optimizer step (default 1) */
  gradAccum?: number;
  epochs?: number;
  /** stop after this many optimizer steps (default: epochs × steps per epoch) */
  maxSteps?: number;
  /** validation examples (loss on them every evalEvery steps and at the end) */
  valRecords?: TrainExample[];
  /** steps between validations (default: once per epoch) */
  evalEvery?: number;
  /** stop when validation loss has not improved for this many validations (default: never) */
  patience?: number;
  /** restore the weights of the best validation at the end (default true when valRecords) */
  restoreBest?: boolean;
  /** folder for checkpoint.safetensors; with resume (default true) a run continues from it */
  checkpointDir?: string;
  /** steps between checkpoints (default: at each validation and at the end) */
  checkpointEvery?: number;
  resume?: boolean;
  /** examples grouped into chunks of batchSize × this before sorting by length (default 16) */
  bucketChunks?: number;
  /**
   * class-balanced sampling: one group (class label) per record; each epoch draws as many examples as there are
   * records, evenly over the groups (minority classes repeated, majority classes subsampled). Default: off.
   */
  groups?: (string | number)[];
  signal?: AbortSignal;
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  valLoss?: number;
  lr: number;
  gradNorm: number;
  tokensPerSec: number;
  /** target tokens trained on so far */
  tokens: number;
  elapsedMs: number;
  /** time left: remaining steps and validations at their typical measured durations (compiles left out) */
  etaMs: number;
  /** the latest validation loss so far (valLoss is set only on the step that measured it) */
  lastValLoss?: number;
  /** validations still to run */
  validationsLeft: number;
}

export interface TrainResult {
  steps: number;
  /** training loss per optimizer step (resumed runs include the steps before the resume) */
  losses: number[];
  valLosses: { step: number; loss: number }[];
  bestValLoss?: number;
  bestStep?: number;
  stoppedEarly: boolean;
  aborted: boolean;
  adapter?: LoraAdapter;
  model: LlamaModel;
  tokensPerSec: number;
  elapsedMs: number;
  /** mean milliseconds per optimizer step (graph and optimizer parts) */
  msPerStep: { total: number; graph: number; optimizer: number };
}

function hashRecords(records: TrainExample[]): string {
  const h = createHash('sha256');
  for (const r of records) {
    h.update(Int32Array.from(r.ids));
    h.update(r.mask ? Uint8Array.from(r.mask) : new Uint8Array(0));
    h.update('|');
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * The examples of one class-balanced epoch: as many draws as there are examples, spread evenly over the groups
 * (classes); within a group, its examples in a seeded order, cycled when the group is drawn more often than it has
 * examples. Seeded by (seed, epoch): the same call gives the same list.
 */
export function balancedEpoch(groups: readonly (string | number)[], seed: number, epoch: number): number[] {
  const byGroup = new Map<string | number, number[]>();
  groups.forEach((g, i) => {
    let l = byGroup.get(g);
    if (!l) byGroup.set(g, (l = []));
    l.push(i);
  });
  const keys = [...byGroup.keys()].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  const rng = new Rng((seed * 1000003 + epoch * 7919 + 0x5bd1e995) >>> 0);
  // draws per group: n / K each, the remainder to a seeded choice of groups
  const n = groups.length,
    K = keys.length;
  const per = keys.map(() => Math.floor(n / K));
  for (const j of rng.shuffle([...keys.keys()]).slice(0, n - per.reduce((a, b) => a + b, 0))) per[j]++;
  const out: number[] = [];
  keys.forEach((k, j) => {
    const members = byGroup.get(k)!;
    // continue each group's cycle across epochs: epoch e starts where e-1 stopped
    const order = new Rng((seed * 31 + j * 1009 + 17) >>> 0).shuffle(members);
    const start = (epoch * per[j]) % members.length;
    for (let d = 0; d < per[j]; d++) out.push(order[(start + d) % members.length]);
  });
  return out;
}

/**
 * Micro-batches of one epoch: seeded shuffle, length bucketing within chunks, shuffled batch order.
 * With `groups` (a class per example), the epoch is class-balanced (balancedEpoch) instead of one pass over the data.
 */
export function epochPlan(
  lengths: number[],
  batchSize: number,
  seed: number,
  epoch: number,
  bucketChunks = 16,
  groups?: readonly (string | number)[],
): number[][] {
  const rng = new Rng((seed * 1000003 + epoch * 7919) >>> 0);
  const idx = rng.shuffle(groups ? balancedEpoch(groups, seed, epoch) : [...lengths.keys()]);
  const chunk = batchSize * bucketChunks;
  const batches: number[][] = [];
  for (let c = 0; c < idx.length; c += chunk) {
    const part = idx.slice(c, c + chunk).sort((a, b) => lengths[a] - lengths[b] || a - b);
    for (let i = 0; i < part.length; i += batchSize) batches.push(part.slice(i, i + batchSize));
  }
  return rng.shuffle(batches);
}

interface LoopState {
  dataHash?: string;
  stopped?: boolean;
  epoch: number;
  pos: number;
  losses: number[];
  valLosses: { step: number; loss: number }[];
  best?: number;
  bestStep?: number;
  bad: number;
  tokens: number;
  elapsedMs: number;
}

/** Train a model on records; calls onProgress after every optimizer step. */
export async function train(
  model: LlamaModel,
  allRecords: TrainExample[],
  opts: TrainOptions = {},
  onProgress?: (p: TrainProgress) => void,
): Promise<TrainResult> {
  const maxLen = opts.maxSeqLen ?? model.config.max_position_embeddings;
  // records without a target token cannot contribute to the loss
  const keep = allRecords.map((r) => countTargets(r, maxLen) > 0);
  const records = allRecords.filter((_, i) => keep[i]);
  if (records.length === 0) throw new Error('no training record has a target token');
  if (opts.groups && opts.groups.length !== allRecords.length)
    throw new Error(`groups: ${opts.groups.length} entries for ${allRecords.length} records`);
  const groups = opts.groups?.filter((_, i) => keep[i]);
  const dataHash = hashRecords(records);
  const bs = opts.batchSize ?? 8,
    accum = opts.gradAccum ?? 1,
    seed = opts.seed ?? 0;
  const epochs = opts.epochs ?? (opts.maxSteps ? Infinity : 1);
  const lengths = records.map((r) => r.ids.length);
  const microPerEpoch = Math.ceil(records.length / bs);
  const stepsPerEpoch = Math.ceil(microPerEpoch / accum);
  const totalSteps = Math.min(opts.maxSteps ?? Infinity, stepsPerEpoch * epochs);
  const trainer = new Trainer(model, {
    ...opts,
    totalSteps: opts.totalSteps ?? totalSteps,
    padRowsTo: opts.padRowsTo ?? Math.min(bs, records.length),
  });
  const evalEvery = opts.evalEvery ?? stepsPerEpoch;
  const ckPath = opts.checkpointDir ? join(opts.checkpointDir, 'checkpoint.safetensors') : undefined;
  const ckEvery = opts.checkpointEvery ?? evalEvery;
  const restoreBest = opts.restoreBest ?? !!opts.valRecords;
  let st: LoopState = { dataHash, epoch: 0, pos: 0, losses: [], valLosses: [], bad: 0, tokens: 0, elapsedMs: 0 };
  let bestSnap: Map<string, Float32Array> | undefined;
  if (ckPath && opts.resume !== false && checkpointExists(ckPath)) {
    const ck = readCheckpoint(ckPath);
    st = trainer.restore(ck) as LoopState;
    if (st.dataHash && st.dataHash !== dataHash)
      throw new Error(`${ckPath} was written for different training records; remove it or use another checkpointDir`);
    const bestTensors = new Map<string, Float32Array>();
    for (const [k, t] of ck.tensors) if (k.startsWith('best:')) bestTensors.set(k.slice(5), t.data);
    if (bestTensors.size) bestSnap = bestTensors;
  }
  const save = () => {
    if (!ckPath) return;
    const ck = trainer.checkpointData(st);
    if (bestSnap) for (const [k, d] of bestSnap) ck.tensors.set(`best:${k}`, { shape: [d.length], data: d });
    writeCheckpoint(ckPath, ck);
  };
  let plan = epochPlan(lengths, bs, seed, st.epoch, opts.bucketChunks, groups);
  let stoppedEarly = !!st.stopped,
    aborted = false;
  const sums = { total: 0, graph: 0, optimizer: 0 };
  let nSteps = 0;
  const tStart = performance.now() - st.elapsedMs;
  const eta = new EtaEstimator(Math.ceil((opts.valRecords?.length ?? 0) / bs));
  const validate = async () => {
    if (!opts.valRecords?.length) return undefined;
    const tv = performance.now();
    const vl = await trainer.evalLoss(opts.valRecords, bs);
    eta.observeValidation(performance.now() - tv);
    st.valLosses.push({ step: trainer.stepCount, loss: vl });
    if (st.best === undefined || vl < st.best) {
      st.best = vl;
      st.bestStep = trainer.stepCount;
      st.bad = 0;
      if (restoreBest) bestSnap = trainer.snapshot();
    } else st.bad++;
    return vl;
  };
  while (!stoppedEarly && trainer.stepCount < totalSteps) {
    if (opts.signal?.aborted) {
      aborted = true;
      break;
    }
    if (st.pos >= plan.length) {
      st.epoch++;
      st.pos = 0;
      if (st.epoch >= epochs) break;
      plan = epochPlan(lengths, bs, seed, st.epoch, opts.bucketChunks, groups);
    }
    const tIter = performance.now();
    const micro: TrainExample[][] = [];
    while (micro.length < accum && st.pos < plan.length) micro.push(plan[st.pos++].map((i) => records[i]));
    const r = await trainer.step(micro);
    st.losses.push(r.loss);
    st.tokens += r.tokens;
    sums.total += r.ms.total;
    sums.graph += r.ms.graph;
    sums.optimizer += r.ms.optimizer;
    nSteps++;
    eta.observeStep(performance.now() - tIter);
    let valLoss: number | undefined;
    if (trainer.stepCount % evalEvery === 0 || trainer.stepCount === totalSteps) valLoss = await validate();
    st.elapsedMs = performance.now() - tStart;
    if (valLoss !== undefined && opts.patience !== undefined && st.bad >= opts.patience) {
      stoppedEarly = true;
      st.stopped = true;
    }
    if (ckPath && (trainer.stepCount % ckEvery === 0 || trainer.stepCount === totalSteps || stoppedEarly)) save();
    const done = trainer.stepCount;
    let valsLeft = 0;
    if (opts.valRecords?.length && !stoppedEarly)
      for (let k = done + 1; k <= totalSteps; k++) if (k % evalEvery === 0 || k === totalSteps) valsLeft++;
    onProgress?.({
      step: done,
      totalSteps,
      epoch: st.epoch,
      loss: r.loss,
      valLoss,
      lastValLoss: st.valLosses.at(-1)?.loss,
      lr: r.lr,
      gradNorm: r.gradNorm,
      tokensPerSec: st.tokens / Math.max(1e-9, st.elapsedMs / 1000),
      tokens: st.tokens,
      elapsedMs: st.elapsedMs,
      etaMs: stoppedEarly ? 0 : eta.eta(totalSteps - done, valsLeft),
      validationsLeft: valsLeft,
    });
    if (stoppedEarly) break;
    // let the event loop breathe between steps
    await new Promise<void>((res) => setImmediate(res));
  }
  if (opts.valRecords?.length && (st.valLosses.length === 0 || st.valLosses[st.valLosses.length - 1].step !== trainer.stepCount))
    await validate();
  if (restoreBest && bestSnap) trainer.load(bestSnap);
  if (ckPath && !aborted) save();
  st.elapsedMs = performance.now() - tStart;
  return {
    steps: trainer.stepCount,
    losses: st.losses,
    valLosses: st.valLosses,
    bestValLoss: st.best,
    bestStep: st.bestStep,
    stoppedEarly,
    aborted,
    adapter: trainer.adapter,
    model,
    tokensPerSec: st.tokens / Math.max(1e-9, st.elapsedMs / 1000),
    elapsedMs: st.elapsedMs,
    msPerStep: {
      total: sums.total / Math.max(1, nSteps),
      graph: sums.graph / Math.max(1, nSteps),
      optimizer: sums.optimizer / Math.max(1, nSteps),
    },
  };
}
