// GGUF export of the bring-your-own layouts, read back with @huggingface/gguf: architecture, hyperparameters,
// tokenizer metadata, tensor names/shapes/types. A small float64 forward written here from llama.cpp's conventions
// (ggml tensor layout, NORM RoPE with rope_freqs factors for llama, NEOX RoPE for qwen2/qwen3, attn_q/k/v biases,
// attn_q/k_norm, GQA head mapping) runs on the GGUF tensors and must give the torch reference logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gguf } from '@huggingface/gguf';
import { exportGguf, exportLoraGguf, initLora, ropeInvFreq, decodeF16 } from '../../src/engine/index.ts';
import { Rng } from '../../src/core/index.ts';
import { LAYOUTS, load, reference } from './layout-util.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-layout-gguf-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

interface Tensor {
  ne: number[];
  data: Float64Array;
}

async function readGguf(file: string): Promise<{ md: Record<string, unknown>; t: Map<string, Tensor>; types: Map<string, number> }> {
  const { metadata, tensorInfos, tensorDataOffset } = await gguf(file, { allowLocalFile: true });
  const bytes = fs.readFileSync(file);
  const t = new Map<string, Tensor>(),
    types = new Map<string, number>();
  for (const info of tensorInfos) {
    const ne = info.shape.map(Number);
    const n = ne.reduce((a, b) => a * b, 1);
    const start = Number(tensorDataOffset + info.offset);
    assert.equal(start % 32, 0, `${info.name} aligned`);
    const buf = bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + n * (info.dtype === 0 ? 4 : 2));
    const data = info.dtype === 0 ? Float64Array.from(new Float32Array(buf)) : Float64Array.from(decodeF16(new Uint16Array(buf)));
    t.set(info.name, { ne, data });
    types.set(info.name, info.dtype);
  }
  return { md: metadata as Record<string, unknown>, t, types };
}

/** logits [S, V] of one sequence, computed the way llama.cpp evaluates a GGUF (float64) */
function ggufForward(md: Record<string, unknown>, T: Map<string, Tensor>, ids: number[]): Float64Array {
  const arch = md['general.architecture'] as string;
  const num = (k: string) => md[`${arch}.${k}`] as number;
  const D = num('embedding_length'),
    L = num('block_count'),
    H = num('attention.head_count'),
    KV = num('attention.head_count_kv'),
    eps = num('attention.layer_norm_rms_epsilon'),
    base = num('rope.freq_base'),
    nRot = num('rope.dimension_count');
  const hd = (md[`${arch}.attention.key_length`] as number | undefined) ?? D / H;
  const neox = arch === 'qwen2' || arch === 'qwen3'; // llama.cpp's rope type per architecture
  const ff = T.get('rope_freqs.weight')?.data;
  const get = (n: string) => T.get(n);
  const matvec = (w: Tensor, x: Float64Array, bias?: Tensor) => {
    const [inp, out] = w.ne;
    assert.equal(inp, x.length);
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = bias ? bias.data[o] : 0;
      for (let i = 0; i < inp; i++) s += w.data[o * inp + i] * x[i];
      y[o] = s;
    }
    return y;
  };
  const rms = (x: Float64Array, w: Float64Array, off = 0, n = x.length) => {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[off + i] * x[off + i];
    const r = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) x[off + i] = x[off + i] * r * w[i];
  };
  const rope = (x: Float64Array, heads: number, pos: number) => {
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < nRot / 2; i++) {
        const theta = (pos * Math.pow(base, (-2 * i) / nRot)) / (ff ? ff[i] : 1);
        const [a, b] = neox ? [h * hd + i, h * hd + i + nRot / 2] : [h * hd + 2 * i, h * hd + 2 * i + 1];
        const x0 = x[a],
          x1 = x[b];
        x[a] = x0 * Math.cos(theta) - x1 * Math.sin(theta);
        x[b] = x0 * Math.sin(theta) + x1 * Math.cos(theta);
      }
  };
  const emb = get('token_embd.weight')!;
  const V = emb.ne[1];
  const xs = ids.map((id) => emb.data.slice(id * D, (id + 1) * D));
  const Ks: Float64Array[][] = [],
    Vs: Float64Array[][] = [];
  for (let l = 0; l < L; l++) {
    Ks.push([]);
    Vs.push([]);
  }
  const logits = new Float64Array(ids.length * V);
  ids.forEach((_, pos) => {
    let x = xs[pos];
    for (let l = 0; l < L; l++) {
      const p = `blk.${l}.`;
      const h = x.slice();
      rms(h, get(`${p}attn_norm.weight`)!.data);
      const q = matvec(get(`${p}attn_q.weight`)!, h, get(`${p}attn_q.bias`));
      const k = matvec(get(`${p}attn_k.weight`)!, h, get(`${p}attn_k.bias`));
      const v = matvec(get(`${p}attn_v.weight`)!, h, get(`${p}attn_v.bias`));
      const qn = get(`${p}attn_q_norm.weight`),
        kn = get(`${p}attn_k_norm.weight`);
      if (qn) for (let i = 0; i < H; i++) rms(q, qn.data, i * hd, hd);
      if (kn) for (let i = 0; i < KV; i++) rms(k, kn.data, i * hd, hd);
      rope(q, H, pos);
      rope(k, KV, pos);
      Ks[l].push(k);
      Vs[l].push(v);
      const o = new Float64Array(H * hd);
      for (let hh = 0; hh < H; hh++) {
        const kvh = Math.floor(hh / (H / KV));
        const sc = Ks[l].map((kk) => {
          let s = 0;
          for (let i = 0; i < hd; i++) s += q[hh * hd + i] * kk[kvh * hd + i];
          return s / Math.sqrt(hd);
        });
        const mx = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, b) => a + b, 0);
        Vs[l].forEach((vv, j) => {
          for (let i = 0; i < hd; i++) o[hh * hd + i] += (e[j] / z) * vv[kvh * hd + i];
        });
      }
      const ao = matvec(get(`${p}attn_output.weight`)!, o);
      x = x.map((xi, i) => xi + ao[i]);
      const h2 = x.slice();
      rms(h2, get(`${p}ffn_norm.weight`)!.data);
      const g = matvec(get(`${p}ffn_gate.weight`)!, h2),
        u = matvec(get(`${p}ffn_up.weight`)!, h2);
      const act = g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * u[i]);
      const d = matvec(get(`${p}ffn_down.weight`)!, act);
      x = x.map((xi, i) => xi + d[i]);
    }
    rms(x, get('output_norm.weight')!.data);
    logits.set(matvec(get('output.weight') ?? emb, x), pos * V);
  });
  return logits;
}

const EXPECT: Record<string, { arch: string; pre: string; addBos: boolean }> = {
  llama: { arch: 'llama', pre: 'smollm', addBos: false },
  llama3: { arch: 'llama', pre: 'llama-bpe', addBos: true },
  qwen2: { arch: 'qwen2', pre: 'qwen2', addBos: false },
  qwen3: { arch: 'qwen3', pre: 'qwen2', addBos: false },
};

for (const name of LAYOUTS) {
  test(`${name}: GGUF export reads back (arch, metadata, tensors) and a llama.cpp-convention forward gives the torch logits`, async () => {
    const m = load(name);
    const file = path.join(tmp, `${name}.gguf`);
    exportGguf(file, { config: m.config, weights: m.weights, tokenizer: m.tokenizer!, tokenizerConfig: m.tokenizerConfig });
    const { md, t, types } = await readGguf(file);
    const e = EXPECT[name],
      a = e.arch;
    assert.equal(md['general.architecture'], a);
    assert.equal(md[`${a}.block_count`], 2);
    assert.equal(md[`${a}.embedding_length`], 32);
    assert.equal(md[`${a}.attention.head_count_kv`], m.config.num_key_value_heads);
    assert.equal(md[`${a}.rope.freq_base`], m.config.rope_theta);
    assert.equal(md[`${a}.rope.dimension_count`], m.config.head_dim);
    assert.equal(md['tokenizer.ggml.model'], 'gpt2');
    assert.equal(md['tokenizer.ggml.pre'], e.pre);
    assert.equal(md['tokenizer.ggml.add_bos_token'], e.addBos);
    assert.equal((md['tokenizer.ggml.tokens'] as string[]).length, 320);
    assert.equal(md['tokenizer.chat_template'], m.tokenizerConfig.chat_template);
    // tensor names and ggml shapes ([in, out] for matrices), 1-D tensors in F32
    const n = m.config.head_dim!;
    const expectTensors: Array<[string, number[]]> = [
      ['token_embd.weight', [32, 320]],
      ['blk.0.attn_q.weight', [32, 4 * n]],
      ['blk.1.attn_k.weight', [32, m.config.num_key_value_heads * n]],
      ['blk.1.attn_output.weight', [4 * n, 32]],
      ['blk.0.ffn_down.weight', [m.config.intermediate_size, 32]],
      ['output_norm.weight', [32]],
    ];
    if (name === 'qwen2') expectTensors.push(['blk.0.attn_q.bias', [64 / 2]], ['blk.1.attn_v.bias', [16]]);
    if (name === 'qwen3') expectTensors.push(['blk.0.attn_q_norm.weight', [16]], ['blk.1.attn_k_norm.weight', [16]]);
    if (name === 'llama3') expectTensors.push(['rope_freqs.weight', [n / 2]], ['output.weight', [32, 320]]);
    for (const [tn, ne] of expectTensors) assert.deepEqual(t.get(tn)?.ne, ne, tn);
    for (const [tn, tt] of t) if (tt.ne.length === 1) assert.equal(types.get(tn), 0, `${tn} is F32`);
    assert.equal(t.has('output.weight'), !m.config.tie_word_embeddings);
    assert.ok(![...t.keys()].some((k) => k.includes('attn_output.bias')));
    assert.equal(t.size, m.weights.size + (name === 'llama3' ? 1 : 0));
    if (name === 'qwen3') assert.equal(md['qwen3.attention.key_length'], 16);
    if (name === 'llama3') {
      // llama.cpp divides each frequency by its factor: factors = unscaled / scaled inverse frequencies
      const inv = ropeInvFreq(m.config),
        plain = ropeInvFreq({ ...m.config, rope_scaling: null });
      t.get('rope_freqs.weight')!.data.forEach((f, i) => assert.ok(Math.abs(f - plain[i] / inv[i]) < 1e-5 * f, `factor ${i}: ${f}`));
    }
    const ref = reference(name);
    const [, S, V] = ref.shape;
    let worst = 0;
    ref.ids.forEach((ids, b) => {
      const lg = ggufForward(md, t, ids);
      for (let i = 0; i < S * V; i++) worst = Math.max(worst, Math.abs(lg[i] - ref.logits[b * S * V + i]));
    });
    console.log(`# ${name}: GGUF (llama.cpp conventions) vs torch max |logit diff| ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-4, `${name}: ${worst}`);
  });
}

test('GGUF F16 export keeps norms, biases and rope factors F32; LoRA GGUF carries the architecture (qwen rows unpermuted)', async () => {
  for (const name of ['qwen2', 'llama3']) {
    const m = load(name);
    const file = path.join(tmp, `${name}-f16.gguf`);
    exportGguf(file, { config: m.config, weights: m.weights, tokenizer: m.tokenizer! }, { dtype: 'F16' });
    const { t, types } = await readGguf(file);
    assert.equal(types.get('blk.0.attn_q.weight'), 1);
    for (const [tn, tt] of t) assert.equal(types.get(tn), tt.ne.length === 1 ? 0 : 1, tn);
  }
  const m = load('qwen3');
  const ad = initLora(m.config, m.weights, { rank: 2, alpha: 4, targetModules: ['q_proj', 'k_proj', 'v_proj'] }, 1);
  const r = new Rng(5);
  for (const { B } of ad.weights.values()) B.data.forEach((_, i) => (B.data[i] = r.normal()));
  const file = path.join(tmp, 'qwen3-lora.gguf');
  exportLoraGguf(file, ad, m.config);
  const { md, t } = await readGguf(file);
  assert.equal(md['general.architecture'], 'qwen3');
  assert.equal(md['general.type'], 'adapter');
  const B = ad.weights.get('model.layers.0.self_attn.q_proj')!.B;
  assert.deepEqual(t.get('blk.0.attn_q.weight.lora_b')!.ne, [2, 64]);
  assert.deepEqual(Array.from(t.get('blk.0.attn_q.weight.lora_b')!.data), Array.from(B.data));
});

// llama.cpp itself, where checks/llamacpp has been installed (`cd checks/llamacpp && npm install`; 730 MB, so not a
// dependency of tunelab): every layout's GGUF must give llama.cpp's tokens, top-5 log-probabilities (1e-4) and greedy tokens.
const llamacppDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'checks', 'llamacpp');
const haveLlamaCpp = fs.existsSync(path.join(llamacppDir, 'node_modules', 'node-llama-cpp', 'package.json'));
test(
  'llama.cpp (node-llama-cpp) agrees with the engine on every layout GGUF',
  { skip: !haveLlamaCpp && 'checks/llamacpp/node_modules not installed' },
  () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(llamacppDir, 'layouts.mjs')], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    console.log(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => `# ${l}`)
        .join('\n'),
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal((r.stdout.match(/^ok /gm) ?? []).length, 4);
  },
);

test('GGUF rope scaling: linear as rope.scaling.{type,factor}; llama3 scaling outside model_type llama is refused', async () => {
  const m = load('qwen2');
  const file = path.join(tmp, 'linear.gguf');
  exportGguf(file, {
    config: { ...m.config, rope_scaling: { rope_type: 'linear', factor: 2 } },
    weights: m.weights,
    tokenizer: m.tokenizer!,
  });
  const { md, t } = await readGguf(file);
  assert.equal(md['qwen2.rope.scaling.type'], 'linear');
  assert.equal(md['qwen2.rope.scaling.factor'], 2);
  assert.ok(!t.has('rope_freqs.weight'));
  assert.throws(
    () =>
      exportGguf(path.join(tmp, 'bad.gguf'), {
        config: { ...m.config, rope_scaling: { rope_type: 'llama3', factor: 8 } },
        weights: m.weights,
        tokenizer: m.tokenizer!,
      }),
    /llama3 rope scaling is only exported for model_type llama/,
  );
});
