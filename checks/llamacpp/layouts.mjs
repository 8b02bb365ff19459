// Independent-engine check of the bring-your-own layouts: each fixture checkpoint (test/fixtures/layouts: llama
// SmolLM2-like, llama3 with llama3 rope scaling, qwen2 with q/k/v biases, qwen3 with q/k norms and head_dim != d/h)
// is loaded by tunelab, exported with exportGguf (F32), and loaded by llama.cpp (node-llama-cpp). Compared per
// prompt: tokenization, top-5 next-token log-probabilities at every position, and a greedy continuation.
//
//   cd checks/llamacpp && npm install      # once
//   cd ../.. && node --import tsx checks/llamacpp/layouts.mjs [--json out.json]
//
// Exits 1 when a comparison fails.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getLlama } from 'node-llama-cpp';
import { Generator, configureRuntime, exportGguf, loadHfModel, logSoftmaxRow } from '../../src/engine/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(here, '..', '..', 'test', 'fixtures', 'layouts');
const LAYOUTS = ['llama', 'llama3', 'qwen2', 'qwen3'];
const TOL = 1e-4; // max |log p| difference over llama.cpp's top-5 tokens, F32 weights, F32 KV cache
const TOPK = 5;
const GREEDY = 12;
const PROMPTS = [
  'the cat sat on the mat. the dog',
  "they said: we'll see the sea in 2024!",
  'a quick brown fox\n\njumps over 31 lazy dogs',
];
/** a chat turn in the layout's own template (special tokens parsed by both) */
const chatPrompt = (name) =>
  name === 'llama3'
    ? '<|start_header_id|>user<|end_header_id|>\n\nthe cat?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n'
    : '<|im_start|>user\nthe cat?<|im_end|>\n<|im_start|>assistant\n';
const jsonOut = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;

configureRuntime({ threads: 1 });
const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-layouts-llamacpp-'));
const results = [];
let failed = false;

for (const name of LAYOUTS) {
  const m = loadHfModel(path.join(FIXTURES, name));
  const file = path.join(tmp, `${name}.gguf`);
  exportGguf(file, { config: m.config, weights: m.weights, tokenizer: m.tokenizer, tokenizerConfig: m.tokenizerConfig });
  const gen = new Generator({ config: m.config, weights: m.weights });
  const lmodel = await llama.loadModel({ modelPath: file });
  const context = await lmodel.createContext({
    contextSize: 128,
    batchSize: 128,
    sequences: 1,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  const V = m.config.vocab_size;
  let maxDiff = 0,
    top1 = 0,
    positions = 0,
    greedySame = 0,
    tokSame = 0;
  const prompts = [...PROMPTS, chatPrompt(name)];
  for (const p of prompts) {
    const ids = m.tokenizer.encode(p); // with the BOS the tokenizer's post-processor adds (llama3)
    const theirs = lmodel.tokenize(p, true); // node-llama-cpp adds BOS at evaluation, not here
    if (JSON.stringify(theirs) === JSON.stringify(m.tokenizer.encode(p, { addSpecialTokens: false }))) tokSame++;
    else
      console.log(
        `  ${name}: tokenization differs for ${JSON.stringify(p)}:\n    tunelab   ${m.tokenizer.encode(p, { addSpecialTokens: false })}\n    llama.cpp ${theirs}`,
      );
    const seq = context.getSequence();
    const out = await seq.controlledEvaluate(ids.map((t) => [t, { generateNext: { probabilities: true } }]));
    seq.dispose();
    const [logits] = await gen.logits([ids]);
    for (let t = 0; t < ids.length; t++) {
      const lp = logSoftmaxRow(logits, t * V, V);
      const probs = [...out[t].next.probabilities.entries()].slice(0, TOPK);
      let best = 0;
      for (let i = 1; i < V; i++) if (lp[i] > lp[best]) best = i;
      if (probs[0][0] === best) top1++;
      for (const [id, pr] of probs) maxDiff = Math.max(maxDiff, Math.abs(Math.log(pr) - lp[id]));
      positions++;
    }
    const [g] = await gen.generate([ids], { maxTokens: GREEDY, temperature: 0, eosTokenId: [] });
    const s2 = context.getSequence();
    const got = [];
    for await (const t of s2.evaluate(ids, { temperature: 0, yieldEogToken: true })) {
      got.push(t);
      if (got.length >= GREEDY) break;
    }
    s2.dispose();
    if (JSON.stringify(got) === JSON.stringify(g.tokens)) greedySame++;
    else console.log(`  ${name}: greedy differs: tunelab ${g.tokens} llama.cpp ${got}`);
  }
  await context.dispose();
  await lmodel.dispose();
  const ok = maxDiff <= TOL && top1 === positions && greedySame === prompts.length && tokSame === prompts.length;
  failed ||= !ok;
  const r = {
    layout: name,
    arch: name.startsWith('qwen') ? name : 'llama',
    ok,
    maxAbsLogprobDiffTop5: +maxDiff.toExponential(2),
    top1Agree: `${top1}/${positions}`,
    greedySame: `${greedySame}/${prompts.length}`,
    tokenizationSame: `${tokSame}/${prompts.length}`,
  };
  results.push(r);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${JSON.stringify(r)}`);
}
fs.rmSync(tmp, { recursive: true, force: true });
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(results, null, 2) + '\n');
process.exit(failed ? 1 : 0);
