// The end-of-run report reads results into per-arm columns (metrics/columns.ts) instead of one object per
// row: the columns themselves, and that every number they give equals what the same rows as objects give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  columnsOfRows,
  compareColumns,
  compareOnMetric,
  resultColumns,
  StringTable,
  summarize,
  summarizeColumns,
} from '../../src/metrics/index.ts';
import { buildDecision, type DecisionArmInput } from '../../src/decide/index.ts';
import { openStore, type ResultRecord } from '../../src/store/index.ts';
import { buildRunReport, reportFrom } from '../../src/experiment/index.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
}
const LABELS = ['a', 'b', 'c'];
const VALUES = ['a', 'b', 'c', 'd ', 'A'];

/** n rows of one arm: labels with an unlisted expected value ('d '), case variants, missing labels, errors, CPU time */
function makeRows(n: number, seed: number, opts: { reverse?: boolean; graded?: boolean; cpu?: boolean; skip?: number } = {}) {
  const rnd = rng(seed);
  const rows: Omit<ResultRecord, 'idx'>[] = [];
  for (let j = 0; j < n - (opts.skip ?? 0); j++) {
    const i = opts.reverse ? n - 1 - j : j;
    const expected = VALUES[i % 4 === 3 ? 3 : i % 3];
    const r = rnd();
    const extracted = r < 0.05 ? undefined : r < 0.65 ? expected.trim() : VALUES[Math.floor(rnd() * 5)];
    const score = opts.graded ? Math.round(rnd() * 100) / 100 : extracted === expected ? 1 : 0;
    rows.push({
      exampleId: `e${i}`,
      output: `  out ${extracted ?? 'none ' + (i % 7)}  `,
      score,
      pass: score === 1,
      extracted,
      expected,
      latencyMs: rnd() * 100,
      costUsd: rnd() / 1000,
      tokensIn: 10 + (i % 5),
      tokensOut: i % 3,
      cached: false,
      ...(rnd() < 0.04 ? { error: 'boom' } : {}),
      ...(opts.cpu && i % 2 ? { cpuMs: rnd() * 10 } : {}),
    });
  }
  return rows;
}

test('resultColumns: typed columns, one shared string table, ids and answers read again from the source', () => {
  const rows = makeRows(40, 1, { cpu: true });
  rows[5] = { ...rows[5], tokensIn: 2.5 };
  let reads = 0;
  const table = new StringTable();
  const c = resultColumns(
    () => {
      reads++;
      return rows;
    },
    { labelled: true, table, size: 4 },
  );
  assert.equal(reads, 1);
  assert.equal(c.n, 40);
  assert.ok(c.score instanceof Uint8Array, 'pass/fail scores are held in 1 byte');
  assert.ok(c.pass instanceof Uint8Array && c.expected instanceof Int32Array);
  const graded = columnsOfRows(makeRows(20, 7, { graded: true }), { labelled: false });
  assert.ok(graded.score instanceof Float64Array, 'a graded score keeps the column exact');
  assert.deepEqual(
    Array.from(graded.score),
    makeRows(20, 7, { graded: true }).map((r) => r.score),
  );
  assert.ok(c.tokensIn instanceof Float64Array, 'a fractional token count keeps the column exact');
  assert.ok(c.tokensOut instanceof Uint32Array, 'whole token counts are held in 4 bytes');
  rows.forEach((r, i) => {
    assert.equal(c.score[i], r.score);
    assert.equal(c.pass[i], r.pass ? 1 : 0);
    assert.equal(c.error[i], r.error ? 1 : 0);
    assert.equal(c.latencyMs[i], r.latencyMs);
    assert.equal(c.costUsd[i], r.costUsd);
    assert.equal(c.tokensIn[i], r.tokensIn);
    assert.equal(c.tokensOut[i], r.tokensOut);
    assert.deepEqual(Number.isNaN(c.cpuMs![i]) ? undefined : c.cpuMs![i], r.cpuMs);
    assert.equal(table.strings[c.expected[i]], r.expected);
    assert.equal(c.extracted[i] < 0 ? undefined : table.strings[c.extracted[i]], r.extracted);
  });
  const distinct = new Set(rows.flatMap((r) => (r.extracted === undefined ? [r.expected] : [r.expected, r.extracted])));
  assert.equal(table.strings.length, distinct.size, 'each label string is stored once');
  assert.deepEqual(
    c.ids(),
    rows.map((r) => r.exampleId),
  );
  assert.deepEqual(
    c.answers(),
    rows.map((r) => r.extracted ?? r.output),
  );
  assert.equal(reads, 3);
  // a second arm over the same table reuses its codes; without labels no codes are kept; no CPU time: no column
  const d = columnsOfRows(
    makeRows(10, 2).map(({ cpuMs: _c, ...r }) => r),
    { labelled: true, table },
  );
  assert.equal(d.cpuMs, undefined);
  assert.equal(table.strings.length, distinct.size);
  const u = columnsOfRows(rows, { labelled: false });
  assert.equal(u.expected.length, 0);
  assert.throws(() => summarizeColumns({ name: 'accuracy', labels: LABELS }, u), /without labels/);
});

test('summarizeColumns and compareColumns give exactly what summarize and compareOnMetric give', () => {
  const a = makeRows(300, 3);
  const b = makeRows(300, 4, { reverse: true, skip: 20 });
  const ga = makeRows(300, 5, { graded: true });
  const gb = makeRows(300, 6, { graded: true });
  const table = new StringTable();
  const ca = columnsOfRows(a, { labelled: true, table });
  const cb = columnsOfRows(b, { labelled: true, table });
  const cga = columnsOfRows(ga, { labelled: false });
  const cgb = columnsOfRows(gb, { labelled: false });
  for (const scorer of [
    { name: 'accuracy', labels: LABELS },
    { name: 'macro-f1', labels: LABELS },
    { name: 'exact', labels: undefined },
  ]) {
    assert.deepEqual(summarizeColumns(scorer, ca, { seed: 9 }), summarize(scorer, a, { seed: 9 }), scorer.name);
    // pairs in a's order, b found by id (b is reversed and lacks 20 examples)
    const at = new Map(b.map((r, i) => [r.exampleId, i]));
    const ia: number[] = [];
    const ib: number[] = [];
    a.forEach((r, i) => {
      if (at.has(r.exampleId)) {
        ia.push(i);
        ib.push(at.get(r.exampleId)!);
      }
    });
    const got = compareColumns(scorer, ca, ia, cb, ib, { seed: 9 });
    const want = compareOnMetric(
      scorer,
      ia.map((i) => a[i]),
      ib.map((i) => b[i]),
      { seed: 9 },
    );
    assert.deepEqual(got, want, scorer.name);
  }
  const graded = { name: 'rouge' };
  assert.deepEqual(summarizeColumns(graded, cga, { seed: 2 }), summarize(graded, ga, { seed: 2 }));
  const idx = ga.map((_, i) => i);
  assert.deepEqual(compareColumns(graded, cga, idx, cgb, idx, { seed: 2 }), compareOnMetric(graded, ga, gb, { seed: 2 }));
  assert.equal(compareColumns(graded, cga, idx, cgb, idx).test, 'paired-bootstrap');
});

/** A stored run: 7 arms (one partial, one failed, two repeats, majority and classical baselines), 300 test examples. */
function storedRun(dir: string, metric: { name: string; labels?: string[] }, testIds: boolean) {
  const store = openStore(join(dir, `${metric.name}.db`));
  const arms = ['base', 'b', 'c', 'rep1', 'rep2', 'maj', 'cls'];
  const kinds: Record<string, string> = { maj: 'majority', cls: 'classical' };
  const n = 300;
  const run = store.createRun({
    experiment: 'columns',
    runKey: 'k',
    id: 'r1',
    meta: {
      seed: 3,
      sizes: { train: 10, dev: 0, test: n },
      metric: { ...metric, type: metric.name },
      data: 'd',
      arms,
      warnings: [],
      baseline: 'base',
      ...(testIds ? { testIds: Array.from({ length: n }, (_, i) => `e${(i * 7) % n}`) } : {}),
      config: {
        models: [
          { id: 'm', provider: 'openai', price: { input: 1, output: 2 } },
          { id: 'local:x', provider: 'local', price: { perHour: 1 } },
        ],
        arms: arms.map((a) => ({ name: a, kind: kinds[a] ?? 'prompt', model: a === 'c' ? 'local:x' : 'm' })),
        expansion: { curves: [], repeats: [{ arm: 'rep', members: ['rep1', 'rep2'] }], baselines: ['maj', 'cls'] },
      },
    },
  });
  arms.forEach((a, k) => {
    store.putArm({
      run: run.id,
      name: a,
      kind: kinds[a] ?? 'prompt',
      status: k === 2 ? 'failed' : 'done',
      modelId: 'm',
      ...(a === 'maj' ? { notes: { label: 'a' } } : {}),
    });
    store.putResults(run.id, a, makeRows(n, 10 + k, { reverse: k === 3, skip: k === 1 ? 17 : 0, cpu: k === 2, graded: !metric.labels }));
  });
  return store;
}

test('buildRunReport streams the store into columns and gives the report the rows as objects give', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-report-columns-'));
  try {
    for (const [metric, testIds] of [
      [{ name: 'macro-f1', labels: LABELS }, false],
      [{ name: 'accuracy', labels: LABELS }, true],
      [{ name: 'rouge' }, false],
    ] as const) {
      const store = storedRun(dir, metric, testIds);
      try {
        // the report as built at the end of a run: results() (every row as an object) is never called
        const streamed = buildRunReport({ ...store, results: () => assert.fail('results() called') }, 'r1');
        const run = store.getRun('r1')!;
        const armRecs = store.listArms('r1');
        const fromArrays = reportFrom(run, armRecs, new Map(armRecs.map((a) => [a.name, store.results('r1', a.name)])));
        assert.deepEqual(streamed, fromArrays, metric.name);
        assert.equal(streamed.comparisons.length, 6);
        assert.equal(streamed.decision!.consistency.length, 1);
        assert.ok(streamed.decision!.comparisons.length > 0);
        // the comparisons are compareOnMetric's on the rows as objects, paired by id in the arm's order
        const base = new Map(store.results('r1', 'base').map((r) => [r.exampleId, r]));
        const rows = store.results('r1', 'rep1').filter((r) => base.has(r.exampleId));
        const want = compareOnMetric(
          { name: metric.name, labels: 'labels' in metric ? [...metric.labels] : undefined },
          rows,
          rows.map((r) => base.get(r.exampleId)!),
          { seed: 3 },
        );
        const got = streamed.comparisons.find((c) => c.arm === 'rep1')!;
        assert.deepEqual([got.diff, got.ci, got.pValue, got.n], [want.diff, want.ci, want.p, want.n]);
        // the decision from columns equals the decision from arrays
        const arms: DecisionArmInput[] = streamed.arms.map((a) => ({
          name: a.name,
          kind: a.kind,
          status: a.status,
          spent: a.spent,
          metric: a.metric,
          latencyP95: a.latencyMs.p95,
          ...(a.notes ? { notes: a.notes } : {}),
        }));
        const input = {
          metric: { name: metric.name, ...('labels' in metric ? { labels: [...metric.labels] } : {}) },
          config: run.meta.config as never,
          testIds: run.meta.testIds,
          baseline: 'base',
          arms,
          seed: 3,
        };
        const labelled = 'labels' in metric;
        const table = new StringTable();
        const asArrays = new Map(armRecs.map((a) => [a.name, store.results('r1', a.name)]));
        const asColumns = new Map([...asArrays].map(([k, v]) => [k, columnsOfRows(v, { labelled, table })]));
        assert.deepEqual(buildDecision({ ...input, results: asColumns }), buildDecision({ ...input, results: asArrays }));
      } finally {
        store.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
