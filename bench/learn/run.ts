// bench/learn: does offline fine-tuning of the built-in model learn a task nobody tuned it for?
// Per task: majority, TF-IDF + logistic regression, zero-shot, few-shot, LoRA and full fine-tune accuracies with
// 95% intervals (Wilson, src/stats) and wall times, from one stored tunelab run per task.
//
//   node --import tsx bench/learn/run.ts [--tasks wordnet-topic,brown-genre,sotu-party] [--arms lora,full]
//        [--out .tunelab/bench-learn] [--explore] [--arms-file extra-arms.json]
//
// --explore never touches the test split: it writes the task's train+dev examples to a JSONL pool and runs on a
// split of that pool (train 75% / dev 10% / "test" 15%), for choosing defaults honestly.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { loadConfig, prepareExperiment, runExperiment, type RunEvent } from '../../src/experiment/index.ts';
import { majorityLabel } from '../../src/decide/index.ts';
import { wilsonInterval } from '../../src/stats/index.ts';
import type { Example } from '../../src/task/index.ts';
import { fitLogReg } from './logreg.ts';
import { TASKS, ARM_NAMES, armsFor, configFor, type BenchTask } from './tasks.ts';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string' },
    arms: { type: 'string' },
    out: { type: 'string', default: '.tunelab/bench-learn' },
    explore: { type: 'boolean', default: false },
    'arms-file': { type: 'string' },
  },
});

const textOf = (e: Example) => String(e.input.text ?? '');
const pct = (x: number) => (100 * x).toFixed(1);

interface Row {
  name: string;
  acc: number;
  n: number;
  wallS: number;
  trainS?: number;
  note?: string;
}

function cpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function benchTask(t: BenchTask, out: string): Promise<{ rows: Row[]; cpu: number; wall: number; sizes: string; runDir: string }> {
  const dir = resolve(out, args.explore ? `${t.name}-explore` : t.name);
  mkdirSync(dir, { recursive: true });
  const extra = args['arms-file'] ? (JSON.parse(readFileSync(args['arms-file'], 'utf8')) as Record<string, unknown>[]) : [];
  let arms = armsFor(t, extra);
  if (args.arms) {
    const keep = new Set(args.arms.split(','));
    arms = arms.filter((a) => keep.has(String(a.name)));
  }
  // --arms none: only the baselines (the config still needs an arm to parse)
  const runArms = arms.length > 0;
  if (!runArms) arms = armsFor(t).slice(0, 1);
  let cfg = configFor(t, arms, { output: join(dir, 'out') });
  const cfgPath = join(dir, 'tunelab.yaml');
  writeFileSync(cfgPath, stringify(cfg));
  if (args.explore) {
    // the pool: the real split's train + dev, never its test
    const real = await prepareExperiment(loadConfig(cfgPath), { arms: [] });
    const pool = [...real.split.train, ...real.split.dev];
    writeFileSync(
      join(dir, 'pool.jsonl'),
      pool.map((e) => JSON.stringify({ id: e.id, text: textOf(e), label: e.expected })).join('\n') + '\n',
    );
    const n = pool.length;
    const test = Math.round(n * 0.15),
      dev = Math.round(n * 0.1);
    cfg = configFor(t, arms, { output: join(dir, 'out'), data: 'pool.jsonl', split: { train: n - dev - test, dev, test } });
    writeFileSync(cfgPath, stringify(cfg));
  }
  const loaded = loadConfig(cfgPath);
  const prep = await prepareExperiment(loaded, { arms: [] });
  const { train, dev, test } = prep.split;
  const sizes = `train ${train.length} / dev ${dev.length} / test ${test.length}, ${new Set(test.map((e) => e.expected)).size} labels in test`;
  const rows: Row[] = [];
  const w0 = performance.now(),
    c0 = cpuS();
  const maj = majorityLabel(train.map((e) => e.expected)).label;
  rows.push({ name: 'majority', acc: test.filter((e) => e.expected === maj).length / test.length, n: test.length, wallS: 0, note: maj });
  const tl = performance.now();
  const lr = fitLogReg(
    train.map((e) => ({ text: textOf(e), label: e.expected })),
    dev.map((e) => ({ text: textOf(e), label: e.expected })),
  );
  const lrAcc = test.filter((e) => lr.predict(textOf(e)) === e.expected).length / test.length;
  rows.push({ name: 'tfidf+logreg', acc: lrAcc, n: test.length, wallS: (performance.now() - tl) / 1000, note: `C=${lr.c}` });
  const started = new Map<string, number>(),
    ended = new Map<string, number>();
  if (!runArms) return { rows, cpu: cpuS() - c0, wall: (performance.now() - w0) / 1000, sizes, runDir: '(no arms run)' };
  const res = await runExperiment(loaded, {
    cache: true,
    onEvent: (e: RunEvent) => {
      if (e.type === 'arm-prepare' && !started.has(e.arm)) started.set(e.arm, performance.now());
      if (e.type === 'arm-end') ended.set(e.arm, performance.now());
      if (e.type === 'log' && e.arm && /fine-tuning|trained in|default|chose/i.test(e.message))
        console.error(`  [${t.name}/${e.arm}] ${e.message}`);
    },
  });
  for (const a of res.report.arms) {
    const s = started.get(a.name),
      e = ended.get(a.name);
    const d = a.training?.details ?? {};
    const note = a.training
      ? [
          d.method,
          d.learningRate !== undefined ? `lr ${d.learningRate}` : '',
          d.epochs !== undefined ? `ep ${d.epochs}` : '',
          d.steps !== undefined ? `${d.steps} steps` : '',
        ]
          .filter(Boolean)
          .join(' ')
      : a.status !== 'done'
        ? `${a.status} ${a.error ?? ''}`
        : undefined;
    rows.push({
      name: a.name,
      acc: a.metric.value,
      n: a.metric.n,
      wallS: s !== undefined && e !== undefined ? (e - s) / 1000 : NaN,
      trainS: a.training?.seconds,
      note,
    });
  }
  return { rows, cpu: cpuS() - c0, wall: (performance.now() - w0) / 1000, sizes, runDir: res.runDir };
}

function table(rows: Row[]): string {
  const lines = ['| arm | accuracy | 95% interval | wall s | of it training s | notes |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const [lo, hi] = wilsonInterval(Math.round(r.acc * r.n), r.n);
    lines.push(
      `| ${r.name} | ${pct(r.acc)}% | ${pct(lo)}–${pct(hi)}% | ${Number.isFinite(r.wallS) ? r.wallS.toFixed(1) : '–'} | ${r.trainS !== undefined ? r.trainS.toFixed(1) : ''} | ${r.note ?? ''} |`,
    );
  }
  return lines.join('\n');
}

const wanted = args.tasks ? args.tasks.split(',') : TASKS.map((t) => t.name);
for (const name of wanted) {
  const t = TASKS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown task ${name} (known: ${TASKS.map((x) => x.name).join(', ')})`);
  const r = await benchTask(t, args.out!);
  const { loadavg } = await import('node:os');
  console.log(`\n### ${t.name}${args.explore ? ' (explore: split of train+dev, test untouched)' : ''} — ${r.sizes}`);
  console.log(table(r.rows));
  console.log(
    `\nwhole task: wall ${r.wall.toFixed(0)} s, process CPU ${r.cpu.toFixed(0)} s (user+sys, training worker included), load avg ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; run stored in ${r.runDir}`,
  );
}
void ARM_NAMES;
