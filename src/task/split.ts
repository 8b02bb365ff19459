import type { Example, Split } from './types.ts';
import type { SplitConfigInput } from './schema.ts';

export interface SplitReport {
  /** exact duplicates (same whitespace-normalized input) removed before splitting */
  duplicatesRemoved: number;
  /** ids of train/dev examples whose leakage-normalized input equals a test example's (removed unless leakage: report) */
  leakage: string[];
  warnings: string[];
  /** the field stratified on, or null */
  stratifiedBy: string | null;
  sizes: { train: number; dev: number; test: number; unused: number };
}
export interface SplitResult { split: Split; report: SplitReport }

export function splitExamples(examples: Example[], cfg: SplitConfigInput = {}, opts: { expectedField?: string } = {}): SplitResult { throw new Error('not implemented'); }
