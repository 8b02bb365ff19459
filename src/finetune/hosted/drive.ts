// Drives one hosted fine-tuning job to its end: validation and an estimate before anything is spent, the
// budget check, start (or resume a job started earlier: never a second one), then polling with the
// provider's events until the job succeeds, fails or is cancelled. The job is handed to `onJob` the
// moment the provider returns its id, so a killed process can resume polling it. On abort the job is left
// running (a rerun resumes it) unless `cancelOnAbort`.
import { AbortedError, InputError } from '../../core/index.ts';
import type { FineTuneJob, TrainingRecord } from '../types.ts';
import { formatProblems } from '../validate.ts';
import { checkBudget } from './common.ts';
import { sleep } from './http.ts';
import type { HostedBackend, HostedEstimate, HostedFineTuneOptions, HostedJobState } from './types.ts';

export interface DriveOptions {
  /** config path for errors, e.g. arms.my-arm */
  where: string;
  budgetUsd?: number;
  /** a job started earlier (read back from where onJob saved it): poll it instead of starting one */
  resume?: FineTuneJob;
  onJob?: (job: FineTuneJob) => void | Promise<void>;
  /** each poll's state (after the events were logged) */
  onState?: (state: HostedJobState) => void;
  log?: (message: string) => void;
  signal?: AbortSignal;
  /** cancel the provider's job when aborted (default false: it keeps running and a rerun resumes it) */
  cancelOnAbort?: boolean;
  /** ms between polls (default 10000) */
  pollMs?: number;
}

export interface DriveResult {
  job: FineTuneJob;
  state: HostedJobState;
  /** the tuned model's name at the provider */
  model: string;
  estimate?: HostedEstimate;
  /** trained tokens as the provider reported them (else the estimate's) */
  trainedTokens: number;
  trainedTokensSource: 'provider' | 'estimate';
  /** training cost: the provider's figure, else reported tokens × price, else the estimate */
  costUsd: number;
  costSource: 'provider' | 'provider tokens × price' | 'estimate' | 'unknown';
  /** wall time from the job's creation to its end as seen here */
  seconds: number;
  resumed: boolean;
}

function aborted(signal: AbortSignal | undefined): boolean {
  return Boolean(signal?.aborted);
}

export async function driveHostedJob(
  backend: HostedBackend,
  data: TrainingRecord[],
  opts: HostedFineTuneOptions,
  o: DriveOptions,
): Promise<DriveResult> {
  const log = o.log ?? (() => {});
  let job = o.resume;
  let estimate: HostedEstimate | undefined;
  const resumed = Boolean(job);
  // the estimate is shown on resume too (no request is made for it)
  estimate = await backend.estimate(data, opts);
  if (!job) {
    const problems = await backend.validate(data, opts);
    for (const p of problems.filter((x) => x.level === 'warning'))
      log(`training data warning${p.index !== undefined ? ` (record ${p.index})` : ''}: ${p.message}`);
    const errors = problems.filter((p) => p.level === 'error');
    if (errors.length)
      throw new InputError(o.where, `training data refused before upload (${backend.provider}):\n${formatProblems(errors)}`);
    log(
      `estimate (${backend.provider}, ${opts.baseModel}): ${Number.isFinite(estimate.costUsd) ? `$${estimate.costUsd.toFixed(4)}` : 'cost unknown'}; ${estimate.note}${o.budgetUsd !== undefined ? `; budget $${o.budgetUsd}` : ''}`,
    );
    checkBudget(estimate, o.budgetUsd, `${o.where}.budget`);
    if (aborted(o.signal)) throw new AbortedError('stopped before the job was created');
    job = await backend.start(data, opts, o.signal);
    await o.onJob?.(job);
    log(`${backend.provider} job ${job.id} created`);
  } else {
    log(`resuming ${backend.provider} job ${job.id} (started ${new Date(job.createdAt).toISOString()}); no new job is created`);
  }

  const pollMs = o.pollMs ?? 10_000;
  let seen = 0;
  let lastStatus = '';
  let state: HostedJobState;
  for (;;) {
    if (aborted(o.signal)) return stop(backend, job, o, log);
    try {
      state = await backend.poll(job);
    } catch (e) {
      if (aborted(o.signal)) return stop(backend, job, o, log);
      throw e;
    }
    for (const e of state.events.slice(seen)) log(`${backend.provider}: ${e.message}`);
    seen = state.events.length;
    if (state.providerStatus !== lastStatus) {
      log(`${backend.provider} job ${job.id}: ${state.providerStatus}`);
      lastStatus = state.providerStatus;
    }
    o.onState?.(state);
    if (state.status === 'succeeded' || state.status === 'failed' || state.status === 'cancelled') break;
    try {
      await sleep(pollMs, o.signal);
    } catch {
      return stop(backend, job, o, log);
    }
  }
  if (state.status === 'failed') throw new Error(`${backend.provider} fine-tuning job ${job.id} failed: ${state.error ?? 'no message'}`);
  if (state.status === 'cancelled') throw new Error(`${backend.provider} fine-tuning job ${job.id} was cancelled`);
  const model = state.fineTunedModel ?? (await backend.result(job));
  const trainedTokens = state.trainedTokens ?? estimate.tokens;
  let costUsd: number;
  let costSource: DriveResult['costSource'];
  if (state.costUsd !== undefined) {
    costUsd = state.costUsd;
    costSource = 'provider';
  } else if (state.trainedTokens !== undefined && estimate.pricePerMTok !== undefined) {
    costUsd = (state.trainedTokens / 1e6) * estimate.pricePerMTok;
    costSource = 'provider tokens × price';
  } else if (Number.isFinite(estimate.costUsd)) {
    costUsd = estimate.costUsd;
    costSource = 'estimate';
  } else {
    costUsd = 0;
    costSource = 'unknown';
  }
  return {
    job,
    state,
    model,
    estimate,
    trainedTokens,
    trainedTokensSource: state.trainedTokens !== undefined ? 'provider' : 'estimate',
    costUsd,
    costSource,
    seconds: Math.max(0, (Date.now() - job.createdAt) / 1000),
    resumed,
  };
}

async function stop(backend: HostedBackend, job: FineTuneJob, o: DriveOptions, log: (m: string) => void): Promise<never> {
  if (o.cancelOnAbort) {
    try {
      await backend.cancel(job);
      log(`${backend.provider} job ${job.id} cancelled (--cancel-jobs)`);
    } catch (e) {
      log(`${backend.provider} job ${job.id}: cancel failed: ${(e as Error).message}`);
    }
    throw new AbortedError(`${backend.provider} job ${job.id} cancelled`);
  }
  log(`${backend.provider} job ${job.id} left running; run again to resume polling it (tunelab run --cancel-jobs cancels it instead)`);
  throw new AbortedError(`${backend.provider} job ${job.id} left running`);
}
