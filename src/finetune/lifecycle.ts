// The one fine-tune job lifecycle: start (or resume) a job on any FineTuneBackend, poll it until it ends,
// hand every new event and each progress change to the caller, cancel it when the caller aborts, and
// return the final state with the trained model's id. The experiment's fine-tune arms and the server's
// JobManager both run jobs through it.
import type { FineTuneBackend, FineTuneJob, FineTuneOptions, JobEvent, JobState, JobStatus, TrainingRecord } from './types.ts';

export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['succeeded', 'failed', 'cancelled']);
export const isTerminal = (s: JobStatus): boolean => TERMINAL_JOB_STATUSES.has(s);

export interface LifecycleHooks {
  /** aborting cancels the job in the backend; runToCompletion then returns its final (cancelled) state */
  signal?: AbortSignal;
  /** each new backend event, oldest first */
  onEvent?: (event: JobEvent, state: JobState) => void;
  /** after every poll whose metrics or status changed */
  onProgress?: (state: JobState) => void;
  /**
   * called the moment the job exists (before the first poll), so the caller can store its id; a later
   * session passes it back as `job` to follow the same job instead of starting a second one
   */
  onJob?: (job: FineTuneJob) => void | Promise<void>;
  /** follow this job (started earlier, maybe by another process) instead of starting one */
  job?: FineTuneJob;
  /** milliseconds between polls (default 1000); a backend with `wait` is noticed at once when it ends */
  pollMs?: number;
}

export interface Completion {
  job: FineTuneJob;
  /** the terminal state: succeeded, failed or cancelled */
  state: JobState;
  /** the trained model's id (backend.result), when it succeeded */
  modelId?: string;
}

/** A backend call that failed (as opposed to a job that ended as failed): which phase, and the job if it existed. */
export class JobLifecycleError extends Error {
  constructor(
    public phase: 'start' | 'poll' | 'result',
    message: string,
    public job?: FineTuneJob,
  ) {
    super(message);
    this.name = 'JobLifecycleError';
  }
}

const sleep = (ms: number, signal?: AbortSignal, also?: Promise<unknown>) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    also?.then(done, done);
  });

/**
 * Start `data` on `backend` with `options` (or follow `hooks.job`) and wait for the job to end.
 * Resolves with the terminal state (a job that failed or was cancelled is a result, not an exception);
 * throws JobLifecycleError only when a backend call itself fails.
 */
export async function runToCompletion(
  backend: FineTuneBackend,
  data: TrainingRecord[],
  options: FineTuneOptions,
  hooks: LifecycleHooks = {},
): Promise<Completion> {
  const { signal } = hooks;
  let job = hooks.job;
  if (!job) {
    try {
      job = await backend.start(data, options);
    } catch (e) {
      throw new JobLifecycleError('start', (e as Error).message ?? String(e));
    }
  }
  const handle = job;
  await hooks.onJob?.(handle);
  const pollMs = hooks.pollMs ?? 1000;
  const ended = backend.wait ? backend.wait(handle).catch(() => undefined) : undefined;
  let seen = 0;
  let lastKey = '';
  let cancelled = false;
  const cancel = async () => {
    if (cancelled) return;
    cancelled = true;
    try {
      await backend.cancel(handle);
    } catch {
      /* the next poll says what state it is in */
    }
  };
  for (;;) {
    if (signal?.aborted) await cancel();
    let state: JobState;
    try {
      state = await backend.poll(handle);
    } catch (e) {
      throw new JobLifecycleError('poll', (e as Error).message ?? String(e), handle);
    }
    for (const ev of state.events.slice(seen)) hooks.onEvent?.(ev, state);
    seen = Math.max(seen, state.events.length);
    const key = `${state.status}|${JSON.stringify(state.metrics)}`;
    if (key !== lastKey) {
      lastKey = key;
      hooks.onProgress?.(state);
    }
    if (isTerminal(state.status)) {
      if (state.status !== 'succeeded') return { job: handle, state };
      try {
        return { job: handle, state, modelId: await backend.result(handle) };
      } catch (e) {
        throw new JobLifecycleError('result', (e as Error).message ?? String(e), handle);
      }
    }
    // a cancelled job that the backend has not yet marked as ended: keep polling until it is
    await sleep(pollMs, cancelled ? undefined : signal, ended);
  }
}
