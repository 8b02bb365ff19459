export * from './types.ts';
export * from './schema.ts';
export { createScorer, type ScorerContext } from './scorers.ts';
export { extractLabel, normalizeText, type NormalizeOptions } from './text.ts';
export { summarize, classificationReport, type ResultRow, type SummarizeOptions } from './summary.ts';
