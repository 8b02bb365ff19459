// The server over the real local backend and the project store: a fine-tuning job from upload to a model
// that answers, persisted across a restart; and the `tunelab serve` CLI with a key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import OpenAI, { toFile } from 'openai';
import { startServer, storeBackedServerStore } from '../../src/server/index.ts';
import { openStore } from '../../src/store/index.ts';
import { LocalFineTuneBackend } from '../../src/finetune/index.ts';
import { openLocalModel } from '../../src/models/index.ts';
import { makeTinyModel, toyRecords } from '../finetune/tiny.ts';

async function boot(dir: string, base: string) {
  const store = storeBackedServerStore(openStore(join(dir, 'tunelab.db'), { env: {} }), join(dir, 'files'));
  return startServer({
    store,
    backend: new LocalFineTuneBackend(),
    outputRoot: join(dir, 'models'),
    models: [base],
    fineTunableModels: [base],
    resolveModel: (id) => openLocalModel(id),
    port: 0,
    pollMs: 50,
  });
}

test(
  'real local backend behind the server: upload → job → fine-tuned model answers, also after a restart',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunelab-srvlocal-'));
    const base = `local:${makeTinyModel(join(dir, 'tiny'))}`;
    let srv = await boot(dir, base);
    try {
      const client = new OpenAI({ baseURL: srv.url, apiKey: 'x', maxRetries: 0 });
      const recs = toyRecords();
      const jsonl = [...recs, ...recs].map((r) => JSON.stringify(r)).join('\n');
      const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'toy.jsonl'), purpose: 'fine-tune' });
      let job = await client.fineTuning.jobs.create({
        model: base,
        training_file: file.id,
        hyperparameters: { n_epochs: 4, learning_rate_multiplier: 10 },
        seed: 3,
      });
      for (let i = 0; i < 600 && !['succeeded', 'failed', 'cancelled'].includes(job.status); i++) {
        await new Promise((r) => setTimeout(r, 100));
        job = await client.fineTuning.jobs.retrieve(job.id);
      }
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.ok(job.trained_tokens! > 0);
      const events = await client.fineTuning.jobs.listEvents(job.id, { limit: 100 });
      assert.ok(events.data.some((e) => e.type === 'metrics' && typeof (e.data as any)?.train_loss === 'number'));
      const ask = async (c: OpenAI) =>
        (
          await c.chat.completions.create({
            model: job.fine_tuned_model!,
            messages: [
              { role: 'system', content: 'Answer with one of: fruit, tool.' },
              { role: 'user', content: 'Item: plum' },
            ],
            max_tokens: 4,
          })
        ).choices[0].message.content!;
      const answer = await ask(client);
      assert.ok(['fruit', 'tool'].includes(answer.trim()), answer);
      await srv.close();
      srv = await boot(dir, base);
      const c2 = new OpenAI({ baseURL: srv.url, apiKey: 'x', maxRetries: 0 });
      assert.equal((await c2.fineTuning.jobs.retrieve(job.id)).status, 'succeeded');
      assert.equal(await ask(c2), answer);
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('tunelab serve CLI: binds 127.0.0.1, requires the key from TUNELAB_API_KEY', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-servecli-'));
  const tiny = makeTinyModel(join(dir, 'tiny'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--model', `local:${tiny}`, '--data', join(dir, 'data')],
    {
      env: { ...process.env, TUNELAB_API_KEY: 'test-key-123456' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  try {
    const url = await new Promise<string>((res, rej) => {
      let err = '';
      child.stderr!.on('data', (d) => {
        err += d;
        const m = /listening on (\S+)/.exec(err);
        if (m) res(m[1]);
      });
      child.on('exit', (c) => rej(new Error(`serve exited ${c}: ${err}`)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const bad = new OpenAI({ baseURL: url, apiKey: 'nope', maxRetries: 0 });
    await assert.rejects(bad.models.list(), (e: any) => e.status === 401);
    const good = new OpenAI({ baseURL: url, apiKey: 'test-key-123456', maxRetries: 0 });
    assert.deepEqual(
      (await good.models.list()).data.map((m) => m.id),
      [`local:${tiny}`],
    );
    const r = await good.chat.completions.create({ model: `local:${tiny}`, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    assert.equal(r.object, 'chat.completion');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});
