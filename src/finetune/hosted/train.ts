// One hosted fine-tune for an arm: the backend made from config (key from the environment, never
// stored), the job persisted in <workDir>/job.json the moment it exists, and a run that finds that file
// (same data, same settings) resumes polling that job instead of starting a second one.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashOf, InputError } from '../../core/index.ts';
import type { FineTuneJob, TrainingRecord } from '../types.ts';
import { driveHostedJob, type DriveResult } from './drive.ts';
import { FIREWORKS_BASE_URL } from './fireworks.ts';
import { OPENAI_BASE_URL } from './openai.ts';
import { TOGETHER_BASE_URL } from './together.ts';
import { createHostedBackend, HOSTED_KEY_ENV, type HostedBackendName } from './backends.ts';
import type { HostedBackend, HostedBackendOptions, HostedFineTuneOptions } from './types.ts';

export interface HostedTrainInput {
  backend: HostedBackendName;
  /** config path of the arm, e.g. arms.ft */
  where: string;
  records: TrainingRecord[];
  opts: HostedFineTuneOptions;
  /** the arm's folder: job.json lives here */
  workDir: string;
  env?: NodeJS.ProcessEnv;
  /** env variable holding the key (default OPENAI_API_KEY / TOGETHER_API_KEY / FIREWORKS_API_KEY) */
  apiKeyEnv?: string;
  /** jobs API base URL (default: the provider's public one) */
  baseURL?: string;
  account?: string;
  budgetUsd?: number;
  trainingPrice?: number;
  prices?: Record<string, number>;
  pollMs?: number;
  cancelOnAbort?: boolean;
  signal?: AbortSignal;
  log?: (m: string) => void;
  /** a job saved by the runner (ArmContext.resume), preferred over job.json */
  resumeJob?: FineTuneJob;
  onJob?: (job: FineTuneJob) => void | Promise<void>;
  /** backend settings for tests (backoff) */
  backendOptions?: Partial<HostedBackendOptions>;
}

const PUBLIC_URL: Record<HostedBackendName, string> = {
  openai: OPENAI_BASE_URL,
  together: TOGETHER_BASE_URL,
  fireworks: FIREWORKS_BASE_URL,
};

interface JobFile {
  key: string;
  backend: string;
  baseURL: string;
  job: FineTuneJob;
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** The backend for an arm's settings; a missing key for a provider's public API is bad input naming the variable. */
export function hostedBackendFor(
  inp: Pick<
    HostedTrainInput,
    'backend' | 'where' | 'env' | 'apiKeyEnv' | 'baseURL' | 'account' | 'trainingPrice' | 'prices' | 'backendOptions'
  >,
): HostedBackend {
  const env = inp.env ?? process.env;
  const keyEnv = inp.apiKeyEnv ?? HOSTED_KEY_ENV[inp.backend];
  const apiKey = env[keyEnv] || undefined;
  const baseURL = inp.baseURL ?? PUBLIC_URL[inp.backend];
  const isPublic = /^https:\/\/api\.(openai\.com|together\.(xyz|ai)|fireworks\.ai)\b/.test(baseURL);
  if (!apiKey && (isPublic || inp.apiKeyEnv))
    throw new InputError(`${inp.where}.apiKeyEnv`, `environment variable ${keyEnv} is not set (it must hold the ${inp.backend} API key)`);
  if (inp.backend === 'fireworks' && !inp.account)
    throw new InputError(`${inp.where}.account`, 'the fireworks backend needs your Fireworks account id');
  return createHostedBackend(inp.backend, {
    baseURL,
    apiKey,
    account: inp.account,
    trainingPrice: inp.trainingPrice,
    prices: inp.prices,
    ...(inp.backendOptions ?? {}),
  });
}

export async function trainHosted(inp: HostedTrainInput): Promise<DriveResult & { key: string }> {
  const backend = hostedBackendFor(inp);
  const key = hashOf(
    {
      backend: inp.backend,
      baseURL: backend.baseURL,
      records: inp.records,
      opts: { ...inp.opts, outputDir: undefined },
      validation: inp.opts.validation ?? null,
    },
    16,
  );
  mkdirSync(inp.workDir, { recursive: true });
  const file = join(inp.workDir, 'job.json');
  let resume = inp.resumeJob;
  if (!resume && existsSync(file)) {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as JobFile;
      if (saved.key === key && saved.backend === inp.backend) resume = saved.job;
      else inp.log?.(`job.json holds ${saved.backend} job ${saved.job?.id} for other data or settings: a new job will be created`);
    } catch {
      /* unreadable: start a new job */
    }
  }
  const result = await driveHostedJob(backend, inp.records, inp.opts, {
    where: inp.where,
    budgetUsd: inp.budgetUsd,
    resume,
    signal: inp.signal,
    cancelOnAbort: inp.cancelOnAbort,
    pollMs: inp.pollMs,
    log: inp.log,
    onJob: async (job) => {
      const { validation: _v, preferences: _p, ...options } = job.options as HostedFineTuneOptions;
      writeAtomic(
        file,
        JSON.stringify({ key, backend: inp.backend, baseURL: backend.baseURL, job: { ...job, options } } satisfies JobFile, null, 2) + '\n',
      );
      await inp.onJob?.(job);
    },
  });
  return { ...result, key };
}
