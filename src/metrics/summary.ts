import type { MetricSummary, Scorer } from './types.ts';
export interface ResultRow { score: number; pass: boolean; extracted?: string; expected: string }
export interface SummarizeOptions { seed?: number; iterations?: number; level?: number }
export function summarize(scorer: Pick<Scorer, 'name' | 'labels'>, results: ResultRow[], opts: SummarizeOptions = {}): MetricSummary { throw new Error('not implemented'); }
export function classificationReport(labels: readonly string[], expected: readonly string[], predicted: readonly (string | undefined)[]): Required<Pick<MetricSummary, 'perClass' | 'confusion'>> & { macroF1: number; accuracy: number } { throw new Error('not implemented'); }
