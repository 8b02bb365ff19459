// Honest inputs to the comparison (issue 9 item 7): a frozen prompt with test demonstrations is refused; the
// comparison vs the baseline uses the task metric (macro-F1 differences for macro-F1); label extraction skips negated
// mentions. (Near-duplicates: neardup.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOptimizeArm } from '../../src/experiment/arms/optimize.ts';
import { TemplateProgram, freezeProgram, writeFrozenPrompt, findLabel } from '../../src/prompting/index.ts';
import { testMembership, type Example } from '../../src/task/index.ts';
import { compareOnMetric, classificationReport, extractLabel, type ResultRow } from '../../src/metrics/index.ts';
import { reportFrom } from '../../src/experiment/report.ts';
import { checkAssertions } from '../../src/experiment/assertions.ts';
import type { ArmContext } from '../../src/experiment/types.ts';

const ex = (id: string, text: string, expected: string): Example => ({ id, input: { text }, expected });

test('a frozen prompt (load:) whose demonstrations are test examples is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-frozen-'));
  try {
    const testSplit = [ex('t1', 'win money now', 'spam'), ex('t2', 'lunch at noon?', 'ham')];
    const train = [ex('a', 'cheap pills', 'spam'), ex('b', 'meeting moved', 'ham')];
    const model = { id: 'fake', complete: async () => ({ text: 'ham', usage: { input: 0, output: 0 }, latencyMs: 0, costUsd: 0 }) };
    const ctx = (isTest = testMembership(testSplit)) =>
      ({
        data: { train, dev: [] },
        scorer: { name: 'accuracy', labels: ['spam', 'ham'], score: () => ({ score: 0, pass: false }) },
        model: () => model,
        seed: 1,
        workDir: dir,
        inputFields: ['text'],
        labels: ['spam', 'ham'],
        log: () => {},
        isTest,
      }) as unknown as ArmContext;
    const freeze = (demos: Example[], file: string) => {
      const p = new TemplateProgram({ messages: [{ role: 'user', content: '{{text}}' }], demos, labels: ['spam', 'ham'] });
      writeFrozenPrompt(join(dir, file), freezeProgram(p));
    };
    // a demo copied from test under another id (same text after normalization) and one with a test id
    freeze([train[0], { ...testSplit[0], id: 'copied', input: { text: 'Win money, NOW!' } }], 'leaky.json');
    const arm = createOptimizeArm({ name: 'frozen', kind: 'optimize', model: 'fake', load: 'leaky.json' } as never, { baseDir: dir });
    await assert.rejects(
      () => arm.prepare(ctx()),
      (e: Error) =>
        e.name === 'InputError' &&
        /arms\.frozen\.load: leaky\.json: 1 demonstration\(s\) are test examples \(demos\[1\] \(id copied\)\)/.test(e.message),
    );
    freeze([train[0], testSplit[1]], 'by-id.json');
    const arm2 = createOptimizeArm({ name: 'f2', kind: 'optimize', model: 'fake', load: 'by-id.json' } as never, { baseDir: dir });
    await assert.rejects(() => arm2.prepare(ctx()), /demonstration\(s\) are test examples \(demos\[1\] \(id t2\)\)/);
    // demos from train only: accepted
    freeze([train[0], train[1]], 'clean.json');
    const ok = await createOptimizeArm({ name: 'f3', kind: 'optimize', model: 'fake', load: 'clean.json' } as never, {
      baseDir: dir,
    }).prepare(ctx());
    assert.equal((ok.prompt as TemplateProgram).demos.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('free-text labels: "not ham, it is spam" reads as spam (the last unnegated mention)', () => {
  for (const f of [extractLabel, (t: string, l: string[]) => findLabel(t, l)]) {
    assert.equal(f('not ham, it is spam', ['spam', 'ham']), 'spam');
    assert.equal(f('Not spam. This is ham.', ['spam', 'ham']), 'ham');
    assert.equal(f('ham, not spam', ['spam', 'ham']), 'ham');
  }
});

test('macro-F1 comparisons are computed on macro-F1 (and minDiff follows), matching sklearn on fixed inputs', () => {
  // 10 examples, 3 labels; baseline always answers 'a' (macro-F1 = F1(a) / 3 over a, b, c)
  const expected = ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'c'];
  const base = expected.map(() => 'a');
  const arm = ['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'c', 'a'];
  const labels = ['a', 'b', 'c'];
  const mf = (p: string[]) => classificationReport(labels, expected, p).macroF1;
  // sklearn.metrics.f1_score(expected, base, average='macro', zero_division=0) = 0.1904761904761905
  // sklearn.metrics.f1_score(expected, arm, average='macro', zero_division=0) = 0.6944444444444443
  assert.ok(Math.abs(mf(base) - 0.1904761904761905) < 1e-12);
  assert.ok(Math.abs(mf(arm) - 0.6944444444444443) < 1e-12);
  const rows = (p: string[]): ResultRow[] =>
    p.map((x, i) => ({ expected: expected[i], extracted: x, score: x === expected[i] ? 1 : 0, pass: x === expected[i] }));
  const c = compareOnMetric({ name: 'macro-f1', labels }, rows(arm), rows(base), { seed: 1, iterations: 300 });
  assert.ok(Math.abs(c.diff - (0.6944444444444443 - 0.1904761904761905)) < 1e-12, `macro-F1 difference, not accuracy's 0.4: ${c.diff}`);
  assert.ok(c.ci[0] <= c.diff && c.diff <= c.ci[1]);
  assert.equal(c.test, 'paired-bootstrap');
  // through the report builder: the comparison column and minDiff use it
  const mk = (p: string[]) =>
    p.map((x, i) => ({
      exampleId: `e${i}`,
      idx: i,
      expected: expected[i],
      output: x,
      extracted: x,
      score: x === expected[i] ? 1 : 0,
      pass: x === expected[i],
      tokensIn: 1,
      tokensOut: 1,
      latencyMs: 1,
      costUsd: 0,
      cached: false,
    }));
  const run = {
    id: 'r',
    experiment: 'x',
    configHash: 'h',
    status: 'done',
    createdAt: 0,
    meta: {
      seed: 1,
      sizes: { train: 0, dev: 0, test: 10 },
      metric: { name: 'macro-f1', labels, type: 'macro-f1' },
      data: 'd',
      baseline: 'base',
      arms: ['base', 'arm'],
      warnings: [],
      config: {},
    },
  };
  const armRec = (name: string) => ({ run: 'r', name, kind: 'prompt', status: 'done' });
  const rep = reportFrom(
    run as never,
    [armRec('base'), armRec('arm')] as never,
    new Map([
      ['base', mk(base)],
      ['arm', mk(arm)],
    ]) as never,
  );
  const cmp = rep.comparisons.find((x) => x.arm === 'arm')!;
  assert.ok(Math.abs(cmp.diff - (0.6944444444444443 - 0.1904761904761905)) < 1e-12);
  const ok = checkAssertions(rep, { minDiff: { arm: 'arm', value: 0.5 } }).find((a) => a.name.startsWith('minDiff'))!;
  assert.equal(ok.ok, true, 'macro-F1 moved +0.504 ≥ 0.5 (accuracy moved only +0.3)');
});
