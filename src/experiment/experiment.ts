// One call that does what `tunelab run` does: check every input, then open the store, run (or resume),
// build the report and check the assertions.
import { join } from 'node:path';
import type { RunReport } from '../report/types.ts';
import { DEFAULT_KEY_ENV } from '../models/index.ts';
import type { LoadedConfig } from './config.ts';
import { checkAssertions, type AssertionResult } from './assertions.ts';
import { modelFactory, preflightModels } from './models.ts';
import { buildRunReport } from './report.ts';
import { executeExperiment, prepareExperiment, type RunOptions, type RunOutcome } from './runner.ts';
import { acquireWriterLock, openStore } from '../store/index.ts';

export interface ExperimentResult extends Omit<RunOutcome, 'store'> {
  report: RunReport;
  assertions: AssertionResult[];
  /** 0 ok, 1 an assertion or failure threshold crossed (or interrupted) */
  exitCode: number;
  dbPath: string;
  runDir: string;
}

export function storePath(outputDir: string): string {
  return join(outputDir, 'tunelab.db');
}

export async function runExperiment(loaded: LoadedConfig, opts: RunOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<ExperimentResult> {
  const prepared = await prepareExperiment(loaded, { arms: opts.arms });
  await preflightModels(
    loaded.config,
    prepared.arms.map((a) => a.config),
    { env: opts.env ?? process.env },
  );
  const dbPath = storePath(loaded.outputDir);
  const env = opts.env ?? process.env;
  // keys of the configured models are scrubbed from everything the store writes (belt and braces:
  // nothing should carry them in the first place)
  const secrets = loaded.config.models
    .map((m) => env[m.apiKeyEnv ?? DEFAULT_KEY_ENV[m.provider] ?? ''])
    .filter((v): v is string => typeof v === 'string' && v.length >= 4);
  // one writer per store: a second run on it is refused (exit 2) naming the holder's pid
  const lock = acquireWriterLock(dbPath);
  let store;
  try {
    store = openStore(dbPath, { secrets, env });
  } catch (e) {
    lock.release();
    throw e;
  }
  try {
    const batch = {
      stateFile: join(loaded.outputDir, 'batches.json'),
      all: opts.batch,
      log: (message: string) => opts.onEvent?.({ type: 'log', message }),
    };
    const models = modelFactory(loaded.config, { cache: store.cache, onCall: store.logCall, env, batch });
    const outcome = await executeExperiment(prepared, store, models, opts);
    const report = buildRunReport(store, outcome.runId);
    const assertions = outcome.interrupted ? [] : checkAssertions(report, loaded.config.assert, { arms: opts.arms });
    const failed = outcome.interrupted || assertions.some((a) => !a.ok);
    const { store: _s, ...rest } = outcome;
    return { ...rest, report, assertions, exitCode: failed ? 1 : 0, dbPath, runDir: join(loaded.outputDir, 'runs', outcome.runId) };
  } finally {
    try {
      store.close();
    } finally {
      lock.release();
    }
  }
}
