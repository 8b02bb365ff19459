// Arms running at once (`armConcurrency`): with 2 lanes a second arm's requests reach the server while the
// first arm's are still held; with 1 lane they never overlap. Results are the same either way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { startMockOpenAI, type MockServer } from '../helpers/mock-openai-server.ts';
import {
  armConcurrencyOf,
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

registerArmKind({
  kind: 'lane-test',
  schema: z.strictObject({ name: z.string(), kind: z.literal('lane-test'), model: z.string(), tag: z.string() }),
  create: (cfg: { name: string; model: string; tag: string }) => {
    const make = (ctx: any) => ({
      model: ctx.model(cfg.model),
      prompt: {
        hash: `p-${cfg.tag}`,
        render: (e: Example) => ({ messages: [{ role: 'user' as const, content: `${cfg.tag}:${e.input.text}` }] }),
      },
      spent: { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: 0 },
      artifact: {},
    });
    return { name: cfg.name, kind: 'lane-test', prepare: async (ctx: any) => make(ctx), restore: async (ctx: any) => make(ctx) };
  },
});

const scorer: Scorer = { name: 'exact', score: (out, ex) => ({ score: out === ex.expected ? 1 : 0, pass: out === ex.expected }) };
const examples = (n: number, p: string): Example[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${p}${i}`, input: { text: `x${i}` }, expected: 'ok' }));

let server: MockServer;
let dir: string;
// arm tags seen while another arm's request was held; the first request of arm A waits (up to 3 s) for arm B
let inFlightTags = new Map<string, number>();
let overlapped = false;
let waiters: (() => void)[] = [];
before(async () => {
  server = await startMockOpenAI({
    respond: async (req) => {
      const tag = req.messages.at(-1)!.content.split(':')[0];
      inFlightTags.set(tag, (inFlightTags.get(tag) ?? 0) + 1);
      if (inFlightTags.size > 1) {
        overlapped = true;
        for (const w of waiters.splice(0)) w();
      } else await new Promise<void>((res) => waiters.push(res) && setTimeout(res, 3000));
      inFlightTags.set(tag, inFlightTags.get(tag)! - 1);
      if (!inFlightTags.get(tag)) inFlightTags.delete(tag);
      return 'ok';
    },
  });
  dir = mkdtempSync(join(tmpdir(), 'tunelab-lanes-'));
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function prepared(out: string, lanes: number): Prepared {
  const loaded = parseConfig(
    `experiment: lanes
task: { data: x.jsonl, metric: { type: exact } }
models: [{ id: m, provider: openai-compatible, baseURL: "${server.baseURL}", retries: 0 }]
arms:
  - { name: a, kind: lane-test, model: m, tag: A }
  - { name: b, kind: lane-test, model: m, tag: B }
output: ${out}
concurrency: 2
armConcurrency: ${lanes}
`,
    { baseDir: dir },
  );
  return {
    loaded,
    split: { train: examples(3, 'tr'), dev: examples(2, 'dv'), test: examples(6, 't') },
    scorer,
    arms: loaded.config.arms.map((c) => ({ config: c, arm: armKind(c.kind)!.create(c) })),
    warnings: [],
    dataHash: 'd',
    runKey: `${loaded.hash}-d`,
    dataName: 'x.jsonl',
    inputFields: ['text'],
  };
}

async function run(lanes: number) {
  inFlightTags = new Map();
  overlapped = false;
  waiters = [];
  const p = prepared(`out${lanes}`, lanes);
  const store = openRunStore(join(p.loaded.outputDir, 'tunelab.db'), { env: {} });
  try {
    const o = await executeExperiment(p, store, modelFactory(p.loaded.config, { cache: store.cache, onCall: store.logCall, env: {} }));
    return { overlapped, arms: o.arms.map((a) => [a.name, a.status, a.done]) };
  } finally {
    store.close();
  }
}

test('armConcurrency 2 runs two arms at once; 1 runs them one after the other; same results', async () => {
  const two = await run(2);
  assert.equal(two.overlapped, true, 'arm b should reach the server while arm a is still being answered');
  const one = await run(1);
  assert.equal(one.overlapped, false);
  const expected = [
    ['a', 'done', 6],
    ['b', 'done', 6],
  ];
  assert.deepEqual(two.arms, expected);
  assert.deepEqual(one.arms, expected);
});

test('default: one arm at a time; armConcurrency sets the lanes', () => {
  const parse = (extra = '') =>
    parseConfig(
      `task: { data: x.jsonl, metric: { type: exact } }
models: [{ id: m, provider: local, path: builtin }]
arms: [{ name: a, kind: lane-test, model: m, tag: A }]
${extra}`,
      { baseDir: dir },
    ).config;
  assert.equal(armConcurrencyOf(parse()), 1);
  assert.equal(armConcurrencyOf(parse('armConcurrency: 3')), 3);
});
