// Linear cost in the runner: a data set past the streaming threshold is evaluated from the file (its test split
// is never held), the run's meta does not list every test id, results are written in batches, and a stopped
// run resumes without repeating a finished call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockOpenAI, type MockServer } from '../helpers/mock-openai-server.ts';
import { executeExperiment, modelFactory, openRunStore, parseConfig, prepareExperiment } from '../../src/experiment/index.ts';
import type { Store } from '../../src/store/index.ts';

const N = 2000;
let server: MockServer;
let dir: string;
const answered = new Map<string, number>();
let onAnswer: (() => void) | undefined;

before(async () => {
  server = await startMockOpenAI({
    respond: async (req) => {
      const key = req.messages.at(-1)!.content;
      answered.set(key, (answered.get(key) ?? 0) + 1);
      onAnswer?.();
      return /win|cash/.test(key) ? 'spam' : 'ham';
    },
  });
  dir = mkdtempSync(join(tmpdir(), 'tunelab-linear-'));
  const lines: string[] = [];
  for (let i = 0; i < N; i++)
    lines.push(
      JSON.stringify({ id: `c${i}`, text: i % 5 ? `notes for meeting ${i}` : `win cash now ${i}`, label: i % 5 ? 'ham' : 'spam' }),
    );
  writeFileSync(join(dir, 'cases.jsonl'), lines.join('\n') + '\n');
  process.env.TUNELAB_STREAM_MIN = '500';
});
after(async () => {
  delete process.env.TUNELAB_STREAM_MIN;
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(out: string) {
  return parseConfig(
    `experiment: linear
task: { data: cases.jsonl, input: [text], expected: label, id: id, metric: { type: accuracy, labels: [spam, ham] } }
split: { train: 0.05, dev: 0, test: 0.95, seed: 1 }
baselines: false
models: [{ id: m, provider: openai-compatible, baseURL: "${server.baseURL}", model: mock, retries: 0, concurrency: 16 }]
arms:
  - { name: zero, kind: prompt, model: m, messages: [{ role: user, content: "{{text}}" }] }
output: ${out}
concurrency: 16
`,
    { baseDir: dir },
  );
}

/** counts putResults transactions */
function counting(store: Store): { store: Store; writes: number[] } {
  const writes: number[] = [];
  const put = store.putResults.bind(store);
  store.putResults = (run, arm, rows) => {
    writes.push(rows.length);
    return put(run, arm, rows);
  };
  return { store, writes };
}

test('a streamed data set: test split read from the file, meta without the id list, results written in batches', async () => {
  const loaded = config(join(dir, 'out1'));
  const p = await prepareExperiment(loaded);
  assert.ok(p.testStream, 'past TUNELAB_STREAM_MIN the data set streams');
  assert.equal(p.split.test.length, 0);
  const size = p.testStream.size;
  assert.equal(size, Math.round(N * 0.95));
  assert.equal(p.split.train.length, N - size);
  const { store, writes } = counting(openRunStore(join(loaded.outputDir, 'tunelab.db'), { env: {} }));
  try {
    const o = await executeExperiment(p, store, modelFactory(loaded.config, { cache: store.cache, onCall: store.logCall, env: {} }), {
      batchSize: 64,
      flushMs: 60_000,
    });
    assert.deepEqual(
      o.arms.map((a) => [a.name, a.status, a.done, a.errors]),
      [['zero', 'done', size, 0]],
    );
    assert.equal(store.countResults(o.runId, 'zero'), size);
    // batches of 64 (the last one shorter), not one transaction per result
    assert.equal(writes.length, Math.ceil(size / 64));
    assert.ok(writes.slice(0, -1).every((w) => w === 64));
    const meta = store.getRun(o.runId)!.meta;
    assert.equal(meta.testIds, undefined, 'the run meta does not list every test id');
    assert.equal(meta.sizes.test, size);
    assert.ok(store.getRun(o.runId)!.status === 'done');
    const results = store.results(o.runId, 'zero');
    assert.ok(results.every((r) => r.pass));
    const trainIds = new Set(p.split.train.map((e) => e.id));
    assert.ok(
      results.every((r) => !trainIds.has(r.exampleId)),
      'only test examples are evaluated',
    );
  } finally {
    store.close();
  }
});

test('a stopped streamed run resumes under its run id and repeats no finished call', async () => {
  const loaded = config(join(dir, 'out2'));
  const db = join(loaded.outputDir, 'tunelab.db');
  answered.clear();
  const ac = new AbortController();
  let seen = 0;
  onAnswer = () => {
    if (++seen === 700) ac.abort();
  };
  let store = openRunStore(db, { env: {} });
  const p1 = await prepareExperiment(loaded);
  const o1 = await executeExperiment(p1, store, modelFactory(loaded.config, { cache: store.cache, onCall: store.logCall, env: {} }), {
    signal: ac.signal,
    batchSize: 50,
  });
  onAnswer = undefined;
  assert.equal(o1.interrupted, true);
  const stored = store.countResults(o1.runId, 'zero');
  assert.ok(stored > 0 && stored < p1.testStream!.size, `stored ${stored}`);
  store.close();

  store = openRunStore(db, { env: {} });
  try {
    const p2 = await prepareExperiment(loaded);
    const o2 = await executeExperiment(p2, store, modelFactory(loaded.config, { cache: store.cache, onCall: store.logCall, env: {} }));
    assert.equal(o2.resumed, true);
    assert.equal(o2.runId, o1.runId);
    assert.equal(store.countResults(o2.runId, 'zero'), p2.testStream!.size);
    // a call the first session finished (answered and recorded) is not made again: at most one uncached
    // answer per example (requests cut off by the stop never finished, and are the only ones sent twice)
    const finished = new Map<string, number>();
    for (const c of store.listCalls(o2.runId, 'zero'))
      if (!c.cached && !c.error) finished.set(c.exampleId!, (finished.get(c.exampleId!) ?? 0) + 1);
    assert.deepEqual(
      [...finished].filter(([, n]) => n > 1),
      [],
    );
    assert.equal(finished.size, p2.testStream!.size);
    const twice = [...answered].filter(([, n]) => n > 1).length;
    assert.ok(twice <= 16, `${twice} requests reached the server twice (at most the 16 in flight at the stop)`);
  } finally {
    store.close();
  }
});
