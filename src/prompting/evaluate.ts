// The one evaluation loop: a prompt program and a model over examples, with bounded concurrency and one
// error policy. The runner evaluates arms on the test split with it; the optimizers score candidates on
// dev with it (through Evaluator, which adds a memo and a call budget).
import { isBadInput } from '../core/index.ts';
import type { Scorer } from '../metrics/types.ts';
import type { ChatModel, Usage } from '../models/index.ts';
import type { Example } from '../task/types.ts';
import { BudgetExceeded, type Meter } from './meter.ts';
import type { PromptProgram } from './types.ts';
import { canonicalJson } from '../core/index.ts';

/** One example to evaluate, with its position in the caller's list (kept in results). */
export interface EvalCase {
  example: Example;
  index: number;
}

/** The outcome of one example: a scored answer, or a failed call (score 0, `error` set). */
export interface EvalResult {
  example: Example;
  /** EvalCase.index, or the position in the input sequence */
  index: number;
  /** the model's text ('' when the call failed) */
  output: string;
  /** program.parse(output) (the output itself when the program has no parser) */
  parsed: string;
  /** what the scorer extracted, when it says */
  extracted?: string;
  score: number;
  pass: boolean;
  usage: Usage;
  latencyMs: number;
  costUsd: number;
  /** process CPU time of the call (local models), ms */
  cpuMs?: number;
  cached: boolean;
  /** one line, when the call (after the model's own retries) or the scorer failed */
  error?: string;
}

export interface EvaluateOptions {
  /** calls in flight at once (default 8) */
  concurrency?: number;
  signal?: AbortSignal;
  /** extra call metadata (the run's call log attributes calls by it), e.g. `{ exampleId }` */
  meta?: (example: Example, index: number) => Record<string, unknown> | undefined;
  /** every finished example, in completion order */
  onResult?: (r: EvalResult) => void;
}

export interface EvaluateOutcome {
  /** examples finished (scored or failed) */
  done: number;
  /** of which failed */
  errors: number;
  /** of which were answered from the response cache */
  cached: number;
  costUsd: number;
  /** why it ended before the last example: the signal aborted, or a Meter budget ran out */
  stopped?: 'aborted' | 'budget';
}

/** Failures in a row, none succeeding, after which the loop gives up (within the first 2× as many results). */
export const GIVE_UP_AFTER = 25;

/** Thrown when every call fails: the endpoint or model is broken, not the examples. */
export class EvaluationFailed extends Error {
  constructor(
    message: string,
    public lastError: unknown,
  ) {
    super(message);
    this.name = 'EvaluationFailed';
  }
}

const oneLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ').slice(0, 500);

/**
 * Evaluates `program` on `model` over the cases, at most `concurrency` calls in flight, reading the
 * cases lazily (an async iterable streams a large data set). The render may be async.
 *
 * Error policy, the same for the runner and the optimizers:
 * - bad input stops the loop and is thrown: InputError, a model config error, and a model call that no
 *   retry will fix (endpoint unreachable, HTTP 401/403 refused key, 404 unknown model: exit code 2). No
 *   call starts after it, and results that finish after it are dropped;
 * - the caller's abort stops it: no call starts, calls cut short are not results; `stopped: 'aborted'`;
 * - a Meter's BudgetExceeded stops it the same way; `stopped: 'budget'`;
 * - any other failure (after the model's own retries) is that example's result: score 0, pass false,
 *   `error` set; the loop goes on;
 * - but when the first GIVE_UP_AFTER results in a row all failed (or all of a smaller set of 3 or
 *   more), it throws EvaluationFailed naming the last error: a broken endpoint fails once, not per example.
 */
export async function evaluate(
  program: PromptProgram,
  model: ChatModel,
  scorer: Scorer,
  cases: Iterable<Example | EvalCase> | AsyncIterable<Example | EvalCase>,
  opts: EvaluateOptions = {},
): Promise<EvaluateOutcome> {
  const signal = opts.signal;
  const out: EvaluateOutcome = { done: 0, errors: 0, cached: 0, costUsd: 0 };
  const iter: Iterator<Example | EvalCase> | AsyncIterator<Example | EvalCase> =
    Symbol.asyncIterator in cases
      ? (cases as AsyncIterable<Example | EvalCase>)[Symbol.asyncIterator]()
      : (cases as Iterable<Example | EvalCase>)[Symbol.iterator]();
  let position = 0;
  let exhausted = false;
  let fatal: unknown;
  let stop: EvaluateOutcome['stopped'];
  let inARow = 0;
  let lastError: unknown;

  const take = async (): Promise<EvalCase | undefined> => {
    if (exhausted) return undefined;
    const n = await iter.next();
    if (n.done) {
      exhausted = true;
      return undefined;
    }
    const v = n.value;
    const i = position++;
    return 'example' in v ? v : { example: v, index: i };
  };
  const halted = () => fatal !== undefined || stop !== undefined || signal?.aborted;

  const one = async ({ example, index }: EvalCase): Promise<void> => {
    let r: EvalResult;
    try {
      const req = await program.render(example);
      const res = await model.complete(req, { signal, meta: opts.meta?.(example, index) });
      const parsed = program.parse ? program.parse(res.text) : res.text;
      const s = await scorer.score(parsed, example);
      r = {
        example,
        index,
        output: res.text,
        parsed,
        score: s.score,
        pass: s.pass,
        usage: res.usage,
        latencyMs: res.latencyMs,
        costUsd: res.costUsd,
        cached: Boolean(res.cached),
      };
      if (res.cpuMs !== undefined) r.cpuMs = res.cpuMs;
      const extracted = s.extracted ?? (program.parse ? parsed : undefined);
      if (extracted !== undefined) r.extracted = extracted;
    } catch (err) {
      if (halted()) return;
      if (err instanceof BudgetExceeded) {
        stop = 'budget';
        return;
      }
      if (isBadInput(err)) {
        fatal = err;
        return;
      }
      r = {
        example,
        index,
        output: '',
        parsed: '',
        score: 0,
        pass: false,
        usage: { input: 0, output: 0 },
        latencyMs: 0,
        costUsd: 0,
        cached: false,
        error: oneLine(err),
      };
    }
    if (halted()) {
      // a stop reached while this call ran: its success is still a result; its failure is not
      if (fatal !== undefined || r.error !== undefined) return;
    }
    out.done++;
    if (r.error !== undefined) {
      out.errors++;
      inARow++;
      lastError = r.error;
      if (inARow >= GIVE_UP_AFTER && out.done < 2 * GIVE_UP_AFTER && out.errors === out.done) {
        fatal ??= new EvaluationFailed(`every call failed (${inARow} in a row); last error: ${r.error}`, lastError);
      }
    } else {
      inARow = 0;
      if (r.cached) out.cached++;
      out.costUsd += r.costUsd;
    }
    opts.onResult?.(r);
  };

  const worker = async () => {
    while (!halted()) {
      const c = await take();
      if (!c) return;
      await one(c);
    }
  };
  const conc = Math.max(1, opts.concurrency ?? 8);
  await Promise.all(Array.from({ length: conc }, worker));
  if (fatal !== undefined) throw fatal;
  if (signal?.aborted) out.stopped = 'aborted';
  else if (stop) out.stopped = stop;
  else if (out.done >= 3 && out.errors === out.done && out.done < GIVE_UP_AFTER) {
    throw new EvaluationFailed(`every call failed (${out.done} of ${out.done}); last error: ${String(lastError)}`, lastError);
  }
  return out;
}

/** An optimizer's view of one scored example. */
export interface EvalItem {
  id: string;
  output: string;
  parsed: string;
  score: number;
  pass: boolean;
  error?: string;
}

const item = (r: EvalResult): EvalItem => {
  const it: EvalItem = { id: r.example.id, output: r.output, parsed: r.parsed, score: r.score, pass: r.pass };
  if (r.error !== undefined) it.error = r.error;
  return it;
};

/** Run one program on one example and score it (errors are thrown, not scored). */
export async function runExample(
  program: PromptProgram,
  model: ChatModel,
  example: Example,
  scorer: Scorer,
  signal?: AbortSignal,
): Promise<EvalItem> {
  const r = await model.complete(await program.render(example), { signal });
  const parsed = program.parse ? program.parse(r.text) : r.text;
  const s = await scorer.score(parsed, example);
  return { id: example.id, output: r.text, parsed, score: s.score, pass: s.pass };
}

export interface EvaluatorOptions {
  concurrency?: number;
  signal?: AbortSignal;
}

/**
 * Scores programs on examples through evaluate(), with a memo keyed by (model, prompt hash, request
 * options, example id), so a program is never run twice on the same example. With a Meter, examples
 * past the call budget are left out deterministically (the first ones in order are run).
 */
export class Evaluator {
  private memo = new Map<string, EvalItem>();
  constructor(
    readonly model: ChatModel,
    readonly scorer: Scorer,
    readonly meter?: Meter,
    readonly opts: EvaluatorOptions = {},
  ) {}

  private key(program: PromptProgram, example: Example, model: ChatModel): string {
    const req = (program as { request?: unknown }).request;
    return `${model.id}|${program.hash}|${req ? canonicalJson(req) : ''}|${example.id}`;
  }

  cached(program: PromptProgram, example: Example, model: ChatModel = this.model): EvalItem | undefined {
    return this.memo.get(this.key(program, example, model));
  }

  /** Items in example order; `complete` is false when the budget stopped it early. Failed calls score 0. */
  async run(
    program: PromptProgram,
    examples: readonly Example[],
    model: ChatModel = this.model,
  ): Promise<{ items: EvalItem[]; complete: boolean }> {
    const todo: Example[] = [];
    for (const e of examples) if (!this.cached(program, e, model)) todo.push(e);
    let allowed = todo;
    if (this.meter) {
      const left = this.meter.callsLeft();
      if (left < todo.length) allowed = todo.slice(0, left);
    }
    const o = await evaluate(program, model, this.scorer, allowed, {
      concurrency: this.opts.concurrency ?? 8,
      signal: this.opts.signal,
      onResult: (r) => this.memo.set(this.key(program, r.example, model), item(r)),
    });
    if (o.stopped === 'aborted') throw this.opts.signal?.reason ?? new Error('aborted');
    const items: EvalItem[] = [];
    for (const e of examples) {
      const it = this.cached(program, e, model);
      if (it) items.push(it);
    }
    return { items, complete: items.length === examples.length };
  }

  /** Mean score over the examples that were run (0 when none). */
  async score(
    program: PromptProgram,
    examples: readonly Example[],
    model?: ChatModel,
  ): Promise<{ score: number; n: number; complete: boolean; items: EvalItem[] }> {
    const { items, complete } = await this.run(program, examples, model);
    return { score: mean(items.map((i) => i.score)), n: items.length, complete, items };
  }
}

export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}
