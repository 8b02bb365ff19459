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
}
