import type { Example } from '../task/types.ts';

export interface ScoreResult {
  /** 0..1 per example (1 = correct for pass/fail metrics). */
  score: number;
  pass: boolean;
  /** What the scorer extracted from the output (e.g. the label), for confusion matrices and reports. */
  extracted?: string;
  detail?: string;
}

export interface Scorer {
  readonly name: string;
  score(output: string, example: Example): ScoreResult | Promise<ScoreResult>;
  /** Labels for classification metrics (confusion matrix, macro-F1). */
  readonly labels?: string[];
}

/** A per-arm summary computed from per-example results. */
export interface MetricSummary {
  name: string;
  value: number;
  ci: [number, number];
  n: number;
  /** classification only */
  perClass?: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  confusion?: { labels: string[]; matrix: number[][] };
}
