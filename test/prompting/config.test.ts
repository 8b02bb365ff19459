// The four arm kinds inside a real tunelab.yaml (experiment/config.ts), scored by the task's real metric.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { armKind } from '../../src/experiment/arms/index.ts';
import { parseConfig } from '../../src/experiment/config.ts';
import { createScorer } from '../../src/metrics/index.ts';
import { Evaluator } from '../../src/prompting/index.ts';
import { InputError } from '../../src/task/types.ts';
import { ctxFor, fakeModel } from './fakes.ts';
import { respondWorld, worldExamples } from './world.ts';

const head = `task:\n  data: d.jsonl\n  input: [text]\n  expected: label\n  metric: { type: accuracy }\nmodels:\n  - { id: m, provider: openai-compatible, baseURL: "http://127.0.0.1:1/v1" }\n`;

test('config: all four kinds validate; errors name the arm path', () => {
  const ok = parseConfig(`${head}arms:
  - { name: a, kind: prompt, model: m, shots: 2, format: cot }
  - { name: b, kind: fewshot, model: m, strategy: bm25, k: 3, mmr: 0.5 }
  - { name: c, kind: variants, model: m, budget: { calls: 50 }, vary: { shots: [0, 2], format: [label, { type: label, strict: true }] } }
  - { name: d, kind: optimize, model: m, optimizer: mipro, budget: { calls: 100, costUsd: 1 } }
`);
  assert.deepEqual(
    ok.config.arms.map((a: { kind: string }) => a.kind).filter((k: string) => k !== 'majority' && k !== 'classical'),
    ['prompt', 'fewshot', 'variants', 'optimize'],
  );
  const bad = (arm: string, re: RegExp) =>
    assert.throws(
      () => parseConfig(`${head}arms:\n  - ${arm}\n`),
      (e: unknown) => e instanceof InputError && re.test(e.message),
      arm,
    );
  bad('{ name: a, kind: prompt, model: m, shots: 1.5 }', /arms\[0\]\.shots/);
  bad('{ name: b, kind: fewshot, model: m, strategy: nearest }', /arms\[0\]\.strategy/);
  bad('{ name: c, kind: variants, model: m, vary: {} }', /arms\[0\]\.vary/);
  bad('{ name: d, kind: optimize, model: m }', /arms\[0\]\.optimizer/);
  bad('{ name: d, kind: optimize, model: m, optimizer: bootstrap, budget: { calls: -1 } }', /arms\[0\]\.budget\.calls/);
  bad('{ name: e, kind: prompt, model: m, format: { type: regex, pattern: "(" } }', /arms\[0\]\.format/);
});

test('a missing prompt file or include is bad input naming the arm and the file', () => {
  const k = armKind('prompt')!;
  const dir = mkdtempSync(join(tmpdir(), 'tl-cfg-'));
  assert.throws(
    () => k.create(k.schema.parse({ name: 'x', kind: 'prompt', model: 'm', prompt: 'nope.md' }), { baseDir: dir } as any),
    (e: unknown) => e instanceof InputError && /arms\.x\.prompt: nope\.md/.test(e.message),
  );
  writeFileSync(join(dir, 'p.md'), '# user\n{{> gone.md}}\n');
  assert.throws(
    () => k.create(k.schema.parse({ name: 'x', kind: 'prompt', model: 'm', prompt: 'p.md' }), { baseDir: dir } as any),
    /gone\.md/,
  );
  const o = armKind('optimize')!;
  assert.throws(
    () => o.create(o.schema.parse({ name: 'y', kind: 'optimize', model: 'm', load: 'none.json' }), { baseDir: dir } as any),
    /arms\.y\.load/,
  );
});

test('parse runs before the real accuracy metric: reasoning outputs are scored on their answer', async () => {
  const scorer = await createScorer({ type: 'accuracy' } as any, { labels: ['alpha', 'beta'] } as any);
  const m = fakeModel('m', (req) => `Let me think. The note is about something.\nAnswer: ${respondWorld(req)}`);
  const k = armKind('fewshot')!;
  const dev = worldExamples(20, 'dv');
  const pred = await k
    .create(k.schema.parse({ name: 'f', kind: 'fewshot', model: 'm', strategy: 'bm25', k: 2, format: 'cot' }))
    .prepare(ctxFor({ m }, worldExamples(40, 'tr'), dev, { scorer, labels: ['alpha', 'beta'] }));
  const r = await new Evaluator(pred.model, scorer).score(pred.prompt, dev);
  assert.equal(r.score, 1);
  assert.match(m.calls[0].messages[0].content, /step by step/);
  assert.equal(m.calls[0].messages[2].content.startsWith('Answer: '), true, 'demos show the answer line');
});
