import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openStore, SCHEMA_VERSION, StoreError, type ResultInput, type Store } from '../../src/store/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tunelab-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let k = 0;
const fresh = (): Store => openStore(join(dir, `s${++k}`, 'tunelab.db'), { env: {} });

const result = (run: string, i: number, extra: Partial<ResultInput> = {}): ResultInput => ({
  run,
  arm: 'zero-shot',
  exampleId: `ex-${i}`,
  output: i % 2 ? 'spam' : 'ham',
  score: i % 3 ? 1 : 0,
  pass: i % 3 !== 0,
  extracted: i % 2 ? 'spam' : 'ham',
  expected: 'spam',
  latencyMs: 1.5,
  costUsd: 0.0001,
  tokensIn: 10,
  tokensOut: 1,
  ...extra,
});

/** Every row of every table, for "nothing changed" checks. */
function snapshot(s: Store): string {
  const tables = s.db.prepare("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name").pluck().all() as string[];
  return JSON.stringify(tables.map((t) => [t, s.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()]));
}

describe('store: schema', () => {
  test('migrates a new file, WAL mode, reopens without re-migrating', () => {
    const p = join(dir, 'mig', 'a.db');
    const s = openStore(p, { env: {} });
    assert.equal(s.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(s.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(s.db.pragma('foreign_keys', { simple: true }), 1);
    const tables = s.db.prepare("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name").pluck().all();
    assert.deepEqual(tables, ['arms', 'cache', 'calls', 'experiments', 'files', 'jobs', 'results', 'runs']);
    const run = s.createRun({ experiment: 'e1', config: { task: 'x' } });
    s.close();
    const s2 = openStore(p, { env: {} });
    assert.equal(s2.getRun(run.id)?.experiment, 'e1');
    s2.close();
  });

  test('refuses a newer schema and a foreign SQLite file, leaving both untouched', () => {
    const p = join(dir, 'mig', 'newer.db');
    const raw = new Database(p);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    assert.throws(() => openStore(p, { env: {} }), (e: any) => e instanceof StoreError && /newer than this tunelab understands/.test(e.message));

    const q = join(dir, 'mig', 'foreign.db');
    const f = new Database(q);
    f.exec("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('keep me')");
    f.close();
    const bytes = readFileSync(q);
    assert.throws(() => openStore(q, { env: {} }), /not a tunelab store/);
    const g = new Database(q);
    assert.deepEqual(g.prepare('SELECT x FROM notes').pluck().all(), ['keep me']);
    assert.equal(g.pragma('user_version', { simple: true }), 0);
    g.close();
    assert.ok(readFileSync(q).subarray(0, 100).equals(bytes.subarray(0, 100)));

    const junk = join(dir, 'mig', 'junk.db');
    writeFileSync(junk, 'this is not sqlite at all, just text '.repeat(50));
    assert.throws(() => openStore(junk, { env: {} }), (e: any) => e instanceof StoreError && e.message.includes(junk));
  });
});

describe('store: runs, arms, calls', () => {
  test('runs: create, get, list, latest, status', async () => {
    const s = fresh();
    assert.equal(s.latestRun(), undefined);
    const a = s.createRun({ experiment: 'spam', config: { models: [{ id: 'm', apiKeyEnv: 'OPENAI_API_KEY' }] } });
    await new Promise((r) => setTimeout(r, 3));
    const b = s.createRun({ experiment: 'spam', config: { v: 2 }, id: 'my-run' });
    const c = s.createRun({ experiment: 'other', config: {} });
    assert.match(a.id, /^\d{8}-\d{6}-[0-9a-f]{4}$/);
    assert.equal(a.status, 'running');
    assert.deepEqual(s.getRun(a.id)?.config, { models: [{ id: 'm', apiKeyEnv: 'OPENAI_API_KEY' }] });
    assert.equal(s.latestRun()?.id, c.id);
    assert.equal(s.latestRun('spam')?.id, b.id);
    assert.deepEqual(s.listRuns({ experiment: 'spam' }).map((r) => r.id), [b.id, a.id]);
    assert.equal(s.listRuns({ limit: 2 }).length, 2);
    assert.deepEqual(s.listExperiments().map((e) => e.id).sort(), ['other', 'spam']);
    assert.throws(() => s.createRun({ experiment: 'spam', config: {}, id: 'my-run' }), /exists/);
    assert.throws(() => s.createRun({ experiment: 'spam', config: {}, id: 'latest' }), /reserved/);
    assert.throws(() => s.createRun({ experiment: 'spam', config: { bad: NaN } }), /createRun\.config: not serializable/);
    s.setRunStatus(a.id, 'done');
    assert.equal(s.getRun(a.id)?.status, 'done');
    assert.ok(s.getRun(a.id)!.finishedAt! > 0);
    s.setRunStatus(a.id, 'running');
    assert.equal(s.getRun(a.id)?.finishedAt, undefined);
    assert.throws(() => s.setRunStatus(a.id, 'weird' as any), /setRunStatus\.status/);
    assert.throws(() => s.setRunStatus('nope', 'done'), /no run with id "nope"/);
    s.updateRunMeta(a.id, { seed: 7 });
    assert.deepEqual(s.getRun(a.id)?.meta, { seed: 7 });
    s.close();
  });

  test('arms: upsert keeps created time, updates the rest', () => {
    const s = fresh();
    const run = s.createRun({ experiment: 'e', config: {} }).id;
    s.upsertArm({ run, name: 'zero', kind: 'prompt', status: 'pending' });
    const first = s.getArm(run, 'zero')!;
    s.upsertArm({ run, name: 'zero', kind: 'prompt', status: 'done', predictor: { model: 'm', hash: 'h' }, spent: { calls: 0 } });
    const arm = s.getArm(run, 'zero')!;
    assert.equal(arm.status, 'done');
    assert.deepEqual(arm.predictor, { model: 'm', hash: 'h' });
    assert.equal(arm.createdAt, first.createdAt);
    s.upsertArm({ run, name: 'ft', kind: 'finetune', status: 'failed', error: 'out of memory' });
    assert.deepEqual(s.listArms(run).map((a) => [a.name, a.status, a.error]), [['zero', 'done', undefined], ['ft', 'failed', 'out of memory']]);
    assert.throws(() => s.upsertArm({ run, name: 'x', kind: 'prompt', status: 'bogus' as any }), /upsertArm\.status/);
    assert.throws(() => s.upsertArm({ run: 'missing', name: 'x', kind: 'prompt', status: 'pending' }), /no run/);
    s.close();
  });

  test('calls: a models CallRecord records as is; run/arm from meta; stats exclude cache hits', () => {
    const s = fresh();
    const run = s.createRun({ experiment: 'e', config: {} }).id;
    const base = {
      modelId: 'm', provider: 'openai-compatible', model: 'm', hash: 'a'.repeat(64), request: { messages: [{ role: 'user', content: 'hi' }] },
      cached: false, at: Date.now(), meta: { run, arm: 'zero', exampleId: 'ex-1' },
    };
    s.recordCall({ ...base, attempt: 1, ok: false, error: 'HTTP 500', errorKind: 'http', status: 500, usage: { input: 0, output: 0 }, latencyMs: 3, costUsd: 0 } as any);
    s.recordCall({ ...base, attempt: 2, ok: true, response: { text: 'ham' }, usage: { input: 5, output: 1 }, latencyMs: 4, costUsd: 0.01 } as any);
    s.recordCall({ ...base, attempt: 0, cached: true, ok: true, response: { text: 'ham' }, usage: { input: 5, output: 1 }, latencyMs: 4, costUsd: 0.01 } as any);
    const calls = s.listCalls(run, 'zero');
    assert.deepEqual(calls.map((c) => [c.attempt, c.response ?? null, c.error ?? null, c.status ?? null, c.exampleId]), [
      [1, null, 'HTTP 500', 500, 'ex-1'],
      [2, 'ham', null, null, 'ex-1'],
      [0, 'ham', null, null, 'ex-1'],
    ]);
    assert.deepEqual(s.callStats(run), { calls: 3, failed: 1, cached: 1, tokensIn: 5, tokensOut: 1, costUsd: 0.01, latencyMs: 7 });
    const before = snapshot(s);
    assert.throws(() => s.recordCall({ ...base, attempt: 1, usage: { input: -1, output: 0 }, latencyMs: 1, costUsd: 0 } as any), /recordCall\.usage\.input: must be at least 0/);
    assert.throws(() => s.recordCall({ ...base, meta: { run: 'ghost' }, attempt: 1, usage: { input: 1, output: 0 }, latencyMs: 1, costUsd: 0 } as any), /no run with id "ghost"/);
    assert.throws(() => s.recordCalls([{ ...base, attempt: 1, usage: { input: 1, output: 0 }, latencyMs: 1, costUsd: 0 }, { ...base, attempt: 1.5 } as any]), /recordCalls\[1\]/);
    assert.equal(snapshot(s), before);
    s.close();
  });
});

describe('store: results', () => {
  test('recording is idempotent; batches validate first and write in one transaction', () => {
    const s = fresh();
    const run = s.createRun({ experiment: 'e', config: {} }).id;
    assert.equal(s.recordResult(result(run, 1)), true);
    assert.equal(s.recordResult(result(run, 1, { output: 'different', score: 0 })), false);
    const [r] = s.resultsFor(run, 'zero-shot');
    assert.equal(r.output, 'spam');
    assert.equal(r.score, 1);
    assert.equal(r.pass, true);
    assert.equal(s.recordResults([result(run, 1), result(run, 2), result(run, 3), result(run, 3)]), 2);
    assert.deepEqual([...s.doneExampleIds(run, 'zero-shot')].sort(), ['ex-1', 'ex-2', 'ex-3']);
    assert.equal(s.countResults(run), 3);
    assert.equal(s.countResults(run, 'other'), 0);

    const before = snapshot(s);
    assert.throws(() => s.recordResults([result(run, 4), result(run, 5, { score: NaN })]), (e: any) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.message, 'recordResults[1].score: expected a finite number, got NaN');
      return true;
    });
    assert.throws(() => s.recordResults([result(run, 6), result(run, 7, { pass: 1 as any })]), /recordResults\[1\]\.pass: expected true or false/);
    assert.throws(() => s.recordResults([result(run, 8, { exampleId: '' })]), /recordResults\[0\]\.exampleId: must not be empty/);
    assert.throws(() => s.recordResults([result(run, 9, { tokensIn: 2.5 })]), /whole number/);
    assert.throws(() => s.recordResults([result('no-such-run', 9)]), /no run/);
    assert.throws(() => s.recordResult({ ...result(run, 10), output: undefined } as any), /recordResult\.output: required/);
    assert.equal(snapshot(s), before);
    s.close();
  });

  test('throughput: batched inserts of 20,000 results', () => {
    const s = fresh();
    const run = s.createRun({ experiment: 'e', config: {} }).id;
    const rows = Array.from({ length: 20_000 }, (_, i) => result(run, i));
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += 500) s.recordResults(rows.slice(i, i + 500));
    const dt = performance.now() - t0;
    const perSec = Math.round(rows.length / (dt / 1000));
    console.log(`# store: ${rows.length} results in ${dt.toFixed(0)} ms = ${perSec} results/s (batches of 500)`);
    assert.equal(s.countResults(run), 20_000);
    assert.ok(perSec > 5_000, `${perSec} results/s`);
    const t1 = performance.now();
    for (let i = 0; i < 2000; i++) s.recordResult(result(run, 100_000 + i));
    const single = Math.round(2000 / ((performance.now() - t1) / 1000));
    console.log(`# store: single-row recordResult ${single} results/s`);
    s.close();
  });
});

describe('store: cache, jobs, files', () => {
  test('cache implements ResponseCache; only plain fields are kept', () => {
    const s = fresh();
    assert.equal(s.get('h1'), undefined);
    s.put('h1', 'm', { text: 'ham', usage: { input: 3, output: 1 }, latencyMs: 12.5, costUsd: 0.002, raw: { headers: { authorization: 'Bearer x' } } } as any);
    assert.deepEqual(s.get('h1'), { text: 'ham', usage: { input: 3, output: 1 }, latencyMs: 12.5, costUsd: 0.002 });
    assert.doesNotMatch(s.db.prepare('SELECT response FROM cache').pluck().get() as string, /authorization/);
    s.put('h1', 'm', { text: 'spam', usage: { input: 3, output: 1 }, latencyMs: 1, costUsd: 0 });
    assert.equal(s.get('h1')?.text, 'spam');
    s.put('h2', 'other', { text: '', usage: { input: 0, output: 0 }, latencyMs: 0, costUsd: 0 });
    assert.equal(s.cacheSize(), 2);
    assert.throws(() => s.put('h3', 'm', { text: 5, usage: { input: 0, output: 0 }, latencyMs: 0, costUsd: 0 } as any), /cache\.put\.response\.text/);
    assert.equal(s.clearCache('other'), 1);
    assert.equal(s.cacheSize(), 1);
    s.db.prepare("INSERT INTO cache VALUES ('bad', 'm', '{not json', 0)").run();
    assert.equal(s.get('bad'), undefined);
    s.close();
  });

  test('jobs and files CRUD', () => {
    const s = fresh();
    const j = s.createJob({ backend: 'local', status: 'queued', options: { baseModel: 'tiny', epochs: 2 } });
    assert.match(j.id, /^ftjob-[0-9a-f]{24}$/);
    assert.equal(s.getJob(j.id)?.status, 'queued');
    const u = s.updateJob(j.id, { status: 'running', state: { step: 3 } });
    assert.deepEqual([u.status, u.state, u.options], ['running', { step: 3 }, { baseModel: 'tiny', epochs: 2 }]);
    assert.equal(s.updateJob(j.id, { state: { step: 4 } }).status, 'running');
    s.createJob({ id: 'ftjob-2', backend: 'openai', status: 'queued', options: {} });
    assert.deepEqual(s.listJobs({ backend: 'local' }).map((x) => x.id), [j.id]);
    assert.equal(s.listJobs().length, 2);
    assert.throws(() => s.updateJob('nope', { status: 'x' }), /no job/);
    assert.throws(() => s.createJob({ id: 'ftjob-2', backend: 'b', status: 's', options: {} }), /exists/);

    const f = s.createFile({ filename: 'train.jsonl', purpose: 'fine-tune', bytes: 1234, path: '/tmp/x/train.jsonl' });
    assert.match(f.id, /^file-/);
    assert.deepEqual(s.getFile(f.id), { ...f });
    s.createFile({ id: 'file-b', filename: 'v.jsonl', purpose: 'validation', bytes: 1, path: '/tmp/v' });
    assert.deepEqual(s.listFiles({ purpose: 'fine-tune' }).map((x) => x.id), [f.id]);
    assert.throws(() => s.createFile({ filename: 'x', purpose: 'p', bytes: -1, path: '/p' }), /createFile\.bytes/);
    assert.equal(s.deleteFile(f.id), true);
    assert.equal(s.deleteFile(f.id), false);
    assert.equal(s.listFiles().length, 1);
    s.close();
  });
});
