import type { Scorer } from './types.ts';
import type { MetricConfigInput } from './schema.ts';
export interface ScorerContext { baseDir: string; labels?: string[] }
export async function createScorer(cfg: MetricConfigInput, ctx: ScorerContext): Promise<Scorer> { throw new Error('not implemented'); }
