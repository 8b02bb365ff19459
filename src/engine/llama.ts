/**
 * Llama-family causal LM (Hugging Face LlamaForCausalLM, Qwen2ForCausalLM and Qwen3ForCausalLM semantics) as graphs:
 * RMSNorm, rotary embeddings (rotate_half convention), SwiGLU MLP, grouped-query attention,
 * causal and padding masks, tied embeddings, optional LoRA on q/k/v/o/gate/up/down;
 * qwen2: biases on q/k/v; qwen3: per-head RMSNorm on q and k before RoPE.
 */
import type { LlamaConfig, Weights, HostTensor, LoraAdapter } from './types.ts';
import { headDim, llama3FreqFactor, modelType, paramShapes, ropeScalingKind, type RopeScaling } from './config.ts';
import { Graph, type DType, type Value } from './graph.ts';
import { rematerialize } from './remat.ts';
import { Rng } from '../core/index.ts';

export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** Decode-graph parameters with q/k/v and gate/up rows concatenated (qkv_proj, gate_up_proj; qwen2's q/k/v biases as qkv_proj.bias). */
export function fusedParamShapes(cfg: LlamaConfig): [string, number[]][] {
  const D = cfg.hidden_size,
    I = cfg.intermediate_size,
    hd = headDim(cfg),
    H = cfg.num_attention_heads,
    KV = cfg.num_key_value_heads;
  const out: [string, number[]][] = [];
  for (const [name, shape] of paramShapes(cfg)) {
    if (/\.(k_proj|v_proj|up_proj)\.weight$|\.(k_proj|v_proj)\.bias$/.test(name)) continue;
    if (name.endsWith('.q_proj.weight')) out.push([name.replace('q_proj', 'qkv_proj'), [(H + 2 * KV) * hd, D]]);
    else if (name.endsWith('.q_proj.bias')) out.push([name.replace('q_proj', 'qkv_proj'), [(H + 2 * KV) * hd]]);
    else if (name.endsWith('.gate_proj.weight')) out.push([name.replace('gate_proj', 'gate_up_proj'), [2 * I, D]]);
    else out.push([name, shape]);
  }
  return out;
}

/** Weights for fusedParamShapes: row blocks of [out, in] matrices concatenated (new arrays only for the fused ones). */
export function fuseWeights(cfg: LlamaConfig, w: Weights): Weights {
  const out: Weights = new Map();
  const cat = (names: string[]) => {
    const parts = names.map((n) => w.get(n)!);
    const data = new Float32Array(parts.reduce((s, p) => s + p.data.length, 0));
    let off = 0;
    for (const p of parts) {
      data.set(p.data, off);
      off += p.data.length;
    }
    return { shape: [parts.reduce((s, p) => s + p.shape[0], 0), ...parts[0].shape.slice(1)], data };
  };
  for (const [name] of fusedParamShapes(cfg)) {
    const qkv = /\.qkv_proj\.(weight|bias)$/.exec(name);
    if (qkv) {
      const p = name.slice(0, qkv.index);
      out.set(name, cat(['q_proj', 'k_proj', 'v_proj'].map((m) => `${p}.${m}.${qkv[1]}`)));
    } else if (name.endsWith('.gate_up_proj.weight')) {
      const p = name.replace('.gate_up_proj.weight', '');
      out.set(name, cat([`${p}.gate_proj.weight`, `${p}.up_proj.weight`]));
    } else out.set(name, w.get(name)!);
  }
  return out;
}

/** HF initialisation: normal(0, initializer_range) for linear and embedding weights, ones for norms, zeros for biases. */
export function initWeights(cfg: LlamaConfig, seed = 0, std = (cfg.initializer_range as number | undefined) ?? 0.02): Weights {
  const rng = new Rng(seed);
  const w: Weights = new Map();
  for (const [name, shape] of paramShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
    w.set(name, { shape, data });
  }
  return w;
}

/** Module names (HF, without .weight) a LoRA target list expands to. */
export function loraModules(cfg: LlamaConfig, targets: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of targets)
    if (!(LORA_TARGETS as readonly string[]).includes(t))
      throw new Error(`unknown LoRA target module ${t} (use ${LORA_TARGETS.join(', ')})`);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    for (const t of LORA_TARGETS) {
      if (!targets.includes(t)) continue;
      const sub = t.endsWith('_proj') && ['gate_proj', 'up_proj', 'down_proj'].includes(t) ? 'mlp' : 'self_attn';
      out.push(`model.layers.${l}.${sub}.${t}`);
    }
  }
  return out;
}

export interface LoraSpec {
  rank: number;
  alpha: number;
  dropout?: number;
  targetModules: string[];
}

/** PEFT initialisation: A kaiming-uniform (bound 1/sqrt(in)), B zeros. */
export function initLora(cfg: LlamaConfig, base: Weights, spec: LoraSpec, seed = 0): LoraAdapter {
  const rng = new Rng(seed ^ 0x5f3759df);
  const weights = new Map<string, { A: HostTensor; B: HostTensor }>();
  for (const m of loraModules(cfg, spec.targetModules)) {
    const [out, inp] = base.get(`${m}.weight`)!.shape;
    const bound = 1 / Math.sqrt(inp);
    const A = new Float32Array(spec.rank * inp);
    for (let i = 0; i < A.length; i++) A[i] = rng.uniform(-bound, bound);
    weights.set(m, { A: { shape: [spec.rank, inp], data: A }, B: { shape: [out, spec.rank], data: new Float32Array(out * spec.rank) } });
  }
  return { rank: spec.rank, alpha: spec.alpha, dropout: spec.dropout ?? 0, targetModules: [...spec.targetModules], weights };
}

/** inv_freq of the rotary embedding, with HF's rope_scaling (linear, llama3) applied. */
export function ropeInvFreq(cfg: LlamaConfig): Float64Array {
  const hd = headDim(cfg);
  const f = new Float64Array(hd / 2);
  for (let i = 0; i < hd / 2; i++) f[i] = 1 / Math.pow(cfg.rope_theta, (2 * i) / hd);
  const rs = (cfg.rope_scaling ?? {}) as RopeScaling;
  const kind = ropeScalingKind(cfg);
  if (kind === 'linear') for (let i = 0; i < f.length; i++) f[i] /= rs.factor ?? 1;
  else if (kind === 'llama3') for (let i = 0; i < f.length; i++) f[i] /= llama3FreqFactor(rs, (2 * Math.PI) / f[i]);
  else if (kind) throw new Error(`rope_scaling type ${kind} is not supported`);
  return f;
}

/**
 * cos and signed sin tables for positions [rows][S] -> arrays of shape [rows, S, 1, hd].
 * Signed sin folds rotate_half's minus sign: rotate_half(x) * sin == swap_halves(x) * sinSigned.
 */
export function ropeTables(
  cfg: LlamaConfig,
  positions: number[][],
  dtype: DType = 'float32',
): { cos: Float32Array | Float64Array; sin: Float32Array | Float64Array } {
  const hd = headDim(cfg),
    half = hd / 2;
  const inv = ropeInvFreq(cfg);
  const rows = positions.length,
    S = positions[0].length;
  const Arr = dtype === 'float64' ? Float64Array : Float32Array;
  const cos = new Arr(rows * S * hd),
    sin = new Arr(rows * S * hd);
  for (let r = 0; r < rows; r++)
    for (let s = 0; s < S; s++) {
      const p = positions[r][s],
        o = (r * S + s) * hd;
      for (let i = 0; i < half; i++) {
        const a = Math.fround(p * Math.fround(inv[i]));
        const c = Math.cos(a),
          sn = Math.sin(a);
        cos[o + i] = c;
        cos[o + half + i] = c;
        sin[o + i] = -sn;
        sin[o + half + i] = sn;
      }
    }
  return { cos, sin };
}

/** Graph values of the model parameters (inputs named by their HF names). */
export type ParamValues = Map<string, Value>;

export function addParamInputs(g: Graph, cfg: LlamaConfig): ParamValues {
  const p: ParamValues = new Map();
  for (const [name, shape] of paramShapes(cfg)) p.set(name, g.input(name, shape));
  return p;
}

export interface LoraValues {
  scale: number;
  modules: Map<string, { A: Value; B: Value; dropMask?: Value }>;
}

export function addLoraInputs(g: Graph, cfg: LlamaConfig, spec: LoraSpec, dropoutRows?: number): LoraValues {
  const modules = new Map<string, { A: Value; B: Value; dropMask?: Value }>();
  const H = cfg.num_attention_heads,
    KV = cfg.num_key_value_heads,
    hd = headDim(cfg),
    D = cfg.hidden_size,
    I = cfg.intermediate_size;
  const dims: Record<string, [number, number]> = {
    q_proj: [H * hd, D],
    k_proj: [KV * hd, D],
    v_proj: [KV * hd, D],
    o_proj: [D, H * hd],
    gate_proj: [I, D],
    up_proj: [I, D],
    down_proj: [D, I],
  };
  for (const m of loraModules(cfg, spec.targetModules)) {
    const [out, inp] = dims[m.split('.').pop()!];
    const A = g.input(`${m}.lora_A.weight`, [spec.rank, inp]);
    const B = g.input(`${m}.lora_B.weight`, [out, spec.rank]);
    const dropMask = dropoutRows && (spec.dropout ?? 0) > 0 ? g.input(`${m}.lora_dropout_mask`, [dropoutRows, inp]) : undefined;
    modules.set(m, { A, B, dropMask });
  }
  return { scale: spec.alpha / spec.rank, modules };
}

export interface ForwardInputs {
  /** token ids [B, S] (int64); or, instead, `embedded` */
  tokens?: Value;
  /** embedding rows of the tokens, [B*S, D], gathered by the caller (training: their gradient is scattered in JS, in a fixed order) */
  embedded?: { rows: Value; batch: number; seq: number };
  /** rotary tables [B|1, S, 1, hd] */
  cos: Value;
  sin: Value;
  /** additive attention mask [B|1, 1, 1, S, C+S] */
  mask: Value;
  /** KV cache per layer, [B, kvh, C, hd] each */
  pastK?: Value[];
  pastV?: Value[];
}

export interface ForwardResult {
  /** final normed hidden states [B*S, D] */
  hidden: Value;
  /** keys and values of the new tokens per layer, [B, kvh, S, hd] */
  newK: Value[];
  newV: Value[];
}

export function rmsNorm(g: Graph, x: Value, w: Value, eps: number): Value {
  return g.rmsNorm(x, w, eps);
}

function rope(g: Graph, x: Value, cos: Value, sin: Value): Value {
  return g.add(g.mul(x, cos), g.mul(g.swapHalves(x), sin));
}

/** The decoder stack. Returns final normed hidden states and the new keys/values. */
export function llamaForward(g: Graph, cfg: LlamaConfig, P: ParamValues, inp: ForwardInputs, lora?: LoraValues): ForwardResult {
  const [B, S] = inp.embedded ? [inp.embedded.batch, inp.embedded.seq] : inp.tokens!.shape;
  const D = cfg.hidden_size,
    H = cfg.num_attention_heads,
    KV = cfg.num_key_value_heads,
    hd = headDim(cfg),
    grp = H / KV;
  const eps = cfg.rms_norm_eps;
  const proj = (x: Value, module: string) => {
    let y = g.linear(x, P.get(`${module}.weight`)!);
    const bias = P.get(`${module}.bias`);
    if (bias) y = g.add(y, bias);
    const lm = lora?.modules.get(module);
    if (lm) {
      const xin = lm.dropMask ? g.mul(x, lm.dropMask) : x;
      y = g.add(y, g.mul(g.linear(g.linear(xin, lm.A), lm.B), lora!.scale));
    }
    return y;
  };
  let x = inp.embedded ? inp.embedded.rows : g.reshape(g.gather(P.get('model.embed_tokens.weight')!, inp.tokens!), [B * S, D]);
  const newK: Value[] = [],
    newV: Value[] = [];
  const scale = 1 / Math.sqrt(hd);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const h = rmsNorm(g, x, P.get(`${p}.input_layernorm.weight`)!, eps);
    let q: Value, k: Value, v0: Value;
    const qkvW = P.get(`${p}.self_attn.qkv_proj.weight`);
    if (qkvW) {
      const qkvB = P.get(`${p}.self_attn.qkv_proj.bias`);
      const qkv = qkvB ? g.add(g.linear(h, qkvW), qkvB) : g.linear(h, qkvW);
      q = g.reshape(g.slice(qkv, 1, 0, H * hd), [B, S, H, hd]);
      k = g.reshape(g.slice(qkv, 1, H * hd, (H + KV) * hd), [B, S, KV, hd]);
      v0 = g.reshape(g.slice(qkv, 1, (H + KV) * hd, (H + 2 * KV) * hd), [B, S, KV, hd]);
    } else {
      q = g.reshape(proj(h, `${p}.self_attn.q_proj`), [B, S, H, hd]);
      k = g.reshape(proj(h, `${p}.self_attn.k_proj`), [B, S, KV, hd]);
      v0 = g.reshape(proj(h, `${p}.self_attn.v_proj`), [B, S, KV, hd]);
    }
    const qn = P.get(`${p}.self_attn.q_norm.weight`);
    if (qn) {
      q = rmsNorm(g, q, qn, eps);
      k = rmsNorm(g, k, P.get(`${p}.self_attn.k_norm.weight`)!, eps);
    }
    q = rope(g, q, inp.cos, inp.sin);
    k = rope(g, k, inp.cos, inp.sin);
    const q5 = g.transpose(g.reshape(g.mul(q, scale), [B, S, KV, grp, hd]), [0, 2, 3, 1, 4]); // [B,KV,grp,S,hd]
    let kt = g.transpose(k, [0, 2, 1, 3]); // [B,KV,S,hd]
    let vt = g.transpose(v0, [0, 2, 1, 3]);
    newK.push(kt);
    newV.push(vt);
    if (inp.pastK) {
      kt = g.concat([inp.pastK[l], kt], 2);
      vt = g.concat([inp.pastV![l], vt], 2);
    }
    const T = kt.shape[2];
    const k5 = g.transposeLast2(g.reshape(kt, [B, KV, 1, T, hd])); // [B,KV,1,hd,T]
    const v5 = g.reshape(vt, [B, KV, 1, T, hd]);
    const scores = g.add(g.matmul(q5, k5), inp.mask); // [B,KV,grp,S,T]
    const probs = g.softmax(scores, -1);
    const o = g.reshape(g.transpose(g.matmul(probs, v5), [0, 3, 1, 2, 4]), [B * S, H * hd]);
    x = g.add(x, proj(o, `${p}.self_attn.o_proj`));
    const h2 = rmsNorm(g, x, P.get(`${p}.post_attention_layernorm.weight`)!, eps);
    const guW = P.get(`${p}.mlp.gate_up_proj.weight`);
    let gate: Value, up: Value;
    if (guW) {
      const gu = g.linear(h2, guW);
      const I = cfg.intermediate_size;
      gate = g.slice(gu, 1, 0, I);
      up = g.slice(gu, 1, I, 2 * I);
    } else {
      gate = proj(h2, `${p}.mlp.gate_proj`);
      up = proj(h2, `${p}.mlp.up_proj`);
    }
    x = g.add(x, proj(g.mul(g.silu(gate), up), `${p}.mlp.down_proj`));
  }
  const hidden = rmsNorm(g, x, P.get('model.norm.weight')!, eps);
  return { hidden, newK, newV };
}

export function lmHead(g: Graph, cfg: LlamaConfig, P: ParamValues, hidden: Value): Value {
  return g.linear(hidden, P.get(cfg.tie_word_embeddings ? 'model.embed_tokens.weight' : 'lm_head.weight')!);
}

/** Additive causal mask [1,1,1,T,T] (0 on and below the diagonal, -1e9 above). */
export function causalMask(T: number, dtype: DType = 'float32'): Float32Array | Float64Array {
  const m = dtype === 'float64' ? new Float64Array(T * T) : new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
  return m;
}

export interface TrainGraphSpec {
  cfg: LlamaConfig;
  batch: number;
  seqLen: number;
  /** undefined: full fine-tuning (gradients of every weight) */
  lora?: LoraSpec;
  /** false: loss only (validation) */
  withGrads: boolean;
  dtype?: DType;
  /**
   * Take the token embeddings as input `embed_rows` [B*T, D] instead of `tokens`; with withGrads and full fine-tuning,
   * output `grad:embed_rows` for the caller to add into the embedding's gradient row by row. onnxruntime's
   * ScatterND(add) races between threads, so in-graph embedding gradients differ from run to run; this path is exact.
   */
  embedRows?: boolean;
  /**
   * Compute the LM head only at K rows: inputs `target_index` [K] int64 (row b*T+t of the position predicting each
   * target), `targets` [K], `loss_weights` [K]. For answers that are a few tokens of a long sequence.
   */
  targetRows?: number;
  /**
   * Recompute cheap activations (norm outputs, SiLU and the SwiGLU product, attention probabilities) in the backward
   * pass instead of keeping them from the forward pass (same values bit for bit, less memory, about 30% more compute
   * per LoRA step). Default: only when the kept activations would pass REMAT_ABOVE_BYTES (rematByDefault).
   */
  remat?: boolean;
  /** rows per LM-head chunk when the head's weights are not trained (default: headChunkRows) */
  headChunk?: number;
}

/**
 * Loss graph: inputs weights (HF names), LoRA weights, `tokens` [B,T] int64, `targets` [B*T] int64,
 * `loss_weights` [B*T] (per-token weight, e.g. mask / number of target tokens), `rope_cos`, `rope_sin`
 * [1,T,1,hd], `attn_mask` [1,1,1,T,T]. Outputs `loss` = -sum(w * log p(target)) and `grad:<name>` per trainable.
 */
export function buildLossGraph(spec: TrainGraphSpec): { graph: Graph; trainable: string[] } {
  const { cfg, batch: B, seqLen: T } = spec;
  const g = new Graph(spec.dtype ?? 'float32');
  const P = addParamInputs(g, cfg);
  const lora = spec.lora ? addLoraInputs(g, cfg, spec.lora, spec.withGrads ? B * T : undefined) : undefined;
  const hd = headDim(cfg);
  const rows = spec.embedRows ? g.input('embed_rows', [B * T, cfg.hidden_size]) : undefined;
  const tokens = rows ? undefined : g.input('tokens', [B, T], 'int64');
  const K = spec.targetRows ?? B * T;
  const targets = g.input('targets', [K], 'int64');
  const w = g.input('loss_weights', [K]);
  const cos = g.input('rope_cos', [1, T, 1, hd]);
  const sin = g.input('rope_sin', [1, T, 1, hd]);
  const mask = g.input('attn_mask', [1, 1, 1, T, T]);
  const { hidden } = llamaForward(g, cfg, P, { tokens, embedded: rows && { rows, batch: B, seq: T }, cos, sin, mask }, lora);
  const h = spec.targetRows !== undefined ? g.gather(hidden, g.input('target_index', [K], 'int64')) : hidden;
  // The LM head's logits (K x vocab) in row chunks when its weights are not trained: each chunk's logits and their
  // gradient live one chunk at a time (the same values as one product; the head weights' gradient would sum chunks)
  const chunk = !spec.withGrads || lora ? (spec.headChunk ?? headChunkRows(K, cfg.vocab_size)) : K;
  const parts: Value[] = [];
  for (let r = 0; r < K; r += chunk) {
    const e = Math.min(K, r + chunk);
    parts.push(g.tokenLogprobs(lmHead(g, cfg, P, g.slice(h, 0, r, e)), g.slice(targets, 0, r, e)));
  }
  const picked = g.concat(parts, 0);
  const loss = g.neg(g.reduceSum(g.mul(picked, w), [0], false));
  g.output('loss', loss);
  const forwardNodes = g.nodes.length;
  const trainable: string[] = [];
  if (spec.withGrads) {
    const vals: Value[] = [];
    if (lora)
      for (const [m, { A, B: Bv }] of lora.modules) {
        trainable.push(`${m}.lora_A.weight`, `${m}.lora_B.weight`);
        vals.push(A, Bv);
      }
    else
      for (const [name, v] of P) {
        trainable.push(name);
        vals.push(v);
      }
    const grads = g.grad(loss, rows && !lora ? [...vals, rows] : vals);
    grads.forEach((gr, i) => g.output(i < trainable.length ? `grad:${trainable[i]}` : 'grad:embed_rows', gr));
    if (spec.remat ?? rematByDefault(cfg, B, T)) rematerialize(g, forwardNodes);
  }
  return { graph: g, trainable };
}

/** Above this many bytes of kept float32 activations a training graph recomputes the cheap ones (see remat). */
export const REMAT_ABOVE_BYTES = 512 << 20;

/**
 * Recompute by default only where memory is the limit: the activations the backward pass would keep (per layer
 * and row about 4 hidden + 3 FFN values and a row of attention probabilities per head) pass REMAT_ABOVE_BYTES.
 * Measured: on the built-in 4M model (demo batch 8 x 224) recomputing saves ~110 MB for ~30% more CPU per LoRA
 * step; at SmolLM2-135M's shape (batch 4 x 256) it keeps the step under 2 GB.
 */
export function rematByDefault(cfg: LlamaConfig, batch: number, seqLen: number): boolean {
  const perRow = 4 * cfg.hidden_size + 3 * cfg.intermediate_size + cfg.num_attention_heads * seqLen;
  return cfg.num_hidden_layers * batch * seqLen * perRow * 4 > REMAT_ABOVE_BYTES;
}

/** Rows per LM-head chunk: about 32 MB of float32 logits per chunk (all rows when they fit). */
export function headChunkRows(rows: number, vocab: number): number {
  const per = Math.max(16, Math.floor((8 << 20) / vocab));
  return rows <= per ? rows : per;
}

export interface DecodeGraphSpec {
  cfg: LlamaConfig;
  batch: number;
  /** new tokens per row */
  seqLen: number;
  /** KV cache capacity fed in (0: no cache inputs) */
  past: number;
  /** 'last': logits at `last_index` per row [B,V]; 'all': logits for every position [B*S,V];
   * 'score': `token_logprobs` [B*S] = log p(targets[i]) at every position (input `targets` [B*S]) */
  logits: 'last' | 'all' | 'score';
  dtype?: DType;
  /** parameters as fusedParamShapes (qkv_proj, gate_up_proj) */
  fused?: boolean;
}

/**
 * Inference graph: inputs weights, `tokens` [B,S], `rope_cos`/`rope_sin` [B,S,1,hd], `attn_mask` [B,1,1,S,C+S],
 * `past_k.{l}`/`past_v.{l}` [B,kvh,C,hd] when C>0, `last_index` [B] (row-flat index b*S+s) for 'last'.
 * Outputs `logits` and `new_k.{l}`/`new_v.{l}` [B,kvh,S,hd].
 */
export function buildDecodeGraph(spec: DecodeGraphSpec): Graph {
  const { cfg, batch: B, seqLen: S, past: C } = spec;
  const g = new Graph(spec.dtype ?? 'float32');
  const P: ParamValues = new Map();
  for (const [name, shape] of spec.fused ? fusedParamShapes(cfg) : paramShapes(cfg)) P.set(name, g.input(name, shape));
  const hd = headDim(cfg),
    KV = cfg.num_key_value_heads;
  const tokens = g.input('tokens', [B, S], 'int64');
  const cos = g.input('rope_cos', [B, S, 1, hd]);
  const sin = g.input('rope_sin', [B, S, 1, hd]);
  const mask = g.input('attn_mask', [B, 1, 1, S, C + S]);
  let pastK: Value[] | undefined, pastV: Value[] | undefined;
  if (C > 0) {
    pastK = [];
    pastV = [];
    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      pastK.push(g.input(`past_k.${l}`, [B, KV, C, hd]));
      pastV.push(g.input(`past_v.${l}`, [B, KV, C, hd]));
    }
  }
  const { hidden, newK, newV } = llamaForward(g, cfg, P, { tokens, cos, sin, mask, pastK, pastV });
  let h = hidden;
  if (spec.logits === 'last') h = g.gather(hidden, g.input('last_index', [B], 'int64'));
  const logits = lmHead(g, cfg, P, h);
  if (spec.logits === 'score') {
    const targets = g.input('targets', [B * S], 'int64');
    g.output('token_logprobs', g.tokenLogprobs(logits, targets));
  } else g.output('logits', logits);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    g.output(`new_k.${l}`, newK[l]);
    g.output(`new_v.${l}`, newV[l]);
  }
  return g;
}

export function configKey(cfg: LlamaConfig): string {
  const rs = cfg.rope_scaling ? JSON.stringify(cfg.rope_scaling) : '';
  return [
    modelType(cfg),
    cfg.vocab_size,
    cfg.hidden_size,
    cfg.intermediate_size,
    cfg.num_hidden_layers,
    cfg.num_attention_heads,
    cfg.num_key_value_heads,
    headDim(cfg),
    cfg.rms_norm_eps,
    cfg.tie_word_embeddings ? 1 : 0,
    rs,
  ].join(',');
}

/**
 * Self-contained inference graph for export: weights embedded as initializers, input `input_ids` [B,S] int64,
 * output `logits` [B,S,V] (positions 0..S-1, causal mask; static shapes).
 */
export function buildExportGraph(cfg: LlamaConfig, weights: Weights, batch: number, seqLen: number): Graph {
  const g = new Graph('float32');
  const P: ParamValues = new Map();
  for (const [name, shape] of paramShapes(cfg)) P.set(name, g.constant(weights.get(name)!.data, shape));
  const tokens = g.input('input_ids', [batch, seqLen], 'int64');
  const hd = headDim(cfg);
  const { cos, sin } = ropeTables(cfg, [[...Array(seqLen).keys()]]);
  const { hidden } = llamaForward(g, cfg, P, {
    tokens,
    cos: g.constant(cos, [1, seqLen, 1, hd]),
    sin: g.constant(sin, [1, seqLen, 1, hd]),
    mask: g.constant(causalMask(seqLen), [1, 1, 1, seqLen, seqLen]),
  });
  g.output('logits', g.reshape(lmHead(g, cfg, P, hidden), [batch, seqLen, cfg.vocab_size]));
  return g;
}
