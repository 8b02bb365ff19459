// A realistic RunReport: four arms on a 3-class ticket-routing task, one of them fine-tuned,
// with paired comparisons against the zero-shot baseline.
import type { ArmReport, RunReport } from '../../src/report/index.ts';

const labels = ['billing', 'technical', 'account'];

function cm(matrix: number[][]) {
  const n = matrix.flat().reduce((s, x) => s + x, 0);
  const correct = matrix.reduce((s, row, i) => s + row[i], 0);
  const perClass: Record<string, { precision: number; recall: number; f1: number; support: number }> = {};
  labels.forEach((l, i) => {
    const tp = matrix[i][i];
    const support = matrix[i].reduce((s, x) => s + x, 0);
    const predicted = matrix.reduce((s, row) => s + row[i], 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    perClass[l] = { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, support };
  });
  return { n, acc: correct / n, perClass, confusion: { labels, matrix } };
}

function arm(
  name: string,
  kind: string,
  modelId: string,
  matrix: number[][],
  ci: [number, number],
  extra: Partial<ArmReport> = {},
): ArmReport {
  const c = cm(matrix);
  const macro = Object.values(c.perClass).reduce((s, x) => s + x.f1, 0) / labels.length;
  return {
    name,
    kind,
    modelId,
    promptHash: `sha256:${Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64)}`,
    status: 'done',
    metric: { name: 'accuracy', value: c.acc, ci, n: c.n, perClass: c.perClass, confusion: c.confusion },
    extraMetrics: [{ name: 'macro-F1', value: macro, ci: [macro - 0.045, Math.min(1, macro + 0.04)], n: c.n }],
    n: c.n,
    errors: 0,
    costPer1k: 0.21,
    latencyMs: { p50: 410, p95: 980, mean: 470 },
    tokens: { input: 60_000, output: 900, meanInput: 200, meanOutput: 3 },
    spent: { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: 0 },
    ...extra,
  };
}

export function fixtureReport(): RunReport {
  const arms: ArmReport[] = [
    arm(
      'zero-shot',
      'prompt',
      'gpt-4o-mini',
      [
        [80, 12, 8],
        [10, 85, 5],
        [9, 7, 84],
      ],
      [0.78, 0.861],
    ),
    arm(
      'few-shot-8',
      'prompt',
      'gpt-4o-mini',
      [
        [88, 7, 5],
        [6, 90, 4],
        [5, 4, 91],
      ],
      [0.857, 0.923],
      {
        costPer1k: 0.62,
        latencyMs: { p50: 520, p95: 1240, mean: 590 },
        tokens: { input: 246_000, output: 900, meanInput: 820, meanOutput: 3 },
      },
    ),
    arm(
      'optimized',
      'prompt-optimized',
      'gpt-4o-mini',
      [
        [90, 6, 4],
        [5, 92, 3],
        [4, 3, 93],
      ],
      [0.877, 0.94],
      {
        costPer1k: 0.48,
        latencyMs: { p50: 480, p95: 1100, mean: 530 },
        tokens: { input: 189_000, output: 1_200, meanInput: 630, meanOutput: 4 },
        spent: { calls: 412, tokensIn: 260_000, tokensOut: 9_800, costUsd: 0.045, ms: 96_000 },
        notes: {
          optimizer: 'instruction search',
          rounds: 3,
          chosen: 'v3',
          variants: [
            { variant: 'v1', devScore: 0.812, shots: 0 },
            { variant: 'v2', devScore: 0.857, shots: 4 },
            { variant: 'v3', devScore: 0.893, shots: 4 },
          ],
        },
      },
    ),
    arm(
      'lora-ft',
      'finetune',
      'local:tunelab-tiny+lora-7f3a',
      [
        [94, 4, 2],
        [3, 95, 2],
        [2, 2, 96],
      ],
      [0.917, 0.967],
      {
        costPer1k: 0.004,
        latencyMs: { p50: 38, p95: 71, mean: 42 },
        tokens: { input: 15_000, output: 900, meanInput: 50, meanOutput: 3 },
        training: {
          seconds: 1_834,
          costUsd: 0,
          modelId: 'local:tunelab-tiny+lora-7f3a',
          details: {
            backend: 'local',
            method: 'LoRA',
            rank: 8,
            alpha: 16,
            epochs: 3,
            learningRate: 0.0002,
            trainExamples: 1200,
            finalLoss: 0.0831,
          },
        },
      },
    ),
  ];
  return {
    runId: 'run-20261201-1942-a1b2',
    experiment: 'ticket-routing',
    createdAt: '2026-12-01T19:42:00.000Z',
    finishedAt: '2026-12-01T20:31:12.000Z',
    seed: 42,
    task: { metric: 'accuracy', data: 'data/tickets.jsonl', sizes: { train: 1200, dev: 150, test: 300 } },
    arms,
    baseline: 'zero-shot',
    comparisons: [
      {
        arm: 'few-shot-8',
        baseline: 'zero-shot',
        diff: 0.07,
        ci: [0.033, 0.107],
        n: 300,
        pValue: 0.0004,
        discordant: { armOnly: 31, baselineOnly: 10 },
      },
      {
        arm: 'optimized',
        baseline: 'zero-shot',
        diff: 0.087,
        ci: [0.05, 0.123],
        n: 300,
        pValue: 0.00002,
        discordant: { armOnly: 36, baselineOnly: 10 },
      },
      {
        arm: 'lora-ft',
        baseline: 'zero-shot',
        diff: 0.127,
        ci: [0.087, 0.167],
        n: 300,
        pValue: 1.2e-8,
        discordant: { armOnly: 45, baselineOnly: 7 },
      },
    ],
    warnings: ['test split has 300 examples: intervals are about ±4 points wide'],
  };
}

export const EVIL = `<img src=x onerror="alert(1)"></script><script>alert('x')</script>|pipe`;

/** The fixture with a malicious arm name and notes (XSS, markdown-pipe and terminal-escape probes). */
export function evilReport(): RunReport {
  const r = fixtureReport();
  r.arms[1].name = EVIL;
  r.arms[1].notes = { [EVIL]: EVIL, nested: [{ k: EVIL }] };
  r.arms[1].modelId = 'model\u001b[31mred';
  r.comparisons[0].arm = EVIL;
  r.experiment = `exp ${EVIL}`;
  r.warnings.push(EVIL);
  return r;
}
