// End to end: a fine-tune arm with `backend: openai` against a real `tunelab serve` that this test starts
// (a tiny model, tiny settings): the file is uploaded, the job trains there, and the tuned model the
// server names answers the test split through the same endpoint.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, runExperiment } from '../../src/experiment/index.ts';
import { makeTinyModel, TINY_WORDS } from './tiny.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'tunelab-serve-ft-'));
let child: ChildProcess | undefined;
after(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('backend openai against tunelab serve: trained there, tuned model evaluated on the test split', { timeout: 120_000 }, async () => {
  const model = makeTinyModel(join(dir, 'tiny'));
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  delete env.TUNELAB_API_KEY;
  child = spawn(
    process.execPath,
    [
      '--import',
      import.meta.resolve('tsx'),
      join(ROOT, 'src/cli/main.ts'),
      'serve',
      '--port',
      '0',
      '--model',
      `local:${model}`,
      '--data',
      join(dir, 'serve'),
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const url = await new Promise<string>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`serve did not start: ${stderr}`)), 60_000);
    child!.stderr!.on('data', (d) => {
      stderr += d;
      const m = /listening on (http:\/\/\S+\/v1)/.exec(stderr);
      if (m) {
        clearTimeout(t);
        res(m[1]);
      }
    });
    child!.on('exit', () => rej(new Error(`serve exited: ${stderr}`)));
  });
  // a toy task: item word → fruit | tool
  const rows = Array.from({ length: 48 }, (_, i) => {
    const w = TINY_WORDS[i % 16];
    return JSON.stringify({ id: `e${i}`, text: `Item: ${w} number ${i}`, label: TINY_WORDS.indexOf(w) < 8 ? 'fruit' : 'tool' });
  });
  const proj = join(dir, 'proj');
  mkdirSync(join(proj, '.tunelab'), { recursive: true });
  writeFileSync(join(proj, 'items.jsonl'), rows.join('\n') + '\n');
  writeFileSync(
    join(proj, 'tunelab.yaml'),
    `experiment: serve-ft
task: { data: items.jsonl, input: [text], expected: label, id: id, metric: { type: accuracy } }
split: { train: 24, dev: 8, test: 16, seed: 1, leakage: report }
models:
  - id: served
    provider: openai-compatible
    baseURL: ${url}
    model: local:${model}
    maxTokens: 4
    temperature: 0
arms:
  - name: ft
    kind: finetune
    backend: openai
    model: served
    epochs: 1
    batchSize: 8
    pollSeconds: 0.2
    messages:
      - { role: system, content: "Answer with one of: fruit, tool." }
      - { role: user, content: "{{text}}" }
`,
  );
  const r = await runExperiment(loadConfig(join(proj, 'tunelab.yaml')));
  const arm = r.arms.find((a) => a.name === 'ft')!;
  assert.equal(arm.status, 'done', arm.error);
  assert.equal(arm.done, 16);
  const rep = r.report.arms.find((a: any) => a.name === 'ft') as any;
  assert.match(rep.training.modelId, /^ft:/);
  assert.equal(rep.training.details.backend, 'openai');
  assert.ok(rep.training.details.trainedTokens > 0);
  assert.equal(rep.training.details.trainedTokensSource, 'provider');
  assert.equal(rep.training.costUsd, 0, 'tunelab serve charges nothing (price table: local:)');
  // the server has the job, succeeded, and served the tuned model
  const jobs = await (await fetch(`${url}/fine_tuning/jobs`)).json();
  assert.equal(jobs.data.length, 1);
  assert.equal(jobs.data[0].status, 'succeeded');
  assert.equal(jobs.data[0].fine_tuned_model, rep.training.modelId);
  const sent = readFileSync(join(r.runDir, 'arms', 'ft', 'train.jsonl'), 'utf8')
    .trim()
    .split('\n');
  assert.equal(sent.length, 24);
});
