// Where `tunelab demo` spends its CPU: runs the demo config (or --config FILE) through the runner and prints,
// per arm, wall and process CPU time (user+system, every thread: onnxruntime's pool and the training worker
// included) for preparation (training, optimization) and for evaluation on the test split, plus the peak RSS.
//   nice -n 10 node --import tsx bench/engine/demo-profile.ts [--config FILE] [--arms a,b] [--out DIR] [--json]
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, runExperiment, type RunEvent } from '../../src/experiment/index.ts';
import { demoConfigPath } from '../../src/cli/commands/demo.ts';
import { sessionStats } from '../../src/engine/index.ts';

const { values } = parseArgs({
  options: { config: { type: 'string' }, out: { type: 'string' }, arms: { type: 'string' }, json: { type: 'boolean' } },
});
const out = resolve(values.out ?? 'tmp/demo-profile');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const loaded = loadConfig(values.config ? resolve(values.config) : demoConfigPath());
loaded.outputDir = out;
process.chdir(loaded.baseDir);

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
interface Phase {
  wallMs: number;
  cpuMs: number;
  /** highest RSS sampled during the phase (MB) */
  rssMB?: number;
}
// RSS sampled every 100 ms; each open phase keeps its maximum
let rssNow = 0;
const peaks = new Map<string, number>();
const sample = () => {
  rssNow = process.memoryUsage.rss() / 2 ** 20;
  for (const k of peaks.keys()) peaks.set(k, Math.max(peaks.get(k)!, rssNow));
};
const sampler = setInterval(sample, 100);
const rows = new Map<string, { prepare?: Phase; evaluate?: Phase }>();
const open = new Map<string, { t: number; c: number }>();
const t0 = performance.now(),
  c0 = cpuMs();
let setup: Phase | undefined;
const mark = (k: string) => {
  sample();
  open.set(k, { t: performance.now(), c: cpuMs() });
  peaks.set(k, rssNow);
};
const close = (k: string): Phase | undefined => {
  const s = open.get(k);
  if (!s) return undefined;
  open.delete(k);
  sample();
  const rssMB = peaks.get(k);
  peaks.delete(k);
  return { wallMs: performance.now() - s.t, cpuMs: cpuMs() - s.c, rssMB };
};
const row = (arm: string) => {
  let r = rows.get(arm);
  if (!r) rows.set(arm, (r = {}));
  return r;
};
const onEvent = (e: RunEvent) => {
  if (e.type === 'run-start') setup = { wallMs: performance.now() - t0, cpuMs: cpuMs() - c0 };
  else if (e.type === 'arm-prepare') mark(`p|${e.arm}`);
  else if (e.type === 'arm-prepared') row(e.arm).prepare = close(`p|${e.arm}`);
  else if (e.type === 'arm-start') mark(`e|${e.arm}`);
  else if (e.type === 'arm-end') {
    const r = row(e.arm);
    r.prepare ??= close(`p|${e.arm}`);
    r.evaluate = close(`e|${e.arm}`);
  } else if (e.type === 'warning') process.stderr.write(`warning: ${e.message}\n`);
};
const res = await runExperiment(loaded, { cache: true, fresh: true, onEvent, arms: values.arms?.split(',') });
clearInterval(sampler);
const total = { wallMs: performance.now() - t0, cpuMs: cpuMs() - c0 };
const acc = new Map<string, number | undefined>();
for (const a of res.report.arms) acc.set(a.name, a.metric.value);
const s = (x?: Phase) =>
  x
    ? `${(x.wallMs / 1000).toFixed(1).padStart(6)} ${(x.cpuMs / 1000).toFixed(1).padStart(6)} ${(x.rssMB ?? 0).toFixed(0).padStart(5)}`
    : '     -      -     -';
const lines = [
  `demo profile: total wall ${(total.wallMs / 1000).toFixed(1)} s, CPU ${(total.cpuMs / 1000).toFixed(1)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
  `setup (load, split, baselines' data): wall ${((setup?.wallMs ?? 0) / 1000).toFixed(1)} s, CPU ${((setup?.cpuMs ?? 0) / 1000).toFixed(1)} s`,
  `${'arm'.padEnd(16)} prepare: wall    CPU   RSS   evaluate: wall    CPU   RSS   accuracy`,
  ...[...rows].map(([n, r]) => `${n.padEnd(16)}         ${s(r.prepare)}             ${s(r.evaluate)}   ${acc.get(n)?.toFixed(3) ?? '?'}`),
];
if (values.json)
  process.stdout.write(JSON.stringify({ total, setup, arms: Object.fromEntries(rows), accuracy: Object.fromEntries(acc) }) + '\n');
lines.push(`onnxruntime sessions of the main thread (evaluation): ${JSON.stringify(sessionStats())}`);
process.stdout.write(lines.join('\n') + '\n');
