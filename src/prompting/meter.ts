import type { ChatModel, ChatRequest, ChatResponse, CompleteOptions } from '../models/types.ts';
import type { Spent } from './types.ts';

/** Hard limits on what preparing an arm may spend. */
export interface Budget {
  /** most model calls (every call counts, cached or not, the proposer's too) */
  calls?: number;
  /** most USD; a call is refused when spent + (in flight + 1) × the dearest call so far would pass it */
  costUsd?: number;
  /** most tokens in + out */
  tokens?: number;
}

export class BudgetExceeded extends Error {
  constructor(public what: string) {
    super(`budget exhausted: ${what}`);
    this.name = 'BudgetExceeded';
  }
}

export function zeroSpent(): Spent {
  return { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: 0 };
}

/** Counts every call and enforces a Budget before each one is issued. */
export class Meter {
  readonly spent: Spent = zeroSpent();
  private inflight = 0;
  private dearest = 0;
  private maxTokensSeen = 0;
  private waiters: (() => void)[] = [];
  private readonly started = Date.now();
  constructor(readonly budget: Budget = {}) {}

  /** calls still allowed (Infinity when unlimited) */
  callsLeft(): number {
    return this.budget.calls === undefined ? Infinity : Math.max(0, this.budget.calls - this.spent.calls - this.inflight);
  }

  /** What would stop one more call with `inflight` calls in flight: undefined when it may go. */
  private blocker(inflight: number): string | undefined {
    const b = this.budget;
    if (b.calls !== undefined && this.spent.calls + inflight + 1 > b.calls) return `${b.calls} calls`;
    if (b.costUsd !== undefined) {
      if (this.spent.calls > 0 && this.spent.costUsd >= b.costUsd) return `$${b.costUsd}`;
      // the price of a call is unknown until one has come back: one at a time until then
      if (this.spent.calls === 0 && inflight > 0) return `$${b.costUsd}`;
      if (this.spent.costUsd + (inflight + 1) * this.dearest > b.costUsd + 1e-12) return `$${b.costUsd}`;
    }
    if (b.tokens !== undefined) {
      if (this.spent.calls === 0 && inflight > 0) return `${b.tokens} tokens`;
      if (this.spent.tokensIn + this.spent.tokensOut + (inflight + 1) * this.maxTokensSeen > b.tokens) return `${b.tokens} tokens`;
    }
    return undefined;
  }

  canCall(): boolean {
    return this.blocker(this.inflight) === undefined;
  }

  /** Take a call slot now or throw BudgetExceeded. */
  reserve(): void {
    const why = this.blocker(this.inflight);
    if (why) throw new BudgetExceeded(why);
    this.inflight++;
  }

  /**
   * Take a call slot; when only the calls in flight stand in the way (their cost is not known yet),
   * wait for them to settle and decide again. Throws BudgetExceeded when the budget is spent.
   */
  async acquire(): Promise<void> {
    for (;;) {
      const why = this.blocker(this.inflight);
      if (!why) {
        this.inflight++;
        return;
      }
      if (this.inflight > 0 && this.blocker(0) === undefined) {
        await new Promise<void>((r) => this.waiters.push(r));
        continue;
      }
      throw new BudgetExceeded(why);
    }
  }

  settle(r: ChatResponse | undefined): void {
    this.inflight--;
    this.spent.calls++;
    if (r) {
      this.spent.tokensIn += r.usage.input;
      this.spent.tokensOut += r.usage.output;
      this.spent.costUsd += r.costUsd;
      this.dearest = Math.max(this.dearest, r.costUsd);
      this.maxTokensSeen = Math.max(this.maxTokensSeen, r.usage.input + r.usage.output);
    }
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Spent so far, with ms = time since the meter was created. */
  snapshot(): Spent {
    return { ...this.spent, ms: Date.now() - this.started };
  }
}

/** A ChatModel that charges every call to a Meter (refusing calls past the budget with BudgetExceeded). */
export class MeteredModel implements ChatModel {
  readonly id: string;
  constructor(
    readonly inner: ChatModel,
    readonly meter: Meter,
  ) {
    this.id = inner.id;
  }
  async complete(request: ChatRequest, options?: CompleteOptions): Promise<ChatResponse> {
    await this.meter.acquire();
    let r: ChatResponse | undefined;
    try {
      r = await this.inner.complete(request, options);
      return r;
    } finally {
      this.meter.settle(r);
    }
  }
}

export function addSpent(a: Spent, b: Spent): Spent {
  return {
    calls: a.calls + b.calls,
    tokensIn: a.tokensIn + b.tokensIn,
    tokensOut: a.tokensOut + b.tokensOut,
    costUsd: a.costUsd + b.costUsd,
    ms: a.ms + b.ms,
  };
}
