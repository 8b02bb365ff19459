// bench/learn/levers: short fine-tuning experiments on one task's train/dev records, outside a tunelab run.
// Reads the chat records a fine-tune arm wrote (train.jsonl, dev.jsonl), trains the built-in model with the engine's
// Trainer in its own loop, and after every epoch measures dev loss and dev accuracy by candidate scoring (the eval
// path: the labels as whole assistant answers). Levers: lr, epochs, method/rank, weight decay, word dropout on the
// user turn (fresh each epoch), frozen embeddings (full), maxSeqLen.
//
//   node --import tsx bench/learn/levers.ts --arm-dir <run>/arms/full [--method full] [--lr 3e-4] [--epochs 8]
//        [--rank 16] [--alpha 32] [--wd 0.01] [--word-drop 0] [--freeze-embed] [--seq 512] [--seed 42]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from '../../src/core/index.ts';
import {
  applyChatTemplate,
  chatTemplateOf,
  chatTemplateSpans,
  epochPlan,
  Generator,
  loadHfModel,
  Trainer,
  type TrainExample,
} from '../../src/engine/index.ts';
import { builtinModelDir } from '../../src/models/index.ts';

const { values: a } = parseArgs({
  options: {
    'arm-dir': { type: 'string' },
    method: { type: 'string', default: 'full' },
    lr: { type: 'string' },
    epochs: { type: 'string', default: '8' },
    rank: { type: 'string', default: '16' },
    alpha: { type: 'string' },
    wd: { type: 'string' },
    'word-drop': { type: 'string', default: '0' },
    'freeze-embed': { type: 'boolean', default: false },
    seq: { type: 'string', default: '512' },
    seed: { type: 'string', default: '42' },
    bs: { type: 'string', default: '8' },
  },
});
type Msg = { role: string; content: string };
const read = (f: string) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { messages: Msg[] }).messages);
const trainRecs = read(join(a['arm-dir']!, 'train.jsonl'));
const devRecs = read(join(a['arm-dir']!, 'dev.jsonl'));
const labels = [...new Set([...trainRecs, ...devRecs].map((m) => m.at(-1)!.content))].sort();
const method = a.method as 'full' | 'lora';
const lr = Number(a.lr ?? (method === 'full' ? 3e-4 : 1e-3));
const epochs = Number(a.epochs);
const rank = Number(a.rank);
const alpha = Number(a.alpha ?? 2 * rank);
const wd = Number(a.wd ?? (method === 'full' ? 0.01 : 0));
const wordDrop = Number(a['word-drop']);
const seq = Number(a.seq);
const seed = Number(a.seed);
const bs = Number(a.bs);

const base = loadHfModel(builtinModelDir());
const tok = base.tokenizer!;
const tc = base.tokenizerConfig;
const template = chatTemplateOf(tc);
const endTok = tok.tokenId('<|im_end|>')!;

function toExample(msgs: Msg[]): TrainExample {
  const { text, assistantSpans } = chatTemplateSpans(msgs, { chatTemplate: template, tokenizerConfig: tc });
  const [s, e] = assistantSpans.at(-1)!;
  let p = tok.encode(text.slice(0, s), { addSpecialTokens: false });
  const t = tok.encode(text.slice(s, e), { addSpecialTokens: false });
  // keep the prompt's first third and its end (train-job.ts fit) when too long
  if (p.length + t.length > seq) {
    const room = seq - t.length;
    const head = Math.floor(room / 3);
    p = [...p.slice(0, head), ...p.slice(p.length - (room - head))];
  }
  return { ids: [...p, ...t], mask: [...p.map(() => 0), ...t.map(() => 1)] };
}
function dropWords(msgs: Msg[], p: number, rng: Rng): Msg[] {
  if (p <= 0) return msgs;
  return msgs.map((m, i) => {
    if (m.role !== 'user' || i !== msgs.length - 2) return m;
    const words = m.content.split(/(\s+)/);
    const kept = words.filter((w) => /^\s+$/.test(w) || rng.next() >= p);
    return { ...m, content: kept.join('').replace(/\s{2,}/g, ' ') };
  });
}
const promptIds = (msgs: Msg[]) => {
  const ids = tok.encode(applyChatTemplate(msgs.slice(0, -1), { chatTemplate: template, tokenizerConfig: tc, addGenerationPrompt: true }), {
    addSpecialTokens: false,
  });
  return ids.length > seq - 8
    ? [...ids.slice(0, Math.floor((seq - 8) / 3)), ...ids.slice(ids.length - (seq - 8 - Math.floor((seq - 8) / 3)))]
    : ids;
};
const cands = labels.map((l) => [...tok.encode(l, { addSpecialTokens: false }), endTok]);
const devPrompts = devRecs.map(promptIds);
const devGold = devRecs.map((m) => labels.indexOf(m.at(-1)!.content));
const devEx = devRecs.map(toExample);

const model = { config: base.config, weights: base.weights };
const steps = Math.ceil(trainRecs.length / bs) * epochs;
const trainer = new Trainer(model, {
  lr,
  weightDecay: wd,
  warmupSteps: Math.min(10, Math.floor(steps / 10)),
  totalSteps: steps,
  schedule: 'cosine',
  minLrRatio: 0.1,
  seed,
  maxSeqLen: seq,
  padId: base.config.pad_token_id ?? 0,
  padRowsTo: bs,
  lora:
    method === 'lora'
      ? { rank, alpha, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }
      : undefined,
});
const frozen = new Map<string, Float32Array>();
if (a['freeze-embed'] && method === 'full')
  for (const [k, t] of base.weights) if (/embed_tokens|lm_head/.test(k)) frozen.set(k, t.data.slice());

async function devAcc(): Promise<{ acc: number; dist: Record<string, number> }> {
  const g = new Generator(
    { config: base.config, weights: model.weights },
    trainer.adapter ? { adapter: trainer.adapter, prefixCache: 0 } : { prefixCache: 0 },
  );
  const scores = await g.scoreCandidates(devPrompts, cands);
  let ok = 0;
  const dist: Record<string, number> = {};
  scores.forEach((sc, i) => {
    const b = sc.reduce((bi, x, j) => (x.logprob > sc[bi].logprob ? j : bi), 0);
    if (b === devGold[i]) ok++;
    dist[labels[b]] = (dist[labels[b]] ?? 0) + 1;
  });
  return { acc: ok / devPrompts.length, dist };
}

const t0 = performance.now();
const rng = new Rng(seed ^ 0x9e3779b9);
let fixed = trainRecs.map(toExample);
const out: { epoch: number; trainLoss: number; devLoss: number; devAcc: number }[] = [];
let best = { acc: -1, epoch: 0, loss: Infinity, lossEpoch: 0, accAtLoss: 0 };
for (let ep = 0; ep < epochs; ep++) {
  const recs = wordDrop > 0 ? trainRecs.map((m) => toExample(dropWords(m, wordDrop, rng))) : fixed;
  const plan = epochPlan(
    recs.map((r) => r.ids.length),
    bs,
    seed,
    ep,
  );
  let sum = 0;
  for (const b of plan) {
    const r = await trainer.step(b.map((i) => recs[i]));
    sum += r.loss;
    for (const [k, d] of frozen) base.weights.get(k)!.data.set(d);
  }
  const devLoss = await trainer.evalLoss(devEx, bs);
  const { acc, dist } = await devAcc();
  out.push({ epoch: ep + 1, trainLoss: sum / plan.length, devLoss, devAcc: acc });
  if (acc > best.acc) best = { ...best, acc, epoch: ep + 1 };
  if (devLoss < best.loss) best = { ...best, loss: devLoss, lossEpoch: ep + 1, accAtLoss: acc };
  console.error(
    `ep ${ep + 1} train ${(sum / plan.length).toFixed(3)} dev loss ${devLoss.toFixed(3)} acc ${acc.toFixed(3)} ${JSON.stringify(dist)} ${((performance.now() - t0) / 1000).toFixed(0)}s`,
  );
}
fixed = [];
console.log(
  JSON.stringify({
    arm: a['arm-dir'],
    method,
    lr,
    epochs,
    rank: method === 'lora' ? rank : undefined,
    wd,
    wordDrop,
    freezeEmbed: a['freeze-embed'],
    seq,
    devN: devRecs.length,
    bestAcc: best.acc,
    bestAccEpoch: best.epoch,
    accAtBestLoss: best.accAtLoss,
    bestLossEpoch: best.lossEpoch,
    seconds: Math.round((performance.now() - t0) / 1000),
  }),
);
