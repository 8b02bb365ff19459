export * from './types.ts';
export * from './schema.ts';
export { createScorer, validateExpected, extractNumber, extractJson, type ScorerContext } from './scorers.ts';
export { extractLabel, canonicalLabel, normalizeLabel, normalizeText, type NormalizeOptions } from './text.ts';
export { summarize, classificationReport, NO_LABEL, type ResultRow, type SummarizeOptions, type ClassificationReport } from './summary.ts';
export { compareOnMetric, type MetricComparison, type CompareOptions } from './compare.ts';
export {
  resultColumns,
  columnsOfRows,
  summarizeColumns,
  compareColumns,
  classificationOfColumns,
  StringTable,
  type ResultColumns,
  type ColumnRow,
  type ColumnsOptions,
} from './columns.ts';
