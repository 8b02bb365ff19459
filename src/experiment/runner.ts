// The resumable experiment runner:
//   load task → seeded split → for each arm: prepare(train+dev only) → evaluate on test (bounded
//   concurrency) → results written in batched transactions.
// Resume: a run of the same config and data that did not finish is continued under its run id: examples
// already stored are skipped, prepared arms are restored from their stored artifact, an arm killed while
// preparing is prepared again with the state it saved (ctx.resume: a training checkpoint, a job id) and
// its engineering cost adds the time spent before the kill, and the response cache serves any call that
// completed but whose result was not yet written. Nothing is written before every input check (config,
// data, split, models, endpoints) has passed; the run row is written before preparation starts, and a new
// run stopped by bad input found while preparing is deleted with its folder.
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { InputError, planTask, type Example, type Split, type TestStream } from '../task/index.ts';
import { createScorer } from '../metrics/index.ts';
import type { ChatModel } from '../models/types.ts';
import type { Scorer } from '../metrics/types.ts';
import type { Spent } from '../prompting/types.ts';
import { evaluate, type EvalResult } from '../prompting/index.ts';
import { isBadInput as coreIsBadInput } from '../core/index.ts';
import type { Arm, ArmContext, Predictor } from './types.ts';
import { testMembership } from '../task/index.ts';
import { labelSetWarnings } from '../decide/index.ts';
import { armKind, loadArmKinds } from './arms/index.ts';
import type { LoadedConfig, ArmConfig } from './config.ts';
import type { RunEvent } from './events.ts';
import type { ArmProgress, ArmRecord, ResultRecord, RunRecord, Store } from '../store/index.ts';
import type { ModelFactory } from './models.ts';

export interface RunOptions {
  /** use the response cache (default true); `--no-cache` turns it off */
  cache?: boolean;
  /** run only these arms */
  arms?: string[];
  /** start a new run even if one of the same config is unfinished */
  fresh?: boolean;
  onEvent?: (e: RunEvent) => void;
  signal?: AbortSignal;
  /** on abort, cancel jobs running at fine-tuning providers (default: leave them running; a rerun resumes them) */
  cancelJobs?: boolean;
  /** send calls of models whose provider has a batch API through it (`tunelab run --batch`) */
  batch?: boolean;
  /** results per write transaction (default 512) */
  batchSize?: number;
  /** longest a finished result waits before it is written, ms (default 250) */
  flushMs?: number;
}

export interface Prepared {
  loaded: LoadedConfig;
  /** the split; `test` is empty when the data set streams (`testStream`) */
  split: Split;
  /** a data set too large to hold (task/stream.ts): its test split, read again as it is evaluated */
  testStream?: TestStream;
  /** test examples (default: the stream's size, else split.test.length) */
  testSize?: number;
  labels?: string[];
  scorer: Scorer;
  arms: { config: ArmConfig; arm: Arm }[];
  warnings: string[];
  dataHash: string;
  runKey: string;
  dataName: string;
  /** input field names (from the task loader) */
  inputFields: string[];
}

export interface RunOutcome {
  runId: string;
  resumed: boolean;
  interrupted: boolean;
  store: Store;
  /** per arm: what this session did */
  arms: { name: string; status: string; done: number; total: number; cached: number; calls: number; errors: number; error?: string }[];
}

const ZERO: Spent = { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: 0 };
/** how often an arm being prepared writes what it has spent so far (ms) */
const PROGRESS_MS = Number(process.env.TUNELAB_PROGRESS_MS ?? 1000);

/** Everything that can fail on bad input, done before anything is written. */
export async function prepareExperiment(loaded: LoadedConfig, opts: { arms?: string[] } = {}): Promise<Prepared> {
  const { config, baseDir } = loaded;
  // small data sets are held and split in memory; large JSONL/CSV files stream (task/stream.ts)
  const splitCfg = { ...(config.split ?? {}), seed: config.split?.seed ?? config.seed };
  const task = await planTask(config.task, baseDir, splitCfg, { expectedField: config.task.expected });
  if (!task.records) throw new InputError('task.data', 'the data set has no examples');
  const { split, report } = task;
  const testSize = task.stream ? task.stream.size : split.test.length;
  if (!testSize) {
    throw new InputError(
      'split.test',
      `the test split is empty (${task.records} examples, split ${JSON.stringify({ train: splitCfg.train ?? 0.6, dev: splitCfg.dev ?? 0.2, test: splitCfg.test ?? 0.2 })})`,
    );
  }
  const scorer = await createScorer(config.task.metric, { baseDir, labels: task.labels });
  const warnings = [...report.warnings, ...labelSetWarnings(config.arms, scorer.labels ?? task.labels)];

  let armCfgs = config.arms;
  if (opts.arms?.length) {
    const names = new Set(config.arms.map((a) => a.name));
    for (const n of opts.arms) if (!names.has(n)) throw new InputError('--arm', `no arm named '${n}' (arms: ${[...names].join(', ')})`);
    armCfgs = config.arms.filter((a) => opts.arms!.includes(a.name));
  }
  await loadArmKinds(armCfgs.map((c) => c.kind));
  const arms = armCfgs.map((c, i) => {
    const k = armKind(c.kind);
    if (!k) throw new InputError(`arms[${i}].kind`, `unknown arm kind '${c.kind}'`);
    return { config: c, arm: k.create(c, { baseDir, arms: config.arms }) };
  });
  const dataHash = task.stream ? task.stream.hash : hashSplit(split);
  const d = config.task.data;
  const dataName = typeof d === 'string' ? d : 'path' in d ? d.path : `builtin:${d.builtin}`;
  return {
    loaded,
    split,
    ...(task.stream ? { testStream: task.stream } : {}),
    testSize,
    labels: scorer.labels ?? task.labels,
    scorer,
    arms,
    warnings,
    dataHash,
    runKey: `${loaded.hash}-${dataHash}`,
    dataName,
    inputFields: task.inputFields,
  };
}

/**
 * How many arms are prepared (then evaluated) at once: `armConcurrency`, default 1. Measured on the demo (2 cores,
 * quiet): two lanes ran the LoRA and full trainings together in 2 min 05 s against 2 min 01–2 min 19 s one at a
 * time (onnxruntime's threads of the two trainings share the same 2 cores) and peaked at 1.05 GB instead of 0.97.
 */
export function armConcurrencyOf(config: LoadedConfig['config']): number {
  return config.armConcurrency ?? 1;
}

/** Trainings start first (the longest work, overlapped with everything else); arms that reuse a training after them. */
function startOrder(kind: string): number {
  if (kind === 'finetune' || kind === 'distill') return 0;
  if (kind === 'finetune+prompt') return 1;
  return 2;
}

function hashSplit(split: Split): string {
  const h = createHash('sha256');
  for (const part of ['train', 'dev', 'test'] as const) {
    h.update(`#${part}\n`);
    for (const e of split[part]) h.update(`${e.id}\u0000${JSON.stringify(e.input)}\u0000${e.expected}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Run (or resume) an experiment whose inputs were checked by prepareExperiment.
 * `models` builds ChatModels bound to the store (cache, call records); see models.ts.
 */
export async function executeExperiment(p: Prepared, store: Store, models: ModelFactory, opts: RunOptions = {}): Promise<RunOutcome> {
  const { loaded, split, scorer } = p;
  const { config } = loaded;
  const testSize = p.testSize ?? p.testStream?.size ?? split.test.length;
  const onEvent = opts.onEvent ?? (() => {});
  let logFile: string | undefined;
  // every event but the progress ticks also goes to <run>/run.log (errors there are already redacted)
  const emit = (e: RunEvent) => {
    onEvent(e);
    if (logFile && e.type !== 'progress') {
      try {
        appendFileSync(logFile, `${new Date().toISOString()} ${logLine(e)}\n`);
      } catch {
        /* a log we cannot write is not worth stopping a run */
      }
    }
  };
  const batchSize = opts.batchSize ?? Number(process.env.TUNELAB_RESULT_BATCH ?? 512);
  const flushMs = opts.flushMs ?? Number(process.env.TUNELAB_FLUSH_MS ?? 250);

  let run: RunRecord | undefined = opts.fresh ? undefined : store.findResumable(config.experiment!, p.runKey);
  const resumed = Boolean(run);
  const meta = {
    seed: config.seed,
    sizes: { train: split.train.length, dev: split.dev.length, test: testSize },
    metric: { name: scorer.name, labels: scorer.labels ?? p.labels, type: config.task.metric.type },
    data: p.dataName,
    baseline: config.baseline ?? config.arms[0]?.name,
    arms: config.arms.map((a) => a.name),
    warnings: p.warnings,
    // a streamed test split is not listed (a million ids would be most of the row): the results name their examples
    ...(p.testStream ? {} : { testIds: split.test.map((e) => e.id) }),
    config: config,
  };
  // The run row exists before any arm is prepared, so a kill at any point resumes this run id.
  if (!run) run = store.createRun({ experiment: config.experiment!, runKey: p.runKey, meta });
  else store.updateRun(run.id, { status: 'running' });
  const runId = run.id;
  const runDir = join(loaded.outputDir, 'runs', runId);
  mkdirSync(runDir, { recursive: true });
  logFile = join(runDir, 'run.log');
  for (const { config: c, arm } of p.arms)
    if (!store.getArm(runId, c.name)) store.putArm({ run: runId, name: c.name, kind: arm.kind, status: 'pending' });
  emit({ type: 'run-start', runId, experiment: config.experiment!, resumed, arms: p.arms.map((a) => a.config.name), sizes: meta.sizes });
  // before anything is spent: prompts whose labels differ from the data's
  if (!resumed) for (const w of p.warnings) if (w.startsWith('arm ')) emit({ type: 'warning', message: w });

  const outcome: RunOutcome = { runId, resumed, interrupted: false, store, arms: [] };
  const training = { train: split.train, dev: split.dev };
  let deleted = false;
  try {
    // Phase 1 prepares every arm (train and dev only), phase 2 evaluates them on the test split; in each, up to
    // `armConcurrency` arms at once (trainings first, so two local trainings overlap). Nothing is evaluated
    // before every arm is prepared: bad input found while preparing still leaves no results behind.
    const lanes = Math.max(1, Math.min(armConcurrencyOf(config), p.arms.length));
    const inLanes = async <T>(items: T[], work: (x: T) => Promise<boolean>) => {
      const queue = [...items];
      let stop = false;
      let failure: { error: unknown } | undefined;
      const lane = async () => {
        for (let x = queue.shift(); x !== undefined && !stop && !opts.signal?.aborted; x = queue.shift()) {
          try {
            if (await work(x)) stop = true;
          } catch (error) {
            stop = true;
            failure ??= { error };
          }
        }
      };
      await Promise.all(Array.from({ length: lanes }, lane));
      if (failure) throw failure.error;
      return stop;
    };
    const toPrepare = lanes > 1 ? [...p.arms].sort((x, y) => startOrder(x.arm.kind) - startOrder(y.arm.kind)) : p.arms;
    const ready: { a: ArmRun; predictor: Predictor; rec: ArmRecord }[] = [];
    const interrupted = await inLanes(toPrepare, async ({ config: armCfg, arm }) => {
      const a: ArmRun = {
        runId,
        runDir,
        arm,
        armCfg,
        store,
        models,
        test: split.test,
        testStream: p.testStream,
        testSize,
        training,
        scorer,
        p,
        opts,
        emit,
        batchSize,
        flushMs,
      };
      const r = await prepareArm(a);
      if ('summary' in r) outcome.arms.push(r.summary);
      else ready.push({ a, predictor: r.predictor, rec: r.rec });
      return 'summary' in r && r.summary.status === 'interrupted';
    });
    const rank = new Map(p.arms.map((x, i) => [x.config.name, i]));
    ready.sort((x, y) => (rank.get(x.a.armCfg.name) ?? 0) - (rank.get(y.a.armCfg.name) ?? 0));
    if (!interrupted)
      await inLanes(ready, async ({ a, predictor, rec }) => {
        const r = await evaluateArm(a, predictor, rec);
        outcome.arms.push(r);
        return r.status === 'interrupted';
      });
    const order = new Map(p.arms.map((x, i) => [x.config.name, i]));
    outcome.arms.sort((x, y) => (order.get(x.name) ?? 0) - (order.get(y.name) ?? 0));
  } catch (err) {
    // bad input found while preparing a new run (a demo id not in train...): the run never existed
    if (!resumed && isBadInput(err) && store.countResults(runId) === 0) {
      logFile = undefined;
      store.flushCalls();
      store.deleteRun(runId);
      rmSync(runDir, { recursive: true, force: true });
      deleted = true;
    }
    throw err;
  } finally {
    if (!deleted) {
      const aborted = Boolean(opts.signal?.aborted);
      outcome.interrupted = aborted;
      const arms = store.listArms(runId);
      const allDone = p.arms.every((a) => {
        const st = arms.find((x) => x.name === a.config.name)?.status;
        return st === 'done' || st === 'failed';
      });
      store.updateRun(runId, aborted || !allDone ? { status: 'interrupted' } : { status: 'done', finishedAt: Date.now() });
      emit({ type: 'run-end', runId });
    }
  }
  return outcome;
}

interface ArmRun {
  runId: string;
  runDir: string;
  arm: Arm;
  armCfg: ArmConfig;
  store: Store;
  models: ModelFactory;
  test: Example[];
  testStream?: TestStream;
  testSize: number;
  training: { train: Example[]; dev: Example[] };
  scorer: Scorer;
  p: Prepared;
  opts: RunOptions;
  emit: (e: RunEvent) => void;
  batchSize: number;
  flushMs: number;
}

type ArmSummary = RunOutcome['arms'][number];

/** Prepare (or restore) one arm; a summary instead of a predictor when there is nothing (more) to evaluate. */
async function prepareArm(a: ArmRun): Promise<{ summary: ArmSummary } | { predictor: Predictor; rec: ArmRecord }> {
  const { runId, arm, armCfg, store, test, scorer, emit } = a;
  const name = armCfg.name;
  const total = a.testSize;
  const existing = store.getArm(runId, name);
  const done = store.doneIds(runId, name);
  const summary = { name, status: 'done', done: done.size, total, cached: 0, calls: 0, errors: 0 } as RunOutcome['arms'][number];
  if (existing?.status === 'done' && done.size >= total) {
    emit({ type: 'arm-end', arm: name, status: 'done', done: done.size, total, cached: 0, errors: 0, costUsd: 0, elapsedMs: 0 });
    return { summary };
  }
  const workDir = join(a.runDir, 'arms', safeName(name));
  mkdirSync(workDir, { recursive: true });
  const bound = a.models.forArm(runId, name, { cache: a.opts.cache !== false });
  let armRec: ArmRecord = existing ?? { run: runId, name, kind: arm.kind, status: 'pending' };
  // what earlier sessions spent preparing this arm before they were stopped, and the state they saved
  const prior: ArmProgress | undefined = armRec.status === 'preparing' || armRec.status === 'pending' ? armRec.progress : undefined;
  const priorMs = prior?.spent.ms ?? 0;
  const t0 = performance.now();
  let state = prior?.state;
  const progress = (): ArmProgress => ({
    spent: { ...ZERO, ...(prior?.spent ?? {}), ms: priorMs + (performance.now() - t0) },
    sessions: (prior?.sessions ?? 0) + 1,
    ...(state !== undefined ? { state } : {}),
  });
  const ctx: ArmContext = {
    data: a.training,
    scorer,
    model: (id, options) => bound.model(id, options),
    seed: a.p.loaded.config.seed,
    workDir,
    inputFields: a.p.inputFields ?? ['text'],
    labels: a.p.labels,
    log: (message: string) => emit({ type: 'log', arm: name, message }),
    isTest: a.testStream ? (e) => a.testStream!.isTest(e) : testMembership(test),
    signal: a.opts.signal,
    cancelJobs: a.opts.cancelJobs,
    resume: prior?.state,
    save: (s: unknown) => {
      state = s;
      store.saveProgress(runId, name, progress());
    },
  };

  // Prepare, or restore what a previous session prepared.
  let predictor: Predictor;
  let restored = false;
  let ticker: NodeJS.Timeout | undefined;
  try {
    emit({ type: 'arm-prepare', arm: name, kind: arm.kind });
    const canRestore =
      (existing?.status === 'prepared' || existing?.status === 'done' || existing?.status === 'failed') && existing.artifact !== undefined;
    if (existing && canRestore && arm.restore) {
      predictor = await arm.restore(ctx, existing.artifact);
      restored = true;
      if (existing.spent) predictor.spent = existing.spent;
      if (existing.training && !predictor.training) predictor.training = existing.training;
    } else {
      // the time and calls spent so far are written as they accrue, so a kill loses none of them
      armRec = { ...armRec, kind: arm.kind, status: 'preparing', progress: progress(), error: undefined };
      store.putArm(armRec);
      ticker = setInterval(() => {
        store.saveProgress(runId, name, progress());
        store.flushCalls();
      }, PROGRESS_MS);
      ticker.unref?.();
      predictor = await arm.prepare(ctx);
      const ms = performance.now() - t0;
      const own = predictor.spent ?? { ...ZERO, ms };
      // time spent by sessions that were stopped is engineering time too (their calls replay from the cache)
      predictor.spent = { ...own, ms: own.ms + priorMs };
    }
    armRec = {
      ...armRec,
      kind: arm.kind,
      status: 'prepared',
      modelId: predictor.model.id,
      promptHash: predictor.prompt.hash,
      artifact: predictor.artifact ?? existing?.artifact,
      spent: predictor.spent,
      training: predictor.training,
      notes: predictor.notes,
      progress: undefined,
      error: undefined,
    };
    store.putArm(armRec);
    emit({ type: 'arm-prepared', arm: name, restored, spent: predictor.spent });
  } catch (err) {
    if (a.opts.signal?.aborted) {
      if (armRec.status === 'preparing') store.saveProgress(runId, name, progress());
      return { summary: { ...summary, status: 'interrupted' } };
    }
    if (isBadInput(err)) throw err;
    const msg = oneLine(err);
    store.putArm({
      ...armRec,
      kind: arm.kind,
      status: 'failed',
      error: msg,
      progress: armRec.status === 'preparing' ? progress() : armRec.progress,
    });
    emit({
      type: 'arm-end',
      arm: name,
      status: 'failed',
      error: msg,
      done: done.size,
      total,
      cached: 0,
      errors: 0,
      costUsd: 0,
      elapsedMs: 0,
    });
    return { summary: { ...summary, status: 'failed', error: msg } };
  } finally {
    if (ticker) clearInterval(ticker);
  }
  return { predictor, rec: armRec };
}

/** Evaluate a prepared arm on the test examples not yet stored. */
async function evaluateArm(a: ArmRun, predictor: Predictor, armRec: ArmRecord): Promise<ArmSummary> {
  const { runId, armCfg, store, test, scorer, emit } = a;
  const name = armCfg.name;
  const total = a.testSize;
  const done = store.doneIds(runId, name);
  const summary: ArmSummary = { name, status: 'done', done: done.size, total, cached: 0, calls: 0, errors: 0 };

  // Evaluate the test split: the examples not yet stored, read lazily (from the file again when it streams).
  const pendingCount = total - done.size;
  const stream = a.testStream;
  async function* pendingCases(): AsyncGenerator<{ example: Example; index: number }> {
    if (stream) {
      for await (const c of stream.cases()) if (!done.has(c.example.id)) yield c;
    } else for (let i = 0; i < test.length; i++) if (!done.has(test[i].id)) yield { example: test[i], index: i };
  }
  emit({ type: 'arm-start', arm: name, total, done: done.size });
  // a batched model takes every pending call at once (they become one provider batch)
  const conc = Math.max(1, Math.min(predictor.model.info?.batch ? pendingCount : a.p.loaded.config.concurrency, pendingCount));
  const startDone = done.size;
  const t0 = performance.now();
  let batch: ResultRecord[] = [];
  let stored = done.size;
  let finished = done.size;
  let cost = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  let fatal: unknown;
  const flush = () => {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
    if (!batch.length) return;
    const rows = batch;
    batch = [];
    store.putResults(runId, name, rows);
    stored += rows.length;
  };
  const progress = () =>
    emit({
      type: 'progress',
      arm: name,
      done: finished,
      total,
      startDone,
      calls: summary.calls,
      cached: summary.cached,
      errors: summary.errors,
      costUsd: cost,
      elapsedMs: performance.now() - t0,
    });
  const ticker = setInterval(progress, 100);
  ticker.unref?.();
  const signal = a.opts.signal;
  const model = predictor.model;
  const prompt = predictor.prompt;
  if (signal) setMaxListeners(0, signal); // every call in flight listens for the abort

  // the one evaluation loop (prompting/evaluate.ts): its error policy is the runner's
  const onResult = (r: EvalResult) => {
    const row: ResultRecord = {
      exampleId: r.example.id,
      idx: r.index,
      expected: r.example.expected,
      output: r.output,
      extracted: r.extracted,
      score: r.score,
      pass: r.pass,
      tokensIn: r.usage.input,
      tokensOut: r.usage.output,
      latencyMs: r.latencyMs,
      costUsd: r.costUsd,
      cached: r.cached,
    };
    if (r.cpuMs !== undefined) row.cpuMs = r.cpuMs;
    if (r.error !== undefined) {
      row.error = r.error;
      summary.errors++;
    } else {
      summary.calls++;
      if (r.cached) summary.cached++;
      cost += r.costUsd;
    }
    finished++;
    batch.push(row);
    if (batch.length >= a.batchSize) flush();
    else if (!flushTimer) {
      flushTimer = setTimeout(flush, a.flushMs);
      flushTimer.unref?.();
    }
  };
  try {
    await evaluate(prompt, model, scorer, pendingCases(), {
      concurrency: conc,
      signal,
      meta: (ex) => ({ exampleId: ex.id }),
      onResult,
    });
  } catch (err) {
    if (!signal?.aborted) fatal = err;
  } finally {
    clearInterval(ticker);
    flush();
  }
  const elapsedMs = performance.now() - t0;
  if (signal?.aborted) {
    emit({
      type: 'arm-end',
      arm: name,
      status: 'partial',
      done: stored,
      total,
      cached: summary.cached,
      errors: summary.errors,
      costUsd: cost,
      elapsedMs,
    });
    return { ...summary, done: stored, status: 'interrupted' };
  }
  if (fatal !== undefined) {
    if (isBadInput(fatal) || isUnreachable(fatal)) throw fatal;
    const msg = oneLine(fatal);
    store.putArm({ ...armRec, status: 'failed', error: msg });
    emit({
      type: 'arm-end',
      arm: name,
      status: 'failed',
      error: msg,
      done: stored,
      total,
      cached: summary.cached,
      errors: summary.errors,
      costUsd: cost,
      elapsedMs,
    });
    return { ...summary, done: stored, status: 'failed', error: msg };
  }
  progress();
  store.putArm({ ...armRec, status: 'done' });
  emit({
    type: 'arm-end',
    arm: name,
    status: 'done',
    done: stored,
    total,
    cached: summary.cached,
    errors: summary.errors,
    costUsd: cost,
    elapsedMs,
  });
  return { ...summary, done: stored };
}

function logLine(e: RunEvent): string {
  switch (e.type) {
    case 'run-start':
      return `${e.resumed ? 'resume' : 'start'} run ${e.runId} (${e.experiment}): arms ${e.arms.join(', ')}; train ${e.sizes.train}, dev ${e.sizes.dev}, test ${e.sizes.test}`;
    case 'arm-prepare':
      return `[${e.arm}] preparing (${e.kind})`;
    case 'arm-prepared':
      return `[${e.arm}] ${e.restored ? 'restored' : 'prepared'}: ${e.spent.calls} calls, $${e.spent.costUsd}, ${Math.round(e.spent.ms)} ms`;
    case 'arm-start':
      return `[${e.arm}] evaluating: ${e.done}/${e.total} already stored`;
    case 'arm-end':
      return `[${e.arm}] ${e.status}${e.error ? `: ${e.error}` : ''}: ${e.done}/${e.total} stored, ${e.cached} cached, ${e.errors} errors, $${e.costUsd}`;
    case 'log':
      return e.arm ? `[${e.arm}] ${e.message}` : e.message;
    case 'warning':
      return `warning: ${e.message}`;
    case 'run-end':
      return `end run ${e.runId}`;
    default:
      return JSON.stringify(e);
  }
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'arm';
}

export function oneLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.replace(/\s*\n\s*/g, ' ').slice(0, 500);
}

/** Bad input (exit code 2): core's one classification. */
export const isBadInput = coreIsBadInput;

/** A model call no retry will fix (endpoint unreachable, key refused 401/403, unknown model 404): ModelCallError with exitCode 2. */
export function isUnreachable(err: unknown): boolean {
  return (err as Error)?.name === 'ModelCallError' && (err as { exitCode?: number }).exitCode === 2;
}
