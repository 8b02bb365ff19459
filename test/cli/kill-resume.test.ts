// Must show: SIGKILL a running `tunelab run` mid-way, run it again: it resumes the same run, repeats no
// completed call (counted at the server) and ends with results identical to an uninterrupted run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startMockOpenAI, defaultRespond, type MockServer } from '../helpers/mock-openai-server.ts';
import { cli, cleanup, project, query, spamConfig, SPAM_JSONL } from './helpers.ts';

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
  query(db, 'SELECT arm, example_id, output, score, pass, extracted, expected, tokens_in, tokens_out, error FROM results ORDER BY arm, example_id');

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
    assert.equal(query(db, "SELECT status FROM runs")[0].status, 'done');

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

test('SIGINT stops after the calls in flight (exit 130, run kept as interrupted) and the next run resumes it', { timeout: 120_000 }, async () => {
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
    assert.equal(out.arms.reduce((s: number, a: any) => s + a.calls, 0), 120 - stored);
    assert.equal(query(db, 'SELECT count(*) AS n FROM results')[0].n, 120);
  } finally {
    cleanup(dir);
  }
});
