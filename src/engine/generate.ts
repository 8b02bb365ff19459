/**
 * Generation with a KV cache: batched prefill, incremental decoding, greedy / temperature / top-k / top-p
 * sampling (seeded), stop sequences on decoded text, EOS, max tokens, per-token top log-probs;
 * log-likelihood scoring of candidate continuations.
 */
import type { LoraAdapter, Tokenizer, Weights } from './types.ts';
import type { LlamaModel } from './train.ts';
import { buildDecodeGraph, buildExportGraph, configKey, fuseWeights, ropeTables } from './llama.ts';
import { checkWeights, headDim } from './config.ts';
import { mergeLora } from './io/peft.ts';
import { emitOnnx } from './onnx.ts';
import { bucketLength, compileCached, type HostArray } from './runtime.ts';
import { Rng } from '../core/index.ts';

export interface GenerateOptions {
  /** new tokens at most (default 64) */
  maxTokens?: number;
  /** 0 (default): greedy */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** stop strings, matched on decoded text (needs `tokenizer`) */
  stop?: string[];
  tokenizer?: Tokenizer;
  /** end-of-sequence ids (default: config.eos_token_id); [] for none */
  eosTokenId?: number | number[];
  /** return log-probs of each generated token and its `topLogprobs` best alternatives */
  logprobs?: boolean;
  topLogprobs?: number;
  /** called with each row's new token (streaming) */
  onToken?: (row: number, token: number) => void;
  /** stop early (rows end with finishReason 'length') */
  signal?: AbortSignal;
}

export interface TokenLogprob {
  token: number;
  logprob: number;
  top: { token: number; logprob: number }[];
}

export interface Generation {
  /** generated tokens (the EOS token excluded) */
  tokens: number[];
  /** decoded text, when a tokenizer was given (cut before a stop sequence) */
  text?: string;
  finishReason: 'stop' | 'eos' | 'length';
  logprobs?: TokenLogprob[];
  promptTokens: number;
}

export interface CandidateScore {
  /** sum of log p over the candidate's tokens */
  logprob: number;
  /** mean log p per token */
  mean: number;
  tokens: number;
}

export interface GeneratorOptions {
  /** LoRA adapter merged into the weights for inference */
  adapter?: LoraAdapter;
  /** KV capacity grows in multiples of this (default 64) */
  capStep?: number;
  /** prompt lengths are padded to a multiple of this (default 16) */
  padMultiple?: number;
  /** rows per forward pass when scoring (default 8) */
  scoreBatch?: number;
  /** concatenate q/k/v and gate/up weights (fewer, larger matrix products; copies those weights); default false */
  fuseProjections?: boolean;
  /**
   * Scoring one prompt at a time, the KV of this many recent prompts is kept (default 4; 0: off): a prompt that
   * starts with at least `minPrefix` tokens of one of them (the same instructions and few-shot demonstrations)
   * computes only the rest.
   */
  prefixCache?: number;
  /** shortest shared start worth reusing (default 64 tokens) */
  minPrefix?: number;
}

/** One prompt's cached keys and values: per layer [KV heads, stride, head_dim] of row `b`; `len` real positions. */
interface KvView {
  k: Float32Array[];
  v: Float32Array[];
  stride: number;
  b: number;
  len: number;
}

const NEG = -1e9;

export function logSoftmaxRow(logits: Float32Array, off: number, V: number, out?: Float64Array): Float64Array {
  const r = out ?? new Float64Array(V);
  let mx = -Infinity;
  for (let i = 0; i < V; i++) if (logits[off + i] > mx) mx = logits[off + i];
  let s = 0;
  for (let i = 0; i < V; i++) s += Math.exp(logits[off + i] - mx);
  const lse = mx + Math.log(s);
  for (let i = 0; i < V; i++) r[i] = logits[off + i] - lse;
  return r;
}

function topN(lp: Float64Array, n: number): { token: number; logprob: number }[] {
  const idx: number[] = [];
  for (let i = 0; i < lp.length; i++) {
    if (idx.length < n) {
      idx.push(i);
      idx.sort((a, b) => lp[b] - lp[a]);
    } else if (lp[i] > lp[idx[n - 1]]) {
      idx[n - 1] = i;
      idx.sort((a, b) => lp[b] - lp[a]);
    }
  }
  return idx.map((i) => ({ token: i, logprob: lp[i] }));
}

/**
 * Pick the next token from one row of logits: greedy at temperature 0, else softmax(logits / T) restricted to the
 * top-k tokens and then to the smallest prefix with mass >= top-p (sorted by probability, ties by id), sampled with `rng`.
 * Only tokens above a probability threshold are sorted; the threshold is lowered until the selection is provably exact.
 */
export function sampleToken(
  logits: Float32Array,
  off: number,
  V: number,
  o: { temperature: number; topK?: number; topP?: number },
  rng: Rng,
): number {
  let best = 0,
    bv = -Infinity;
  for (let i = 0; i < V; i++)
    if (logits[off + i] > bv) {
      bv = logits[off + i];
      best = i;
    }
  if (!o.temperature || o.temperature <= 0) return best;
  const t = o.temperature;
  const probs = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) {
    const p = Math.exp((logits[off + i] - bv) / t);
    probs[i] = p;
    total += p;
  }
  const k = o.topK && o.topK > 0 && o.topK < V ? o.topK : V;
  const topP = o.topP !== undefined && o.topP < 1 ? o.topP : 1;
  if (k === V && topP >= 1) {
    let u = rng.next() * total;
    for (let i = 0; i < V; i++) {
      u -= probs[i];
      if (u <= 0) return i;
    }
    return best;
  }
  // candidates above a threshold, sorted; lower the threshold until top-k / top-p are decided inside them
  let cand: number[] = [];
  for (let tau = 1e-4; ; tau *= 1e-4) {
    cand = [];
    let mass = 0;
    for (let i = 0; i < V; i++)
      if (probs[i] >= tau || tau < 1e-300) {
        cand.push(i);
        mass += probs[i];
      }
    if (cand.length >= k || (k === V && mass >= topP * total) || tau < 1e-300) break;
  }
  cand.sort((a, b) => probs[b] - probs[a] || a - b);
  if (cand.length > k) cand = cand.slice(0, k);
  let sum = 0;
  for (const i of cand) sum += probs[i];
  if (topP < 1) {
    // top-p over the top-k set (all tokens when k = V)
    const ref = k === V ? total : sum;
    let acc = 0,
      n = 0;
    while (n < cand.length) {
      acc += probs[cand[n]];
      n++;
      if (acc >= topP * ref) break;
    }
    cand = cand.slice(0, n);
    sum = 0;
    for (const i of cand) sum += probs[i];
  }
  let u = rng.next() * sum;
  for (const i of cand) {
    u -= probs[i];
    if (u <= 0) return i;
  }
  return cand[cand.length - 1];
}

/** Inference over a model (weights fed in place; an adapter is merged once). */
export class Generator {
  readonly model: LlamaModel;
  private weights: Weights;
  private o: Required<Omit<GeneratorOptions, 'adapter'>>;
  private key: string;
  /** recent prompts' KV (most recent first), for prompts that share their start */
  private recent: { ids: number[]; kv: KvView }[] = [];
  /** prompt tokens taken from cached prefixes instead of computed (for tests and benchmarks) */
  prefixTokensReused = 0;

  constructor(model: LlamaModel, opts: GeneratorOptions = {}) {
    this.model = model;
    checkWeights(model.config, model.weights);
    const merged = opts.adapter ? mergeLora(model.weights, opts.adapter) : model.weights;
    this.o = {
      capStep: opts.capStep ?? 64,
      padMultiple: opts.padMultiple ?? 16,
      scoreBatch: opts.scoreBatch ?? 8,
      fuseProjections: opts.fuseProjections ?? false,
      prefixCache: opts.prefixCache ?? 4,
      minPrefix: opts.minPrefix ?? 64,
    };
    this.weights = this.o.fuseProjections ? fuseWeights(model.config, merged) : merged;
    this.key = configKey(model.config) + (this.o.fuseProjections ? '|fused' : '');
  }

  private session(B: number, S: number, C: number, logits: 'last' | 'all' | 'score') {
    return compileCached(
      `dec|${this.key}|${B}|${S}|${C}|${logits}`,
      () => buildDecodeGraph({ cfg: this.model.config, batch: B, seqLen: S, past: C, logits, fused: this.o.fuseProjections }),
      'decode',
    );
  }

  private baseFeeds(): Record<string, HostArray> {
    const f: Record<string, HostArray> = {};
    for (const [n, t] of this.weights) f[n] = t.data;
    return f;
  }

  /** Full-recompute forward over right-padded sequences; feeds shared by logits() and score(). */
  private async fullForward(seqs: number[][], mode: 'all' | 'score', targets?: BigInt64Array) {
    const cfg = this.model.config;
    const B = seqs.length;
    const maxLen = Math.max(1, ...seqs.map((s) => s.length));
    const S = bucketLength(maxLen, this.o.padMultiple);
    const tokens = new BigInt64Array(B * S);
    seqs.forEach((s, b) =>
      s.forEach((t, i) => {
        tokens[b * S + i] = BigInt(t);
      }),
    );
    const pos = Array.from({ length: B }, () => [...Array(S).keys()]);
    const { cos, sin } = ropeTables(cfg, pos);
    const mask = new Float32Array(B * S * S);
    for (let b = 0; b < B; b++) for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) mask[(b * S + i) * S + j] = NEG;
    const f = this.baseFeeds();
    Object.assign(f, { tokens, rope_cos: cos, rope_sin: sin, attn_mask: mask });
    if (targets) f.targets = targets;
    const sess = await this.session(B, S, 0, mode);
    const out = await sess.run(f, [mode === 'all' ? 'logits' : 'token_logprobs']);
    return { S, out };
  }

  /** Logits for every position of each sequence (full recompute, no cache): [len × vocab] per sequence. */
  async logits(seqs: number[][]): Promise<Float32Array[]> {
    const V = this.model.config.vocab_size;
    const { S, out } = await this.fullForward(seqs, 'all');
    const all = out.logits as Float32Array;
    return seqs.map((s, b) => all.slice(b * S * V, (b * S + s.length) * V));
  }

  /**
   * Log-likelihood of each candidate continuation after each prompt: result[p][c].
   * Token-level: log p(cand tokens | prompt tokens), summed and averaged.
   * Each prompt is computed once and shared by its candidates: a prefill (LM head at the last prompt position only)
   * gives every candidate's first token, then the candidates' remaining tokens run as one batch over the prompt's
   * KV cache. `shared: false` scores one full sequence per prompt × candidate instead (the reference it equals
   * within float tolerance).
   */
  async scoreCandidates(
    prompts: number[][],
    candidates: number[][] | number[][][],
    opts: { shared?: boolean } = {},
  ): Promise<CandidateScore[][]> {
    const perPrompt = prompts.map((prompt, p) => {
      if (prompt.length === 0) throw new Error('scoring needs a non-empty prompt');
      return Array.isArray(candidates[0]?.[0]) ? (candidates as number[][][])[p] : (candidates as number[][]);
    });
    if (opts.shared === false) return this.scoreSeparately(prompts, perPrompt);
    const res: CandidateScore[][] = prompts.map(() => []);
    const order = prompts.map((_, i) => i).sort((a, b) => prompts[a].length - prompts[b].length);
    const V = this.model.config.vocab_size;
    const lp0 = new Float64Array(V);
    for (let i = 0; i < order.length; i += this.o.scoreBatch) {
      const chunk = order.slice(i, i + this.o.scoreBatch);
      const { first, views } =
        chunk.length === 1 && this.o.prefixCache > 0
          ? await this.prefillReusing(prompts[chunk[0]])
          : await this.prefillLast(chunk.map((p) => prompts[p]));
      // rows that continue past their first token: (chunk row, prompt, candidate)
      const rows: { b: number; p: number; c: number }[] = [];
      chunk.forEach((p, b) => {
        logSoftmaxRow(first, b * V, V, lp0);
        perPrompt[p].forEach((cand, c) => {
          const s = cand.length ? lp0[cand[0]] : 0;
          res[p][c] = { logprob: s, mean: cand.length ? s : 0, tokens: cand.length };
          if (cand.length > 1) rows.push({ b, p, c });
        });
      });
      for (let r = 0; r < rows.length; r += this.o.scoreBatch) {
        const part = rows.slice(r, r + this.o.scoreBatch);
        const lp = await this.continueScores(part.map((x) => ({ kv: views[x.b], cand: perPrompt[x.p][x.c] })));
        part.forEach((x, k) => {
          const sc = res[x.p][x.c];
          sc.logprob += lp[k];
          sc.mean = sc.logprob / sc.tokens;
        });
      }
    }
    return res;
  }

  /**
   * Prefill one prompt, reusing the cached KV of a recent prompt that starts the same way (at least minPrefix
   * tokens): only the rest runs, over that cache. Returns the last position's logits and the prompt's KV.
   */
  private async prefillReusing(prompt: number[]): Promise<{ first: Float32Array; views: KvView[] }> {
    let best: { ids: number[]; kv: KvView } | undefined,
      P = 0;
    for (const e of this.recent) {
      const n = Math.min(e.ids.length, prompt.length - 1);
      let j = 0;
      while (j < n && e.ids[j] === prompt[j]) j++;
      if (j > P) {
        P = j;
        best = e;
      }
    }
    let first: Float32Array, kv: KvView;
    if (!best || P < this.o.minPrefix) {
      const r = await this.prefillLast([prompt]);
      first = r.first;
      kv = r.views[0];
    } else {
      ({ first, kv } = await this.prefillAfter(prompt, best.kv, P));
      this.prefixTokensReused += P;
    }
    // most recent first; an older entry that starts the new prompt (or equals it) is superseded by it
    const startsPrompt = (ids: number[]) => ids.length <= prompt.length && ids.every((t, i) => t === prompt[i]);
    this.recent = [{ ids: prompt, kv: this.compactKv(kv) }, ...this.recent.filter((e) => !startsPrompt(e.ids))].slice(
      0,
      this.o.prefixCache,
    );
    return { first, views: [kv] };
  }

  /** A KV view copied to arrays of exactly its `len` positions (a cached view keeps no padded batch buffers alive). */
  private compactKv(kv: KvView): KvView {
    if (kv.b === 0 && kv.stride === kv.len) return kv;
    const KV = this.model.config.num_key_value_heads,
      hd = headDim(this.model.config);
    const copy = (a: Float32Array) => {
      const o = new Float32Array(KV * kv.len * hd);
      for (let h = 0; h < KV; h++) {
        const src = (kv.b * KV + h) * kv.stride * hd;
        o.set(a.subarray(src, src + kv.len * hd), h * kv.len * hd);
      }
      return o;
    };
    return { k: kv.k.map(copy), v: kv.v.map(copy), stride: kv.len, b: 0, len: kv.len };
  }

  /** The prompt's positions from P on, over the first P positions of `past` (a cached prompt's KV). */
  private async prefillAfter(prompt: number[], past: KvView, P: number): Promise<{ first: Float32Array; kv: KvView }> {
    const cfg = this.model.config;
    const L = cfg.num_hidden_layers,
      KV = cfg.num_key_value_heads,
      hd = headDim(cfg);
    const rest = prompt.slice(P);
    const S = bucketLength(rest.length, this.o.padMultiple);
    const C = Math.ceil(P / 64) * 64;
    const tokens = new BigInt64Array(S);
    rest.forEach((t, i) => {
      tokens[i] = BigInt(t);
    });
    const mask = new Float32Array(S * (C + S));
    for (let i = 0; i < S; i++) {
      const o = i * (C + S);
      for (let j = P; j < C; j++) mask[o + j] = NEG;
      for (let j = i + 1; j < S; j++) mask[o + C + j] = NEG;
    }
    const { cos, sin } = ropeTables(cfg, [Array.from({ length: S }, (_, i) => P + i)]);
    const f = this.baseFeeds();
    Object.assign(f, { tokens, rope_cos: cos, rope_sin: sin, attn_mask: mask, last_index: BigInt64Array.from([BigInt(rest.length - 1)]) });
    for (let l = 0; l < L; l++) {
      const pk = new Float32Array(KV * C * hd),
        pv = new Float32Array(KV * C * hd);
      for (let h = 0; h < KV; h++) {
        const src = (past.b * KV + h) * past.stride * hd;
        pk.set(past.k[l].subarray(src, src + P * hd), h * C * hd);
        pv.set(past.v[l].subarray(src, src + P * hd), h * C * hd);
      }
      f[`past_k.${l}`] = pk;
      f[`past_v.${l}`] = pv;
    }
    const out = await (await this.session(1, S, C, 'last')).run(f);
    // the whole prompt's KV: the reused start, then what was just computed
    const n = prompt.length;
    const k: Float32Array[] = [],
      v: Float32Array[] = [];
    for (let l = 0; l < L; l++) {
      const nk = out[`new_k.${l}`] as Float32Array,
        nv = out[`new_v.${l}`] as Float32Array;
      const fk = new Float32Array(KV * n * hd),
        fv = new Float32Array(KV * n * hd);
      for (let h = 0; h < KV; h++) {
        const src = (past.b * KV + h) * past.stride * hd;
        fk.set(past.k[l].subarray(src, src + P * hd), h * n * hd);
        fv.set(past.v[l].subarray(src, src + P * hd), h * n * hd);
        fk.set(nk.subarray(h * S * hd, (h * S + rest.length) * hd), (h * n + P) * hd);
        fv.set(nv.subarray(h * S * hd, (h * S + rest.length) * hd), (h * n + P) * hd);
      }
      k.push(fk);
      v.push(fv);
    }
    return { first: out.logits as Float32Array, kv: { k, v, stride: n, b: 0, len: n } };
  }

  /** Prefill right-padded prompts: the logits at each prompt's last token [B × V] and the KV of every position. */
  private async prefillLast(prompts: number[][]): Promise<{ first: Float32Array; views: KvView[] }> {
    const cfg = this.model.config;
    const B = prompts.length;
    const S0 = bucketLength(Math.max(...prompts.map((p) => p.length)), this.o.padMultiple);
    const tokens = new BigInt64Array(B * S0);
    prompts.forEach((p, b) =>
      p.forEach((t, i) => {
        tokens[b * S0 + i] = BigInt(t);
      }),
    );
    const { cos, sin } = ropeTables(
      cfg,
      Array.from({ length: B }, () => [...Array(S0).keys()]),
    );
    const mask = new Float32Array(B * S0 * S0);
    for (let b = 0; b < B; b++) for (let i = 0; i < S0; i++) for (let j = i + 1; j < S0; j++) mask[(b * S0 + i) * S0 + j] = NEG;
    const f = this.baseFeeds();
    Object.assign(f, {
      tokens,
      rope_cos: cos,
      rope_sin: sin,
      attn_mask: mask,
      last_index: BigInt64Array.from(prompts.map((p, b) => BigInt(b * S0 + p.length - 1))),
    });
    const out = await (await this.session(B, S0, 0, 'last')).run(f);
    const L = cfg.num_hidden_layers;
    const k = Array.from({ length: L }, (_, l) => out[`new_k.${l}`] as Float32Array);
    const v = Array.from({ length: L }, (_, l) => out[`new_v.${l}`] as Float32Array);
    return { first: out.logits as Float32Array, views: prompts.map((p, b) => ({ k, v, stride: S0, b, len: p.length })) };
  }

  /** Sum of log p(cand[1..] | prompt, cand[0..]) per row, each row over its prompt's cached KV. */
  private async continueScores(rows: { kv: KvView; cand: number[] }[]): Promise<number[]> {
    const cfg = this.model.config;
    const L = cfg.num_hidden_layers,
      KV = cfg.num_key_value_heads,
      hd = headDim(cfg);
    const R = rows.length;
    // cached length rounded up to 64 (masked beyond the prompt): few compiled shapes for every prompt length
    const C = Math.ceil(Math.max(...rows.map((x) => x.kv.len)) / 64) * 64;
    const T = bucketLength(Math.max(...rows.map((x) => x.cand.length - 1)), 4);
    const tokens = new BigInt64Array(R * T);
    const targets = new BigInt64Array(R * T);
    const mask = new Float32Array(R * T * (C + T));
    rows.forEach((x, r) => {
      for (let i = 0; i + 1 < x.cand.length; i++) {
        tokens[r * T + i] = BigInt(x.cand[i]);
        targets[r * T + i] = BigInt(x.cand[i + 1]);
      }
      for (let i = 0; i < T; i++) {
        const o = (r * T + i) * (C + T);
        for (let j = x.kv.len; j < C; j++) mask[o + j] = NEG;
        for (let j = i + 1; j < T; j++) mask[o + C + j] = NEG;
      }
    });
    const { cos, sin } = ropeTables(
      cfg,
      rows.map((x) => Array.from({ length: T }, (_, i) => x.kv.len + i)),
    );
    const f = this.baseFeeds();
    Object.assign(f, { tokens, targets, rope_cos: cos, rope_sin: sin, attn_mask: mask });
    for (let l = 0; l < L; l++) {
      const pk = new Float32Array(R * KV * C * hd),
        pv = new Float32Array(R * KV * C * hd);
      rows.forEach(({ kv }, r) => {
        for (let h = 0; h < KV; h++) {
          const src = (kv.b * KV + h) * kv.stride * hd,
            dst = (r * KV + h) * C * hd;
          pk.set(kv.k[l].subarray(src, src + kv.len * hd), dst);
          pv.set(kv.v[l].subarray(src, src + kv.len * hd), dst);
        }
      });
      f[`past_k.${l}`] = pk;
      f[`past_v.${l}`] = pv;
    }
    const out = await (await this.session(R, T, C, 'score')).run(f, ['token_logprobs']);
    const lp = out.token_logprobs as Float32Array;
    return rows.map((x, r) => {
      let s = 0;
      for (let i = 0; i + 1 < x.cand.length; i++) s += lp[r * T + i];
      return s;
    });
  }

  /** One full sequence per prompt × candidate (the reference for the shared-prompt path). */
  private async scoreSeparately(prompts: number[][], perPrompt: number[][][]): Promise<CandidateScore[][]> {
    const pairs: { p: number; c: number; seq: number[]; start: number }[] = [];
    prompts.forEach((prompt, p) =>
      perPrompt[p].forEach((cand, c) => pairs.push({ p, c, seq: [...prompt, ...cand], start: prompt.length })),
    );
    const res: CandidateScore[][] = prompts.map(() => []);
    const order = pairs.map((_, i) => i).sort((a, b) => pairs[a].seq.length - pairs[b].seq.length);
    for (let i = 0; i < order.length; i += this.o.scoreBatch) {
      const chunk = order.slice(i, i + this.o.scoreBatch).map((k) => pairs[k]);
      const maxLen = Math.max(...chunk.map((x) => x.seq.length));
      const S = bucketLength(maxLen, this.o.padMultiple);
      const targets = new BigInt64Array(chunk.length * S);
      chunk.forEach((x, b) => {
        for (let t = 0; t + 1 < x.seq.length; t++) targets[b * S + t] = BigInt(x.seq[t + 1]);
      });
      const { out } = await this.fullForward(
        chunk.map((x) => x.seq),
        'score',
        targets,
      );
      const lp = out.token_logprobs as Float32Array;
      chunk.forEach((x, b) => {
        let s = 0;
        const n = x.seq.length - x.start;
        for (let t = x.start - 1; t < x.seq.length - 1; t++) s += lp[b * S + t];
        res[x.p][x.c] = { logprob: s, mean: n ? s / n : 0, tokens: n };
      });
    }
    return res;
  }

  /** Generate continuations of a batch of prompts (token ids). */
  async generate(prompts: number[][], opts: GenerateOptions = {}): Promise<Generation[]> {
    const cfg = this.model.config;
    const B = prompts.length;
    if (B === 0) return [];
    if (prompts.some((p) => p.length === 0)) throw new Error('prompts must be non-empty (add a BOS token)');
    if (opts.stop?.length && !opts.tokenizer) throw new Error('stop sequences need a tokenizer');
    const V = cfg.vocab_size,
      L = cfg.num_hidden_layers,
      KV = cfg.num_key_value_heads,
      hd = headDim(cfg);
    const maxTokens = opts.maxTokens ?? 64;
    const eosRaw = opts.eosTokenId ?? cfg.eos_token_id;
    const eos = new Set(eosRaw === undefined ? [] : Array.isArray(eosRaw) ? eosRaw : [eosRaw]);
    const rng = new Rng(opts.seed ?? 0);
    const samp = { temperature: opts.temperature ?? 0, topK: opts.topK, topP: opts.topP };
    const nTop = opts.topLogprobs ?? 0;
    const wantLp = opts.logprobs || nTop > 0;

    if (maxTokens <= 0)
      return prompts.map((p) => ({
        tokens: [],
        finishReason: 'length' as const,
        promptTokens: p.length,
        ...(wantLp ? { logprobs: [] } : {}),
        ...(opts.tokenizer ? { text: '' } : {}),
      }));
    const lens = prompts.map((p) => p.length);
    const maxPrompt = Math.max(...lens);
    const S0 = bucketLength(maxPrompt, this.o.padMultiple);
    const capFor = (n: number) => (n <= 512 ? Math.ceil(n / this.o.capStep) * this.o.capStep : bucketLength(n));
    let C = capFor(maxPrompt + 1);
    let kc: Float32Array[] = [],
      vc: Float32Array[] = [];
    for (let l = 0; l < L; l++) {
      kc.push(new Float32Array(B * KV * C * hd));
      vc.push(new Float32Array(B * KV * C * hd));
    }
    const writeKV = (out: Record<string, HostArray>, S: number, rows: { b: number; from: number; count: number; at: number }[]) => {
      for (let l = 0; l < L; l++) {
        const nk = out[`new_k.${l}`] as Float32Array,
          nv = out[`new_v.${l}`] as Float32Array;
        for (const r of rows)
          for (let h = 0; h < KV; h++) {
            const src = ((r.b * KV + h) * S + r.from) * hd,
              dst = ((r.b * KV + h) * C + r.at) * hd;
            kc[l].set(nk.subarray(src, src + r.count * hd), dst);
            vc[l].set(nv.subarray(src, src + r.count * hd), dst);
          }
      }
    };
    const grow = (need: number) => {
      if (need <= C) return;
      const NC = capFor(need);
      for (let l = 0; l < L; l++) {
        const nk = new Float32Array(B * KV * NC * hd),
          nv = new Float32Array(B * KV * NC * hd);
        for (let bh = 0; bh < B * KV; bh++) {
          nk.set(kc[l].subarray(bh * C * hd, (bh + 1) * C * hd), bh * NC * hd);
          nv.set(vc[l].subarray(bh * C * hd, (bh + 1) * C * hd), bh * NC * hd);
        }
        kc[l] = nk;
        vc[l] = nv;
      }
      C = NC;
    };

    // prefill (no cache inputs): right-padded prompts, causal mask
    const tokens0 = new BigInt64Array(B * S0);
    prompts.forEach((p, b) =>
      p.forEach((t, i) => {
        tokens0[b * S0 + i] = BigInt(t);
      }),
    );
    const pos0 = Array.from({ length: B }, () => [...Array(S0).keys()]);
    const rt0 = ropeTables(cfg, pos0);
    const mask0 = new Float32Array(B * S0 * S0);
    for (let b = 0; b < B; b++) for (let i = 0; i < S0; i++) for (let j = i + 1; j < S0; j++) mask0[(b * S0 + i) * S0 + j] = NEG;
    const last0 = BigInt64Array.from(lens.map((n, b) => BigInt(b * S0 + n - 1)));
    const f0 = this.baseFeeds();
    Object.assign(f0, { tokens: tokens0, rope_cos: rt0.cos, rope_sin: rt0.sin, attn_mask: mask0, last_index: last0 });
    let out = await (await this.session(B, S0, 0, 'last')).run(f0);
    writeKV(
      out,
      S0,
      lens.map((n, b) => ({ b, from: 0, count: n, at: 0 })),
    );
    const cur = lens.slice();

    const res: Generation[] = prompts.map((p) => ({
      tokens: [],
      finishReason: 'length',
      promptTokens: p.length,
      ...(wantLp ? { logprobs: [] } : {}),
      ...(opts.tokenizer ? { text: '' } : {}),
    }));
    const done = new Array(B).fill(false);
    const lpBuf = new Float64Array(V);
    const maxStop = Math.max(0, ...(opts.stop ?? []).map((s) => s.length));
    const step = (logits: Float32Array) => {
      const next: number[] = [];
      for (let b = 0; b < B; b++) {
        if (done[b]) {
          next.push(0);
          continue;
        }
        const tok = sampleToken(logits, b * V, V, samp, rng);
        next.push(tok);
        if (eos.has(tok)) {
          done[b] = true;
          res[b].finishReason = 'eos';
          continue;
        }
        const r = res[b];
        r.tokens.push(tok);
        opts.onToken?.(b, tok);
        if (wantLp) {
          const lp = logSoftmaxRow(logits, b * V, V, lpBuf);
          r.logprobs!.push({ token: tok, logprob: lp[tok], top: nTop > 0 ? topN(lp, nTop) : [] });
        }
        if (opts.tokenizer) {
          const prev = r.text!.length;
          r.text = opts.tokenizer.decode(r.tokens, { skipSpecialTokens: true });
          if (opts.stop?.length) {
            const from = Math.max(0, prev - maxStop);
            let cut = -1;
            for (const s of opts.stop) {
              const k = r.text.indexOf(s, from);
              if (k >= 0 && (cut < 0 || k < cut)) cut = k;
            }
            if (cut >= 0) {
              r.text = r.text.slice(0, cut);
              r.finishReason = 'stop';
              done[b] = true;
              continue;
            }
          }
        }
        if (r.tokens.length >= maxTokens) done[b] = true;
      }
      return next;
    };
    let next = step(out.logits as Float32Array);
    while (!done.every(Boolean) && !opts.signal?.aborted) {
      grow(Math.max(...cur) + 1);
      const tokens = BigInt64Array.from(next.map((t) => BigInt(t)));
      const rt = ropeTables(
        cfg,
        cur.map((c) => [c]),
      );
      const mask = new Float32Array(B * (C + 1));
      for (let b = 0; b < B; b++) for (let j = cur[b]; j < C; j++) mask[b * (C + 1) + j] = NEG;
      const f = this.baseFeeds();
      Object.assign(f, {
        tokens,
        rope_cos: rt.cos,
        rope_sin: rt.sin,
        attn_mask: mask,
        last_index: BigInt64Array.from({ length: B }, (_, b) => BigInt(b)),
      });
      for (let l = 0; l < L; l++) {
        f[`past_k.${l}`] = kc[l];
        f[`past_v.${l}`] = vc[l];
      }
      out = await (await this.session(B, 1, C, 'last')).run(f);
      writeKV(
        out,
        1,
        cur.map((c, b) => ({ b, from: 0, count: 1, at: c })),
      );
      for (let b = 0; b < B; b++) cur[b]++;
      next = step(out.logits as Float32Array);
    }
    return res;
  }
}

/** ONNX bytes of the model's inference graph (weights embedded; adapter merged); see buildExportGraph. */
export function exportOnnx(model: LlamaModel, opts: { batch?: number; seqLen: number; adapter?: LoraAdapter }): Uint8Array {
  const w = opts.adapter ? mergeLora(model.weights, opts.adapter) : model.weights;
  return emitOnnx(buildExportGraph(model.config, w, opts.batch ?? 1, opts.seqLen));
}
