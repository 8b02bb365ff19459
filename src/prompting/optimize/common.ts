import type { Scorer } from '../../metrics/types.ts';
import type { ChatModel } from '../../models/types.ts';
import type { Example } from '../../task/types.ts';
import { Evaluator } from '../evaluate.ts';
import type { Meter } from '../meter.ts';
import type { TemplateProgram } from '../program.ts';
import type { CandidateScore, HalvingResult } from '../search.ts';

/** What an optimizer works with: train and dev only, metered models, one meter for every call. */
export interface OptimizeContext {
  train: readonly Example[];
  dev: readonly Example[];
  scorer: Scorer;
  /** the task model, metered */
  model: ChatModel;
  /** the model that proposes instructions (metered with the same meter); default: model */
  proposer?: ChatModel;
  /** the model that produces bootstrapped demonstrations (metered); default: model */
  teacher?: ChatModel;
  meter: Meter;
  seed: number;
  labels?: string[];
  inputFields: string[];
  log(message: string): void;
  concurrency?: number;
  signal?: AbortSignal;
  /** shared memo of scores (created when absent) */
  evaluator?: Evaluator;
}

export interface OptimizeResult {
  program: TemplateProgram;
  /** dev score of the chosen program and the number of dev examples it was measured on */
  devScore: number;
  devN: number;
  /** dev score of the starting prompt on the same examples, where it was measured */
  baselineScore?: number;
  /** every candidate scored, for the report */
  table: CandidateScore[];
  details: Record<string, unknown>;
}

export function evaluatorFor(o: OptimizeContext): Evaluator {
  o.evaluator ??= new Evaluator(o.model, o.scorer, o.meter, { concurrency: o.concurrency ?? 8, signal: o.signal });
  return o.evaluator;
}

/** Spend what is left of the budget scoring the chosen program on all of dev (memoized calls are free). */
export async function finalScore(
  o: OptimizeContext,
  program: TemplateProgram,
  fallback: { score: number; n: number },
): Promise<{ score: number; n: number }> {
  const r = await evaluatorFor(o).score(program, o.dev);
  return r.n >= fallback.n && r.n > 0 ? { score: r.score, n: r.n } : fallback;
}

/** Baseline score on exactly the dev examples the winner was measured on, from the memo only (no calls). */
export function memoScore(o: OptimizeContext, program: TemplateProgram): { score: number; n: number } | undefined {
  const ev = evaluatorFor(o);
  const items = o.dev.map((e) => ev.cached(program, e)).filter((x) => x !== undefined);
  if (!items.length) return undefined;
  return { score: items.reduce((s, i) => s + i!.score, 0) / items.length, n: items.length };
}

/** An optimizer's result from its search: the winner scored on all of dev, beside the base program's memoized score. */
export async function halvingResult(
  o: OptimizeContext,
  base: TemplateProgram,
  sh: HalvingResult,
  details: Record<string, unknown>,
): Promise<OptimizeResult> {
  const fin = await finalScore(o, sh.best.program, { score: sh.bestScore, n: sh.bestN });
  return { program: sh.best.program, devScore: fin.score, devN: fin.n, baselineScore: memoScore(o, base)?.score, table: sh.table, details };
}
