// Shapes of the decision: what the advisor takes (evidence per arm, settings) and what it returns.
// Everything here is JSON-serialisable: the decision travels inside the RunReport to every renderer.

/** The `decision:` block of tunelab.yaml, defaults applied. */
export interface DecisionSettings {
  /** expected production requests per month (default 10,000) */
  requestsPerMonth: number;
  /** months the choice is costed over (default 12) */
  horizonMonths: number;
  /** the task metric an arm must reach (point estimate) */
  minMetric?: number;
  /** the largest acceptable p95 latency per request, ms */
  maxP95LatencyMs?: number;
  budget?: { oneOffUsd?: number; monthlyUsd?: number };
  /** engineer time per arm (keyed by arm name or arm kind) at a rate per hour */
  engineer?: { ratePerHour: number; hours: Record<string, number> };
  /** USD per hour of CPU for local models (and the classical baseline) that have no `price.perHour` (default 0.05) */
  computePerHour: number;
  /** a fixed hosting price per hour (keyed by arm name or kind), e.g. a dedicated endpoint for a fine-tuned model */
  hostingPerHour?: Record<string, number>;
  /** significance level for ties and flags (default 0.05) */
  alpha: number;
}

export const DEFAULT_DECISION: DecisionSettings = { requestsPerMonth: 10_000, horizonMonths: 12, computePerHour: 0.05, alpha: 0.05 };

/** Hours in a month for hosting prices (365.25 × 24 / 12). */
export const HOURS_PER_MONTH = 730.5;

export interface ArmCost {
  /** mean production cost of one request, USD, with a 95% bootstrap interval over test requests */
  perRequestUsd: number;
  perRequestCi: [number, number];
  /** how the per-request cost was measured */
  basis: 'tokens' | 'cpu' | 'wall' | 'none';
  oneOff: {
    /** prompt search / optimisation calls (USD, count, time) */
    searchUsd: number;
    searchCalls: number;
    searchMs: number;
    /** training (hosted: trained tokens × price; local: training time × $/hour) */
    trainingUsd: number;
    trainingSeconds: number;
    engineerUsd: number;
    engineerHours: number;
    totalUsd: number;
  };
  hostingPerMonthUsd: number;
}

export type ArmRole = 'arm' | 'majority' | 'classical';

/** What the advisor knows about one arm. */
export interface ArmEvidence {
  name: string;
  kind: string;
  role: ArmRole;
  /** repeat members beyond the first and learning-curve points are shown but not recommended */
  candidate: boolean;
  metric: { value: number; ci: [number, number]; n: number };
  p95LatencyMs: number;
  cost: ArmCost;
  /** the label the majority baseline always answers */
  majorityLabel?: string;
}

/** A paired comparison on the task metric (a minus b). */
export interface Comparison {
  arm: string;
  against: string;
  /** which family it belongs to */
  family: 'baseline' | 'best' | 'classical' | 'majority';
  diff: number;
  ci: [number, number];
  p: number;
  /** Holm-adjusted over its family */
  pHolm: number;
  test: 'mcnemar' | 'paired-bootstrap';
  n: number;
  /** pass/fail: examples only the arm got right, and only the other */
  discordant?: { aOnly: number; bOnly: number };
}

export interface BreakEven {
  /** the arm with the larger one-off cost and the smaller per-request cost */
  arm: string;
  against: string;
  oneOffDiffUsd: number;
  perRequestDiffUsd: number;
  /** requests over which the extra one-off cost is repaid (hosting ignored); Infinity when it never is */
  requests: number;
  /** the monthly volume at which both cost the same over the horizon (hosting included); null when none > 0 */
  monthlyVolume: number | null;
  sentence: string;
}

export interface CurvePoint {
  arm: string;
  x: number;
  value: number;
  ci: [number, number];
  /** against the best prompt arm */
  diff?: number;
  diffCi?: [number, number];
}

export interface Curve {
  /** the arm the curve was declared on */
  arm: string;
  axis: 'train' | 'shots';
  points: CurvePoint[];
  /** fine-tune curves: where the curve overtakes the best prompt arm */
  crossover?: { against: string; againstValue: number; at?: number; significantAt?: number; sentence: string };
}

export interface Consistency {
  arm: string;
  members: string[];
  /** share of examples where every repeat gave the same answer */
  agreement: number;
  meanPairwise: number;
  metric: { min: number; max: number; mean: number; sd: number };
  sentence: string;
}

export interface ArmDiagnostics {
  arm: string;
  /** answers per label (unparseable under "(none)") */
  distribution: Record<string, number>;
  topLabel?: string;
  topShare?: number;
  flags: string[];
}

export interface Recommendation {
  verdict: 'recommend' | 'tie' | 'none' | 'no-data';
  arm?: string;
  /** every sentence cites the figure it rests on */
  sentences: string[];
  /** how many test examples would separate the recommended arm from the best (80% power, 5% two-sided) */
  moreTestExamples?: number;
}

export interface DecisionReport {
  settings: DecisionSettings;
  metric: string;
  /** how the metric is computed (macro-F1 convention), stated in every report */
  metricNote?: string;
  best?: string;
  tiedWithBest: string[];
  arms: (ArmEvidence & { meets: boolean; failures: string[]; totalUsd: number; monthlyUsd: number })[];
  diagnostics: ArmDiagnostics[];
  comparisons: Comparison[];
  breakEven: BreakEven[];
  curves: Curve[];
  consistency: Consistency[];
  /** total cost over the horizon per arm at these monthly volumes (the chart) */
  costChart: { volumes: number[]; series: { arm: string; totals: number[] }[] };
  recommendation: Recommendation;
  warnings: string[];
}
