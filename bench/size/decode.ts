/**
 * Child process of bench/size/run.ts: greedy decoding, batch 1, on SmolLM2-135M's shape (random weights), tunelab
 * against node-llama-cpp on the GGUF tunelab exports (F32 and F16), each engine at each thread count, interleaved,
 * best of `reps`. Prints one JSON line. Needs checks/llamacpp installed (cd checks/llamacpp && npm ci).
 * Args: JSON {tokens, threads: number[], reps, prompt}
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { configureRuntime, createModel, exportGguf, Generator, roundTo, trainBpe, type LlamaModel } from '../../src/engine/index.ts';
import { SMOL_135M, tokenRows } from './shape.ts';

const a = JSON.parse(process.argv[2] ?? '{}') as { tokens?: number; threads?: number[]; reps?: number; prompt?: number };
const N = a.tokens ?? 128,
  threads = a.threads ?? [1, 2],
  reps = a.reps ?? 2;
const lib = resolve('checks/llamacpp/node_modules/node-llama-cpp/dist/index.js');
if (!existsSync(lib)) {
  console.log(JSON.stringify({ error: 'checks/llamacpp is not installed (cd checks/llamacpp && npm ci)' }));
  process.exit(0);
}
// node-llama-cpp lives in checks/llamacpp (not a tunelab dependency): the few calls used here, typed locally
interface LlamaSequence {
  evaluate(tokens: number[], o: { temperature: number; yieldEogToken: boolean }): AsyncIterable<number>;
  dispose(): void;
}
interface LlamaContext {
  getSequence(): LlamaSequence;
  dispose(): Promise<void>;
}
interface LlamaModelHandle {
  createContext(o: { contextSize: number; batchSize: number; sequences: number; threads: number }): Promise<LlamaContext>;
  dispose(): Promise<void>;
}
interface Llama {
  loadModel(o: { modelPath: string }): Promise<LlamaModelHandle>;
  dispose(): Promise<void>;
}
const { getLlama } = (await import(pathToFileURL(lib).href)) as {
  getLlama(o: { gpu: false; build: 'never'; logLevel: 'error' }): Promise<Llama>;
};

const model = createModel(SMOL_135M, { seed: 3 });
// a small byte-level tokenizer for the GGUF's vocabulary (ids past it are exported as unused [PAD] tokens)
const tok = trainBpe('the quick brown fox jumps over the lazy dog. '.repeat(50), { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
const dir = mkdtempSync(join(tmpdir(), 'tunelab-size-'));
const files = { F32: join(dir, 'm-f32.gguf'), F16: join(dir, 'm-f16.gguf') };
for (const dtype of ['F32', 'F16'] as const)
  exportGguf(files[dtype], { config: model.config, weights: model.weights, tokenizer: tok }, { dtype, name: 'smol-shape' });
// tunelab at F16 precision: the same weights rounded to F16 (values the F16 GGUF holds), computed in F32
const f16Model: LlamaModel = {
  config: model.config,
  weights: new Map([...model.weights].map(([n, t]) => [n, { shape: t.shape, data: roundTo('F16', t.data) }])),
};
const prompt = tokenRows(1, a.prompt ?? 16, 300, 11)[0];

const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
const rows: Record<string, unknown>[] = [];
for (const dtype of ['F32', 'F16'] as const) {
  const lmodel = await llama.loadModel({ modelPath: files[dtype] });
  for (const th of threads) {
    configureRuntime({ threads: th });
    const gen = new Generator(dtype === 'F32' ? model : f16Model);
    await gen.generate([prompt], { maxTokens: 4, eosTokenId: [] }); // compile
    const context = await lmodel.createContext({ contextSize: 512, batchSize: 512, sequences: 1, threads: th });
    const greedy = async (n: number) => {
      const seq = context.getSequence();
      const got: number[] = [];
      for await (const t of seq.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
        got.push(t);
        if (got.length >= n) break;
      }
      seq.dispose();
      return got;
    };
    await greedy(4);
    let ours = 0,
      theirs = 0,
      same = 0;
    for (let r = 0; r < reps; r++) {
      let t = performance.now();
      const [g] = await gen.generate([prompt], { maxTokens: N, eosTokenId: [] });
      ours = Math.max(ours, g.tokens.length / ((performance.now() - t) / 1000));
      t = performance.now();
      const got = await greedy(N);
      theirs = Math.max(theirs, got.length / ((performance.now() - t) / 1000));
      let k = 0;
      while (k < Math.min(got.length, g.tokens.length) && got[k] === g.tokens[k]) k++;
      same = k;
    }
    await context.dispose();
    rows.push({ dtype, threads: th, tunelab: +ours.toFixed(1), llamacpp: +theirs.toFixed(1), sameGreedyPrefix: same });
  }
  await lmodel.dispose();
}
await llama.dispose();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ tokens: N, prompt: prompt.length, reps, rows }));
