// Hosted fine-tuning: OpenAI-shaped jobs APIs (OpenAI until 2027-01-06, tunelab serve, gateways), Together
// and Fireworks behind the FineTuneBackend interface, plus the driver that runs one job to its end.
export type * from './types.ts';
export { HttpClient, ProviderHttpError, errorMessageOf, type HttpOptions } from './http.ts';
export { OPENAI_TRAINING_PRICES, trainingPriceFor, hostedEstimate, checkBudget, validateForProvider, paramsFromName, recordTokens, type ProviderLimits } from './common.ts';
export { OpenAIFineTuneBackend, OPENAI_BASE_URL } from './openai.ts';
export { TogetherFineTuneBackend, TOGETHER_BASE_URL } from './together.ts';
export { FireworksFineTuneBackend, FIREWORKS_BASE_URL, FIREWORKS_INFERENCE_URL, fireworksModelName } from './fireworks.ts';
export { driveHostedJob, type DriveOptions, type DriveResult } from './drive.ts';
import { OpenAIFineTuneBackend } from './openai.ts';
import { TogetherFineTuneBackend } from './together.ts';
import { FireworksFineTuneBackend } from './fireworks.ts';
import type { HostedBackend, HostedBackendOptions } from './types.ts';

export const HOSTED_BACKENDS = ['openai', 'together', 'fireworks'] as const;
export type HostedBackendName = (typeof HOSTED_BACKENDS)[number];

/** Default env variable holding each provider's key. */
export const HOSTED_KEY_ENV: Record<HostedBackendName, string> = { openai: 'OPENAI_API_KEY', together: 'TOGETHER_API_KEY', fireworks: 'FIREWORKS_API_KEY' };

export function createHostedBackend(name: HostedBackendName, o: HostedBackendOptions): HostedBackend {
  if (name === 'openai') return new OpenAIFineTuneBackend(o);
  if (name === 'together') return new TogetherFineTuneBackend(o);
  return new FireworksFineTuneBackend(o);
}
