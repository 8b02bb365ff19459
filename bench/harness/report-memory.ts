// Peak memory of the end-of-run report (buildRunReport: arm summaries, comparisons, decision) on a store
// of N stored results per arm, without any model calls:
//   node --import tsx bench/harness/report-memory.ts make DIR N [ARMS]   # writes DIR/tunelab.db
//   node --import tsx bench/harness/report-memory.ts measure DIR          # builds the report, prints RSS
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.ts';
import { buildRunReport } from '../../src/experiment/index.ts';

const [mode, dir, nArg, armsArg] = process.argv.slice(2);
const mb = (b: number) => (b / 1048576).toFixed(0);
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;

if (mode === 'make') {
  const n = Number(nArg);
  const armCount = Number(armsArg ?? 1);
  const store = openStore(join(dir, 'tunelab.db'));
  const arms = Array.from({ length: armCount }, (_, i) => `arm${i}`);
  const run = store.createRun({
    experiment: 'report-memory',
    runKey: 'k',
    id: 'r1',
    meta: {
      seed: 7,
      sizes: { train: 0, dev: 0, test: n },
      metric: { name: 'accuracy', labels: ['spam', 'ham'], type: 'accuracy' },
      data: 'cases.jsonl',
      arms,
      warnings: [],
      config: { models: [{ id: 'm', provider: 'openai' }], arms: arms.map((name) => ({ name, kind: 'prompt', model: 'm' })) },
    },
  });
  let s = 12345;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  for (const arm of arms) {
    store.putArm({ run: run.id, name: arm, kind: 'prompt', status: 'done', modelId: 'm' });
    let batch = [];
    for (let i = 0; i < n; i++) {
      const expected = i % 5 < 2 ? 'spam' : 'ham';
      const right = rnd() < 0.9;
      const extracted = right ? expected : expected === 'spam' ? 'ham' : 'spam';
      batch.push({
        exampleId: `c${i}`,
        output: extracted,
        score: right ? 1 : 0,
        pass: right,
        extracted,
        expected,
        latencyMs: 5 + rnd() * 20,
        costUsd: 0,
        tokensIn: 30,
        tokensOut: 1,
        cached: false,
      });
      if (batch.length === 10000) {
        store.putResults(run.id, arm, batch);
        batch = [];
      }
    }
    if (batch.length) store.putResults(run.id, arm, batch);
  }
  store.updateRun(run.id, { status: 'done' });
  store.close();
} else if (mode === 'measure') {
  const store = openStore(join(dir, 'tunelab.db'));
  const before = process.memoryUsage();
  const t0 = process.hrtime.bigint();
  const report = buildRunReport(store, 'r1');
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const after = process.memoryUsage();
  store.close();
  process.stdout.write(
    `${JSON.stringify({
      n: report.arms.map((a) => a.n),
      value: report.arms.map((a) => a.metric.value),
      comparisons: report.comparisons.length,
      reportMs: Math.round(ms),
      rssBeforeMB: mb(before.rss),
      rssAfterMB: mb(after.rss),
      heapAfterMB: mb(after.heapUsed),
      peakRssMB: mb(hwm()),
    })}\n`,
  );
} else {
  process.stderr.write('usage: report-memory.ts make DIR N [ARMS] | measure DIR\n');
  process.exit(2);
}
