import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createModel } from '../../src/models/index.ts';
import { openStore } from '../../src/store/index.ts';
import { startMockOpenAI } from '../helpers/mock-openai-server.ts';

const KEY = 'sk-test-PLANTED-123';
const dir = mkdtempSync(join(tmpdir(), 'tunelab-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fileBytes(path: string): Buffer {
  return Buffer.concat([path, `${path}-wal`, `${path}-shm`].filter(existsSync).map((p) => readFileSync(p)));
}

/**
 * A hostile server: requires the planted key, and then echoes the Authorization header back in
 * answers and in error bodies (some real servers echo the key in a 401). The key must still appear
 * nowhere in the SQLite file.
 */
async function scenario(storeEnv: NodeJS.ProcessEnv, echoInAnswers: boolean) {
  const srv = await startMockOpenAI({
    apiKey: KEY,
    respond: ({ messages, headers }) => {
      const last = messages.at(-1)!.content;
      if (last.startsWith('fail')) throw new Error(`upstream rejected credentials ${headers?.authorization}`);
      return echoInAnswers ? `ham (you sent ${headers?.authorization})` : 'ham';
    },
  });
  const path = join(dir, `${Math.random().toString(36).slice(2)}.db`);
  const store = openStore(path, { env: storeEnv });
  try {
    const config = { id: 'hosted', provider: 'openai-compatible', baseURL: srv.baseURL, apiKeyEnv: 'TUNELAB_TEST_KEY', retries: 1 };
    const run = store.createRun({
      experiment: 'secrets',
      runKey: 'k',
      meta: {
        seed: 1,
        sizes: { train: 0, dev: 0, test: 2 },
        metric: { name: 'accuracy', type: 'accuracy' },
        data: 'd',
        arms: ['zero'],
        warnings: [],
        config: { models: [config] },
      },
    });
    const model = createModel(config, { cache: store.cache, onCall: (c) => store.recordCalls([c]), backoff: { baseMs: 1, maxMs: 2 } });
    const meta = { run: run.id, arm: 'zero' };
    const ok = await model.complete({ messages: [{ role: 'user', content: 'hello' }] }, { meta });
    srv.failNext('429', 1);
    await model.complete({ messages: [{ role: 'user', content: 'again' }] }, { meta });
    let err: Error | undefined;
    try {
      await model.complete({ messages: [{ role: 'user', content: 'fail please' }] }, { meta });
    } catch (e) {
      err = e as Error;
    }
    assert.ok(err, 'the failing call must fail');
    assert.ok(!err.message.includes(KEY), err.message);
    assert.ok(!JSON.stringify(err).includes(KEY));
    store.putResults(run.id, 'zero', [
      {
        exampleId: 'e1',
        output: ok.text,
        score: 1,
        pass: true,
        expected: 'ham',
        latencyMs: 1,
        costUsd: 0,
        tokensIn: 1,
        tokensOut: 1,
        cached: false,
      },
      {
        exampleId: 'e2',
        output: '',
        score: 0,
        pass: false,
        expected: 'ham',
        latencyMs: 1,
        costUsd: 0,
        tokensIn: 0,
        tokensOut: 0,
        cached: false,
        error: err.message,
      },
    ]);
    store.putArm({ run: run.id, name: 'zero', kind: 'prompt', status: 'failed', error: err.message });
    store.updateRun(run.id, { status: 'done' });
    // the server did receive the key: the plant is real
    assert.equal(srv.count(), 5);
    const calls = store.listCalls(run.id);
    assert.equal(calls.filter((c) => c.error).length, 3);
    return { path, store, ok, calls };
  } finally {
    await srv.close();
  }
}

test('a planted API key appears nowhere in the SQLite file (models redact errors; store scrubs env secrets)', async () => {
  process.env.TUNELAB_TEST_KEY = KEY;
  try {
    // 1) store scrubbing on (default: secrets found in the env), server echoes the key even in answers
    const a = await scenario(process.env, true);
    assert.ok(a.ok.text.includes(KEY), 'the live answer held the key (echoed)');
    assert.ok(a.calls.some((c) => c.response?.includes('[redacted]')));
    a.store.close();
    const bytesA = fileBytes(a.path);
    assert.ok(bytesA.length > 0);
    assert.equal(bytesA.indexOf(KEY), -1, 'key found in the store file');
    assert.equal(bytesA.indexOf(Buffer.from(KEY, 'utf16le')), -1);

    // 2) store scrubbing off: the models layer alone keeps the key out of every error it reports
    const b = await scenario({}, false);
    assert.ok(
      b.calls.some((c) => c.error?.includes('[redacted]')),
      'the error body echoed the key and was redacted',
    );
    b.store.close();
    assert.equal(fileBytes(b.path).indexOf(KEY), -1, 'key found in the store file');
  } finally {
    delete process.env.TUNELAB_TEST_KEY;
  }
});
