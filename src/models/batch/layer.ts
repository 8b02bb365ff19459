// The batch layer: a ChatModel whose complete() calls are gathered into provider batches.
//
//   complete(request) ─► known to an undelivered batch in the state file? ─► wait on that batch
//                     └► else queue; the queue is sent as one batch when it holds maxRequests (or would
//                        pass the provider's size limit) or when no request has come for idleMs; the
//                        batch id and its custom_ids are saved at once
//   one poller per batch (shared by every caller waiting on it): poll every pollMs until it ends, read
//   the results, answer each caller by custom_id (the request hash), then forget the batch.
//
// It sits below createModel's response cache, so answers land in the same cache as live calls, and a
// rerun after a kill asks again, finds the request in the state file and polls the same batch.
import { onAbort, sleep } from '../abort.ts';
import { AttemptError, ModelCallError } from '../errors.ts';
import { toAttemptError, wrapModel, type LayerContext, type ModelLayer } from '../layers.ts';
import { costOf } from '../prices.ts';
import { retryDelay } from '../retry.ts';
import type { ChatRequest, ChatResponse, CompleteOptions, Price } from '../types.ts';
import type { BatchSettings } from './config.ts';
import type { BatchState } from './state.ts';
import type { BatchClient, BatchItem, BatchPoll } from './types.ts';

export interface BatchModelOptions {
  client: BatchClient;
  settings: BatchSettings;
  state: BatchState;
  /** the provider's model name (stored with each batch) */
  model: string;
  /** a batch is sent before its requests pass this many bytes (the provider's size limit) */
  maxBytes?: number;
  /** the batch price (calls are priced with it) */
  price: Price;
  /** the request hash, when the caller did not pass it as options.requestHash */
  hashOf(request: ChatRequest): string;
  /** progress lines: submitted, polled, ended */
  log?: (message: string) => void;
}

interface Waiter {
  t0: number;
  hash: string;
  request: ChatRequest;
  meta?: Record<string, unknown>;
  resolve(r: ChatResponse): void;
  reject(e: unknown): void;
  /** unsubscribes from the caller's abort signal */
  off(): void;
  /** removes the waiter from whoever holds it now (the queue or a poller) */
  detach(): void;
}

/** Polls consecutive failures tolerated (network, 5xx, 429) before the waiting calls fail. */
const MAX_POLL_FAILURES = 8;

/** Pollers by `<endpoint>|<batch id>`: every model in the process waiting on one batch shares one. */
const watches = new Map<string, Watch>();

/**
 * The batch layer. It sits inside createModel's cache layer and outside retry, limit and accounting:
 * it answers complete() itself (never calling the model inside it), reports each request's outcome
 * through ctx.report at the batch price, and throws ModelCallError for a request that failed.
 * stream, scoreCandidates and embed are the inner model's (live calls).
 */
export function batchModelLayer(ctx: LayerContext, o: BatchModelOptions): ModelLayer {
  return (inner) =>
    wrapModel(inner, {
      complete: batchComplete(ctx, o),
      info: inner.info && { ...inner.info, price: o.price, batch: o.settings },
    });
}

function batchComplete(ctx: LayerContext, o: BatchModelOptions): (request: ChatRequest, options?: CompleteOptions) => Promise<ChatResponse> {
  const { client, settings, state } = o;
  const reporter: Reporter = (w, r) => report(ctx, o.price, w, r);
  let pending = new Map<string, { request: ChatRequest; waiters: Set<Waiter> }>();
  /** requests of batches being submitted right now: a repeat of one of them joins it, not the next batch */
  const submitting = new Map<string, { request: ChatRequest; waiters: Set<Waiter> }>();
  let idle: NodeJS.Timeout | undefined;
  let lastAdd = 0;
  let pendingBytes = 0;
  const maxBytes = o.maxBytes ?? Infinity;

  function armIdle() {
    if (idle) return;
    const wait = Math.max(0, lastAdd + settings.idleMs - Date.now());
    idle = setTimeout(() => {
      idle = undefined;
      if (Date.now() - lastAdd < settings.idleMs) armIdle();
      else void flush();
    }, wait);
  }

  async function flush(): Promise<void> {
    if (idle) {
      clearTimeout(idle);
      idle = undefined;
    }
    const entries = [...pending].filter(([, e]) => e.waiters.size > 0);
    pending = new Map();
    pendingBytes = 0;
    if (!entries.length) return;
    // the waiters now belong to this submission: an abort only removes them from it
    for (const [customId, e] of entries) {
      submitting.set(customId, e);
      for (const w of e.waiters) w.detach = () => e.waiters.delete(w);
    }
    const done = () => {
      for (const [customId, e] of entries) if (submitting.get(customId) === e) submitting.delete(customId);
    };
    let id: string | undefined;
    for (let attempt = 1; id === undefined; attempt++) {
      try {
        id = await client.submit(entries.map(([customId, e]) => ({ customId, request: e.request })));
      } catch (err) {
        const f = toAttemptError(err);
        f.message = ctx.redact(f.message);
        if (!f.retryable || attempt > ctx.retries) {
          done();
          for (const [, e] of entries) for (const w of e.waiters) reporter(w, f, attempt);
          return;
        }
        await sleep(retryDelay(attempt, f.retryAfterMs), undefined);
      }
    }
    state.add({ id, api: client.api, endpoint: client.endpoint, modelId: ctx.id, model: o.model, customIds: entries.map(([c]) => c), createdAt: Date.now() });
    done();
    o.log?.(`batch ${id}: submitted ${entries.length} request${entries.length === 1 ? '' : 's'} to ${client.api === 'openai' ? 'the OpenAI Batch API' : 'Anthropic Message Batches'} (${client.endpoint})`);
    const watch = watchFor(id);
    for (const [customId, e] of entries) {
      watch.requests.set(customId, e.request);
      for (const w of e.waiters) watch.adopt(customId, w);
    }
  }

  function watchFor(id: string): Watch {
    const key = `${client.endpoint}|${id}`;
    let w = watches.get(key);
    if (!w) {
      w = new Watch(id, client, settings, state, o.log, reporter, () => watches.delete(key));
      watches.set(key, w);
    }
    return w;
  }

  return function complete(request: ChatRequest, options: CompleteOptions = {}): Promise<ChatResponse> {
    const customId = options.requestHash ?? o.hashOf(request);
    const signal = options.signal;
    return new Promise<ChatResponse>((resolve, reject) => {
      const w: Waiter = { t0: performance.now(), hash: customId, request, meta: options.meta, resolve, reject, off: noop, detach: noop };
      const aborted = () => new ModelCallError(ctx.id, customId, 'aborted', 'aborted by caller', 0, undefined, ctx.endpoint);
      if (signal) {
        if (signal.aborted) return reject(aborted());
        w.off = onAbort(signal, () => {
          w.detach();
          reject(aborted());
        });
      }
      const known = state.find(customId, client.endpoint, o.model);
      if (known) {
        const watch = watchFor(known.id);
        watch.requests.set(customId, request);
        watch.adopt(customId, w);
        return;
      }
      const inFlight = submitting.get(customId);
      if (inFlight) {
        inFlight.waiters.add(w);
        w.detach = () => inFlight.waiters.delete(w);
        return;
      }
      let e = pending.get(customId);
      if (!e) {
        // the line's size, roughly (request JSON plus the body fields around it): a batch is sent before it would pass the limit
        const bytes = maxBytes === Infinity ? 0 : JSON.stringify(request).length + 400;
        if (pending.size && pendingBytes + bytes > maxBytes) void flush();
        pendingBytes += bytes;
        pending.set(customId, (e = { request, waiters: new Set() }));
      }
      const entry = e;
      entry.waiters.add(w);
      w.detach = () => entry.waiters.delete(w);
      lastAdd = Date.now();
      if (pending.size >= settings.maxRequests) void flush();
      else armIdle();
    });
  };
}

function noop(): void {}

/** Answers one waiter: a response, or an AttemptError that becomes its ModelCallError. */
type Reporter = (w: Waiter, r: { text: string; usage: { input: number; output: number }; batchId: string } | AttemptError, attempt?: number) => void;

function report(ctx: LayerContext, price: Price, w: Waiter, r: Parameters<Reporter>[1], attempt = 1): void {
  w.off();
  w.detach = noop;
  const latencyMs = performance.now() - w.t0;
  if (r instanceof AttemptError) {
    ctx.report({ hash: w.hash, request: w.request, attempt, cached: false, ok: false, error: r.message, errorKind: r.kind, status: r.status, usage: { input: 0, output: 0 }, latencyMs, costUsd: 0, meta: w.meta });
    w.reject(new ModelCallError(ctx.id, w.hash, r.kind, r.message, attempt, r.status, ctx.endpoint));
    return;
  }
  // priced by tokens only: a batch's wall time (hours) is not compute time
  const costUsd = costOf(price, r.usage, 0);
  ctx.report({ hash: w.hash, request: w.request, attempt, cached: false, ok: true, response: { text: r.text }, usage: r.usage, latencyMs, costUsd, meta: w.meta });
  w.resolve({ text: r.text, usage: r.usage, latencyMs, costUsd, raw: { batchId: r.batchId } });
}

/** One batch being waited on: polls while anyone waits, answers each waiter when the batch ends. */
class Watch {
  readonly requests = new Map<string, ChatRequest>();
  private waiters = new Map<string, Set<Waiter>>();
  private count = 0;
  private running = false;
  private stop: AbortController | undefined;
  private lastLog = '';

  constructor(
    readonly id: string,
    private client: BatchClient,
    private settings: BatchSettings,
    private state: BatchState,
    private log: ((m: string) => void) | undefined,
    private reporter: Reporter,
    private dispose: () => void,
  ) {}

  adopt(customId: string, w: Waiter): void {
    let set = this.waiters.get(customId);
    if (!set) this.waiters.set(customId, (set = new Set()));
    const s = set;
    s.add(w);
    this.count++;
    w.detach = () => {
      if (s.delete(w)) {
        this.count--;
        if (!s.size) this.waiters.delete(customId);
        // nobody waits any more (the run was stopped): stop polling; the batch stays in the state file
        if (this.count === 0) this.stop?.abort();
      }
    };
    if (!this.running) void this.loop();
  }

  private async loop(): Promise<void> {
    this.running = true;
    const stop = (this.stop = new AbortController());
    let failures = 0;
    try {
      while (this.count > 0) {
        let poll: BatchPoll;
        try {
          poll = await this.client.poll(this.id, stop.signal);
          failures = 0;
        } catch (err) {
          if (stop.signal.aborted) return;
          if (!(err instanceof AttemptError) || !err.retryable || ++failures >= MAX_POLL_FAILURES) {
            // 404: the batch is gone (deleted, or another account): forget it so a rerun submits anew
            if (err instanceof AttemptError && err.status === 404) this.state.remove(this.id);
            this.failAll(new AttemptError(err instanceof AttemptError ? err.kind : 'other', `batch ${this.id}: polling failed: ${(err as Error).message}`, false, (err as AttemptError).status));
            return;
          }
          await pause(Math.min(this.settings.pollMs * 2 ** failures, 600_000), stop.signal);
          continue;
        }
        const line = `batch ${this.id}: ${poll.status}${poll.total ? ` ${poll.done ?? 0}/${poll.total}` : ''}${poll.failed ? ` (${poll.failed} failed)` : ''}`;
        if (line !== this.lastLog) this.log?.((this.lastLog = line));
        if (poll.ended) {
          await this.deliver(poll, stop.signal);
          return;
        }
        await pause(this.settings.pollMs, stop.signal);
      }
    } finally {
      this.running = false;
      if (this.stop === stop) this.stop = undefined;
      // a waiter that came while the loop was ending starts it again
      if (this.count > 0 && !this.delivered) void this.loop();
    }
  }

  private delivered = false;

  private async deliver(poll: BatchPoll, signal: AbortSignal): Promise<void> {
    if (poll.error) {
      this.finish(new Map(), poll);
      return;
    }
    const items = new Map<string, BatchItem>();
    for (let attempt = 1; ; attempt++) {
      try {
        items.clear();
        for await (const item of this.client.results(this.id, poll, (c) => this.requests.get(c), signal)) items.set(item.customId, item);
        break;
      } catch (err) {
        if (signal.aborted) return;
        if (!(err instanceof AttemptError) || !err.retryable || attempt >= MAX_POLL_FAILURES) {
          this.failAll(new AttemptError(err instanceof AttemptError ? err.kind : 'other', `batch ${this.id}: reading results failed: ${(err as Error).message}`, false, (err as AttemptError).status));
          return;
        }
        await pause(Math.min(this.settings.pollMs * 2 ** attempt, 600_000), signal).catch(noop);
      }
    }
    this.finish(items, poll);
  }

  private finish(items: Map<string, BatchItem>, poll: BatchPoll): void {
    this.delivered = true;
    this.dispose();
    let ok = 0;
    let failed = 0;
    for (const [customId, set] of this.waiters) {
      const item = items.get(customId);
      for (const w of set) {
        if (item?.ok) this.reporter(w, { text: item.text, usage: item.usage, batchId: this.id });
        else {
          const msg = poll.error ?? item?.message ?? `batch ${this.id} ${poll.status}: no result for this request`;
          this.reporter(w, new AttemptError(item && !item.ok && item.status ? 'http' : 'other', msg, false, item && !item.ok ? item.status : undefined));
        }
      }
      if (item?.ok) ok++;
      else failed++;
    }
    this.waiters.clear();
    this.count = 0;
    this.log?.(`batch ${this.id}: ${poll.status}: ${ok} answered, ${failed} failed`);
    // Forget the batch once the answers are in the response cache (written at the next turn of the event
    // loop); killed before that, a rerun reads this batch's results again rather than paying for a new one.
    setImmediate(() => setImmediate(() => this.state.remove(this.id)));
  }

  private failAll(err: AttemptError): void {
    for (const set of this.waiters.values()) for (const w of set) this.reporter(w, err);
    this.waiters.clear();
    this.count = 0;
    this.delivered = true;
    this.dispose();
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(() => {
      off();
      resolve();
    }, ms);
    const off = onAbort(signal, () => {
      clearTimeout(t);
      resolve();
    });
  });
}
