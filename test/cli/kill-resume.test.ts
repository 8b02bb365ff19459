// Must show: SIGKILL a running `tunelab run` mid-way, run it again: it resumes the same run, repeats no
// completed call (counted at the server) and ends with results identical to an uninterrupted run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startMockOpenAI, defaultRespond, type MockServer } from '../helpers/mock-openai-server.ts';
import { cli, cleanup, project, query, spamConfig, SPAM_JSONL } from './helpers.ts';
import { makeTinyModel, TINY_WORDS } from '../finetune/tiny.ts';

let server: MockServer;
let hold: Promise<void> | undefined;
let onRequest: (() => void) | undefined;
before(async () => {
  server = await startMockOpenAI({
    latencyMs: 3,
    respond: async (req) => {
      onRequest?.();
      // requests held when the client is killed never complete, whatever their sockets do later
      if (hold) {
        await hold;
        throw new Error('held request dropped');
      }
      return defaultRespond(req);
    },
  });
});
after(() => server.close());

const key = (body: any) => JSON.stringify(body.messages);

function completedSince(start: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const b of server.requests.slice(start)) m.set(key(b), (m.get(key(b)) ?? 0) + 1);
  return m;
}

const results = (db: string) =>
  query(
    db,
    'SELECT arm, example_id, output, score, pass, extracted, expected, tokens_in, tokens_out, error FROM results ORDER BY arm, example_id',
  );

test('SIGKILL mid-run, then resume: no call repeated, results identical to an uninterrupted run', { timeout: 120_000 }, async () => {
  const cfg = spamConfig(server.baseURL, { top: 'baselines: false' });
  const files = { 'tunelab.yaml': cfg, 'messages.jsonl': SPAM_JSONL };
  // 120 emails, test 0.5 → 60 test examples × 2 arms = 120 calls.
  const killed = project(files);
  const clean = project(files);
  try {
    // 1) the run we kill: when the server has received request 85 (in the second arm), it stops
    // answering, gives the client time to take in every answer already sent, then SIGKILLs it.
    const start = server.requests.length;
    let received = 0;
    let child: ChildProcess | undefined;
    let release!: () => void;
    onRequest = () => {
      if (++received !== 85) return;
      hold = new Promise((r) => (release = r));
      setTimeout(() => child!.kill('SIGKILL'), 1000);
    };
    const env = { TUNELAB_RESULT_BATCH: '16', TUNELAB_FLUSH_MS: '60000' };
    const r1 = await cli(['run', '--json'], { cwd: killed, env, onSpawn: (c) => (child = c) });
    assert.equal(r1.signal, 'SIGKILL', `expected the child to be killed; stderr: ${r1.stderr}`);
    onRequest = undefined;
    hold = undefined;
    release();
    const db = join(killed, '.tunelab', 'tunelab.db');
    const before = query(db, 'SELECT id, status FROM runs');
    assert.equal(before.length, 1);
    assert.equal(before[0].status, 'running', 'a killed run is left as it was');
    const storedBefore = query(db, 'SELECT count(*) AS n FROM results')[0].n as number;
    const answeredBefore = server.requests.length - start;
    assert.ok(answeredBefore >= 80 && answeredBefore < 120, `answered ${answeredBefore}`);
    assert.ok(storedBefore < answeredBefore, `some answers (${answeredBefore - storedBefore}) were not yet stored as results when killed`);

    // 2) resume
    const r2 = await cli(['run', '--json'], { cwd: killed, env });
    assert.equal(r2.code, 0, r2.stderr);
    const out2 = JSON.parse(r2.stdout);
    assert.equal(out2.resumed, true);
    assert.equal(out2.runId, before[0].id);
    const cachedOnResume = out2.arms.reduce((s: number, a: any) => s + a.cached, 0);
    assert.ok(cachedOnResume > 0, 'answers received but not stored were served from the cache');
    const once = completedSince(start);
    for (const [k, n] of once) assert.equal(n, 1, `a completed call was repeated: ${k.slice(0, 120)}`);
    assert.equal(once.size, 120);
    assert.equal(query(db, 'SELECT count(*) AS n FROM runs')[0].n, 1);
    assert.equal(query(db, 'SELECT status FROM runs')[0].status, 'done');

    // 3) an uninterrupted run of the same config in a fresh folder
    const start3 = server.requests.length;
    const r3 = await cli(['run', '--json'], { cwd: clean });
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(server.requests.length - start3, 120);
    const db3 = join(clean, '.tunelab', 'tunelab.db');
    assert.deepEqual(results(db), results(db3));
    assert.equal(results(db).length, 120);
    const rep2 = out2.report;
    const rep3 = JSON.parse(r3.stdout).report;
    assert.deepEqual(
      rep2.arms.map((a: any) => [a.name, a.metric.value, a.metric.ci, a.n, a.errors, a.tokens]),
      rep3.arms.map((a: any) => [a.name, a.metric.value, a.metric.ci, a.n, a.errors, a.tokens]),
    );
    assert.deepEqual(rep2.comparisons, rep3.comparisons);
  } finally {
    cleanup(killed);
    cleanup(clean);
  }
});

test(
  'SIGINT stops after the calls in flight (exit 130, run kept as interrupted) and the next run resumes it',
  { timeout: 120_000 },
  async () => {
    const dir = project({ 'tunelab.yaml': spamConfig(server.baseURL, { top: 'baselines: false' }), 'messages.jsonl': SPAM_JSONL });
    try {
      let received = 0;
      let child: ChildProcess | undefined;
      onRequest = () => {
        if (++received === 30) child!.kill('SIGINT');
      };
      const r1 = await cli(['run'], { cwd: dir, env: { TUNELAB_RESULT_BATCH: '8' }, onSpawn: (c) => (child = c) });
      onRequest = undefined;
      assert.equal(r1.code, 130, r1.stderr);
      assert.match(r1.stderr, /SIGINT: stopping after the calls in flight/);
      const db = join(dir, '.tunelab', 'tunelab.db');
      assert.equal(query(db, 'SELECT status FROM runs')[0].status, 'interrupted');
      const stored = query(db, 'SELECT count(*) AS n FROM results')[0].n as number;
      assert.ok(stored >= 25 && stored < 120, `stored ${stored}`);
      const r2 = await cli(['run', '--json'], { cwd: dir });
      assert.equal(r2.code, 0, r2.stderr);
      const out = JSON.parse(r2.stdout);
      assert.equal(out.resumed, true);
      assert.equal(
        out.arms.reduce((s: number, a: any) => s + a.calls, 0),
        120 - stored,
      );
      assert.equal(query(db, 'SELECT count(*) AS n FROM results')[0].n, 120);
    } finally {
      cleanup(dir);
    }
  },
);

// ---- resume covers preparation ----

const runFolders = (dir: string) =>
  readdirSync(join(dir, '.tunelab', 'runs'))
    .filter((f) => !f.startsWith('.'))
    .sort();

const OPTIMIZE_ARMS = `  - name: optimized
    kind: optimize
    model: mock
    optimizer: bootstrap
    k: 2
    candidates: 4
    budget: { calls: 60 }
    concurrency: 2
    messages:
      - { role: system, content: "Is this email spam or ham? Answer spam or ham." }
      - { role: user, content: "Subject: {{subject}}\\n\\n{{text}}" }
  - name: zero-shot
    kind: prompt
    model: mock
    messages:
      - { role: system, content: "Is this email spam or ham? Answer spam or ham." }
      - { role: user, content: "Subject: {{subject}}\\n\\n{{text}}" }`;

test(
  'SIGKILL during an optimizer arm: the rerun resumes the same run id, no orphan folder, engineering time includes the time before the kill, results equal an uninterrupted run',
  { timeout: 120_000 },
  async () => {
    const cfg = spamConfig(server.baseURL, { arms: OPTIMIZE_ARMS, top: 'baselines: false' });
    const files = { 'tunelab.yaml': cfg, 'messages.jsonl': SPAM_JSONL };
    const killed = project(files);
    const clean = project(files);
    const env = { TUNELAB_PROGRESS_MS: '50' };
    try {
      let received = 0;
      let child: ChildProcess | undefined;
      let release!: () => void;
      // the 10th request is an optimizer call (prompt arms make none while preparing): hold it 1.2 s, then kill
      onRequest = () => {
        if (++received !== 10) return;
        hold = new Promise((r) => (release = r));
        setTimeout(() => child!.kill('SIGKILL'), 1200);
      };
      const r1 = await cli(['run', '--json'], { cwd: killed, env, onSpawn: (c) => (child = c) });
      assert.equal(r1.signal, 'SIGKILL', r1.stderr);
      onRequest = undefined;
      hold = undefined;
      release();
      const db = join(killed, '.tunelab', 'tunelab.db');
      const runs = query(db, 'SELECT id, status FROM runs');
      assert.equal(runs.length, 1, 'the run row exists before preparation');
      assert.deepEqual(runFolders(killed), [runs[0].id]);
      const arm = query(db, "SELECT status, progress FROM arms WHERE name = 'optimized'")[0];
      assert.equal(arm.status, 'preparing');
      const before = JSON.parse(String(arm.progress));
      assert.ok(before.spent.ms >= 1000, `time spent before the kill is stored as it accrues: ${before.spent.ms} ms`);
      assert.equal(query(db, 'SELECT count(*) AS n FROM results')[0].n, 0);

      const r2 = await cli(['run', '--json'], { cwd: killed, env });
      assert.equal(r2.code, 0, r2.stderr);
      const out2 = JSON.parse(r2.stdout);
      assert.equal(out2.resumed, true);
      assert.equal(out2.runId, runs[0].id);
      assert.deepEqual(runFolders(killed), [runs[0].id], 'no orphan run folder');
      const spent2 = out2.report.arms.find((a: { name: string }) => a.name === 'optimized').spent;
      assert.ok(spent2.ms >= before.spent.ms, `engineering time ${spent2.ms} ms includes the ${before.spent.ms} ms before the kill`);

      const r3 = await cli(['run', '--json'], { cwd: clean, env });
      assert.equal(r3.code, 0, r3.stderr);
      const db3 = join(clean, '.tunelab', 'tunelab.db');
      assert.deepEqual(results(db), results(db3));
      assert.equal(results(db).length, 120);
      const out3 = JSON.parse(r3.stdout);
      const promptOf = (o: { report: { arms: { name: string; promptHash: string }[] } }) =>
        o.report.arms.map((a) => [a.name, a.promptHash]);
      assert.deepEqual(promptOf(out2), promptOf(out3), 'the resumed optimizer chose the same prompt');
    } finally {
      cleanup(killed);
      cleanup(clean);
    }
  },
);

const ITEMS = TINY_WORDS.flatMap((w, i) =>
  Array.from({ length: 3 }, (_, j) =>
    JSON.stringify({ id: `${w}-${j}`, text: `${w}${j ? ` ${j}` : ''}`, label: i < 8 ? 'fruit' : 'tool' }),
  ),
).join('\n');

const ftConfig = (base: string) => `experiment: ft-kill
task:
  data: items.jsonl
  input: [text]
  expected: label
  id: id
  metric: { type: accuracy }
split: { train: 0.6, dev: 0.15, test: 0.25, seed: 1 }
baselines: false
models:
  - id: tiny
    provider: local
    path: ${base}
arms:
  - name: ft
    kind: finetune
    model: tiny
    messages:
      - { role: system, content: "Answer with one of: fruit, tool." }
      - { role: user, content: "Item: {{text}}" }
    maxSteps: 60
    epochs: 100
    batchSize: 4
    rank: 4
    learningRate: 0.01
    devExamples: 4
    patience: 50
`;

function findFile(root: string, name: string): string | undefined {
  if (!existsSync(root)) return undefined;
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) {
      const f = findFile(p, name);
      if (f) return f;
    } else if (e.name === name) return p;
  }
  return undefined;
}

test(
  'SIGKILL during local training: the rerun resumes the same run from its last checkpoint (steps counted), no orphan folder, results equal an uninterrupted run',
  { timeout: 180_000 },
  async () => {
    const tmp = project({});
    const base = makeTinyModel(join(tmp, 'tiny'));
    const files = { 'tunelab.yaml': ftConfig(base), 'items.jsonl': ITEMS };
    const killed = project(files);
    const clean = project(files);
    const env = { TUNELAB_CHECKPOINT_EVERY: '10' };
    try {
      let child: ChildProcess | undefined;
      const runsDir = join(killed, '.tunelab', 'runs');
      const watcher = setInterval(() => {
        if (child && findFile(runsDir, 'checkpoint.safetensors')) {
          clearInterval(watcher);
          child.kill('SIGKILL');
        }
      }, 10);
      const r1 = await cli(['run', '--json'], { cwd: killed, env, onSpawn: (c) => (child = c), timeoutMs: 120_000 });
      clearInterval(watcher);
      assert.equal(r1.signal, 'SIGKILL', `killed while training; stderr: ${r1.stderr}`);
      const db = join(killed, '.tunelab', 'tunelab.db');
      const runs = query(db, 'SELECT id FROM runs');
      assert.equal(runs.length, 1);
      assert.equal(query(db, 'SELECT status FROM arms')[0].status, 'preparing');

      const r2 = await cli(['run', '--json'], { cwd: killed, env, timeoutMs: 120_000 });
      assert.equal(r2.code, 0, r2.stderr);
      const out2 = JSON.parse(r2.stdout);
      assert.equal(out2.resumed, true);
      assert.equal(out2.runId, runs[0].id);
      assert.deepEqual(runFolders(killed), [runs[0].id], 'no orphan run folder');
      const t2 = JSON.parse(readFileSync(findFile(runsDir, 'training.json')!, 'utf8'));
      assert.ok(t2.resumedFromStep >= 10 && t2.resumedFromStep < 60, `resumed from step ${t2.resumedFromStep}`);
      assert.equal(t2.steps, 60, 'steps before and after the kill add up');
      assert.equal(findFile(runsDir, 'checkpoint.safetensors'), undefined, 'checkpoints are removed once training has finished');

      const r3 = await cli(['run', '--json'], { cwd: clean, env, timeoutMs: 120_000 });
      assert.equal(r3.code, 0, r3.stderr);
      const t3 = JSON.parse(readFileSync(findFile(join(clean, '.tunelab', 'runs'), 'training.json')!, 'utf8'));
      assert.equal(t3.resumedFromStep, undefined);
      assert.deepEqual(t2.losses, t3.losses, 'identical training losses');
      assert.deepEqual(t2.valLosses, t3.valLosses);
      assert.deepEqual(results(db), results(join(clean, '.tunelab', 'tunelab.db')));
    } finally {
      cleanup(tmp);
      cleanup(killed);
      cleanup(clean);
    }
  },
);

test(
  'one writer per store: a second run on a store in use exits 2 with one line naming the store and the holder pid; the first run is unaffected',
  { timeout: 120_000 },
  async () => {
    const dir = project({ 'tunelab.yaml': spamConfig(server.baseURL, { top: 'baselines: false' }), 'messages.jsonl': SPAM_JSONL });
    try {
      let first: ChildProcess | undefined;
      let release!: () => void;
      let started!: () => void;
      const busy = new Promise<void>((r) => (started = r));
      let received = 0;
      onRequest = () => {
        if (++received !== 5) return;
        // the first run is mid-evaluation (holding the store) until released
        hold = new Promise((r) => (release = r));
        started();
      };
      const run1 = cli(['run', '--json'], { cwd: dir, onSpawn: (c) => (first = c) });
      await busy;
      const db = join(dir, '.tunelab', 'tunelab.db');
      const r2 = await cli(['run'], { cwd: dir });
      assert.equal(r2.code, 2, r2.stderr);
      const lines = r2.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r2.stderr);
      assert.ok(lines[0].includes(db), lines[0]);
      assert.match(lines[0], new RegExp(`in use by another tunelab process \\(pid ${first!.pid}\\)`));
      assert.equal(r2.stdout, '');
      hold = undefined;
      onRequest = undefined;
      release();
      const r1 = await run1;
      // held requests were dropped by the mock: the first run still finishes (its retries reach the server)
      assert.ok(r1.code === 0 || r1.code === 1, r1.stderr);
      assert.equal(query(db, 'SELECT count(*) AS n FROM runs')[0].n, 1);
      const r3 = await cli(['run', '--json'], { cwd: dir });
      assert.equal(r3.code, 0, r3.stderr);
      assert.ok(JSON.parse(r3.stdout).runId, 'the lock is released when the holder ends');
      assert.equal(existsSync(`${db}.lock`), false);
    } finally {
      onRequest = undefined;
      hold = undefined;
      cleanup(dir);
    }
  },
);
