// Fail fast on a refused key or an unknown model: the real CLI against a loopback server that answers
// every chat request 401 (or 404). The run stops after the first answer (no request beyond those
// already in flight), exits 2 with one line naming the model, the status and the provider's message
// (the key redacted), and stores no finished run. Needs dist/ (node scripts/build.mjs).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createModel, ModelCallError } from '../../src/models/index.ts';
import { exitCodeOf } from '../../src/core/index.ts';
import { cleanup, cli, project, spamConfig, SPAM_JSONL } from '../cli/helpers.ts';

const SECRET = 'sk-test-Zq81SECRETvalue0042';
let server: Server;
let baseURL = '';
let requests = 0;
let answer: { status: number; body: unknown } = { status: 401, body: {} };

before(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.includes('/chat/completions')) requests++;
      const data = JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
      res.end(data);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(() => server.close());

const ONE_ARM = `  - name: zero-shot
    kind: prompt
    model: mock
    messages:
      - { role: system, content: "Is this email spam or ham? Answer spam or ham." }
      - { role: user, content: "{{text}}" }`;

test('createModel: a 401 is not retried, names model, status and message with the key redacted, and latches', async () => {
  answer = { status: 401, body: { error: { message: `Incorrect API key provided: ${SECRET}.`, type: 'invalid_request_error', code: 'invalid_api_key' } } };
  requests = 0;
  const m = createModel({ id: 'gpt-x', provider: 'openai-compatible', baseURL, apiKeyEnv: 'TL_K', retries: 4 }, { env: { TL_K: SECRET } });
  const err = await m.complete({ messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
  assert.ok(err instanceof ModelCallError, String(err));
  assert.equal(err.kind, 'auth');
  assert.equal(err.status, 401);
  assert.equal(exitCodeOf(err), 2);
  assert.match(err.message, /^model gpt-x: .*HTTP 401 \(Incorrect API key provided: .*\[redacted\]/);
  assert.ok(!err.message.includes('Zq81SECRET'), err.message);
  assert.equal(requests, 1, 'not retried');
  const again = await m.complete({ messages: [{ role: 'user', content: 'other' }] }).catch((e) => e);
  assert.equal(again.kind, 'auth');
  assert.equal(requests, 1, 'later calls fail without a request');
});

async function runAgainst(status: number, body: unknown) {
  answer = { status, body };
  requests = 0;
  const dir = project({
    'messages.jsonl': SPAM_JSONL,
    'tunelab.yaml': spamConfig(baseURL, { arms: ONE_ARM, model: '    apiKeyEnv: TL_AUTH_TEST_KEY' }),
  });
  try {
    const r = await cli(['run', 'tunelab.yaml', '--quiet'], { cwd: dir, env: { TL_AUTH_TEST_KEY: SECRET } });
    const runs = await cli(['runs', '--json'], { cwd: dir });
    return { r, runs, requests };
  } finally {
    cleanup(dir);
  }
}

test('HTTP 401: exit 2 after the first answer, one line with model, status and message, key redacted, no finished run', async () => {
  const { r, runs, requests: n } = await runAgainst(401, {
    error: { message: `Incorrect API key provided: ${SECRET}. You can find your API key at https://platform.openai.com/account/api-keys.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
  });
  assert.equal(r.code, 2, r.stderr);
  // at most the calls already in flight when the first 401 came back (run concurrency 4)
  assert.ok(n >= 1 && n <= 4, `the server saw ${n} requests`);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('tunelab:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /model mock\b/);
  assert.match(lines[0], /HTTP 401/);
  assert.match(lines[0], /Incorrect API key provided/);
  assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET), 'the key is redacted');
  assert.ok(!r.stderr.includes('Zq81SECRET'), 'no part of the key');
  if (runs.code === 0 && runs.stdout.trim()) {
    const list = JSON.parse(runs.stdout) as { status: string }[];
    assert.ok(list.every((x) => x.status !== 'done'), runs.stdout);
  }
});

test('HTTP 404 unknown model: exit 2 after the first answer, naming the model and the message', async () => {
  const { r, requests: n } = await runAgainst(404, {
    error: { message: 'The model `mock-model` does not exist or you do not have access to it.', type: 'invalid_request_error', param: null, code: 'model_not_found' },
  });
  assert.equal(r.code, 2, r.stderr);
  assert.ok(n >= 1 && n <= 4, `the server saw ${n} requests`);
  assert.match(r.stderr, /model mock\b.*HTTP 404.*does not exist/);
});
