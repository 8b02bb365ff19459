// Fine-tune arms with `backend: openai | together | fireworks` in a whole experiment, against local servers
// that follow each provider's documented API: the job runs to its end, the tuned model is evaluated on the
// test split at the provider's chat endpoint, the provider's trained tokens and cost become the arm's
// training cost, train.jsonl / dev.jsonl hold the records sent; and a `kill -9` while polling followed by
// a rerun resumes the same job (the server counts exactly one).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, runExperiment } from '../../src/experiment/index.ts';
import { startMockOpenAIFt } from '../helpers/mock-openai-ft.ts';
import { startMockTogether } from '../helpers/mock-together.ts';
import { startMockFireworks } from '../helpers/mock-fireworks.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SPAM = readFileSync(join(ROOT, 'examples/spam-mini/messages.jsonl'), 'utf8');
const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-hosted-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tunelab.yaml'), yaml);
  writeFileSync(join(dir, 'messages.jsonl'), SPAM);
  mkdirSync(join(dir, '.tunelab'), { recursive: true });
  return join(dir, 'tunelab.yaml');
}

function config(o: { baseURL: string; model: string; keyEnv: string; arm: string }): string {
  return `experiment: hosted
task:
  data: messages.jsonl
  input: [subject, text]
  expected: label
  id: id
  metric: { type: accuracy }
split: { train: 0.4, dev: 0.1, test: 0.5, seed: 3 }
models:
  - id: base
    provider: openai-compatible
    baseURL: ${o.baseURL}
    model: ${o.model}
    apiKeyEnv: ${o.keyEnv}
    retries: 1
arms:
  - name: ft
    kind: finetune
    model: base
    epochs: 2
    pollSeconds: 0.001
    apiKeyEnv: ${o.keyEnv}
${o.arm}
    messages:
      - { role: system, content: "Is this email spam or ham? Answer spam or ham." }
      - { role: user, content: "Subject: {{subject}}\\n\\n{{text}}" }
concurrency: 4
`;
}

async function run(path: string) {
  const r = await runExperiment(loadConfig(path), { cache: true });
  const arm = r.report.arms.find((a: any) => a.name === 'ft') as any;
  return { r, arm, armDir: join(dirname(path), '.tunelab', 'runs', r.runId, 'arms', 'ft') };
}

function checkFiles(armDir: string, train: number) {
  const lines = readFileSync(join(armDir, 'train.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, train);
  for (const l of lines) {
    assert.deepEqual(Object.keys(l), ['messages']);
    assert.deepEqual(
      l.messages.map((m: any) => m.role),
      ['system', 'user', 'assistant'],
    );
  }
  assert.ok(existsSync(join(armDir, 'dev.jsonl')));
  return lines;
}

test(
  'backend openai: job → succeeded → fine_tuned_model evaluated on the test split; provider tokens make the training cost',
  { timeout: 60_000 },
  async () => {
    const s = await startMockOpenAIFt({ apiKey: 'sk-arm' });
    closers.push(s.close);
    process.env.MOCK_OPENAI_FT_KEY = 'sk-arm';
    const path = project(
      config({
        baseURL: s.baseURL,
        model: 'gpt-4o-mini-2024-07-18',
        keyEnv: 'MOCK_OPENAI_FT_KEY',
        arm: '    backend: openai\n    suffix: spam',
      }),
    );
    const { r, arm, armDir } = await run(path);
    assert.equal(r.exitCode, 0);
    assert.equal(s.jobs.size, 1);
    const job = s.jobs.get('ftjob-1');
    assert.equal(job.status, 'succeeded');
    const tuned = 'ft:gpt-4o-mini-2024-07-18:org-mock:spam:ftjob-1';
    const testN = r.report.arms[0].n ?? 60;
    assert.equal(s.chats.filter((c) => c.model === tuned).length, testN, 'every test example asked the tuned model');
    assert.equal(s.chats.filter((c) => c.model !== tuned).length, 0);
    const lines = checkFiles(armDir, 48);
    // the file the provider got is train.jsonl
    assert.equal(s.files.get(job.training_file)!.text, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    assert.equal(arm.training.modelId, tuned);
    assert.equal(arm.training.details.trainedTokens, job.trained_tokens);
    assert.equal(arm.training.details.costSource, 'provider tokens × price');
    assert.ok(Math.abs(arm.training.costUsd - (job.trained_tokens / 1e6) * 3) < 1e-9);
    assert.ok(JSON.parse(readFileSync(join(armDir, 'job.json'), 'utf8')).job.id === 'ftjob-1');
  },
);

test(
  'backend together: Lora job → completed → output_name evaluated through the chat endpoint; total_price is the training cost',
  { timeout: 60_000 },
  async () => {
    const s = await startMockTogether({ apiKey: 'tg-arm' });
    closers.push(s.close);
    process.env.MOCK_TOGETHER_KEY = 'tg-arm';
    const path = project(
      config({
        baseURL: s.baseURL,
        model: 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference',
        keyEnv: 'MOCK_TOGETHER_KEY',
        arm: '    backend: together\n    rank: 8\n    learningRate: 0.0001',
      }),
    );
    const { r, arm } = await run(path);
    assert.equal(r.exitCode, 0);
    const job = [...s.jobs.values()][0];
    assert.equal(s.jobs.size, 1);
    assert.equal(job.status, 'completed');
    assert.ok(s.chats.length > 0 && s.chats.every((c) => c.model === job.output_name));
    assert.equal(arm.training.costUsd, job.total_price / 1e9);
    assert.equal(arm.training.details.costSource, 'provider');
    assert.equal(arm.training.details.trainedTokens, job.token_count);
  },
);

test(
  'backend fireworks: dataset READY → job COMPLETED → outputModel evaluated at the inference endpoint',
  { timeout: 60_000 },
  async () => {
    const s = await startMockFireworks({ apiKey: 'fw-arm', account: 'acme' });
    closers.push(s.close);
    process.env.MOCK_FIREWORKS_KEY = 'fw-arm';
    const path = project(
      config({
        baseURL: s.inferenceURL,
        model: 'llama-v3p1-8b-instruct',
        keyEnv: 'MOCK_FIREWORKS_KEY',
        arm: `    backend: fireworks\n    account: acme\n    baseURL: ${s.baseURL}\n    rank: 8`,
      }),
    );
    const { r, arm } = await run(path);
    assert.equal(r.exitCode, 0);
    assert.equal(s.jobs.size, 1);
    const job = [...s.jobs.values()][0];
    assert.equal(job.state, 'JOB_STATE_COMPLETED');
    assert.ok(s.chats.length > 0 && s.chats.every((c) => c.model === job.outputModel));
    assert.equal(arm.training.modelId, job.outputModel);
    assert.equal(arm.training.details.costSource, 'provider');
  },
);

test(
  'a failed job fails the arm with the provider message; the budget refuses the job (exit 2, nothing uploaded)',
  { timeout: 60_000 },
  async () => {
    const s = await startMockTogether({ apiKey: 'tg-arm', fail: 'Training file line 7 is not valid JSON' });
    closers.push(s.close);
    process.env.MOCK_TOGETHER_KEY = 'tg-arm';
    const { r } = await run(
      project(
        config({
          baseURL: s.baseURL,
          model: 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference',
          keyEnv: 'MOCK_TOGETHER_KEY',
          arm: '    backend: together',
        }),
      ),
    );
    const arm = r.arms.find((a) => a.name === 'ft')!;
    assert.equal(arm.status, 'failed');
    assert.match(arm.error!, /Training file line 7 is not valid JSON/);
    const s2 = await startMockTogether({ apiKey: 'tg-arm' });
    closers.push(s2.close);
    const p2 = project(
      config({
        baseURL: s2.baseURL,
        model: 'meta-llama/Meta-Llama-3.1-70B-Instruct-Reference',
        keyEnv: 'MOCK_TOGETHER_KEY',
        arm: '    backend: together\n    budget: 0.0001',
      }),
    );
    await assert.rejects(
      runExperiment(loadConfig(p2)),
      (e: Error) =>
        e.name === 'InputError' && /arms\.ft\.budget: estimated training cost \$[\d.]+ is over the budget of \$0\.0001/.test(e.message),
    );
    assert.equal(s2.requests.length, 0);
  },
);

test('kill -9 while polling, then rerun: the same job is polled to its end; the server counts one job', { timeout: 90_000 }, async () => {
  // a job that stays `running` for many polls, so the first process is killed while polling it
  const s = await startMockOpenAIFt({
    apiKey: 'sk-kill',
    sequence: ['validating_files', 'queued', ...Array(400).fill('running'), 'succeeded'],
  });
  closers.push(s.close);
  const path = project(
    config({ baseURL: s.baseURL, model: 'gpt-4o-mini', keyEnv: 'MOCK_KILL_KEY', arm: '    backend: openai' }).replace(
      'pollSeconds: 0.001',
      'pollSeconds: 0.01',
    ),
  );
  const cwd = dirname(path);
  const env: NodeJS.ProcessEnv = { ...process.env, MOCK_KILL_KEY: 'sk-kill', NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  const runCli = (onStart?: (kill: () => void) => void) =>
    new Promise<{ code: number | null; signal: string | null; stderr: string }>((res) => {
      const child = spawn(
        process.execPath,
        ['--import', import.meta.resolve('tsx'), join(ROOT, 'src/cli/main.ts'), 'run', '--json', '-q', path],
        { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.resume();
      child.on('close', (code, signal) => res({ code, signal, stderr }));
      onStart?.(() => child.kill('SIGKILL'));
    });
  const first = runCli((kill) => {
    const t = setInterval(() => {
      const j = s.jobs.get('ftjob-1');
      if (j && j.status === 'running' && j.step > 5) {
        clearInterval(t);
        kill();
      }
    }, 20);
  });
  const r1 = await first;
  assert.equal(r1.signal, 'SIGKILL', r1.stderr);
  assert.equal(s.jobs.size, 1);
  const polledBefore = s.requests.filter((q) => q.method === 'GET' && q.path === '/v1/fine_tuning/jobs/ftjob-1').length;
  const uploadsBefore = s.requests.filter((q) => q.path === '/v1/files').length;
  // the job keeps running at the provider; make it finish soon
  s.sequence.splice(3, s.sequence.length - 4);
  const r2 = await runCli();
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(s.jobs.size, 1, 'no second job');
  assert.equal(s.requests.filter((q) => q.method === 'POST' && q.path === '/v1/fine_tuning/jobs').length, 1);
  assert.equal(s.requests.filter((q) => q.path === '/v1/files').length, uploadsBefore, 'nothing uploaded again');
  assert.ok(s.requests.filter((q) => q.method === 'GET' && q.path === '/v1/fine_tuning/jobs/ftjob-1').length > polledBefore);
  assert.equal(s.jobs.get('ftjob-1').status, 'succeeded');
  assert.ok(s.chats.some((c) => c.model.startsWith('ft:gpt-4o-mini')));
  const runs = readdirSync(join(cwd, '.tunelab', 'runs'));
  assert.equal(runs.length, 1, 'the rerun resumed the same run');
});
