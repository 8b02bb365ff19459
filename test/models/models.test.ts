import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  createModel,
  costOf,
  ModelCallError,
  ModelConfigError,
  modelConfigSchema,
  parseRetryAfter,
  priceFor,
  registerProvider,
  requestHash,
  AttemptError,
  Semaphore,
  type CallRecord,
  type ChatResponse,
  type ModelConfig,
  type ResponseCache,
} from '../../src/models/index.ts';
import { startMockOpenAI, type MockServer } from '../helpers/mock-openai-server.ts';

const fast = { baseMs: 5, maxMs: 20 };
const user = (content: string) => ({ messages: [{ role: 'user' as const, content }] });

class MemCache implements ResponseCache {
  map = new Map<string, ChatResponse>();
  get(k: string) {
    return this.map.get(k);
  }
  put(k: string, _m: string, r: ChatResponse) {
    this.map.set(k, r);
  }
}

/** A port nothing listens on: bind one, then close it. */
async function deadPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const p = (s.address() as any).port as number;
  await new Promise((r) => s.close(r));
  return p;
}

describe('models: OpenAI-compatible adapter against the mock server', () => {
  let srv: MockServer;
  let n = 0;
  // every test gets its own model id and base URL query so limiters and caches never mix
  const cfg = (extra: Partial<ModelConfig> = {}): ModelConfig => ({ id: `m${++n}`, provider: 'openai-compatible', baseURL: srv.baseURL, ...extra });
  before(async () => {
    srv = await startMockOpenAI();
  });
  after(() => srv.close());

  test('answers deterministically with usage and latency', async () => {
    const m = createModel(cfg());
    const a = await m.complete(user('You WIN a free prize'));
    const b = await m.complete(user('meeting notes for tuesday'));
    assert.equal(a.text, 'spam');
    assert.equal(b.text, 'ham');
    assert.equal(a.usage.input, Math.ceil('You WIN a free prize'.length / 4));
    assert.equal(a.usage.output, 1);
    assert.ok(a.latencyMs > 0);
    assert.equal(a.costUsd, 0);
    assert.equal(srv.requests.at(-1).model, m.info.model);
  });

  test('429 then success honours Retry-After (measured wait)', async () => {
    const calls: CallRecord[] = [];
    const m = createModel(cfg(), { backoff: fast, onCall: (c) => calls.push(c) });
    const before = srv.count();
    srv.failNext('429', 1, { retryAfterSec: 1 });
    const t0 = performance.now();
    const r = await m.complete(user('hello'));
    const waited = performance.now() - t0;
    assert.equal(r.text, 'ham');
    assert.equal(srv.count() - before, 2);
    assert.ok(waited >= 950, `waited ${waited} ms, Retry-After said 1 s`);
    assert.deepEqual(calls.map((c) => [c.attempt, c.ok, c.status]), [[1, false, 429], [2, true, undefined]]);
  });

  test('Retry-After is capped', async () => {
    const m = createModel(cfg(), { backoff: { ...fast, retryAfterCapMs: 100 } });
    srv.failNext('429', 1, { retryAfterSec: 30 });
    const t0 = performance.now();
    await m.complete(user('hello'));
    // uncapped it would wait 30 s; a loaded machine does not add 20 s to a 100 ms wait
    assert.ok(performance.now() - t0 < 20_000);
  });

  test('500 then success', async () => {
    const m = createModel(cfg(), { backoff: fast });
    const before = srv.count();
    srv.failNext('500');
    assert.equal((await m.complete(user('free money'))).text, 'spam');
    assert.equal(srv.count() - before, 2);
  });

  test('timeout then success (request timeout via AbortSignal)', async () => {
    const m = createModel(cfg({ timeoutMs: 300 }), { backoff: fast });
    const before = srv.count();
    srv.failNext('timeout');
    const t0 = performance.now();
    assert.equal((await m.complete(user('hi'))).text, 'ham');
    const dt = performance.now() - t0;
    assert.ok(dt >= 290, `took ${dt} ms`);
    assert.equal(srv.count() - before, 2);
  });

  test('malformed body then success', async () => {
    const calls: CallRecord[] = [];
    const m = createModel(cfg(), { backoff: fast, onCall: (c) => calls.push(c) });
    srv.failNext('malformed');
    assert.equal((await m.complete(user('hi'))).text, 'ham');
    assert.equal(calls[0].errorKind, 'malformed');
    assert.equal(calls[1].ok, true);
  });

  test('dropped connection then success', async () => {
    const calls: CallRecord[] = [];
    const m = createModel(cfg(), { backoff: fast, onCall: (c) => calls.push(c) });
    srv.failNext('drop', 2);
    assert.equal((await m.complete(user('hi'))).text, 'ham');
    assert.deepEqual(calls.map((c) => c.errorKind ?? 'ok'), ['connection', 'connection', 'ok']);
  });

  test('exhausted retries: error names the model and the request', async () => {
    const m = createModel(cfg({ id: 'gpt-mini', retries: 2 }), { backoff: fast });
    const before = srv.count();
    srv.failNext('500', 3);
    const req = user('doomed');
    const hash = requestHash('openai-compatible', srv.baseURL, 'gpt-mini', req);
    await assert.rejects(m.complete(req), (e: any) => {
      assert.ok(e instanceof ModelCallError);
      assert.equal(e.message, `model gpt-mini: request ${hash.slice(0, 8)}: HTTP 500 (internal error (mock)) after 3 attempts`);
      assert.equal(e.requestHash, hash);
      assert.equal(e.status, 500);
      assert.equal(e.attempts, 3);
      return true;
    });
    assert.equal(srv.count() - before, 3);
  });

  test('4xx other than 408/409/429 is not retried', async () => {
    const s2 = await startMockOpenAI({ apiKey: 'right' });
    try {
      process.env.TL_WRONG_KEY = 'wrong-key-value';
      const m = createModel({ id: 'k1', provider: 'openai-compatible', baseURL: s2.baseURL, apiKeyEnv: 'TL_WRONG_KEY' }, { backoff: fast });
      await assert.rejects(m.complete(user('x')), /HTTP 401/);
      assert.equal(s2.count(), 1);
    } finally {
      delete process.env.TL_WRONG_KEY;
      await s2.close();
    }
  });

  test('concurrency limit: the server never sees more than N in flight, shared by models on one endpoint', async () => {
    const s2 = await startMockOpenAI({ latencyMs: 40 });
    try {
      const a = createModel({ id: 'ca', provider: 'openai-compatible', baseURL: s2.baseURL, concurrency: 3 });
      const b = createModel({ id: 'cb', provider: 'openai-compatible', baseURL: s2.baseURL, concurrency: 3 });
      const jobs = [];
      for (let i = 0; i < 12; i++) jobs.push((i % 2 ? a : b).complete(user(`q${i}`)));
      await Promise.all(jobs);
      assert.equal(s2.count(), 12);
      assert.equal(s2.maxInFlight(), 3);
    } finally {
      await s2.close();
    }
  });

  test('cost from configured price, built-in table and perHour', async () => {
    const m = createModel(cfg({ price: { input: 2, output: 10 } }));
    const r = await m.complete(user('some text to count'));
    assert.ok(r.usage.input > 0);
    assert.equal(r.costUsd, (r.usage.input * 2 + r.usage.output * 10) / 1e6);

    process.env.TL_FAKE_OPENAI = 'sk-fake-for-pricing';
    try {
      const hosted = createModel({ id: 'gpt-4o-mini-2024-07-18', provider: 'openai', baseURL: srv.baseURL, apiKeyEnv: 'TL_FAKE_OPENAI' });
      assert.deepEqual(hosted.info.price, { input: 0.15, output: 0.6 });
      const h = await hosted.complete(user('price me'));
      assert.equal(h.costUsd, (h.usage.input * 0.15 + h.usage.output * 0.6) / 1e6);
      assert.equal('max_completion_tokens' in srv.requests.at(-1), false); // only sent when maxTokens is set
      await hosted.complete({ ...user('price me'), maxTokens: 9 });
      assert.equal(srv.requests.at(-1).max_completion_tokens, 9); // OpenAI's newer models reject max_tokens
    } finally {
      delete process.env.TL_FAKE_OPENAI;
    }
    const local = createModel(cfg({ price: { input: 0, output: 0, perHour: 3.6 } }));
    const l = await local.complete(user('hourly'));
    assert.ok(Math.abs(l.costUsd - l.latencyMs / 1e6) < 1e-12); // 3.6 $/h = 1e-6 $/ms
    assert.equal(costOf({ input: 1, output: 2, perHour: 36 }, { input: 1e6, output: 5e5 }, 100), 1 + 1 + 0.001);
    assert.equal(priceFor('ollama', 'gpt-4o', undefined).price.input, 0); // self-hosted: free unless priced
    assert.equal(priceFor('openai', 'mystery-model').known, false);
    assert.equal(priceFor('groq', 'llama-3.1-8b-instant').known, false);
    assert.equal(priceFor('vllm', 'anything').known, true);
  });

  test('config temperature and maxTokens reach the request; request values win', async () => {
    const m = createModel(cfg({ temperature: 0.3, maxTokens: 7, options: { top_k: 5 } }));
    await m.complete(user('a'));
    let body = srv.requests.at(-1);
    assert.equal(body.temperature, 0.3);
    assert.equal(body.max_tokens, 7);
    assert.equal(body.top_k, 5);
    await m.complete({ ...user('a'), temperature: 0, maxTokens: 2, stop: ['\n'], seed: 3 });
    body = srv.requests.at(-1);
    assert.deepEqual([body.temperature, body.max_tokens, body.stop, body.seed], [0, 2, ['\n'], 3]);
  });

  test('cache hit avoids the server; errors are never cached; noCache bypasses reads but still writes', async () => {
    const cache = new MemCache();
    const calls: CallRecord[] = [];
    const c = cfg({ retries: 1 });
    const m = createModel(c, { cache, backoff: fast, onCall: (x) => calls.push(x) });
    const before = srv.count();
    const first = await m.complete(user('cache me'));
    const second = await m.complete(user('cache me'));
    assert.equal(srv.count() - before, 1);
    assert.equal(second.cached, true);
    assert.equal(second.text, first.text);
    assert.equal(calls.at(-1)!.attempt, 0);
    assert.equal(calls.at(-1)!.cached, true);

    srv.failNext('500', 2);
    await assert.rejects(m.complete(user('fails')), ModelCallError);
    assert.equal(cache.map.size, 1);
    const n0 = srv.count();
    assert.equal((await m.complete(user('fails'))).cached, undefined);
    assert.equal(srv.count() - n0, 1);
    assert.equal(cache.map.size, 2);

    const bypass = createModel(c, { cache, noCache: true });
    const n1 = srv.count();
    const r = await bypass.complete(user('cache me'));
    assert.equal(r.cached, undefined);
    assert.equal(srv.count() - n1, 1);
    const fresh = await bypass.complete(user('new under noCache'));
    assert.ok(fresh);
    assert.equal(cache.map.size, 3); // written although reads were bypassed
  });

  test('request hash: key order does not matter, keys never enter it, model and messages do', () => {
    const a = requestHash('p', 'u', 'm', { messages: [{ role: 'user', content: 'x' }], temperature: 0 });
    const b = requestHash('p', 'u', 'm', { temperature: 0, messages: [{ content: 'x', role: 'user' }] } as any);
    assert.equal(a, b);
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.notEqual(a, requestHash('p', 'u', 'm2', { messages: [{ role: 'user', content: 'x' }], temperature: 0 }));
    assert.notEqual(a, requestHash('p', 'u', 'm', { messages: [{ role: 'user', content: 'y' }], temperature: 0 }));
    const hashes: string[] = [];
    for (const [v, name] of [['key-one-1234', 'TL_K1'], ['key-two-5678', 'TL_K2']]) {
      process.env[name] = v;
      const m = createModel({ id: 'same', provider: 'openai-compatible', baseURL: 'http://127.0.0.1:9/v1', apiKeyEnv: name });
      hashes.push(requestHash('openai-compatible', m.info.endpoint, 'same', user('x')));
      delete process.env[name];
    }
    assert.equal(hashes[0], hashes[1]);
  });

  test('caller abort stops a hanging call at once and is not retried', async () => {
    // no clock in the assertions: abort once the server holds the request; had the abort not stopped
    // the call, it would end by the 120 s timeout (kind 'timeout', not 'aborted') or not at all
    const m = createModel(cfg({ timeoutMs: 120_000 }), { backoff: fast });
    const before = srv.count();
    srv.failNext('timeout');
    const ac = new AbortController();
    const call = m.complete(user('x'), { signal: ac.signal });
    while (srv.count() - before < 1) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await assert.rejects(call, (e: any) => e instanceof ModelCallError && e.kind === 'aborted' && e.attempts === 1);
    assert.equal(srv.count() - before, 1);
  });
});

describe('models: unreachable endpoints and config errors', () => {
  test('an unreachable base URL fails fast and names the URL', async () => {
    const port = await deadPort();
    const url = `http://127.0.0.1:${port}/v1`;
    const m = createModel({ id: 'gone', provider: 'openai-compatible', baseURL: url });
    // fails fast: at most 3 attempts (with the default 4 retries), each wait at most 250 ms
    await assert.rejects(m.complete(user('x')), (e: any) => {
      assert.ok(e instanceof ModelCallError);
      assert.equal(e.kind, 'unreachable');
      assert.ok(e.attempts <= 3, `attempts: ${e.attempts}`);
      assert.ok(e.message.startsWith('model gone: request '));
      assert.ok(e.message.includes(`cannot connect to ${url} (ECONNREFUSED)`), e.message);
      return true;
    });
    // the next call does not even try
    await assert.rejects(m.complete(user('y')), (e: any) => e.kind === 'unreachable' && e.attempts === 0);
  });

  test('unknown provider, missing key variable, bad config', () => {
    assert.throws(() => createModel({ id: 'x', provider: 'nope' }), (e: any) => {
      assert.ok(e instanceof ModelConfigError);
      assert.match(e.message, /^models\[x\]\.provider: unknown provider "nope" \(known: .*openai-compatible/);
      return true;
    });
    process.env.TL_EMPTY_KEY = '';
    assert.throws(() => createModel({ id: 'y', provider: 'openai', apiKeyEnv: 'TL_EMPTY_KEY' }), /models\[y\]\.apiKeyEnv: environment variable TL_EMPTY_KEY is not set/);
    delete process.env.TL_EMPTY_KEY;
    assert.throws(() => createModel({ id: 'z', provider: 'anthropic' }, { env: {} }), /environment variable ANTHROPIC_API_KEY is not set/);
    assert.throws(() => createModel({ id: 'w', provider: 'openai' }, { env: {} }), /environment variable OPENAI_API_KEY is not set/);
    assert.throws(() => createModel({ id: 'v', provider: 'openai-compatible' }), /models\[v\]\.baseURL: required for provider openai-compatible/);
    assert.throws(() => createModel({ id: 'u', provider: 'openai-compatible', baseURL: 'http://h/v1', concurrency: 1.5 } as any), /models\[u\]\.concurrency: /);
    assert.throws(() => createModel({ id: 't', provider: 'openai-compatible', bogus: 1 } as any), (e: any) => e instanceof ModelConfigError && /bogus/.test(e.message));
    const r = modelConfigSchema.safeParse({ id: 's', provider: 'openai', options: { api_key: 'sk-live' } });
    assert.equal(r.success, false);
    assert.match(JSON.stringify(r.error!.issues), /apiKeyEnv/);
    // a well-known local server needs no base URL or key
    const o = createModel({ id: 'llama3', provider: 'ollama' }, { env: {} });
    assert.equal(o.info.endpoint, 'http://127.0.0.1:11434/v1');
  });

  test('registered providers are wrapped: retries apply to AttemptError, others are not retried', async () => {
    let n = 0;
    registerProvider('test-flaky', (cfg) => ({
      id: cfg.id,
      endpoint: 'flaky://',
      async complete() {
        n++;
        if (n === 1) throw new AttemptError('http', 'HTTP 503', true, 503);
        if (n === 3) throw new Error('boom');
        return { text: `ok${n}`, usage: { input: 3, output: 1 }, latencyMs: 0, costUsd: 0 };
      },
    }));
    registerProvider('test-hang', (cfg) => {
      let k = 0;
      return {
        id: cfg.id,
        endpoint: 'hang://',
        complete: (_req, o) =>
          ++k === 1
            ? new Promise((_res, rej) => o?.signal?.addEventListener('abort', () => rej(new Error('stopped'))))
            : Promise.resolve({ text: 'late', usage: { input: 1, output: 1 }, latencyMs: 0, costUsd: 0 }),
      };
    });
    const kinds: string[] = [];
    const hang = createModel({ id: 'h', provider: 'test-hang', timeoutMs: 100 }, { backoff: fast, onCall: (c) => kinds.push(c.error ?? 'ok') });
    assert.equal((await hang.complete(user('x'))).text, 'late');
    assert.deepEqual(kinds, ['timed out after 100 ms', 'ok']); // the wrapper's own timeout for providers without one
    const m = createModel({ id: 'f', provider: 'test-flaky', price: { input: 1e6, output: 0 } }, { backoff: fast });
    const r = await m.complete(user('x'));
    assert.equal(r.text, 'ok2');
    assert.equal(r.costUsd, 3);
    await assert.rejects(m.complete(user('x')), /model f: request [0-9a-f]{8}: boom$/);
    assert.equal(n, 3);
  });
});

describe('models: Anthropic adapter', () => {
  // The mock serves POST /v1/messages following Anthropic's documented Messages API:
  // x-api-key auth, top-level `system`, required `max_tokens`, `content: [{type:'text', text}]`,
  // `usage: {input_tokens, output_tokens}`, error bodies `{type:'error', error:{type, message}}`.
  test('messages, system, max_tokens, usage, auth header, retries', async () => {
    const srv = await startMockOpenAI({ apiKey: 'anthropic-test-key' });
    try {
      const m = createModel(
        { id: 'claude-haiku-4-5', provider: 'anthropic', baseURL: srv.baseURL, apiKeyEnv: 'TL_ANTHROPIC' },
        { env: { TL_ANTHROPIC: 'anthropic-test-key' }, backoff: fast },
      );
      srv.failNext('429', 1, { retryAfterSec: 0 });
      const r = await m.complete({
        messages: [
          { role: 'system', content: 'Classify as spam or ham.' },
          { role: 'user', content: 'Claim your free cash' },
        ],
        temperature: 0,
      });
      assert.equal(r.text, 'spam');
      assert.equal(srv.count(), 2);
      const body = srv.requests.at(-1);
      assert.equal(body.system, 'Classify as spam or ham.');
      assert.equal(body.max_tokens, 1024);
      assert.equal(body.model, 'claude-haiku-4-5');
      assert.deepEqual(body.messages, [{ role: 'user', content: 'Claim your free cash' }]);
      assert.equal(r.usage.input, Math.ceil(('Classify as spam or ham.'.length + 'Claim your free cash'.length) / 4));
      assert.equal(r.costUsd, (r.usage.input * 1 + r.usage.output * 5) / 1e6);
      // a hanging answer is cut at timeoutMs by the SDK and retried
      const calls: string[] = [];
      srv.failNext('timeout');
      const t0 = performance.now();
      const rt = await createModel(
        { id: 'claude-t2', provider: 'anthropic', baseURL: srv.baseURL, timeoutMs: 300 },
        { env: { ANTHROPIC_API_KEY: 'anthropic-test-key' }, backoff: fast, onCall: (c) => calls.push(c.errorKind ?? 'ok') },
      ).complete(user('hi'));
      assert.equal(rt.text, 'ham');
      assert.ok(performance.now() - t0 >= 290);
      assert.deepEqual(calls, ['timeout', 'ok']);
      srv.failNext('500', 5);
      await assert.rejects(
        createModel({ id: 'c2', provider: 'anthropic', baseURL: srv.baseURL, retries: 1 }, { env: { ANTHROPIC_API_KEY: 'anthropic-test-key' }, backoff: fast }).complete(user('x')),
        /model c2: request [0-9a-f]{8}: HTTP 500 \(internal error \(mock\)\) after 2 attempts$/,
      );
    } finally {
      await srv.close();
    }
  });
});

describe('models: pieces', () => {
  test('parseRetryAfter: seconds, HTTP date, retry-after-ms, junk', () => {
    assert.equal(parseRetryAfter('2'), 2000);
    assert.equal(parseRetryAfter('0.5'), 500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', null, now), 5000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', null, now), 0);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(null, '250'), 250);
    assert.equal(parseRetryAfter(undefined), undefined);
  });

  test('Semaphore is FIFO and bounded', async () => {
    const s = new Semaphore(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        s.run(async () => {
          active++;
          peak = Math.max(peak, active);
          order.push(i);
          await new Promise((r) => setTimeout(r, 5));
          active--;
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(s.inUse, 0);
  });
});
