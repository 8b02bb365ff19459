// `tunelab run [config]`: run or resume an experiment, print the table, write the reports.
import { relative } from 'node:path';
import { loadConfig, runExperiment, type RunEvent } from '../../experiment/index.ts';
import { render } from '../../report/index.ts';
import { writeRunReports } from '../write-reports.ts';
import { createProgress } from '../progress.ts';

export interface RunCommandOptions {
  cache?: boolean;
  json?: boolean;
  arm?: string[];
  fresh?: boolean;
  /** --cancel-jobs: on Ctrl-C cancel provider fine-tuning jobs instead of leaving them running */
  cancelJobs?: boolean;
  quiet?: boolean;
  /** --batch: models with a batch API evaluate through it */
  batch?: boolean;
}

export default async function run(configPath: string, opts: RunCommandOptions): Promise<number> {
  const loaded = loadConfig(configPath);
  const startDir = process.cwd();
  // Paths inside the config (data, prompt files, custom scorers, output) are relative to its folder.
  process.chdir(loaded.baseDir);
  const progress = await createProgress({ quiet: opts.quiet });
  const ac = new AbortController();
  let stops = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    stops++;
    if (stops > 1) process.exit(130);
    process.stderr.write(`\ntunelab: ${sig}: stopping after the calls in flight (results so far are kept; run again to resume)\n`);
    ac.abort(new Error(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result;
  try {
    result = await runExperiment(loaded, {
      cache: opts.cache !== false,
      arms: opts.arm,
      fresh: opts.fresh,
      cancelJobs: opts.cancelJobs,
      batch: opts.batch,
      signal: ac.signal,
      onEvent: (e: RunEvent) => progress(e),
    });
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const { report, assertions } = result;
  const files = writeRunReports(result.runDir, report);
  const failed = assertions.filter((a) => !a.ok);
  if (opts.json) {
    const out = {
      runId: result.runId,
      resumed: result.resumed,
      interrupted: result.interrupted,
      exitCode: result.exitCode,
      store: result.dbPath,
      reports: files,
      arms: result.arms,
      assertions,
      report,
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    process.stdout.write(render(report, 'table', { color: Boolean(process.stdout.isTTY) }));
    if (!report.arms.length) process.stdout.write('(no arms ran)\n');
    const rel = (p: string) => relative(startDir, p) || p;
    process.stdout.write(
      `\nrun ${result.runId}${result.interrupted ? ' (interrupted: run again to resume)' : ''}\nreports: ${rel(files.html)}  ${rel(files.md)}  ${rel(files.json)}\n`,
    );
  }
  for (const a of failed) process.stderr.write(`tunelab: assertion failed: ${a.message}\n`);
  if (result.interrupted) return 130;
  return result.exitCode;
}
