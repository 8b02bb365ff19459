/**
 * Engine benchmark: training step (forward+backward+AdamW) time and GFLOPS on two shapes, against PyTorch on the
 * same shapes when /usr/bin/python3 has torch; generation tokens/s (node-llama-cpp peer through a hook).
 * Run: node --import tsx bench/engine/run.ts [--shapes a,b] [--steps N per round] [--rounds N] [--threads N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildLossGraph,
  configureRuntime,
  createModel,
  Generator,
  matmulFlops,
  Trainer,
  countParams,
  paramShapes,
  type LlamaModel,
} from '../../src/engine/index.ts';

const args = process.argv.slice(2);
const arg = (k: string, d: string) => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? args[i + 1] : d;
};
const shapes = arg('shapes', 'a,b').split(',');
const steps = Number(arg('steps', '5'));
const rounds = Number(arg('rounds', '3'));
const threads = Number(arg('threads', String(availableParallelism())));
configureRuntime({ threads });
const here = dirname(fileURLToPath(import.meta.url));

interface Shape {
  name: string;
  cfg: any;
  batch: number;
  ctx: number;
  genTokens: number;
}
const SHAPES: Record<string, Shape> = {
  a: {
    name: '(a) vocab 256, d 128, 4 layers, 4 heads, ctx 128, batch 8',
    batch: 8,
    ctx: 128,
    genTokens: 128,
    cfg: {
      vocab_size: 256,
      hidden_size: 128,
      intermediate_size: 344,
      num_hidden_layers: 4,
      num_attention_heads: 4,
      num_key_value_heads: 4,
      max_position_embeddings: 1024,
      tie_word_embeddings: true,
    },
  },
  b: {
    name: '(b) vocab 4096, d 512, 8 layers, 8 heads, ctx 256, batch 8',
    batch: 8,
    ctx: 256,
    genTokens: 128,
    cfg: {
      vocab_size: 4096,
      hidden_size: 512,
      intermediate_size: 1376,
      num_hidden_layers: 8,
      num_attention_heads: 8,
      num_key_value_heads: 8,
      max_position_embeddings: 1024,
      tie_word_embeddings: true,
    },
  },
};

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

function torchAvailable(): boolean {
  if (!existsSync('/usr/bin/python3')) return false;
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

function runTorch(s: Shape): { stepMs: number; stepMinMs: number; fwdBwdMs: number; optMs: number } | null {
  const r = spawnSync(
    '/usr/bin/python3',
    [join(here, 'torch_step.py'), JSON.stringify({ ...s.cfg, batch: s.batch, ctx: s.ctx, steps, threads })],
    {
      encoding: 'utf8',
      env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
      maxBuffer: 1 << 24,
    },
  );
  if (r.status !== 0) {
    console.log('  torch failed:', r.stderr.slice(-500));
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function generationPeer(model: LlamaModel, prompt: number[], n: number): Promise<{ name: string; tokensPerSec: number } | null> {
  // Hook: bench/engine/peer-llamacpp.ts may export generationPeer(model, prompt, n) (writes a GGUF, runs node-llama-cpp).
  const peer = join(here, 'peer-llamacpp.ts');
  if (!existsSync(peer)) return null;
  const mod = await import(peer);
  return mod.generationPeer(model, prompt, n);
}

async function torchParity(): Promise<void> {
  // independent check of the model math: same weights and tokens through a PyTorch HF-Llama forward
  const cfg = {
    vocab_size: 97,
    hidden_size: 48,
    head_dim: 16,
    intermediate_size: 80,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 64,
    rope_theta: 500000,
    rms_norm_eps: 1e-5,
    tie_word_embeddings: false,
  };
  const model = createModel(cfg, { seed: 11 });
  for (const t of model.weights.values()) for (let i = 0; i < t.data.length; i++) t.data[i] *= 10; // larger weights: a sharper test
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-parity-'));
  const params = paramShapes(model.config);
  const parts = params.map(([n]) => Buffer.from(model.weights.get(n)!.data.buffer));
  writeFileSync(join(dir, 'w.bin'), Buffer.concat(parts));
  const tokens = [
    [1, 5, 9, 33, 2, 96, 40, 41, 7, 7, 8, 3],
    [4, 4, 4, 90, 12, 13, 60, 61, 62, 0, 1, 2],
  ];
  const r = spawnSync(
    '/usr/bin/python3',
    [
      join(here, 'torch_parity.py'),
      JSON.stringify({ ...model.config, params, weights: join(dir, 'w.bin'), tokens, out: join(dir, 'logits.bin') }),
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) {
    console.log('torch parity failed:', r.stderr.slice(-800));
    return;
  }
  const ref = new Float32Array(readFileSync(join(dir, 'logits.bin')).buffer.slice(0));
  const ours = await new Generator(model, { padMultiple: 1 }).logits(tokens);
  let maxd = 0,
    maxv = 0;
  ours.forEach((lg, b) =>
    lg.forEach((x, i) => {
      maxd = Math.max(maxd, Math.abs(x - ref[b * lg.length + i]));
      maxv = Math.max(maxv, Math.abs(ref[b * lg.length + i]));
    }),
  );
  console.log(
    `torch parity (GQA 4/2, head_dim 16 != d/h, untied, rope_theta 5e5): max |logit diff| ${maxd.toExponential(2)} (max |logit| ${maxv.toFixed(1)})`,
  );
}

const results: any[] = [];
console.log(
  `engine bench: ${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores, ${threads} intra-op threads, ${steps} timed steps`,
);
const haveTorch = torchAvailable();
if (!haveTorch)
  console.log('PyTorch: not installed for /usr/bin/python3 (apt-get install -y python3-torch libopenblas0-pthread) - engine only');
else await torchParity();
for (const key of shapes) {
  const s = SHAPES[key];
  if (!s) throw new Error(`unknown shape ${key}`);
  const model = createModel(s.cfg, { seed: 1 });
  const { graph } = buildLossGraph({ cfg: model.config, batch: s.batch, seqLen: s.ctx, withGrads: true });
  const flops = matmulFlops(graph);
  const tr = new Trainer(model, { lr: 1e-4, padMultiple: s.ctx, maxSeqLen: s.ctx });
  const ex = Array.from({ length: s.batch }, (_, b) => ({
    ids: Array.from({ length: s.ctx }, (_, t) => (b * 131 + t * 17) % s.cfg.vocab_size),
  }));
  const tc = performance.now();
  await tr.step(ex); // compile + warm up
  const compileMs = performance.now() - tc;
  await tr.step(ex);
  // rounds alternate tunelab steps and a torch run, so both see the same background load
  const tot: number[] = [],
    gr: number[] = [],
    op: number[] = [];
  const torchRuns: { stepMs: number; stepMinMs: number; fwdBwdMs: number; optMs: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < steps; i++) {
      const r = await tr.step(ex);
      tot.push(r.ms.total);
      gr.push(r.ms.graph);
      op.push(r.ms.optimizer);
    }
    if (haveTorch) {
      const t = runTorch(s);
      if (t) torchRuns.push(t);
    }
  }
  const stepMs = median(tot);
  const row: any = {
    shape: s.name,
    params: countParams(model.config),
    gflopPerStep: flops / 1e9,
    compileMs,
    stepMs,
    stepMinMs: Math.min(...tot),
    graphMs: median(gr),
    optimizerMs: median(op),
    gflops: flops / 1e9 / (stepMs / 1000),
  };
  console.log(`\n${s.name}: ${(row.params / 1e6).toFixed(2)}M params, ${row.gflopPerStep.toFixed(1)} GFLOP/step (matmuls)`);
  console.log(
    `  tunelab step median ${stepMs.toFixed(1)} ms, min ${row.stepMinMs.toFixed(1)} (graph ${row.graphMs.toFixed(1)}, AdamW ${row.optimizerMs.toFixed(1)}), ${row.gflops.toFixed(1)} GFLOPS (min: ${(flops / 1e9 / (row.stepMinMs / 1000)).toFixed(1)}), first step incl. compile ${compileMs.toFixed(0)} ms`,
  );
  if (torchRuns.length) {
    const t = {
      stepMs: median(torchRuns.map((x) => x.stepMs)),
      stepMinMs: Math.min(...torchRuns.map((x) => x.stepMinMs)),
      fwdBwdMs: median(torchRuns.map((x) => x.fwdBwdMs)),
      optMs: median(torchRuns.map((x) => x.optMs)),
    };
    row.torch = t;
    console.log(
      `  torch   step median ${t.stepMs.toFixed(1)} ms, min ${t.stepMinMs.toFixed(1)} (fwd+bwd ${t.fwdBwdMs.toFixed(1)}, AdamW ${t.optMs.toFixed(1)}), ${(flops / 1e9 / (t.stepMs / 1000)).toFixed(1)} GFLOPS`,
    );
    console.log(
      `  ratio torch/tunelab step time: median ${(t.stepMs / stepMs).toFixed(2)}, min ${(t.stepMinMs / row.stepMinMs).toFixed(2)} (>1: tunelab faster)`,
    );
  }
  // generation: batch 1, 16-token prompt, greedy
  const gen = new Generator(model);
  const prompt = Array.from({ length: 16 }, (_, i) => (i * 7) % s.cfg.vocab_size);
  await gen.generate([prompt], { maxTokens: s.genTokens, eosTokenId: [] }); // compile all cache sizes
  const tg = performance.now();
  const out = await gen.generate([prompt], { maxTokens: s.genTokens, eosTokenId: [] });
  const genMs = performance.now() - tg;
  row.genTokensPerSec = out[0].tokens.length / (genMs / 1000);
  console.log(`  generation ${row.genTokensPerSec.toFixed(0)} tokens/s (batch 1, ${s.genTokens} tokens after a 16-token prompt)`);
  const peer = await generationPeer(model, prompt, s.genTokens).catch((e) => {
    console.log('  peer failed:', String(e));
    return null;
  });
  if (peer) {
    row.genPeer = peer;
    console.log(
      `  ${peer.name} ${peer.tokensPerSec.toFixed(0)} tokens/s; ratio tunelab/peer ${(row.genTokensPerSec / peer.tokensPerSec).toFixed(2)}`,
    );
  } else console.log('  node-llama-cpp peer: not run (hook bench/engine/peer-llamacpp.ts exporting generationPeer(model, prompt, n))');
  results.push(row);
}
const outDir = mkdtempSync(join(tmpdir(), 'tunelab-bench-'));
writeFileSync(join(outDir, 'engine.json'), JSON.stringify(results, null, 2));
console.log(`\nresults: ${join(outDir, 'engine.json')}`);
