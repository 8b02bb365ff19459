// A demo-like store written through the runner's store API: six arms (prompt, few-shot, optimized,
// LoRA, LoRA + few-shot, full fine-tune) on a 2-label spam task, with call records (the messages each
// arm sent), fine-tune artifacts with loss curves, and two runs of the same experiment.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/index.ts';

export const ARMS = [
  { name: 'zero-shot', kind: 'prompt', acc: 0.55 },
  { name: 'few-shot', kind: 'prompt', acc: 0.69 },
  { name: 'optimized', kind: 'optimize', acc: 0.72 },
  { name: 'lora', kind: 'finetune', acc: 0.815 },
  { name: 'lora+few-shot', kind: 'finetune+prompt', acc: 0.8 },
  { name: 'full', kind: 'finetune', acc: 0.78 },
];

const WORDS = ['free', 'meeting', 'offer', 'tomorrow', 'winner', 'invoice', 'click', 'lunch', 'prize', 'report', 'urgent', 'hello'];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FixtureRun {
  runId: string;
  test: { id: string; text: string; label: string }[];
}

export function testExamples(n: number, seed = 1) {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const label = r() < 0.45 ? 'spam' : 'ham';
    const text = Array.from({ length: 6 + Math.floor(r() * 10) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
    return { id: `data/emails.jsonl:${i + 2}`, text: `${label === 'spam' ? 'WIN ' : ''}${text}`, label };
  });
}

const system = 'Classify the email as spam or ham. Answer with one of: spam, ham.';

/**
 * Writes one run. `upTo` stops after that many results of the last arm (the run stays "running") so a
 * test can add the rest while the viewer watches; `shift` changes the arms' answers (a second run).
 */
export function writeRun(
  store: Store,
  opts: { n?: number; shift?: number; runId?: string; dir?: string; partialArm?: number } = {},
): FixtureRun {
  const n = opts.n ?? 60;
  const test = testExamples(n);
  const r = rng(7 + (opts.shift ?? 0));
  const dir = opts.dir ?? '/home/user/projects/spam/.tunelab';
  const runId = opts.runId ?? `20261205-0900${opts.shift ?? 0}0-abc${opts.shift ?? 0}`;
  const arms = opts.partialArm !== undefined ? ARMS.slice(0, opts.partialArm + 1) : ARMS;
  store.createRun({
    id: runId,
    experiment: 'demo-spam',
    runKey: `key-${opts.shift ?? 0}`,
    createdAt: Date.now() - 420_000,
    meta: {
      seed: 42,
      sizes: { train: 600, dev: 100, test: n },
      metric: { name: 'accuracy', labels: ['ham', 'spam'], type: 'accuracy' },
      data: 'builtin:spamassassin',
      baseline: 'zero-shot',
      arms: ARMS.map((a) => a.name),
      warnings: ['split: 3 near-duplicate examples between train and test'],
      testIds: test.map((t) => t.id),
      config: {
        experiment: 'demo-spam',
        arms: ARMS.map((a) => ({
          name: a.name,
          kind: a.kind,
          model: 'builtin',
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: 'Email: {{text}}' },
          ],
          ...(a.kind.startsWith('finetune') ? { method: a.name === 'full' ? 'full' : 'lora', epochs: 4, learningRate: 0.002 } : {}),
        })),
      },
    },
  });
  for (const [ai, a] of arms.entries()) {
    const ft = a.kind.startsWith('finetune');
    const key = a.name === 'full' ? '9b1e44c2d0aa7f31' : '3d0fdd2a91b4c7e0';
    const modelId = ft ? `local:${dir}/runs/${runId}/arms/_finetuned/${key}` : 'builtin';
    const losses = Array.from({ length: 40 }, (_, i) => 2.5 * Math.exp(-i / 12) + 0.2 + r() * 0.05);
    store.putArm({
      run: runId,
      name: a.name,
      kind: a.kind,
      status: 'prepared',
      modelId,
      promptHash: `sha256:${(ai + 1).toString(16).repeat(64).slice(0, 64)}`,
      spent: { calls: a.kind === 'optimize' ? 120 : 0, tokensIn: ft ? 48_000 : 0, tokensOut: 0, costUsd: 0, ms: ft ? 210_000 : 4000 },
      ...(ft
        ? {
            training: {
              seconds: 210,
              costUsd: 0.003,
              modelId,
              details: {
                method: a.name === 'full' ? 'full' : 'lora',
                steps: 40,
                epochs: 4,
                learningRate: 0.002,
                rank: 8,
                initialValLoss: 2.61,
                bestValLoss: 0.41,
              },
            },
            artifact: {
              kind: 'tunelab.finetune',
              modelDir: `${dir}/runs/${runId}/arms/_finetuned/${key}`,
              summary: {
                losses,
                valLosses: [0, 10, 20, 30, 40].map((s) => ({ step: s, loss: 2.6 * Math.exp(-s / 14) + 0.35 })),
                bestStep: 40,
              },
            },
          }
        : {}),
    });
    const last = opts.partialArm !== undefined && ai === opts.partialArm;
    const count = last ? Math.floor(n / 3) : n;
    const rows = test.slice(0, count).map((ex, idx) => {
      const ok = r() < a.acc + (opts.shift ?? 0) * 0.05;
      const answer = ok ? ex.label : ex.label === 'spam' ? 'ham' : 'spam';
      const messages: { role: 'system' | 'user' | 'assistant'; content: string }[] = [
        { role: 'system' as const, content: system },
        ...(a.name.includes('few') || a.kind === 'optimize'
          ? [
              { role: 'user' as const, content: 'Email: free lunch tomorrow' },
              { role: 'assistant' as const, content: 'ham' },
            ]
          : []),
        { role: 'user' as const, content: `Email: ${ex.text}` },
      ];
      store.logCall(
        {
          modelId,
          provider: 'local',
          model: modelId,
          hash: `h-${runId}-${a.name}-${idx}`,
          request: { messages, choices: ['spam', 'ham'] },
          ok: true,
          response: { text: answer },
          usage: { input: 40 + messages.length * 10, output: 1 },
          latencyMs: 20 + r() * 30,
          costUsd: 0,
          attempt: 1,
          cached: false,
          at: Date.now(),
          meta: { exampleId: ex.id },
        },
        runId,
        a.name,
      );
      return {
        exampleId: ex.id,
        idx,
        expected: ex.label,
        output: answer,
        extracted: answer,
        score: ok ? 1 : 0,
        pass: ok,
        tokensIn: 40 + messages.length * 10,
        tokensOut: 1,
        latencyMs: 20 + r() * 30,
        costUsd: 0.00001,
        cached: false,
      };
    });
    store.putResults(runId, a.name, rows);
    if (!last) store.putArm({ ...store.getArm(runId, a.name)!, status: 'done' });
  }
  if (opts.partialArm === undefined) store.updateRun(runId, { status: 'done', finishedAt: Date.now() });
  else store.flushCalls();
  return { runId, test: test.map((t) => ({ id: t.id, text: t.text, label: t.label })) };
}

/** A store with two finished runs of the same experiment; returns its path and run ids. */
export function twoRunStore(): { dir: string; path: string; runs: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-view-'));
  const path = join(dir, 'tunelab.db');
  const s = openStore(path, { env: {} });
  try {
    const a = writeRun(s, { shift: 0 });
    const b = writeRun(s, { shift: 1 });
    return { dir, path, runs: [a.runId, b.runId] };
  } finally {
    s.close();
  }
}

/** Writes results `from..to` of `arm` (all right) into a run, as a runner would mid-arm. */
export function addResults(store: Store, runId: string, arm: string, test: FixtureRun['test'], from: number, to: number): void {
  store.putResults(
    runId,
    arm,
    test.slice(from, to).map((ex) => ({
      exampleId: ex.id,
      expected: ex.label,
      output: ex.label,
      extracted: ex.label,
      score: 1,
      pass: true,
      tokensIn: 50,
      tokensOut: 1,
      latencyMs: 30,
      costUsd: 0,
      cached: false,
    })),
  );
}
