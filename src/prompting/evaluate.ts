import type { Scorer } from '../metrics/types.ts';
import type { ChatModel } from '../models/types.ts';
import type { Example } from '../task/types.ts';
import { BudgetExceeded, type Meter } from './meter.ts';
import type { PromptProgram } from './types.ts';
import { canonicalJson, mapLimit } from '../core/index.ts';

export interface EvalItem {
  id: string;
  output: string;
  parsed: string;
  score: number;
  pass: boolean;
  error?: string;
}

/** Run one program on examples and score parsed outputs (PromptProgram.parse, then the scorer). */
export async function runExample(program: PromptProgram, model: ChatModel, example: Example, scorer: Scorer, signal?: AbortSignal): Promise<EvalItem> {
  const r = await model.complete(program.render(example), { signal });
  const parsed = program.parse ? program.parse(r.text) : r.text;
  const s = await scorer.score(parsed, example);
  return { id: example.id, output: r.text, parsed, score: s.score, pass: s.pass };
}

export interface EvaluatorOptions {
  concurrency?: number;
  signal?: AbortSignal;
}

/**
 * Scores programs on examples with a memo keyed by (prompt hash, example id), so a program is never
 * run twice on the same example. With a Meter, examples past the call budget are left out
 * deterministically (the first ones in order are run).
 */
export class Evaluator {
  private memo = new Map<string, EvalItem>();
  constructor(readonly model: ChatModel, readonly scorer: Scorer, readonly meter?: Meter, readonly opts: EvaluatorOptions = {}) {}

  private key(program: PromptProgram, example: Example, model: ChatModel): string {
    const req = (program as { request?: unknown }).request;
    return `${model.id}|${program.hash}|${req ? canonicalJson(req) : ''}|${example.id}`;
  }

  cached(program: PromptProgram, example: Example, model: ChatModel = this.model): EvalItem | undefined {
    return this.memo.get(this.key(program, example, model));
  }

  /** Items in example order; `complete` is false when the budget stopped it early. Model errors score 0. */
  async run(program: PromptProgram, examples: readonly Example[], model: ChatModel = this.model): Promise<{ items: EvalItem[]; complete: boolean }> {
    const todo: Example[] = [];
    for (const e of examples) if (!this.cached(program, e, model)) todo.push(e);
    let allowed = todo;
    if (this.meter) {
      const left = this.meter.callsLeft();
      if (left < todo.length) allowed = todo.slice(0, left);
    }
    let stopped = false;
    let firstError: unknown;
    let errors = 0;
    await mapLimit(allowed, this.opts.concurrency ?? 8, async (e) => {
      if (stopped) return;
      try {
        this.memo.set(this.key(program, e, model), await runExample(program, model, e, this.scorer, this.opts.signal));
      } catch (err) {
        if (err instanceof BudgetExceeded) {
          stopped = true;
          return;
        }
        if (this.opts.signal?.aborted) throw err;
        errors++;
        firstError ??= err;
        this.memo.set(this.key(program, e, model), { id: e.id, output: '', parsed: '', score: 0, pass: false, error: (err as Error).message });
      }
    });
    if (errors > 0 && errors === allowed.length && allowed.length >= 3) throw firstError;
    const items: EvalItem[] = [];
    for (const e of examples) {
      const it = this.cached(program, e, model);
      if (it) items.push(it);
    }
    return { items, complete: items.length === examples.length };
  }

  /** Mean score over the examples that were run (0 when none). */
  async score(program: PromptProgram, examples: readonly Example[], model?: ChatModel): Promise<{ score: number; n: number; complete: boolean; items: EvalItem[] }> {
    const { items, complete } = await this.run(program, examples, model);
    return { score: mean(items.map((i) => i.score)), n: items.length, complete, items };
  }
}

export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}
