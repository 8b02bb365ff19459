import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { createModel } from '../../src/models/index.ts';
import { defaultRespond, embedText, startMockOpenAI } from '../helpers/mock-openai-server.ts';

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('mock server: OpenAI shape, default answers, faults counted, timeout released by close()', async () => {
  const srv = await startMockOpenAI();
  after(() => srv.close());
  const r = await (await post(`${srv.baseURL}/chat/completions`, { model: 'x', messages: [{ role: 'system', content: 'free' }, { role: 'user', content: 'lunch?' }] })).json();
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.content, 'ham'); // only the last user message counts
  assert.deepEqual(r.usage, { prompt_tokens: Math.ceil(10 / 4), completion_tokens: 1, total_tokens: 4 });
  assert.equal(defaultRespond({ messages: [{ role: 'user', content: 'Save $5 now' }] }), 'spam');
  srv.failNext('500');
  assert.equal((await post(`${srv.baseURL}/chat/completions`, { messages: [] })).status, 500);
  srv.failNext('malformed');
  const bad = await post(`${srv.baseURL}/chat/completions`, { messages: [] });
  assert.equal(bad.status, 200);
  await assert.rejects(bad.json());
  assert.throws(() => srv.failNext('nope' as any), /unknown fault/);
  srv.failNext('timeout');
  const hanging = post(`${srv.baseURL}/chat/completions`, { messages: [] }).catch((e) => e);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(srv.inFlight(), 1);
  assert.equal(srv.count(), 4);
  assert.equal(srv.requests.length, 1);
  await srv.close();
  assert.ok((await hanging) instanceof Error);
});

test('mock server: embeddings through createModel', async () => {
  const srv = await startMockOpenAI();
  try {
    const m = createModel({ id: 'emb', provider: 'openai-compatible', baseURL: srv.baseURL });
    const v = await m.embed!(['free money', 'meeting today']);
    assert.equal(v.length, 2);
    assert.deepEqual(v[0], embedText('free money'));
    assert.ok(Math.abs(Math.hypot(...v[1]) - 1) < 1e-9);
  } finally {
    await srv.close();
  }
});

test('mock server CLI: prints its URL, serves, takes faults and reports stats over HTTP', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/mock-openai-server.ts', '--port', '0', '--latency', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const url = line.toString().trim();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const root = url.replace(/\/v1$/, '');
    assert.equal((await (await post(`${root}/__mock/fail`, { kind: '429', retryAfterSec: 0 })).json()).ok, true);
    const m = createModel({ id: 'cli', provider: 'openai-compatible', baseURL: url }, { backoff: { baseMs: 1 } });
    assert.equal((await m.complete({ messages: [{ role: 'user', content: 'win' }] })).text, 'spam');
    const stats = await (await fetch(`${root}/__mock/stats`)).json();
    assert.deepEqual([stats.count, stats.completed], [2, 1]);
    assert.equal((await (await fetch(`${url}/models`)).json()).object, 'list');
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

test('nodeFetch: the buffered Response look-alike the SDKs get', async () => {
  const { nodeFetch } = await import('../../src/models/providers/node-fetch.ts');
  const srv = await startMockOpenAI();
  try {
    const r = await nodeFetch(`${srv.baseURL}/models`, { headers: { Accept: 'application/json' } });
    assert.equal(r.status, 200);
    assert.equal(r.ok, true);
    assert.equal(r.headers.get('Content-Type'), 'application/json');
    assert.equal(r.headers.has('content-length'), true);
    assert.ok([...r.headers.entries()].some(([k]) => k === 'content-type'));
    assert.equal(((await r.json()) as any).object, 'list');
    await assert.rejects(r.text(), /already been read/);
    const again = await nodeFetch(`${srv.baseURL}/models`);
    const chunks: Uint8Array[] = [];
    for await (const c of again.body as any) chunks.push(c);
    assert.match(Buffer.concat(chunks).toString(), /mock-model/);
    srv.failNext('429', 1, { retryAfterSec: 7 });
    const limited = await nodeFetch(`${srv.baseURL}/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: [] }) });
    assert.deepEqual([limited.status, limited.ok, limited.headers.get('retry-after')], [429, false, '7']);
    const ac = new AbortController();
    srv.failNext('timeout');
    const p = nodeFetch(`${srv.baseURL}/chat/completions`, { method: 'POST', body: '{}', signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e: any) => e.name === 'AbortError');
  } finally {
    await srv.close();
  }
});
