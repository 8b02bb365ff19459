import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { startMockOpenAI, type MockServer } from '../helpers/mock-openai-server.ts';
import {
  armKind,
  executeExperiment,
  modelFactory,
  openRunStore,
  parseConfig,
  registerArmKind,
  type Prepared,
} from '../../src/experiment/index.ts';
import type { Example } from '../../src/task/index.ts';
import type { Scorer } from '../../src/metrics/types.ts';

// A minimal arm kind for runner tests: asks the model about example.input.text; counts prepare/restore.
const counters = { prepare: 0, restore: 0 };
registerArmKind({
  kind: 'runner-test',
  schema: z.strictObject({ name: z.string(), kind: z.literal('runner-test'), model: z.string(), tag: z.string().default('') }),
  create: (cfg: { name: string; model: string; tag: string }) => {
    const make = (ctx: any, artifact: { tag: string }) => ({
      model: ctx.model(cfg.model),
      prompt: {
        hash: `p-${artifact.tag}`,
        render: (e: Example) => ({ messages: [{ role: 'user' as const, content: `${artifact.tag}${e.input.text}` }] }),
      },
      spent: { calls: 1, tokensIn: 2, tokensOut: 3, costUsd: 0, ms: 4 },
      artifact,
    });
    return {
      name: cfg.name,
      kind: 'runner-test',
      async prepare(ctx) {
        counters.prepare++;
        assert.ok(!('test' in ctx.data), 'arms must not see the test split');
        return make(ctx, { tag: cfg.tag });
      },
      async restore(ctx, artifact) {
        counters.restore++;
        return make(ctx, artifact as { tag: string });
      },
    };
  },
});

const scorer: Scorer = {
  name: 'exact',
  score: (out, ex) => ({ score: out.trim() === ex.expected ? 1 : 0, pass: out.trim() === ex.expected }),
};

function examples(n: number, prefix: string): Example[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    input: { text: i % 3 === 0 ? `win cash ${i}` : `hello ${i}` },
    expected: i % 3 === 0 ? 'spam' : i % 2 ? 'ham' : 'spam',
  }));
}

let server: MockServer;
let dir: string;
const answered = new Map<string, number>();
let gate: Promise<void> | undefined;
before(async () => {
  server = await startMockOpenAI({
    respond: async (req) => {
      // requests held at the gate belong to the interrupted session: they never complete (the client
      // gave up on them), whatever the socket does afterwards
      if (gate) {
        await gate;
        throw new Error('held request dropped');
      }
      const key = JSON.stringify(req.messages);
      answered.set(key, (answered.get(key) ?? 0) + 1);
      return /win|cash/.test(req.messages.at(-1)!.content) ? 'spam' : 'ham';
    },
  });
  dir = mkdtempSync(join(tmpdir(), 'tunelab-runner-'));
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function prepared(out: string): Prepared {
  const loaded = parseConfig(
    `experiment: r
task: { data: x.jsonl, metric: { type: exact } }
models: [{ id: m, provider: openai-compatible, baseURL: "${server.baseURL}", retries: 0, concurrency: 8 }]
arms:
  - { name: a, kind: runner-test, model: m }
  - { name: b, kind: runner-test, model: m, tag: "Q: " }
output: ${out}
concurrency: 8
`,
    { baseDir: dir },
  );
  return {
    loaded,
    split: { train: examples(5, 'tr'), dev: examples(2, 'dv'), test: examples(60, 't') },
    scorer,
    arms: loaded.config.arms.map((c) => ({ config: c, arm: armOf(c) })),
    warnings: [],
    dataHash: 'd',
    runKey: `${loaded.hash}-d`,
    dataName: 'x.jsonl',
    inputFields: ['text'],
  };
}
const armOf = (c: any) => armKind(c.kind)!.create(c);

test('runs every arm on every test example, stores results and calls', async () => {
  const p = prepared('out1');
  const store = openRunStore(join(p.loaded.outputDir, 'tunelab.db'), { env: {} });
  try {
    const events: string[] = [];
    const o = await executeExperiment(p, store, modelFactory(p.loaded.config, { cache: store.cache, onCall: store.logCall, env: {} }), {
      onEvent: (e) => events.push(e.type),
    });
    assert.equal(o.resumed, false);
    assert.deepEqual(
      o.arms.map((a) => [a.name, a.status, a.done, a.calls]),
      [
        ['a', 'done', 60, 60],
        ['b', 'done', 60, 60],
      ],
    );
    assert.equal(store.results(o.runId, 'a').length, 60);
    const r = store.results(o.runId, 'a').find((x) => x.exampleId === 't3')!;
    assert.deepEqual([r.output, r.pass, r.tokensIn > 0], ['spam', true, true]);
    assert.equal(store.getRun(o.runId)!.status, 'done');
    assert.equal(store.listCalls(o.runId).length, 120);
    assert.equal(store.getArm(o.runId, 'b')!.promptHash, 'p-Q: ');
    assert.ok(events.includes('run-start') && events.includes('arm-end'));
    // an identical second run is a new run served entirely from the cache
    const before = server.count();
    const o2 = await executeExperiment(p, store, modelFactory(p.loaded.config, { cache: store.cache, onCall: store.logCall, env: {} }));
    assert.notEqual(o2.runId, o.runId);
    assert.equal(server.count(), before);
    assert.deepEqual(
      o2.arms.map((a) => a.cached),
      [60, 60],
    );
  } finally {
    store.close();
  }
});

test('an interrupted run resumes: stored examples skipped, prepared arms restored, no call repeated', async () => {
  const p = prepared('out2');
  const db = join(p.loaded.outputDir, 'tunelab.db');
  answered.clear();
  const startCompleted = server.requests.length;
  counters.prepare = counters.restore = 0;
  const ac = new AbortController();
  let store = openRunStore(db, { env: {} });
  let calls = 0;
  let released!: Promise<void>;
  const onCall = (c: any, run: string, arm: string) => {
    store.logCall(c, run, arm);
    // Hold the server, let answers already sent arrive, then stop; release the held requests after the
    // client is gone (so they never complete).
    if (arm === 'b' && ++calls === 20) {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      released = new Promise((done) =>
        setTimeout(() => {
          ac.abort();
          setTimeout(() => {
            gate = undefined;
            release();
            done();
          }, 100);
        }, 150),
      );
    }
  };
  const o1 = await executeExperiment(p, store, modelFactory(p.loaded.config, { cache: store.cache, onCall, env: {} }), {
    signal: ac.signal,
    batchSize: 7,
  });
  assert.equal(o1.interrupted, true);
  assert.equal(store.getRun(o1.runId)!.status, 'interrupted');
  const storedB = store.doneIds(o1.runId, 'b').size;
  assert.ok(storedB >= 14 && storedB < 60, `stored ${storedB}`);
  store.close();
  assert.deepEqual(counters, { prepare: 2, restore: 0 });

  await released; // the held requests of the first session are gone before the second starts
  store = openRunStore(db, { env: {} });
  const o2 = await executeExperiment(p, store, modelFactory(p.loaded.config, { cache: store.cache, onCall: store.logCall, env: {} }));
  assert.equal(o2.resumed, true);
  assert.equal(o2.runId, o1.runId);
  assert.deepEqual(counters, { prepare: 2, restore: 1 }, 'arm a finished: not prepared again; arm b restored from its artifact');
  const b = o2.arms.find((a) => a.name === 'b')!;
  assert.equal(b.calls, 60 - storedB);
  assert.equal(store.results(o2.runId, 'b').length, 60);
  assert.equal(store.getRun(o2.runId)!.status, 'done');
  const completed = new Map<string, number>();
  for (const body of server.requests.slice(startCompleted)) {
    const k = JSON.stringify(body.messages);
    completed.set(k, (completed.get(k) ?? 0) + 1);
  }
  for (const [k, n] of completed) assert.equal(n, 1, `answered twice: ${k}`);
  assert.equal(completed.size, 120);
  store.close();
});

test('failed calls become error rows; an endpoint failing every call stops the arm', async () => {
  const p = prepared('out3');
  const store = openRunStore(join(p.loaded.outputDir, 'tunelab.db'), { env: {} });
  try {
    server.failNext('500', 3);
    const o = await executeExperiment(p, store, modelFactory(p.loaded.config, { cache: store.cache, onCall: store.logCall, env: {} }), {
      cache: false,
      arms: undefined,
    });
    const a = o.arms[0];
    assert.equal(a.errors, 3);
    const errs = store.results(o.runId, 'a').filter((r) => r.error);
    assert.equal(errs.length, 3);
    assert.match(errs[0].error!, /500/);
    assert.equal(errs[0].pass, false);

    server.failNext('500', 200);
    const o2 = await executeExperiment(p, store, modelFactory(p.loaded.config, { cache: store.cache, onCall: store.logCall, env: {} }), {
      cache: false,
      fresh: true,
    });
    assert.equal(o2.arms[0].status, 'failed');
    assert.match(o2.arms[0].error!, /every call failed/);
    assert.equal(store.getArm(o2.runId, 'a')!.status, 'failed');
  } finally {
    store.close();
  }
});

test('runner overhead per example is small (in-process instant model, 5,000 examples)', async () => {
  const p = prepared('out4');
  p.split.test = examples(5000, 'big');
  const store = openRunStore(join(p.loaded.outputDir, 'tunelab.db'), { env: {} });
  try {
    let n = 0;
    const instant = {
      id: 'm',
      complete: async () => ({ text: ++n % 3 ? 'ham' : 'spam', usage: { input: 20, output: 1 }, latencyMs: 0.1, costUsd: 0.000001 }),
    };
    const models = { forArm: () => ({ model: () => instant }) };
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const o = await executeExperiment(p, store, models, {});
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    const perCase = (cpu.user + cpu.system) / 1000 / 10_000;
    assert.deepEqual(
      o.arms.map((a) => a.done),
      [5000, 5000],
    );
    assert.equal(store.results(o.runId, 'b').length, 5000);
    // measured about 0.04 ms CPU per example (render, score, batched write); the bound leaves room for a busy machine
    assert.ok(perCase < 0.5, `runner CPU per example ${perCase.toFixed(3)} ms (wall ${wall.toFixed(0)} ms for 10,000)`);
  } finally {
    store.close();
  }
});
