// The hosted fine-tuning clients against local servers that follow each provider's documented API:
// request paths, bodies and headers; the documented state sequences; failures carrying the provider's
// message; 429 retried; the budget refusing before anything is uploaded.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  OpenAIFineTuneBackend,
  TogetherFineTuneBackend,
  FireworksFineTuneBackend,
  driveHostedJob,
  hostedEstimate,
  trainingPriceFor,
  paramsFromName,
  type HostedBackend,
  type HostedFineTuneOptions,
} from '../../src/finetune/hosted/index.ts';
import type { TrainingRecord } from '../../src/finetune/index.ts';
import { startMockOpenAIFt } from '../helpers/mock-openai-ft.ts';
import { startMockTogether, TOGETHER_MOCK_NANO_PER_TOKEN } from '../helpers/mock-together.ts';
import { startMockFireworks } from '../helpers/mock-fireworks.ts';

const records: TrainingRecord[] = Array.from({ length: 12 }, (_, i) => ({
  messages: [
    { role: 'system', content: 'Answer spam or ham.' },
    { role: 'user', content: i % 2 ? `Win a free prize now ${i}` : `Meeting notes for tuesday ${i}` },
    { role: 'assistant', content: i % 2 ? 'spam' : 'ham' },
  ],
}));
const dev = records.slice(0, 3);
const opts = (over: Partial<HostedFineTuneOptions> = {}): HostedFineTuneOptions => ({
  baseModel: 'gpt-4o-mini-2024-07-18',
  method: 'lora',
  epochs: 2,
  learningRate: 1e-4,
  seed: 7,
  outputDir: '',
  ...over,
});
const fast = { pollMs: 1, backoff: { baseMs: 1, maxMs: 2 } };
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

async function drive(b: HostedBackend, o: HostedFineTuneOptions, extra: { budgetUsd?: number } = {}) {
  const logs: string[] = [];
  const jobs: string[] = [];
  const r = await driveHostedJob(b, records, o, {
    where: 'arms.ft',
    pollMs: 1,
    log: (m) => logs.push(m),
    onJob: (j) => {
      jobs.push(j.id);
    },
    ...extra,
  });
  return { r, logs, jobs };
}

test('openai: upload (purpose fine-tune) → job (method supervised) → documented states → fine_tuned_model; events and checkpoints', async () => {
  const s = await startMockOpenAIFt();
  closers.push(s.close);
  const b = new OpenAIFineTuneBackend({ baseURL: s.baseURL, apiKey: 'sk-test-openai', ...fast });
  const { r, logs, jobs } = await drive(b, opts({ validation: dev, suffix: 'spam', batchSize: 4 }));
  assert.deepEqual(jobs, ['ftjob-1'], 'onJob got the id as soon as the job existed');
  // files: train and dev, multipart with purpose fine-tune, chat records
  const uploads = s.requests.filter((q) => q.path === '/v1/files');
  assert.equal(uploads.length, 2);
  for (const u of uploads) {
    assert.equal(u.headers.authorization, 'Bearer sk-test-openai');
    assert.match(String(u.headers['content-type']), /^multipart\/form-data; boundary=/);
    assert.equal(u.body.fields.purpose, 'fine-tune');
    for (const line of u.body.file.text.trim().split('\n')) assert.deepEqual(Object.keys(JSON.parse(line)), ['messages']);
  }
  assert.equal(uploads[0].body.file.text.trim().split('\n').length, 12);
  const create = s.requests.find((q) => q.method === 'POST' && q.path === '/v1/fine_tuning/jobs')!;
  assert.equal(create.headers['content-type'], 'application/json');
  assert.deepEqual(create.body, {
    model: 'gpt-4o-mini-2024-07-18',
    training_file: 'file-1',
    validation_file: 'file-2',
    seed: 7,
    suffix: 'spam',
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 4 } } },
  });
  // documented sequence, each state seen once, events logged
  const states = logs.filter((l) => /^openai job ftjob-1: /.test(l)).map((l) => l.split(': ')[1]);
  assert.deepEqual(states, ['validating_files', 'queued', 'running', 'succeeded']);
  assert.ok(logs.some((l) => /New fine-tuned model created/.test(l)));
  assert.equal(r.model, 'ft:gpt-4o-mini-2024-07-18:org-mock:spam:ftjob-1');
  assert.equal(r.trainedTokensSource, 'provider');
  assert.equal(r.trainedTokens, s.jobs.get('ftjob-1')._tokens);
  assert.equal(r.costSource, 'provider tokens × price');
  assert.ok(Math.abs(r.costUsd - (r.trainedTokens / 1e6) * 3) < 1e-12, 'gpt-4o-mini: $3 per 1M trained tokens');
  assert.ok(
    logs.some((l) => /^estimate \(openai/.test(l)),
    'the estimate is shown before anything is spent',
  );
  assert.ok(logs.findIndex((l) => /^estimate/.test(l)) < logs.findIndex((l) => /created/.test(l)));
  const cps = await b.checkpoints(r.job);
  assert.equal(cps[0].step, 2);
});

test('openai: preference pairs make a dpo job with DPO records', async () => {
  const s = await startMockOpenAIFt();
  closers.push(s.close);
  const b = new OpenAIFineTuneBackend({ baseURL: s.baseURL, apiKey: 'sk-test-openai', ...fast });
  const preferences = records.map((r) => ({
    input: { messages: r.messages.slice(0, 2) },
    preferred_output: [r.messages[2]],
    non_preferred_output: [{ role: 'assistant' as const, content: r.messages[2].content === 'spam' ? 'ham' : 'spam' }],
  }));
  await drive(b, opts({ preferences }));
  const create = s.requests.find((q) => q.method === 'POST' && q.path === '/v1/fine_tuning/jobs')!;
  assert.equal(create.body.method.type, 'dpo');
  assert.deepEqual(create.body.method.dpo, { hyperparameters: { n_epochs: 2 } });
  const line = JSON.parse(s.files.get('file-1')!.text.split('\n')[0]);
  assert.deepEqual(Object.keys(line), ['input', 'preferred_output', 'non_preferred_output']);
});

test('openai: a failed job is reported with the provider message; a 429 is retried', async () => {
  const s = await startMockOpenAIFt({
    fail: { code: 'invalid_training_file', message: 'The job failed due to an invalid training file. Line 3: missing assistant message.' },
  });
  closers.push(s.close);
  const retries: number[] = [];
  const b = new OpenAIFineTuneBackend({
    baseURL: s.baseURL,
    apiKey: 'sk-test-openai',
    ...fast,
    onRetry: (i) => retries.push(i.status ?? 0),
  });
  s.failNext('429', 2, /^\/v1\/fine_tuning\/jobs$/);
  await assert.rejects(
    drive(b, opts()),
    /ftjob-1 failed: The job failed due to an invalid training file\. Line 3: missing assistant message\. \(invalid_training_file\)/,
  );
  assert.deepEqual(retries, [429, 429]);
  assert.equal(s.jobs.size, 1, 'the retried create made one job');
  assert.equal(s.requests.filter((q) => q.path === '/v1/fine_tuning/jobs' && q.query.__fault === '429').length, 2);
});

test('openai: validation before upload (too few records, per-example limit) and the budget refusing: nothing is sent', async () => {
  const s = await startMockOpenAIFt();
  closers.push(s.close);
  const b = new OpenAIFineTuneBackend({ baseURL: s.baseURL, apiKey: 'sk-test-openai', ...fast });
  await assert.rejects(
    driveHostedJob(b, records.slice(0, 5), opts(), { where: 'arms.ft', pollMs: 1 }),
    /arms\.ft: training data refused before upload \(openai\):\nerror: OpenAI fine-tuning needs at least 10 training examples \(got 5\)/,
  );
  const long = [
    ...records,
    {
      messages: [
        { role: 'user' as const, content: 'x'.repeat(70_000 * 4) },
        { role: 'assistant' as const, content: 'ham' },
      ],
    },
  ];
  await assert.rejects(driveHostedJob(b, long, opts(), { where: 'arms.ft', pollMs: 1 }), /exceed 65536 tokens/);
  await assert.rejects(drive(b, opts({ epochs: 50 }), { budgetUsd: 0.001 }), (e: Error) => {
    assert.equal(e.name, 'InputError');
    assert.match(
      e.message,
      /^arms\.ft\.budget: estimated training cost \$0\.\d+ is over the budget of \$0\.001 .*nothing was uploaded or started/,
    );
    return true;
  });
  await assert.rejects(drive(b, opts({ baseModel: 'some-unknown-model' }), { budgetUsd: 5 }), /cost cannot be estimated/);
  assert.equal(s.requests.length, 0, 'no request reached the provider');
});

test('together: /files/upload → /fine-tunes (Lora settings, sft) → pending…completed; provider tokens and price', async () => {
  const s = await startMockTogether();
  closers.push(s.close);
  const b = new TogetherFineTuneBackend({ baseURL: s.baseURL, apiKey: 'together-test-key', ...fast });
  const o = opts({
    baseModel: 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference',
    rank: 16,
    alpha: 32,
    dropout: 0.05,
    targetModules: ['q_proj', 'v_proj'],
    learningRate: 2e-4,
    validation: dev,
    suffix: 'spam',
  });
  const { r, logs } = await drive(b, o);
  const up = s.requests.filter((q) => q.path === '/v1/files/upload');
  assert.equal(up.length, 2);
  assert.deepEqual(up[0].body.fields, { purpose: 'fine-tune', file_name: 'train.jsonl', file_type: 'jsonl' });
  assert.equal(up[0].headers.authorization, 'Bearer together-test-key');
  const create = s.requests.find((q) => q.method === 'POST' && q.path === '/v1/fine-tunes')!;
  assert.deepEqual(create.body, {
    training_file: [...s.files.keys()][0],
    validation_file: [...s.files.keys()][1],
    n_evals: 2,
    model: 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference',
    n_epochs: 2,
    n_checkpoints: 1,
    learning_rate: 2e-4,
    batch_size: 'max',
    suffix: 'spam',
    train_on_inputs: 'auto',
    training_type: { type: 'Lora', lora_r: 16, lora_alpha: 32, lora_dropout: 0.05, lora_trainable_modules: 'q_proj,v_proj' },
    training_method: { method: 'sft' },
  });
  const states = logs.filter((l) => /^together job ft-\S+: /.test(l)).map((l) => l.split(': ')[1]);
  assert.deepEqual(states, ['pending', 'queued', 'running', 'compressing', 'uploading', 'completed']);
  assert.match(r.model, /^mock-account\/Meta-Llama-3\.1-8B-Instruct-Reference-spam-/);
  const job = [...s.jobs.values()][0];
  assert.equal(r.trainedTokens, job.token_count);
  assert.equal(r.costSource, 'provider');
  assert.ok(Math.abs(r.costUsd - (job.token_count * TOGETHER_MOCK_NANO_PER_TOKEN) / 1e9) < 1e-12, 'total_price is in nanodollars');
  // full fine-tuning sends {type: Full}
  const s2 = await startMockTogether();
  closers.push(s2.close);
  await drive(
    new TogetherFineTuneBackend({ baseURL: s2.baseURL, apiKey: 'together-test-key', ...fast }),
    opts({ baseModel: 'Qwen/Qwen2.5-7B-Instruct', method: 'full' }),
  );
  assert.deepEqual(s2.requests.find((q) => q.path === '/v1/fine-tunes')!.body.training_type, { type: 'Full' });
});

test('together: error status with the provider message; 429 on upload retried; budget', async () => {
  const s = await startMockTogether({ fail: 'Training data has an invalid format at line 4' });
  closers.push(s.close);
  const b = new TogetherFineTuneBackend({ baseURL: s.baseURL, apiKey: 'together-test-key', ...fast });
  s.failNext('429', 1, /files\/upload/);
  await assert.rejects(
    drive(b, opts({ baseModel: 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference' })),
    /together fine-tuning job ft-\S+ failed: Training data has an invalid format at line 4/,
  );
  assert.equal(s.files.size, 1);
  const before = s.requests.length;
  await assert.rejects(
    drive(b, opts({ baseModel: 'meta-llama/Meta-Llama-3.1-70B-Instruct-Reference', epochs: 20 }), { budgetUsd: 0.0001 }),
    /over the budget/,
  );
  assert.equal(s.requests.length, before);
});

test('fireworks: dataset create → :upload → READY → supervisedFineTuningJobs (LoRA) → JOB_STATE_COMPLETED; inference model name', async () => {
  const s = await startMockFireworks({ account: 'acme' });
  closers.push(s.close);
  const b = new FireworksFineTuneBackend({ baseURL: s.baseURL, apiKey: 'fw-test-key', account: 'acme', ...fast });
  const { r, logs } = await drive(b, opts({ baseModel: 'llama-v3p1-8b-instruct', rank: 16, maxSeqLen: 2048, suffix: 'spam' }));
  const paths = s.requests.map((q) => `${q.method} ${q.path.replace(/spam-[0-9a-f]{8}/, 'ID')}`);
  assert.deepEqual(paths.slice(0, 3), [
    'POST /v1/accounts/acme/datasets',
    'POST /v1/accounts/acme/datasets/ID-train:upload',
    'GET /v1/accounts/acme/datasets/ID-train',
  ]);
  const ds = s.requests[0].body;
  assert.deepEqual(ds.dataset, { userUploaded: {}, exampleCount: '12' });
  assert.match(ds.datasetId, /^spam-[0-9a-f]{8}-train$/);
  const create = s.requests.find((q) => q.method === 'POST' && q.path.endsWith('/supervisedFineTuningJobs'))!;
  assert.match(create.query.supervisedFineTuningJobId, /^spam-[0-9a-f]{8}$/);
  assert.equal(create.body.baseModel, 'accounts/fireworks/models/llama-v3p1-8b-instruct');
  assert.equal(create.body.dataset, `accounts/acme/datasets/${ds.datasetId}`);
  assert.equal(create.body.loraRank, 16);
  assert.equal(create.body.epochs, 2);
  assert.equal(create.body.learningRate, 1e-4);
  assert.equal(create.body.maxContextLength, 2048);
  assert.equal(create.headers.authorization, 'Bearer fw-test-key');
  const states = logs.filter((l) => /^fireworks job \S+: /.test(l)).map((l) => l.split(': ')[1]);
  assert.deepEqual(states, [
    'JOB_STATE_CREATING',
    'JOB_STATE_VALIDATING',
    'JOB_STATE_RUNNING',
    'JOB_STATE_WRITING_RESULTS',
    'JOB_STATE_COMPLETED',
  ]);
  assert.equal(r.model, `accounts/acme/models/${create.query.supervisedFineTuningJobId}`);
  assert.equal(r.costSource, 'provider');
  assert.ok(r.trainedTokens > 0);
});

test('fireworks: JOB_STATE_FAILED with status.message; full fine-tuning and rank > 32 refused before upload; 429 retried', async () => {
  const s = await startMockFireworks({ account: 'acme', fail: 'Dataset row 2 has no assistant turn' });
  closers.push(s.close);
  let retried = 0;
  const b = new FireworksFineTuneBackend({ baseURL: s.baseURL, apiKey: 'fw-test-key', account: 'acme', ...fast, onRetry: () => retried++ });
  await assert.rejects(
    drive(b, opts({ baseModel: 'llama-v3p1-8b-instruct', method: 'full' })),
    /Fireworks does not offer full fine-tuning/,
  );
  await assert.rejects(drive(b, opts({ baseModel: 'llama-v3p1-8b-instruct', rank: 64 })), /LoRA rank is at most 32/);
  assert.equal(s.requests.length, 0);
  s.failNext('429', 1, /supervisedFineTuningJobs$/);
  await assert.rejects(
    drive(b, opts({ baseModel: 'llama-v3p1-8b-instruct' })),
    /fireworks fine-tuning job \S+ failed: Dataset row 2 has no assistant turn/,
  );
  assert.equal(retried, 1);
  assert.equal(s.jobs.size, 1);
});

test('price table: sizes from names, overrides from config', () => {
  assert.equal(paramsFromName('meta-llama/Meta-Llama-3.1-8B-Instruct-Reference'), 8);
  assert.equal(paramsFromName('accounts/fireworks/models/qwen2p5-72b-instruct'), 72);
  assert.equal(paramsFromName('mistralai/Mixtral-8x7B-Instruct-v0.1'), 56);
  assert.deepEqual(trainingPriceFor('together', 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference', { method: 'lora' }), {
    usdPerMTok: 0.48,
    source: 'table',
  });
  assert.deepEqual(trainingPriceFor('together', 'meta-llama/Meta-Llama-3.1-70B-Instruct-Reference', { method: 'full' }), {
    usdPerMTok: 3.2,
    source: 'table',
  });
  assert.deepEqual(trainingPriceFor('fireworks', 'llama-v3p1-8b-instruct', {}), { usdPerMTok: 0.5, source: 'table' });
  assert.deepEqual(trainingPriceFor('openai', 'gpt-4o-mini', { trainingPrice: 1 }), { usdPerMTok: 1, source: 'config' });
  assert.deepEqual(trainingPriceFor('openai', 'my-model', { prices: { 'my-model': 2 } }), { usdPerMTok: 2, source: 'config' });
  const e = hostedEstimate('openai', records, opts({ epochs: 3 }), {});
  assert.equal(e.tokens % 3, 0);
  assert.ok(Math.abs(e.costUsd - (e.tokens / 1e6) * 3) < 1e-12);
});

test('abort while polling leaves the job running (no cancel request) unless cancelOnAbort; the key never appears in errors', async () => {
  const s = await startMockOpenAIFt({ sequence: ['validating_files', 'queued', ...Array(1000).fill('running'), 'succeeded'] });
  closers.push(s.close);
  const b = new OpenAIFineTuneBackend({ baseURL: s.baseURL, apiKey: 'sk-test-openai', ...fast });
  for (const cancelOnAbort of [false, true]) {
    const ac = new AbortController();
    const logs: string[] = [];
    const p = driveHostedJob(b, records, opts(), {
      where: 'arms.ft',
      pollMs: 1,
      signal: ac.signal,
      cancelOnAbort,
      log: (m) => logs.push(m),
      onJob: () => {
        setTimeout(() => ac.abort(new Error('SIGINT')), 30);
      },
    });
    await assert.rejects(p, (e: Error) => e.name === 'AbortError');
    const id = `ftjob-${s.jobs.size}`;
    const cancels = s.requests.filter((q) => q.path === `/v1/fine_tuning/jobs/${id}/cancel`).length;
    assert.equal(cancels, cancelOnAbort ? 1 : 0);
    assert.equal(s.jobs.get(id).status, cancelOnAbort ? 'cancelled' : 'running');
    if (!cancelOnAbort) assert.ok(logs.some((l) => /left running; run again to resume/.test(l)));
  }
  const bad = new OpenAIFineTuneBackend({ baseURL: s.baseURL, apiKey: 'sk-wrong-key-123', ...fast });
  await assert.rejects(
    bad.poll({ id: 'ftjob-1', backend: 'openai', options: opts(), createdAt: 0 }),
    (e: Error) => /HTTP 401/.test(e.message) && !e.message.includes('sk-wrong-key-123'),
  );
});
