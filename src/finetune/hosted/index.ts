// Hosted fine-tuning: OpenAI-shaped jobs APIs (OpenAI until 2027-01-06, tunelab serve, gateways), Together
// and Fireworks behind the FineTuneBackend interface, plus the driver that runs one job to its end.
export type * from './types.ts';
export { HttpClient, ProviderHttpError, errorMessageOf, type HttpOptions } from './http.ts';
export {
  OPENAI_TRAINING_PRICES,
  trainingPriceFor,
  hostedEstimate,
  checkBudget,
  validateForProvider,
  paramsFromName,
  recordTokens,
  type ProviderLimits,
} from './common.ts';
export { OpenAIFineTuneBackend, OPENAI_BASE_URL } from './openai.ts';
export { TogetherFineTuneBackend, TOGETHER_BASE_URL } from './together.ts';
export { FireworksFineTuneBackend, FIREWORKS_BASE_URL, FIREWORKS_INFERENCE_URL, fireworksModelName } from './fireworks.ts';
export { driveHostedJob, type DriveOptions, type DriveResult } from './drive.ts';
export { HOSTED_BACKENDS, HOSTED_KEY_ENV, createHostedBackend, type HostedBackendName } from './backends.ts';
export { trainHosted, hostedBackendFor, type HostedTrainInput } from './train.ts';
