import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MIGRATIONS, openStore, SCHEMA_VERSION, StoreError, type ResultRecord, type RunMeta, type Store } from '../../src/store/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tunelab-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let k = 0;
const fresh = (): Store => openStore(join(dir, `s${++k}`, 'tunelab.db'), { env: {} });

type ResultInput = Omit<ResultRecord, 'idx'>;
const result = (_run: string, i: number, extra: Partial<ResultInput> = {}): ResultInput => ({
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
  cached: false,
  ...extra,
});

const meta = (config: unknown = {}, extra: Partial<RunMeta> = {}): RunMeta => ({
  seed: 1,
  sizes: { train: 1, dev: 1, test: 1 },
  metric: { name: 'accuracy', type: 'accuracy' },
  data: 'd.jsonl',
  arms: [],
  warnings: [],
  config,
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
    const run = s.createRun({ experiment: 'e1', runKey: 'k', meta: meta({ task: 'x' }) });
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
    assert.throws(
      () => openStore(p, { env: {} }),
      (e: unknown) => e instanceof StoreError && /newer than this tunelab understands/.test(e.message),
    );

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
    assert.throws(
      () => openStore(junk, { env: {} }),
      (e: unknown) => e instanceof StoreError && e.message.includes(junk),
    );
  });

  test("migrates a version-1 store: run key column, arms in the runner's statuses and columns", () => {
    const p = join(dir, 'mig', 'v1.db');
    const raw = new Database(p);
    raw.exec(MIGRATIONS[0]);
    raw.pragma('user_version = 1');
    raw.exec(`INSERT INTO experiments VALUES ('spam', 1, NULL);
      INSERT INTO runs VALUES ('r1', 'spam', '{"seed":3}', 'running', 1, NULL, '{"seed":3,"runKey":"abc-def","arms":["zero","ft"]}');
      INSERT INTO arms VALUES ('r1', 'zero', 'prompt', '{"modelId":"m","promptHash":"h","artifact":{"frozen":true},"notes":{"a":1},"status":"prepared"}', '{"calls":1,"tokensIn":0,"tokensOut":0,"costUsd":0,"ms":5}', 'evaluating', NULL, 1, 2);
      INSERT INTO arms VALUES ('r1', 'ft', 'finetune', NULL, NULL, 'preparing', NULL, 1, 2);`);
    raw.close();
    const s = openStore(p, { env: {} });
    const run = s.getRun('r1')!;
    assert.equal(run.runKey, 'abc-def');
    assert.deepEqual(run.meta.arms, ['zero', 'ft']);
    assert.equal((run.meta as unknown as Record<string, unknown>).runKey, undefined);
    assert.equal(s.findResumable('spam', 'abc-def')?.id, 'r1');
    assert.deepEqual(s.getArm('r1', 'zero'), {
      run: 'r1',
      name: 'zero',
      kind: 'prompt',
      status: 'prepared',
      modelId: 'm',
      promptHash: 'h',
      artifact: { frozen: true },
      notes: { a: 1 },
      spent: { calls: 1, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: 5 },
    });
    assert.equal(s.getArm('r1', 'ft')?.status, 'pending');
    s.close();
  });
});

describe('store: runs, arms, calls', () => {
  test('runs: create, get, list, latest, status', async () => {
    const s = fresh();
    assert.equal(s.latestRun(), undefined);
    const a = s.createRun({ experiment: 'spam', runKey: 'k', meta: meta({ models: [{ id: 'm', apiKeyEnv: 'OPENAI_API_KEY' }] }) });
    await new Promise((r) => setTimeout(r, 3));
    const b = s.createRun({ experiment: 'spam', runKey: 'k', meta: meta({ v: 2 }), id: 'my-run' });
    const c = s.createRun({ experiment: 'other', runKey: 'k', meta: meta({}) });
    assert.match(a.id, /^\d{8}-\d{6}-[0-9a-f]{6}$/);
    assert.equal(a.status, 'running');
    assert.deepEqual(s.getRun(a.id)?.meta.config, { models: [{ id: 'm', apiKeyEnv: 'OPENAI_API_KEY' }] });
    assert.equal(s.latestRun()?.id, c.id);
    assert.equal(s.latestRun('spam')?.id, b.id);
    assert.deepEqual(
      s.listRuns({ experiment: 'spam' }).map((r) => r.id),
      [b.id, a.id],
    );
    assert.equal(s.listRuns({ limit: 2 }).length, 2);
    assert.deepEqual(s.db.prepare('SELECT id FROM experiments ORDER BY id').pluck().all(), ['other', 'spam']);
    assert.throws(() => s.createRun({ experiment: 'spam', runKey: 'k', meta: meta({}), id: 'my-run' }), /exists/);
    assert.throws(() => s.createRun({ experiment: 'spam', runKey: 'k', meta: meta({}), id: 'latest' }), /reserved/);
    assert.throws(
      () => s.createRun({ experiment: 'spam', runKey: 'k', meta: meta({ bad: NaN }) }),
      /createRun\.meta\.config: not serializable/,
    );
    s.updateRun(a.id, { status: 'done' });
    assert.equal(s.getRun(a.id)?.status, 'done');
    assert.ok(s.getRun(a.id)!.finishedAt! > 0);
    s.updateRun(a.id, { status: 'running' });
    assert.equal(s.getRun(a.id)?.finishedAt, undefined);
    assert.throws(() => s.updateRun(a.id, { status: 'weird' as never }), /updateRun\.status/);
    assert.throws(() => s.updateRun('nope', { status: 'done' }), /no run with id "nope"/);
    s.updateRun(a.id, { meta: meta({ v: 3 }, { seed: 7 }) });
    assert.equal(s.getRun(a.id)?.meta.seed, 7);
    assert.deepEqual(s.getRun(a.id)?.meta.config, { v: 3 });
    // resume lookup: the newest unfinished run of an experiment and key
    assert.equal(s.findResumable('spam', 'k')?.id, b.id);
    s.updateRun(b.id, { status: 'done' });
    assert.equal(s.findResumable('spam', 'k'), undefined, 'the newest run of the key is done: nothing to resume');
    assert.equal(s.findResumable('spam', 'other-key'), undefined);
    // delete: the run goes with its arms, results and calls, and its experiment when it was the last
    s.putArm({ run: c.id, name: 'zero', kind: 'prompt', status: 'pending' });
    s.putResults(c.id, 'zero', [result(c.id, 1)]);
    s.deleteRun(c.id);
    assert.equal(s.getRun(c.id), undefined);
    assert.equal(s.countResults(c.id), 0);
    assert.deepEqual(s.db.prepare('SELECT id FROM experiments ORDER BY id').pluck().all(), ['spam']);
    s.close();
  });

  test('arms: put replaces the record, keeps its place; progress of an interrupted prepare', () => {
    const s = fresh();
    const run = s.createRun({ experiment: 'e', runKey: 'k', meta: meta({}) }).id;
    s.putArm({ run, name: 'zero', kind: 'prompt', status: 'pending' });
    s.putArm({ run, name: 'ft', kind: 'finetune', status: 'pending' });
    const spent = { calls: 3, tokensIn: 4, tokensOut: 5, costUsd: 0.5, ms: 1200 };
    s.saveProgress(run, 'zero', { spent, sessions: 1, state: { round: 2 } });
    assert.equal(s.getArm(run, 'zero')?.status, 'preparing');
    assert.deepEqual(s.getArm(run, 'zero')?.progress, { spent, sessions: 1, state: { round: 2 } });
    s.putArm({
      run,
      name: 'zero',
      kind: 'prompt',
      status: 'done',
      modelId: 'm',
      promptHash: 'h',
      artifact: { frozen: true },
      spent,
      notes: { n: 1 },
    });
    const arm = s.getArm(run, 'zero')!;
    assert.deepEqual(arm, {
      run,
      name: 'zero',
      kind: 'prompt',
      status: 'done',
      modelId: 'm',
      promptHash: 'h',
      artifact: { frozen: true },
      spent,
      notes: { n: 1 },
    });
    s.putArm({ run, name: 'ft', kind: 'finetune', status: 'failed', error: 'out of memory' });
    assert.deepEqual(
      s.listArms(run).map((a) => [a.name, a.status, a.error]),
      [
        ['zero', 'done', undefined],
        ['ft', 'failed', 'out of memory'],
      ],
    );
    assert.throws(() => s.putArm({ run, name: 'x', kind: 'prompt', status: 'bogus' as never }), /putArm\.status/);
    assert.throws(() => s.putArm({ run: 'missing', name: 'x', kind: 'prompt', status: 'pending' }), /no run/);
    assert.throws(() => s.saveProgress(run, 'nope', { spent, sessions: 1 }), /no arm "nope"/);
    s.close();
  });

  test('calls: a models CallRecord records as is; run/arm from meta; buffered calls are written with the next results', () => {
    const s = fresh();
    const run = s.createRun({ experiment: 'e', runKey: 'k', meta: meta({}) }).id;
    const base = {
      modelId: 'm',
      provider: 'openai-compatible',
      model: 'm',
      hash: 'a'.repeat(64),
      request: { messages: [{ role: 'user', content: 'hi' }] },
      cached: false,
      at: Date.now(),
      meta: { run, arm: 'zero', exampleId: 'ex-1' },
    };
    s.recordCalls([
      {
        ...base,
        attempt: 1,
        ok: false,
        error: 'HTTP 500',
        errorKind: 'http',
        status: 500,
        usage: { input: 0, output: 0 },
        latencyMs: 3,
        costUsd: 0,
      } as never,
      { ...base, attempt: 2, ok: true, response: { text: 'ham' }, usage: { input: 5, output: 1 }, latencyMs: 4, costUsd: 0.01 } as never,
    ]);
    // the runner's buffer: logged calls are written with the next results (or flushCalls)
    s.logCall(
      {
        ...base,
        attempt: 0,
        cached: true,
        ok: true,
        response: { text: 'ham' },
        usage: { input: 5, output: 1 },
        latencyMs: 4,
        costUsd: 0.01,
      },
      run,
      'zero',
    );
    assert.equal(s.listCalls(run).length, 2);
    s.flushCalls();
    const calls = s.listCalls(run, 'zero');
    assert.deepEqual(
      calls.map((c) => [c.attempt, c.response ?? null, c.error ?? null, c.status ?? null, c.exampleId]),
      [
        [1, null, 'HTTP 500', 500, 'ex-1'],
        [2, 'ham', null, null, 'ex-1'],
        [0, 'ham', null, null, 'ex-1'],
      ],
    );
    const before = snapshot(s);
    assert.throws(
      () => s.recordCalls([{ ...base, attempt: 1, usage: { input: -1, output: 0 }, latencyMs: 1, costUsd: 0 } as never]),
      /recordCalls\[0\]\.usage\.input: must be at least 0/,
    );
    assert.throws(
      () =>
        s.recordCalls([{ ...base, meta: { run: 'ghost' }, attempt: 1, usage: { input: 1, output: 0 }, latencyMs: 1, costUsd: 0 } as never]),
      /no run with id "ghost"/,
    );
    assert.throws(
      () =>
        s.recordCalls([
          { ...base, attempt: 1, usage: { input: 1, output: 0 }, latencyMs: 1, costUsd: 0 },
          { ...base, attempt: 1.5 } as never,
        ]),
      /recordCalls\[1\]/,
    );
    assert.equal(snapshot(s), before);
    s.close();
  });
});

describe('store: results', () => {
  test('recording is idempotent; batches validate first and write in one transaction', () => {
    const s = fresh();
    const run = s.createRun({ experiment: 'e', runKey: 'k', meta: meta({}) }).id;
    assert.equal(s.putResults(run, 'zero-shot', [result(run, 1)]), 1);
    assert.equal(s.putResults(run, 'zero-shot', [result(run, 1, { output: 'different', score: 0 })]), 0);
    const [r] = s.results(run, 'zero-shot');
    assert.equal(r.output, 'spam');
    assert.equal(r.score, 1);
    assert.equal(r.pass, true);
    assert.equal(r.idx, 0);
    assert.equal(s.putResults(run, 'zero-shot', [result(run, 1), result(run, 2), result(run, 3), result(run, 3)]), 2);
    assert.deepEqual([...s.doneIds(run, 'zero-shot')].sort(), ['ex-1', 'ex-2', 'ex-3']);
    assert.equal(s.countResults(run), 3);
    assert.equal(s.countResults(run, 'other'), 0);

    const before = snapshot(s);
    const put = (rows: ResultInput[], r = run) => s.putResults(r, 'zero-shot', rows);
    assert.throws(
      () => put([result(run, 4), result(run, 5, { score: NaN })]),
      (e: unknown) => {
        assert.ok(e instanceof StoreError);
        assert.equal(e.message, 'putResults[1].score: expected a finite number, got NaN');
        return true;
      },
    );
    assert.throws(() => put([result(run, 6), result(run, 7, { pass: 1 as never })]), /putResults\[1\]\.pass: expected true or false/);
    assert.throws(() => put([result(run, 8, { exampleId: '' })]), /putResults\[0\]\.exampleId: required|must not be empty/);
    assert.throws(() => put([result(run, 9, { tokensIn: 2.5 })]), /whole number/);
    assert.throws(() => put([result('no-such-run', 9)], 'no-such-run'), /no run/);
    assert.throws(() => put([{ ...result(run, 10), output: undefined as never }]), /putResults\[0\]\.output: required/);
    assert.equal(snapshot(s), before);
    s.close();
  });

  test('throughput: batched inserts of 20,000 results', () => {
    const s = fresh();
    const run = s.createRun({ experiment: 'e', runKey: 'k', meta: meta({}) }).id;
    const rows = Array.from({ length: 20_000 }, (_, i) => result(run, i));
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += 500) s.putResults(run, 'zero-shot', rows.slice(i, i + 500));
    const dt = performance.now() - t0;
    const perSec = Math.round(rows.length / (dt / 1000));
    console.log(`# store: ${rows.length} results in ${dt.toFixed(0)} ms = ${perSec} results/s (batches of 500)`);
    assert.equal(s.countResults(run), 20_000);
    assert.ok(perSec > 5_000, `${perSec} results/s`);
    s.close();
  });
});

describe('store: cache, jobs, files', () => {
  test('cache implements ResponseCache (group-committed); only plain fields are kept', () => {
    const s = fresh();
    const c = s.cache;
    assert.equal(c.get('h1'), undefined);
    c.put('h1', 'm', {
      text: 'ham',
      usage: { input: 3, output: 1 },
      latencyMs: 12.5,
      costUsd: 0.002,
      raw: { headers: { authorization: 'Bearer x' } },
    } as never);
    assert.deepEqual(c.get('h1'), { text: 'ham', usage: { input: 3, output: 1 }, latencyMs: 12.5, costUsd: 0.002 });
    s.flushCache();
    assert.deepEqual(c.get('h1'), { text: 'ham', usage: { input: 3, output: 1 }, latencyMs: 12.5, costUsd: 0.002 });
    assert.doesNotMatch(s.db.prepare('SELECT response FROM cache').pluck().get() as string, /authorization/);
    c.put('h1', 'm', { text: 'spam', usage: { input: 3, output: 1 }, latencyMs: 1, costUsd: 0 });
    assert.equal(c.get('h1')?.text, 'spam');
    c.put('h2', 'other', { text: '', usage: { input: 0, output: 0 }, latencyMs: 0, costUsd: 0 });
    const size = () => s.db.prepare('SELECT count(*) FROM cache').pluck().get();
    s.flushCache();
    assert.equal(size(), 2);
    assert.throws(
      () => c.put('h3', 'm', { text: 5, usage: { input: 0, output: 0 }, latencyMs: 0, costUsd: 0 } as never),
      /cache\.put\.response\.text/,
    );
    s.db.prepare("INSERT INTO cache VALUES ('bad', 'm', '{not json', 0)").run();
    assert.equal(c.get('bad'), undefined);
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
    assert.deepEqual(
      s.listJobs({ backend: 'local' }).map((x) => x.id),
      [j.id],
    );
    assert.equal(s.listJobs().length, 2);
    assert.throws(() => s.updateJob('nope', { status: 'x' }), /no job/);
    assert.throws(() => s.createJob({ id: 'ftjob-2', backend: 'b', status: 's', options: {} }), /exists/);

    const f = s.createFile({ filename: 'train.jsonl', purpose: 'fine-tune', bytes: 1234, path: '/tmp/x/train.jsonl' });
    assert.match(f.id, /^file-/);
    assert.deepEqual(s.getFile(f.id), { ...f });
    s.createFile({ id: 'file-b', filename: 'v.jsonl', purpose: 'validation', bytes: 1, path: '/tmp/v' });
    assert.deepEqual(
      s.listFiles({ purpose: 'fine-tune' }).map((x) => x.id),
      [f.id],
    );
    assert.throws(() => s.createFile({ filename: 'x', purpose: 'p', bytes: -1, path: '/p' }), /createFile\.bytes/);
    assert.equal(s.deleteFile(f.id), true);
    assert.equal(s.deleteFile(f.id), false);
    assert.equal(s.listFiles().length, 1);
    s.close();
  });
});
