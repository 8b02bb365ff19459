import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandArms } from '../../src/experiment/expand.ts';
import { seededProgram } from '../../src/experiment/arms/repeat.ts';
import { parseConfig } from '../../src/experiment/config.ts';

test('curve: expands into ordinary arms with nested training-set sizes / shot counts; the own point keeps the name', () => {
  const e = expandArms([
    { name: 'lora', kind: 'finetune', model: 'm', curve: [25, 50, 'all'] },
    { name: 'few', kind: 'fewshot', model: 'm', strategy: 'random', k: 2, curve: { shots: [0, 1, 4] } },
  ]);
  assert.deepEqual(
    e.arms.map((a) => [a.name, a.trainExamples ?? a.k]),
    [
      ['lora@25', 25],
      ['lora@50', 50],
      ['lora', undefined],
      ['few@0', 0],
      ['few@1', 1],
      ['few@4', 4],
      ['few', 2],
    ],
  );
  assert.ok(e.arms.every((a) => !('curve' in a)));
  assert.deepEqual(
    e.curves[0].points.map((p) => p.x),
    [25, 50, null],
  );
  assert.deepEqual(
    e.curves[1].points.map((p) => [p.arm, p.x]),
    [
      ['few@0', 0],
      ['few@1', 1],
      ['few', 2],
      ['few@4', 4],
    ],
  );
  assert.throws(() => expandArms([{ name: 'v', kind: 'variants', curve: [1] }]), /curves are for prompt, fewshot, finetune/);
});

test('repeat: n adds n-1 repeat arms whose requests carry the repeat number (so the cache does not answer them)', async () => {
  const e = expandArms([{ name: 'zs', kind: 'prompt', model: 'm', temperature: 0.8, repeat: 3 }]);
  assert.deepEqual(
    e.arms.map((a) => [a.name, a.kind]),
    [
      ['zs', 'prompt'],
      ['zs#2', 'repeat'],
      ['zs#3', 'repeat'],
    ],
  );
  assert.deepEqual(e.repeats, [{ arm: 'zs', members: ['zs', 'zs#2', 'zs#3'] }]);
  const base = { hash: 'h', render: () => ({ messages: [{ role: 'user' as const, content: 'x' }], temperature: 0.8 }) };
  const p2 = seededProgram(base, 2);
  const ex = { id: 'e', input: {}, expected: '' };
  const req = await p2.render(ex);
  assert.equal(req.seed, 2);
  assert.equal(req.temperature, 0.8, "at the arm's own temperature");
  assert.notEqual(p2.hash, seededProgram(base, 3).hash);
});

test('classification configs get the majority and classical baselines unless baselines: false; decision: is validated', () => {
  const cfg = (extra: string) => `
task: { data: { builtin: spamassassin, limit: 50 }, input: [text], expected: label, metric: { type: accuracy } }
models: [{ id: m, provider: local, path: builtin }]
arms: [{ name: zs, kind: prompt, model: m }]
${extra}`;
  assert.deepEqual(
    parseConfig(cfg('')).config.arms.map((a) => a.kind),
    ['prompt', 'majority', 'classical'],
  );
  assert.deepEqual(
    parseConfig(cfg('baselines: false')).config.arms.map((a) => a.kind),
    ['prompt'],
  );
  const d = parseConfig(cfg('decision: { requestsPerMonth: 5000, maxP95LatencyMs: 800, budget: { oneOffUsd: 50 } }'));
  assert.equal(d.hash, parseConfig(cfg('')).hash, 'the decision block does not change the results hash');
  assert.throws(() => parseConfig(cfg('decision: { requestsPerMonth: -1 }')), /tunelab\.yaml:5: decision\.requestsPerMonth/);
});

test("a prompt whose labels differ from the data's gets a warning before the run", async () => {
  const { labelSetWarnings } = await import('../../src/decide/index.ts');
  const w = labelSetWarnings(
    [
      { name: 'ok', kind: 'prompt', messages: [{ role: 'system', content: 'Answer spam or ham.' }] },
      { name: 'bad', kind: 'prompt', messages: [{ role: 'system', content: 'Answer spam or not-spam.' }] },
      { name: 'silent', kind: 'prompt', messages: [{ role: 'user', content: '{{text}}' }] },
      { name: 'fmt', kind: 'prompt', format: { type: 'label', labels: ['spam', 'junk'] } },
    ],
    ['spam', 'ham'],
  );
  assert.deepEqual(w, [
    "arm bad: the prompt names spam but never ham (the data's labels: spam, ham)",
    "arm fmt: format.labels (spam, junk) differ from the data's labels (spam, ham); missing: ham; not in the data: junk",
  ]);
});
