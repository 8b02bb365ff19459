// Batch mode against a local server that follows OpenAI's documented Batch API (files with purpose
// "batch", JSONL {custom_id, method, url, body}, POST /v1/batches, status polling, output and error files).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchLayers, createModel, requestHash, type CallRecord, type ChatResponse, type ModelConfig, type ResponseCache } from '../../src/models/index.ts';
import { startMockBatchOpenAI, type MockBatchOpenAI } from '../helpers/mock-batch-openai.ts';
import { defaultRespond } from '../helpers/mock-openai-server.ts';
import { cli, cleanup, project, query, SPAM_JSONL } from '../cli/helpers.ts';

const KEY = 'sk-test-batch-0123456789';
const env = { OPENAI_API_KEY: KEY };
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tunelab-batch-openai-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Waits until `cond` holds (fails after 5 s): no fixed sleeps that a loaded machine can outrun. */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

class MapCache implements ResponseCache {
  m = new Map<string, ChatResponse>();
  get(k: string) {
    return this.m.get(k);
  }
  put(k: string, _id: string, r: ChatResponse) {
    this.m.set(k, r);
  }
}

const msgs = (n: number, tag = '') => Array.from({ length: n }, (_, i) => [{ role: 'user' as const, content: `${tag}email ${i}: ${i % 3 === 0 ? 'win free cash now' : 'meeting notes attached'}` }]);

function make(server: MockBatchOpenAI, cache: ResponseCache, calls: CallRecord[], stateFile: string, extra: Partial<ModelConfig> = {}) {
  const cfg: ModelConfig = {
    id: 'gpt',
    provider: 'openai',
    model: 'gpt-4o-mini',
    baseURL: server.baseURL,
    price: { input: 1, output: 2 },
    batch: { pollSeconds: 0.02, idleMs: 10 },
    ...extra,
  };
  return createModel(cfg, { env, cache, onCall: (c) => calls.push(c), layers: batchLayers(cfg, { env, stateFile }) });
}

test('submit → poll → results: one batch, answers by custom_id, batch price, cache filled; a second run makes no call', async () => {
  const server = await startMockBatchOpenAI({ apiKey: KEY });
  try {
    const cache = new MapCache();
    const calls: CallRecord[] = [];
    const stateFile = join(dir, 'a', 'batches.json');
    const m = make(server, cache, calls, stateFile);
    assert.deepEqual(m.info.price, { input: 0.5, output: 1 }, 'half price by default');
    assert.ok(m.info.batch, 'info says the model is batched');
    const reqs = msgs(30);
    const out = await Promise.all(reqs.map((messages, i) => m.complete({ messages, temperature: 0 }, { meta: { exampleId: `e${i}` } })));
    const s = server.stats();
    assert.equal(s.batches, 1, 'all 30 requests went in one batch');
    assert.equal(s.files, 1);
    assert.equal(s.requests, 30);
    reqs.forEach((messages, i) => assert.equal(out[i].text, defaultRespond({ messages }), `answer ${i}`));
    // the custom_id of each line is the request hash, which is the cache key
    const [id] = server.batchIds();
    const lines = server.linesOf(id);
    assert.deepEqual(lines[0].method, 'POST');
    assert.equal(lines[0].url, '/v1/chat/completions');
    assert.equal(lines[0].body.model, 'gpt-4o-mini');
    assert.deepEqual(new Set(lines.map((l) => l.custom_id)), new Set(cache.m.keys()));
    const h = requestHash('openai', server.baseURL, 'gpt-4o-mini', { messages: reqs[0], temperature: 0 }, undefined);
    assert.ok(cache.m.has(h), 'cache key = requestHash = custom_id');
    // accounting: one record per request, at the batch price
    assert.equal(calls.length, 30);
    for (const c of calls) {
      assert.equal(c.ok, true);
      assert.ok(Math.abs(c.costUsd - (c.usage.input * 0.5 + c.usage.output * 1) / 1e6) < 1e-15);
      assert.ok(typeof c.meta?.exampleId === 'string');
    }
    // the batch is forgotten once delivered
    await until(() => JSON.parse(readFileSync(stateFile, 'utf8')).batches.length === 0);

    // second run, same cache: every answer is cached, the server sees nothing
    const before = JSON.stringify(server.stats());
    const calls2: CallRecord[] = [];
    const m2 = make(server, cache, calls2, stateFile);
    const out2 = await Promise.all(reqs.map((messages) => m2.complete({ messages, temperature: 0 })));
    assert.deepEqual(out2.map((r) => r.text), out.map((r) => r.text));
    assert.ok(out2.every((r) => r.cached));
    assert.equal(JSON.stringify(server.stats()), before, 'zero calls');
  } finally {
    await server.close();
  }
});

test('maxRequests splits a queue into several batches; every request is answered once', async () => {
  const server = await startMockBatchOpenAI({ apiKey: KEY });
  try {
    const m = make(server, new MapCache(), [], join(dir, 'f', 'batches.json'), { batch: { pollSeconds: 0.02, idleMs: 10, maxRequests: 4 } });
    const reqs = msgs(10);
    const out = await Promise.all(reqs.map((messages) => m.complete({ messages })));
    assert.deepEqual(out.map((r) => r.text), reqs.map((messages) => defaultRespond({ messages })));
    // sizes depend on when the idle flush fires on a loaded machine: never above maxRequests, every request once
    const sizes = server.batchIds().map((id) => server.linesOf(id).length);
    assert.ok(sizes.length >= 3 && sizes.every((n) => n <= 4), `batch sizes ${sizes}`);
    assert.equal(sizes.reduce((a, b) => a + b, 0), 10);
  } finally {
    await server.close();
  }
});

test('partial failures: failed requests are failed calls naming the error; the rest are answered', async () => {
  const server = await startMockBatchOpenAI({
    apiKey: KEY,
    fail: (body) => (String(body.messages.at(-1).content).includes('email 4:') || String(body.messages.at(-1).content).includes('email 7:') ? { status: 400, message: 'context length exceeded' } : undefined),
  });
  try {
    const cache = new MapCache();
    const calls: CallRecord[] = [];
    const m = make(server, cache, calls, join(dir, 'b', 'batches.json'));
    const res = await Promise.allSettled(msgs(10).map((messages) => m.complete({ messages })));
    const failed = res.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    assert.deepEqual(failed, [4, 7]);
    const err = (res[4] as PromiseRejectedResult).reason;
    assert.equal(err.name, 'ModelCallError');
    assert.match(err.message, /^model gpt: request [0-9a-f]{8}: batch batch_\d+: HTTP 400 \(context length exceeded\)/);
    assert.equal(server.stats().batches, 1);
    assert.equal(cache.m.size, 8, 'only answers are cached');
    const bad = calls.filter((c) => !c.ok);
    assert.equal(bad.length, 2);
    assert.equal(bad[0].status, 400);
    assert.equal(calls.filter((c) => c.ok).length, 8);
  } finally {
    await server.close();
  }
});

test('expiry: requests the 24h window ran out on fail as expired; a rerun sends only those again', async () => {
  const server = await startMockBatchOpenAI({ apiKey: KEY, expireAfter: 3 });
  try {
    const cache = new MapCache();
    const calls: CallRecord[] = [];
    const stateFile = join(dir, 'c', 'batches.json');
    const m = make(server, cache, calls, stateFile);
    const reqs = msgs(5);
    const res = await Promise.allSettled(reqs.map((messages) => m.complete({ messages })));
    assert.deepEqual(res.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    assert.match((res[3] as PromiseRejectedResult).reason.message, /batch batch_\d+ expired before this request ran \(24h window\)/);
    await until(() => JSON.parse(readFileSync(stateFile, 'utf8')).batches.length === 0); // an expired batch is forgotten
    const m2 = make(server, cache, [], stateFile);
    await Promise.allSettled(reqs.map((messages) => m2.complete({ messages })));
    assert.equal(server.stats().batches, 2);
    assert.equal(server.linesOf(server.batchIds()[1]).length, 2, 'only the two expired requests are sent again');
  } finally {
    await server.close();
  }
});

test('a batch the server rejects as a whole (failed) fails every request with its reason; batch: on a local model is bad input', async () => {
  const server = await startMockBatchOpenAI({ apiKey: KEY, validate: (l) => (l.body.model === 'gpt-4o-mini' ? 'model gpt-4o-mini is not available in the Batch API' : undefined) });
  try {
    const m = make(server, new MapCache(), [], join(dir, 'd', 'batches.json'));
    const res = await Promise.allSettled(msgs(2).map((messages) => m.complete({ messages })));
    for (const r of res) {
      assert.equal(r.status, 'rejected');
      assert.match(r.reason.message, /batch batch_\d+ failed: invalid_request: model gpt-4o-mini is not available in the Batch API \(line 1\); invalid_request: .* \(line 2\)/);
    }
  } finally {
    await server.close();
  }
  assert.throws(() => batchLayers({ id: 'l', provider: 'local', path: 'x', batch: true }, { where: 'models[0]' }), /models\[0\]\.batch: provider local has no batch API/);
  assert.deepEqual(batchLayers({ id: 'l', provider: 'ollama' }, { all: true }), [], '--batch leaves models without a batch API live');
  assert.equal(batchLayers({ id: 'g', provider: 'openai' }, { all: true, env }).length, 1, '--batch batches OpenAI models');
  assert.deepEqual(batchLayers({ id: 'g', provider: 'openai', batch: false }, { env }), []);
});

test('stopping while a batch runs keeps it in batches.json; a new model polls that batch instead of sending another', async () => {
  const server = await startMockBatchOpenAI({ apiKey: KEY });
  server.hold();
  try {
    const stateFile = join(dir, 'e', 'batches.json');
    const ac = new AbortController();
    const cache = new MapCache();
    const m = make(server, cache, [], stateFile);
    const reqs = msgs(6);
    const p = Promise.allSettled(reqs.map((messages) => m.complete({ messages }, { signal: ac.signal })));
    while (server.stats().polls < 3) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    const res = await p;
    assert.ok(res.every((r) => r.status === 'rejected' && r.reason.kind === 'aborted'));
    const [id] = server.batchIds();
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')).batches;
    assert.equal(saved.length, 1);
    assert.equal(saved[0].id, id);
    assert.equal(saved[0].customIds.length, 6);
    assert.ok(!JSON.stringify(saved).includes(KEY), 'no key in the state file');
    const pollsAfterStop = server.pollsOf(id);
    await new Promise((r) => setTimeout(r, 200)); // 10 poll intervals
    assert.ok(server.pollsOf(id) <= pollsAfterStop + 1, 'nobody waits: polling stopped (a poll already on the wire may still arrive)');
    // "restart": a fresh model over the same state polls the same batch
    server.release();
    const m2 = make(server, cache, [], stateFile);
    const out = await Promise.all(reqs.map((messages) => m2.complete({ messages })));
    assert.deepEqual(out.map((r) => r.text), reqs.map((messages) => defaultRespond({ messages })));
    assert.equal(server.stats().batches, 1, 'no second batch');
    assert.ok(server.pollsOf(id) > pollsAfterStop);
  } finally {
    await server.close();
  }
});

// ---- the real CLI, killed with SIGKILL while it polls ----

function batchConfig(baseURL: string, batch = '{ pollSeconds: 0.05, idleMs: 20 }'): string {
  return `experiment: batch-test
task:
  data: messages.jsonl
  input: [subject, text]
  expected: label
  id: id
  metric:
    type: accuracy
split:
  train: 0.4
  dev: 0.1
  test: 0.5
  seed: 3
models:
  - id: gpt
    provider: openai
    baseURL: ${baseURL}
    model: gpt-4o-mini
    apiKeyEnv: TEST_OPENAI_KEY
    price: { input: 0.15, output: 0.6 }
    batch: ${batch}
baselines: false
arms:
  - name: zero-shot
    kind: prompt
    model: gpt
    messages:
      - { role: system, content: "Is this email spam or ham? Answer spam or ham." }
      - { role: user, content: "Subject: {{subject}}\\n\\n{{text}}" }
assert:
  maxErrorRate: 0.5
`;
}

test('CLI: kill -9 while polling, rerun polls the same batch (one batch at the server); per-example failures stored and sent again on a later run; then zero calls', { timeout: 90_000 }, async () => {
  // about one request in thirteen fails at the provider (chosen by its length), until failing is turned off
  let failing = true;
  const server = await startMockBatchOpenAI({
    apiKey: KEY,
    fail: (body) => (failing && String(body.messages.at(-1).content).length % 13 === 0 ? { status: 400, message: 'invalid content' } : undefined),
  });
  const proj = project({ 'tunelab.yaml': batchConfig(server.baseURL), 'messages.jsonl': SPAM_JSONL });
  try {
    server.hold();
    const env2 = { TEST_OPENAI_KEY: KEY };
    let child: import('node:child_process').ChildProcess | undefined;
    const run1 = cli(['run', '--json'], { cwd: proj, env: env2, onSpawn: (c) => (child = c) });
    // the batch exists and has been polled a few times (so its id was saved before the first poll)
    let exited: unknown;
    void run1.then((r) => (exited = r));
    while (server.stats().polls < 3) {
      assert.equal(exited, undefined, 'the run waits for the batch');
      await new Promise((r) => setTimeout(r, 20));
    }
    const stateFile = join(proj, '.tunelab', 'batches.json');
    assert.ok(existsSync(stateFile));
    child!.kill('SIGKILL');
    const r1 = await run1;
    assert.equal(r1.signal, 'SIGKILL');
    const [id] = server.batchIds();
    assert.equal(JSON.parse(readFileSync(stateFile, 'utf8')).batches[0].id, id);
    const polls1 = server.pollsOf(id);

    // rerun: polls the same batch; the server lets it finish once it has been polled again
    const watcher = (async () => {
      while (server.pollsOf(id) < polls1 + 2) await new Promise((r) => setTimeout(r, 20));
      server.release();
    })();
    const r2 = await cli(['run', '--json'], { cwd: proj, env: env2 });
    await watcher;
    assert.equal(r2.code, 0, r2.stderr);
    const out2 = JSON.parse(r2.stdout);
    assert.equal(out2.resumed, true);
    assert.equal(server.stats().batches, 1, 'the server saw one batch');
    assert.equal(server.stats().files, 1);
    const db = join(proj, '.tunelab', 'tunelab.db');
    const rows = query(db, "SELECT example_id, output, error, cost_usd FROM results WHERE arm = 'zero-shot'");
    assert.equal(rows.length, 60);
    assert.equal(server.linesOf(id).length, 60);
    const errors = rows.filter((r) => r.error);
    assert.ok(errors.length >= 1, 'failed requests are stored as failed examples');
    for (const e of errors) assert.match(e.error, /HTTP 400 \(invalid content\)/);
    assert.equal(rows.filter((r) => !r.error && (r.output === 'spam' || r.output === 'ham')).length, 60 - errors.length);
    // cost at half the configured price
    const calls = query(db, 'SELECT usage_in, usage_out, cost_usd FROM calls WHERE error IS NULL AND cached = 0 LIMIT 1');
    assert.equal(calls.length, 1);
    assert.ok(Math.abs(calls[0].cost_usd - (calls[0].usage_in * 0.075 + calls[0].usage_out * 0.3) / 1e6) < 1e-12);

    // a third run, fresh: answers come from the cache, only the failed ones are sent again (and now succeed)
    failing = false;
    const before = server.stats();
    const r3 = await cli(['run', '--json', '--fresh'], { cwd: proj, env: env2 });
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(server.stats().batches, before.batches + 1, 'the failed requests form one new batch');
    assert.equal(server.linesOf(server.batchIds()[1]).length, errors.length, 'and only they are sent');
    // once everything is answered, a rerun makes zero calls
    const r4 = await cli(['run', '--json', '--fresh'], { cwd: proj, env: env2 });
    assert.equal(r4.code, 0, r4.stderr);
    assert.equal(server.stats().batches, before.batches + 1);
    assert.equal(server.stats().polls, before.polls + server.pollsOf(server.batchIds()[1]));
    const zs = JSON.parse(r4.stdout).arms.find((a: any) => a.name === 'zero-shot');
    assert.equal(zs.cached, zs.total);
  } finally {
    cleanup(proj);
    await server.close();
  }
});
