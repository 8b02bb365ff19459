import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { startServer, dirServerStore, type RunningServer } from '../../src/server/index.ts';
import { ScriptedBackend, resolveFake } from './fake.ts';

const TRAIN = Array.from({ length: 12 }, (_, i) =>
  JSON.stringify({
    messages: [
      { role: 'user', content: `item ${i}` },
      { role: 'assistant', content: i % 2 ? 'spam' : 'ham' },
    ],
  }),
).join('\n');

async function boot(
  dir: string,
  extra: Partial<Parameters<typeof startServer>[0]> = {},
  backend = new ScriptedBackend(),
): Promise<RunningServer> {
  return startServer({
    store: dirServerStore(join(dir, 'store')),
    backend,
    outputRoot: join(dir, 'out'),
    models: ['local:builtin'],
    fineTunableModels: ['local:builtin'],
    resolveModel: resolveFake,
    port: 0,
    pollMs: 10,
    ...extra,
  });
}

async function waitFor<T>(f: () => Promise<T>, ok: (t: T) => boolean, ms = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('openai client: models, chat, streaming, files, fine-tuning job to an answering model, cancel, restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-srv-'));
  let srv = await boot(dir);
  try {
    assert.equal(srv.host, '127.0.0.1');
    const client = new OpenAI({ baseURL: srv.url, apiKey: 'unused', maxRetries: 0 });
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ['local:builtin'],
    );

    const chat = await client.chat.completions.create({ model: 'local:builtin', messages: [{ role: 'user', content: 'hello there' }] });
    assert.equal(chat.object, 'chat.completion');
    assert.equal(chat.choices[0].message.content, 'echo: hello there');
    assert.equal(chat.choices[0].finish_reason, 'stop');
    assert.ok(chat.usage!.prompt_tokens > 0 && chat.usage!.completion_tokens > 0);

    const stream = await client.chat.completions.create({
      model: 'local:builtin',
      messages: [{ role: 'user', content: 'one two three' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage: any;
    for await (const ch of stream) {
      chunks++;
      text += ch.choices[0]?.delta?.content ?? '';
      if (ch.usage) usage = ch.usage;
    }
    assert.equal(text, 'echo: one two three');
    assert.ok(chunks >= 4, `streamed in ${chunks} chunks`);
    assert.ok(usage.total_tokens > 0);

    await assert.rejects(
      client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
      (e: any) => e.status === 404 && e.code === 'model_not_found',
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'local:builtin', messages: [] }),
      (e: any) => e.status === 400 && e.error?.type === 'invalid_request_error',
    );

    const file = await client.files.create({ file: await toFile(Buffer.from(TRAIN), 'train.jsonl'), purpose: 'fine-tune' });
    assert.equal(file.object, 'file');
    assert.equal(file.bytes, Buffer.byteLength(TRAIN));
    assert.equal((await client.files.retrieve(file.id)).filename, 'train.jsonl');
    assert.equal(await (await client.files.content(file.id)).text(), TRAIN);
    assert.ok((await client.files.list()).data.some((f) => f.id === file.id));
    await assert.rejects(
      client.files.create({ file: await toFile(Buffer.from('not json\n'), 'bad.jsonl'), purpose: 'fine-tune' }),
      (e: any) => e.status === 400 && /bad\.jsonl:1/.test(e.message),
    );

    let job = await client.fineTuning.jobs.create({
      model: 'local:builtin',
      training_file: file.id,
      hyperparameters: { n_epochs: 2 },
      suffix: 'spam',
      seed: 7,
    });
    assert.equal(job.object, 'fine_tuning.job');
    assert.ok(['validating_files', 'queued', 'running'].includes(job.status));
    job = await waitFor(
      () => client.fineTuning.jobs.retrieve(job.id),
      (j) => j.status === 'succeeded',
    );
    assert.match(job.fine_tuned_model!, /^ft:local-builtin:tunelab:spam:/);
    assert.equal(job.hyperparameters.n_epochs, 2);
    const events = await client.fineTuning.jobs.listEvents(job.id, { limit: 100 });
    assert.ok(events.data.some((e) => e.type === 'metrics' && (e.data as any).step === 5));
    assert.ok(events.data.some((e) => /successfully completed/.test(e.message)));
    const cps = await client.fineTuning.jobs.checkpoints.list(job.id);
    assert.equal(cps.data[0].fine_tuned_model_checkpoint, job.fine_tuned_model);
    assert.ok((await client.models.list()).data.some((m) => m.id === job.fine_tuned_model));
    const ft = await client.chat.completions.create({ model: job.fine_tuned_model!, messages: [{ role: 'user', content: 'item 3' }] });
    assert.match(ft.choices[0].message.content!, /^ham \| item 3/);
    assert.ok((await client.fineTuning.jobs.list()).data.some((j) => j.id === job.id));

    // cancel: a slow job is cancelled while running
    const slow = new ScriptedBackend(1000, 100);
    await srv.close();
    srv = await boot(dir, {}, slow);
    const c2 = new OpenAI({ baseURL: srv.url, apiKey: 'unused', maxRetries: 0 });
    let j2 = await c2.fineTuning.jobs.create({ model: 'local:builtin', training_file: file.id });
    await waitFor(
      () => c2.fineTuning.jobs.retrieve(j2.id),
      (j) => j.status === 'running',
    );
    j2 = await c2.fineTuning.jobs.cancel(j2.id);
    assert.equal(j2.status, 'cancelled');
    assert.ok([...slow.jobs.values()].every((s) => s.cancelled));
    await assert.rejects(c2.fineTuning.jobs.cancel(job.id), (e: any) => e.status === 400);

    // restart: the succeeded job and its model survive; a job running at shutdown is failed with a reason
    const j3 = await c2.fineTuning.jobs.create({ model: 'local:builtin', training_file: file.id });
    await waitFor(
      () => c2.fineTuning.jobs.retrieve(j3.id),
      (j) => j.status === 'running',
    );
    await srv.close();
    srv = await boot(dir);
    const c3 = new OpenAI({ baseURL: srv.url, apiKey: 'unused', maxRetries: 0 });
    const again = await c3.fineTuning.jobs.retrieve(job.id);
    assert.equal(again.status, 'succeeded');
    assert.equal(again.fine_tuned_model, job.fine_tuned_model);
    const ft2 = await c3.chat.completions.create({ model: job.fine_tuned_model!, messages: [{ role: 'user', content: 'x' }] });
    assert.match(ft2.choices[0].message.content!, /^ham \| x/);
    const failed = await c3.fineTuning.jobs.retrieve(j3.id);
    assert.equal(failed.status, 'failed');
    assert.match(failed.error!.code, /server_(shutdown|restarted)/);
    assert.equal((await c3.fineTuning.jobs.retrieve(j2.id)).status, 'cancelled');
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a queued job left by a stopped server runs after restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-srv-'));
  const slow = new ScriptedBackend(1000, 100);
  let srv = await boot(dir, {}, slow);
  try {
    const client = new OpenAI({ baseURL: srv.url, apiKey: 'k', maxRetries: 0 });
    const file = await client.files.create({ file: await toFile(Buffer.from(TRAIN), 'train.jsonl'), purpose: 'fine-tune' });
    const a = await client.fineTuning.jobs.create({ model: 'local:builtin', training_file: file.id });
    const b = await client.fineTuning.jobs.create({ model: 'local:builtin', training_file: file.id });
    assert.equal((await client.fineTuning.jobs.retrieve(b.id)).status, 'queued');
    await srv.close();
    srv = await boot(dir);
    const c2 = new OpenAI({ baseURL: srv.url, apiKey: 'k', maxRetries: 0 });
    assert.equal((await c2.fineTuning.jobs.retrieve(a.id)).status, 'failed');
    const done = await waitFor(
      () => c2.fineTuning.jobs.retrieve(b.id),
      (j) => j.status === 'succeeded',
    );
    assert.ok(done.fine_tuned_model);
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bearer key, body limits and error shape', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-srv-'));
  const srv = await boot(dir, { apiKey: 'sekret', maxJsonBytes: 2048, maxUploadBytes: 4096 });
  try {
    const noKey = new OpenAI({ baseURL: srv.url, apiKey: 'wrong', maxRetries: 0 });
    await assert.rejects(noKey.models.list(), (e: any) => e.status === 401 && e.code === 'invalid_api_key');
    const raw = await fetch(`${srv.url}/models`);
    assert.equal(raw.status, 401);
    const body = await raw.json();
    assert.equal(body.error.type, 'invalid_request_error');
    assert.ok('param' in body.error && 'code' in body.error && body.error.message);

    const client = new OpenAI({ baseURL: srv.url, apiKey: 'sekret', maxRetries: 0 });
    assert.equal((await client.models.list()).data.length, 1);
    await assert.rejects(
      client.chat.completions.create({ model: 'local:builtin', messages: [{ role: 'user', content: 'x'.repeat(5000) }] }),
      (e: any) => e.status === 413,
    );
    await assert.rejects(
      client.files.create({ file: await toFile(Buffer.from(TRAIN.repeat(10)), 'big.jsonl'), purpose: 'fine-tune' }),
      (e: any) => e.status === 413,
    );
    const bad = await fetch(`${srv.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sekret', 'content-type': 'application/json' },
      body: '{nope',
    });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error.message, /parse the JSON/);
    const nf = await fetch(`${srv.url}/nothing`, { headers: { authorization: 'Bearer sekret' } });
    assert.equal(nf.status, 404);
    await assert.rejects(client.fineTuning.jobs.retrieve('ftjob-missing'), (e: any) => e.status === 404);
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve trusts no path: local: folders outside what it serves get a 404 naming no path; loaded models are bounded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-srv-'));
  const root = join(dir, 'allowed');
  const loads: string[] = [];
  const released: string[] = [];
  let srv = await boot(dir, {
    resolveModel: (id) => {
      loads.push(id);
      if (id.includes('broken')) throw new Error(`no model folder at ${join(root, 'broken')}: /etc/passwd: not a folder`);
      return resolveFake(id);
    },
  });
  try {
    const post = async (model: string) => {
      const r = await fetch(`${srv.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      return { status: r.status, text: await r.text() };
    };
    for (const id of ['local:/etc', 'local:/etc/passwd', 'local:../../..', `local:${dir}`, 'local:/no/such/folder', '/etc/passwd']) {
      const r = await post(id);
      assert.equal(r.status, 404, `${id}: ${r.text}`);
      assert.equal(JSON.parse(r.text).error.code, 'model_not_found');
      assert.ok(!/\/etc|passwd|\.\.|tmp|no\/such/.test(r.text), `${id}: the error names a path: ${r.text}`);
    }
    assert.equal(loads.length, 0, 'nothing outside what it serves was loaded');
    const listed = await (await fetch(`${srv.url}/models/${encodeURIComponent('local:/etc')}`)).text();
    assert.ok(!listed.includes('/etc'), listed);
    await srv.close();

    // an allowed root: folders under it are served, a load failure answers 500 without the path
    srv = await boot(dir, {
      allowModel: (id) => id.startsWith(`local:${root}/`),
      resolveModel: (id) => {
        loads.push(id);
        if (id.includes('broken')) throw new Error(`no model folder at ${join(root, 'broken')}: /etc/passwd: not a folder`);
        return resolveFake(id);
      },
      releaseModel: (id) => released.push(id),
      maxLoadedModels: 2,
    });
    assert.equal((await post(`local:${root}/a`)).status, 200);
    const broken = await post(`local:${root}/broken`);
    assert.equal(broken.status, 500);
    assert.ok(!broken.text.includes(root) && !broken.text.includes('/etc'), broken.text);
    assert.equal((await post('local:/etc')).status, 404);
    // bounded cache: a, b, c with room for 2 releases a; a again loads it again
    for (const m of ['a', 'b', 'c', 'a']) assert.equal((await post(`local:${root}/${m}`)).status, 200);
    assert.deepEqual(released.slice(0, 2), [`local:${root}/a`, `local:${root}/b`]);
    assert.equal(loads.filter((x) => x === `local:${root}/a`).length, 2);
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
