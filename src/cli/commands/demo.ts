// `tunelab demo`: the built-in offline experiment (examples/demo/tunelab.yaml) — prompt arms vs LoRA
// fine-tuning on the spam task with the built-in model; prints the table, writes the reports.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig, runExperiment, type RunEvent } from '../../experiment/index.ts';
import { render } from '../../report/index.ts';
import { writeRunReports } from '../write-reports.ts';
import { InputError } from '../../core/index.ts';
import { createProgress } from '../progress.ts';

/** examples/demo/tunelab.yaml of this installation. */
export function demoConfigPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const f = join(dir, 'examples', 'demo', 'tunelab.yaml');
    if (existsSync(f)) return f;
    dir = dirname(dir);
  }
  throw new InputError('demo', 'examples/demo/tunelab.yaml not found in this installation');
}

export interface DemoOptions {
  out?: string;
  json?: boolean;
  quiet?: boolean;
  config?: string;
  fresh?: boolean;
  /** print nothing on stdout (tests) */ silent?: boolean;
}

export interface DemoResult {
  code: number;
  runId: string;
  seconds: number;
  reports: Record<string, string>;
  report: any;
  arms: unknown;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const t0 = Date.now();
  const file = opts.config ? resolve(opts.config) : demoConfigPath();
  const loaded = loadConfig(file);
  loaded.outputDir = resolve(opts.out ?? 'tunelab-demo');
  mkdirSync(loaded.outputDir, { recursive: true });
  const startDir = process.cwd();
  process.chdir(loaded.baseDir);
  const progress = await createProgress({ quiet: opts.quiet || opts.json || opts.silent });
  const ac = new AbortController();
  const onSignal = () => {
    process.stderr.write('\ntunelab demo: stopping (run again to resume)\n');
    ac.abort(new Error('SIGINT'));
  };
  process.on('SIGINT', onSignal);
  if (!opts.quiet && !opts.json && !opts.silent)
    process.stderr.write(
      `tunelab demo: ${loaded.config.arms.length} arms on the built-in spam task with the built-in model (offline); writing to ${relative(startDir, loaded.outputDir) || '.'}\n`,
    );
  let result;
  try {
    result = await runExperiment(loaded, { cache: true, fresh: opts.fresh, signal: ac.signal, onEvent: (e: RunEvent) => progress(e) });
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.chdir(startDir);
  }
  const { report } = result;
  const files = writeRunReports(result.runDir, report);
  const seconds = (Date.now() - t0) / 1000;
  const out: DemoResult = { code: result.interrupted ? 130 : 0, runId: result.runId, seconds, reports: files, report, arms: result.arms };
  if (opts.silent) return out;
  if (opts.json) {
    process.stdout.write(JSON.stringify({ runId: result.runId, seconds, reports: files, arms: result.arms, report }) + '\n');
  } else {
    process.stdout.write(render(report, 'table', { color: Boolean(process.stdout.isTTY) }));
    const rel = (p: string) => relative(startDir, p) || p;
    process.stdout.write(
      `\ndemo finished in ${(seconds / 60).toFixed(1)} min; run ${result.runId}\nreport: ${rel(files.html)}  (also ${rel(files.md)}, ${rel(files.json)})\n`,
    );
    // the answer again, last, where the eye lands (decide/)
    if (report.decision) process.stdout.write(`\nRecommendation: ${report.decision.recommendation.sentences.join('\n  ')}\n`);
  }
  return out;
}

/** The demo's help, with the arms read from the demo config itself (so it stays true). */
export function demoHelp(): string {
  let arms = '';
  try {
    const raw = YAML.parse(readFileSync(demoConfigPath(), 'utf8')) as { arms?: { name?: string; kind?: string; method?: string }[] };
    arms = (raw.arms ?? []).map((a) => `  ${String(a.name).padEnd(16)} ${a.kind}${a.method ? ` (${a.method})` : ''}`).join('\n');
  } catch {
    arms = '  (examples/demo/tunelab.yaml not found in this installation)';
  }
  return `Usage: tunelab demo [options]

Runs the built-in offline experiment (examples/demo/tunelab.yaml) on the SpamAssassin task with the
built-in model: no keys, no network. Prints the comparison table and writes the reports (HTML, Markdown,
JSON); browse every example afterwards with \`npx tunelab view --store tunelab-demo/tunelab.db\`.

Arms (from examples/demo/tunelab.yaml; accuracy tasks also get the majority and classical baselines):
${arms}

Options:
  -o, --out <dir>    output folder (store and reports), default ./tunelab-demo
  --json             print one JSON object instead of the table
  -q, --quiet        no progress output
  --fresh            start a new run instead of resuming an interrupted one
  --config <file>    run another config the same way
  -h, --help         this help
`;
}

export default async function demo(_first: unknown, _opts: unknown, cmd?: { args?: string[] }): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: cmd?.args ?? [],
      options: {
        out: { type: 'string', short: 'o' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        config: { type: 'string' },
        fresh: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    throw new InputError('tunelab demo', `${(e as Error).message} (see tunelab demo --help)`);
  }
  if (values.help) {
    process.stdout.write(demoHelp());
    return 0;
  }
  return (await runDemo({ out: values.out, json: values.json, quiet: values.quiet, config: values.config, fresh: values.fresh })).code;
}
