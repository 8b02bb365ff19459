export type * from './types.ts';
export { toTrainingRecords, plainPrompt, promptHash, recordHash, targetOf, parseJsonl, toJsonl } from './records.ts';
export { validateRecords, formatProblems, approxTokens, type ValidateOptions } from './validate.ts';
export { estimateRun, type EstimateInput } from './estimate.ts';
export { LocalFineTuneBackend, DEFAULT_LORA_TARGETS, specFor, type LocalBackendOptions } from './local.ts';
export { runTrainJob, recordTokenCounter, type TrainJobSpec, type TrainJobEvent, type TrainSummary } from './train-job.ts';
