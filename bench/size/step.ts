/**
 * Child process of bench/size/run.ts: tunelab LoRA training steps on SmolLM2-135M's shape (random weights).
 * Prints one JSON line: per-step ms, peak RSS (whole process), RSS before the first step, losses.
 * Args: JSON {steps, threads, batch, seq, targets?}
 */
import { configureRuntime, createModel, Trainer } from '../../src/engine/index.ts';
import { BATCH, LORA, LR, SEQ, SMOL_135M, tokenRows } from './shape.ts';

const a = JSON.parse(process.argv[2] ?? '{}') as { steps?: number; threads?: number; batch?: number; seq?: number; targets?: string[] };
const steps = a.steps ?? 3,
  B = a.batch ?? BATCH,
  T = a.seq ?? SEQ;
if (a.threads) configureRuntime({ threads: a.threads });
const model = createModel(SMOL_135M, { seed: 1 });
const trainer = new Trainer(model, {
  lr: LR,
  weightDecay: 0,
  clipNorm: null,
  schedule: 'constant',
  lora: { ...LORA, targetModules: a.targets ?? LORA.targetModules },
  seed: 1,
  maxSeqLen: T,
});
// T tokens per row: T-1 targets, the graph runs at sequence length T (as torch's T-token rows)
const rows = tokenRows(B, T, SMOL_135M.vocab_size).map((ids) => ({ ids }));
const rssBefore = process.memoryUsage().rss;
const ms: number[] = [],
  losses: number[] = [],
  graphMs: number[] = [];
for (let i = 0; i < steps; i++) {
  const r = await trainer.step(rows);
  ms.push(r.ms.total);
  graphMs.push(r.ms.graph);
  losses.push(r.loss);
}
const peak = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({ ms, graphMs, losses, peakRss: peak, rssBefore, trainable: trainer.trainableParams }));
