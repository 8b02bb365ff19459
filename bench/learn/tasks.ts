// The three tasks of bench/learn and the arms run on each (issue 12 goal 1).
// Every fine-tuned arm names no hyperparameter: the numbers measure the `kind: finetune` defaults.

export interface BenchTask {
  name: string;
  builtin: string;
  maxChars?: number;
  split: { train: number; dev: number; test: number };
  shots: number;
}

export const TASKS: BenchTask[] = [
  { name: 'wordnet-topic', builtin: 'wordnet-topic', split: { train: 350, dev: 140, test: 210 }, shots: 4 },
  { name: 'brown-genre', builtin: 'brown-genre', maxChars: 1000, split: { train: 300, dev: 80, test: 120 }, shots: 1 },
  { name: 'sotu-party', builtin: 'sotu-party', maxChars: 1000, split: { train: 140, dev: 33, test: 60 }, shots: 1 },
];

export const ARM_NAMES = ['zero-shot', 'few-shot', 'lora', 'full'] as const;

/** The arms (as config objects) for one task; `extra` adds more (bench --arms-file). */
export function armsFor(t: BenchTask, extra: Record<string, unknown>[] = []): Record<string, unknown>[] {
  return [
    { name: 'zero-shot', kind: 'prompt', model: 'builtin' },
    { name: 'few-shot', kind: 'prompt', model: 'builtin', shots: t.shots },
    { name: 'lora', kind: 'finetune', model: 'builtin', method: 'lora' },
    { name: 'full', kind: 'finetune', model: 'builtin', method: 'full' },
    ...extra,
  ];
}

export function configFor(
  t: BenchTask,
  arms: Record<string, unknown>[],
  o: { output: string; data?: string; split?: Record<string, number>; seed?: number },
): Record<string, unknown> {
  return {
    experiment: `learn-${t.name}`,
    task: {
      data: o.data ?? { builtin: t.builtin, ...(t.maxChars ? { maxChars: t.maxChars } : {}) },
      input: ['text'],
      expected: 'label',
      id: 'id',
      metric: { type: 'accuracy' },
    },
    split: { ...(o.split ?? t.split), seed: 7 },
    models: [
      { id: 'builtin', provider: 'local', path: 'builtin', temperature: 0, maxTokens: 8, price: { input: 0, output: 0, perHour: 0.05 } },
    ],
    arms,
    baseline: String(arms[0]?.name ?? 'zero-shot'),
    output: o.output,
    seed: o.seed ?? 42,
    concurrency: 1,
  };
}
