export * from './types.ts';
export { modelConfigSchema, priceSchema, MODEL_DEFAULTS, DEFAULT_KEY_ENV, type ModelConfig, type PriceConfig } from './config.ts';
export { ModelConfigError, ModelCallError, AttemptError, FATAL_CALL_KINDS, type CallErrorKind } from './errors.ts';
export { requestHash } from './hash.ts';
export { BUILTIN_PRICES, priceFor, costOf } from './prices.ts';
export { Semaphore } from './limiter.ts';
export { onAbort, childSignal, sleep } from './abort.ts';
export {
  wrapModel, composeModel, aroundCalls, accountingLayer, timeoutLayer, limitLayer, retryLayer, cacheLayer, requestLayer, toAttemptError,
  type ModelLayer, type ModelOverrides, type NextCall, type LayerContext, type AttemptReport, type RetryOptions,
} from './layers.ts';
export { backoffDelay, parseRetryAfter, retryDelay, type BackoffOptions } from './retry.ts';
export type { ProviderDeps, ProviderFactory, ProviderModel, ResolvedModelConfig } from './providers/common.ts';
export { resolveApiKey } from './providers/common.ts';
export { OPENAI_COMPATIBLE_BASE_URLS } from './providers/openai.ts';
export { ANTHROPIC_BASE_URL, ANTHROPIC_DEFAULT_MAX_TOKENS } from './providers/anthropic.ts';
export {
  createModel,
  registerProvider,
  providerNames,
  type ResponseCache,
  type CallRecord,
  type CreateModelDeps,
  type TunelabModel,
} from './registry.ts';
export { LocalModel, openLocalModel, closeLocalModel, isLocalModelUnder, resolveLocalPath, builtinModelDir, unloadLocalModels, isLocalModelDir } from './local.ts'; // registers provider 'local'
export { batchLayers, batchPrice, batchConfigSchema, type BatchDeps, type BatchConfig } from './batch/index.ts';
