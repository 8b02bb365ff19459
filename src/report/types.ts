import type { MetricSummary } from '../metrics/types.ts';
import type { DecisionReport } from '../decide/types.ts';

/** Everything a report renders, built by experiment/ from the store (so any run can be re-rendered). */
export interface ArmReport {
  name: string;
  kind: string;
  modelId: string;
  promptHash: string;
  status: 'done' | 'failed' | 'partial';
  error?: string;
  metric: MetricSummary;
  /** extra metrics computed (e.g. macro-F1 alongside accuracy) */
  extraMetrics?: MetricSummary[];
  n: number;
  errors: number;
  costPer1k: number;
  latencyMs: { p50: number; p95: number; mean: number };
  tokens: { input: number; output: number; meanInput: number; meanOutput: number };
  /** engineering cost: optimizer calls or training */
  spent: { calls: number; tokensIn: number; tokensOut: number; costUsd: number; ms: number };
  training?: { seconds: number; costUsd: number; modelId: string; details?: Record<string, unknown> };
  notes?: Record<string, unknown>;
}

export interface PairedComparison {
  arm: string;
  baseline: string;
  /** arm minus baseline, on the examples both scored */
  diff: number;
  ci: [number, number];
  n: number;
  /** exact McNemar p-value for pass/fail metrics */
  pValue: number;
  /** discordant pairs: arm right & baseline wrong, and the reverse */
  discordant?: { armOnly: number; baselineOnly: number };
}

export interface RunReport {
  runId: string;
  experiment: string;
  createdAt: string;
  finishedAt?: string;
  seed: number;
  task: { metric: string; data: string; sizes: { train: number; dev: number; test: number } };
  arms: ArmReport[];
  baseline?: string;
  comparisons: PairedComparison[];
  warnings: string[];
  /** baselines, costs, break-even, curves, consistency and the recommendation (src/decide), from the store */
  decision?: DecisionReport;
  /** per-example outcomes, prompts and training curves (added by the CLI and the viewer from the store) */
  evidence?: RunEvidence;
}

/** One arm's answer to one test example. */
export interface ExampleOutcome {
  output: string;
  /** the answer the metric scored (after parsing / label extraction) */
  extracted?: string;
  score: number;
  pass: boolean;
  error?: string;
  latencyMs: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  cached?: boolean;
}

/** A chat message as an arm sent it. */
export interface SentMessage {
  role: string;
  content: string;
}

/** One test example with every arm's outcome. */
export interface ExampleEvidence {
  id: string;
  /** position in the test split */
  idx: number;
  /** the input fields (or, when the store holds no inputs, the last user message an arm sent) */
  input?: Record<string, unknown> | string;
  expected: string;
  /** data file and 1-based line, where known */
  source?: { file: string; line: number };
  /** by arm name */
  arms: Record<string, ExampleOutcome>;
  /** the arms that scored it gave different answers (or some passed and some failed) */
  disagree: boolean;
}

/** What an arm sends: its prompt settings from the config and the messages rendered for one example. */
export interface ArmPrompt {
  arm: string;
  /** the arm's prompt settings from the config (template, instructions, shots...) */
  template?: Record<string, unknown>;
  /** the example the messages below were rendered for */
  exampleId?: string;
  messages?: SentMessage[];
}

/** A fine-tune arm's training curves. */
export interface LossCurve {
  arm: string;
  /** training loss per optimizer step (step = index + 1) */
  train: number[];
  /** validation loss at the steps it was measured */
  val: { step: number; loss: number }[];
  bestStep?: number;
}

/** Per-example evidence behind the figures (JSON holds all of it; Markdown and HTML show the first `cap`). */
export interface RunEvidence {
  examples: ExampleEvidence[];
  prompts: ArmPrompt[];
  curves: LossCurve[];
}
