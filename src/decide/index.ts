// Public entry of decide/: baselines, the cost model, break-even volumes, the advisor.
export * from './types.ts';
export { monthlyCost, totalCost, breakEven, breakEvens, hostingPerMonth, oneOffTotal, chartVolumes } from './cost.ts';
export { advise, examplesToSeparate, type AdviseInput, type AdviseOutput, type PairResult } from './advisor.ts';
export {
  majorityLabel,
  fitClassical,
  TfidfVectorizer,
  trainOvrSvm,
  accuracyOf,
  type ClassicalModel,
  type ClassicalOptions,
  type LabeledText,
  type Sparse,
} from './classical.ts';
export { fmtUsd, fmtCount, fmtMetric, fmtCi, fmtP, fmtMs, fmtDiff } from './format.ts';
export { decisionSchema, resolveDecision, perArmValue, type DecisionConfig } from './settings.ts';
export { buildDecision, decisionOfRun, MACRO_F1_NOTE, type DecisionInput, type DecisionArmInput, type DecisionRow } from './build.ts';
export { labelSetWarnings } from './labels.ts';
