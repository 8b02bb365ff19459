// Batch mode against a local server that follows Anthropic's documented Message Batches API
// ({requests: [{custom_id, params}]}, processing_status, request_counts, results_url JSONL).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { batchLayers, createModel, type CallRecord, type ChatResponse, type ModelConfig, type ResponseCache } from '../../src/models/index.ts';
import { startMockBatchAnthropic, type MockBatchAnthropic } from '../helpers/mock-batch-anthropic.ts';
import { defaultRespond } from '../helpers/mock-openai-server.ts';
import { cli, cleanup, project, query, SPAM_JSONL } from '../cli/helpers.ts';

const KEY = 'sk-ant-test-batch-0123456789';
const env = { ANTHROPIC_API_KEY: KEY };
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tunelab-batch-anthropic-'));
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

const msgs = (n: number) =>
  Array.from({ length: n }, (_, i) => [
    { role: 'system' as const, content: 'Answer spam or ham.' },
    { role: 'user' as const, content: `email ${i}: ${i % 3 === 0 ? 'win free cash now' : 'meeting notes attached'}` },
  ]);

function make(server: MockBatchAnthropic, cache: ResponseCache, calls: CallRecord[], stateFile: string) {
  const cfg: ModelConfig = { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', baseURL: server.baseURL, batch: { pollSeconds: 0.02, idleMs: 10 } };
  return createModel(cfg, { env, cache, onCall: (c) => calls.push(c), layers: batchLayers(cfg, { env, stateFile }) });
}

test('submit → poll → results: one message batch, custom_id = request hash, batch price, cache filled; a second run makes no call', async () => {
  const server = await startMockBatchAnthropic({ apiKey: KEY });
  try {
    const cache = new MapCache();
    const calls: CallRecord[] = [];
    const stateFile = join(dir, 'a', 'batches.json');
    const m = make(server, cache, calls, stateFile);
    assert.deepEqual(m.info.price, { input: 0.5, output: 2.5 }, 'half of the built-in claude-haiku-4-5 price');
    const reqs = msgs(25);
    const out = await Promise.all(reqs.map((messages) => m.complete({ messages, maxTokens: 5 })));
    assert.equal(server.stats().batches, 1);
    assert.equal(server.stats().resultReads, 1);
    reqs.forEach((messages, i) => assert.equal(out[i].text, defaultRespond({ messages }), `answer ${i}`));
    const [id] = server.batchIds();
    const sent = server.requestsOf(id);
    assert.equal(sent.length, 25);
    assert.equal(sent[0].params.system, 'Answer spam or ham.', 'params are the Messages API body');
    assert.equal(sent[0].params.max_tokens, 5);
    assert.deepEqual(new Set(sent.map((r) => r.custom_id)), new Set(cache.m.keys()), 'answers cached under their custom_id');
    for (const c of calls) assert.ok(Math.abs(c.costUsd - (c.usage.input * 0.5 + c.usage.output * 2.5) / 1e6) < 1e-15);
    await until(() => JSON.parse(readFileSync(stateFile, 'utf8')).batches.length === 0);

    const before = JSON.stringify(server.stats());
    const m2 = make(server, cache, [], stateFile);
    const out2 = await Promise.all(reqs.map((messages) => m2.complete({ messages, maxTokens: 5 })));
    assert.ok(out2.every((r) => r.cached));
    assert.equal(JSON.stringify(server.stats()), before, 'zero calls');
  } finally {
    await server.close();
  }
});

test('partial failures (errored) and expiry (expired) are failed calls per request', async () => {
  const server = await startMockBatchAnthropic({
    apiKey: KEY,
    expireAfter: 6,
    fail: (params) => (String(params.messages.at(-1).content).startsWith('email 2:') ? { status: 400, message: 'prompt is too long' } : undefined),
  });
  try {
    const calls: CallRecord[] = [];
    const m = make(server, new MapCache(), calls, join(dir, 'b', 'batches.json'));
    const res = await Promise.allSettled(msgs(8).map((messages) => m.complete({ messages })));
    assert.deepEqual(res.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    assert.match((res[2] as PromiseRejectedResult).reason.message, /^model claude: request [0-9a-f]{8}: batch msgbatch_\d+: invalid_request_error: prompt is too long/);
    assert.match((res[6] as PromiseRejectedResult).reason.message, /batch msgbatch_\d+ expired before this request ran \(24h window\)/);
    assert.equal(calls.filter((c) => !c.ok).length, 3);
    assert.equal(server.stats().batches, 1);
  } finally {
    await server.close();
  }
});

function config(baseURL: string): string {
  return `experiment: batch-anthropic
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
  - id: claude
    provider: anthropic
    baseURL: ${baseURL}
    model: claude-haiku-4-5
    apiKeyEnv: TEST_ANTHROPIC_KEY
    batch: { pollSeconds: 0.05, idleMs: 20 }
baselines: false
arms:
  - name: zero-shot
    kind: prompt
    model: claude
    messages:
      - { role: system, content: "Is this email spam or ham? Answer spam or ham." }
      - { role: user, content: "Subject: {{subject}}\\n\\n{{text}}" }
`;
}

test('CLI: kill -9 while polling, then a rerun polls the same message batch (one batch at the server); a third run makes no call', { timeout: 90_000 }, async () => {
  const server = await startMockBatchAnthropic({ apiKey: KEY });
  const proj = project({ 'tunelab.yaml': config(server.baseURL), 'messages.jsonl': SPAM_JSONL });
  const env2 = { TEST_ANTHROPIC_KEY: KEY };
  try {
    server.hold();
    let child: ChildProcess | undefined;
    const run1 = cli(['run', '--json'], { cwd: proj, env: env2, onSpawn: (c) => (child = c) });
    let exited: unknown;
    void run1.then((r) => (exited = r));
    while (server.stats().polls < 3) {
      assert.equal(exited, undefined, 'the run waits for the batch');
      await new Promise((r) => setTimeout(r, 20));
    }
    child!.kill('SIGKILL');
    assert.equal((await run1).signal, 'SIGKILL');
    const stateFile = join(proj, '.tunelab', 'batches.json');
    assert.ok(existsSync(stateFile));
    const [id] = server.batchIds();
    assert.equal(JSON.parse(readFileSync(stateFile, 'utf8')).batches[0].id, id);
    const polls1 = server.pollsOf(id);
    const watcher = (async () => {
      while (server.pollsOf(id) < polls1 + 2) await new Promise((r) => setTimeout(r, 20));
      server.release();
    })();
    const r2 = await cli(['run', '--json'], { cwd: proj, env: env2 });
    await watcher;
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(JSON.parse(r2.stdout).resumed, true);
    assert.equal(server.stats().batches, 1, 'the server saw one batch');
    const db = join(proj, '.tunelab', 'tunelab.db');
    const rows = query(db, "SELECT output, error FROM results WHERE arm = 'zero-shot'");
    assert.equal(rows.length, 60);
    assert.ok(rows.every((r) => !r.error && (r.output === 'spam' || r.output === 'ham')));
    const r3 = await cli(['run', '--json', '--fresh'], { cwd: proj, env: env2 });
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(server.stats().batches, 1, 'a rerun makes zero calls');
    const zs = JSON.parse(r3.stdout).arms.find((a: any) => a.name === 'zero-shot');
    assert.equal(zs.cached, zs.total);
  } finally {
    cleanup(proj);
    await server.close();
  }
});
