export type * from './types.ts';
export { toTrainingRecords, plainPrompt, promptHash, recordHash, targetOf, parseJsonl, toJsonl } from './records.ts';
export { validateRecords, formatProblems, approxTokens, type ValidateOptions } from './validate.ts';
export { estimateRun, type EstimateInput } from './estimate.ts';
export { LocalFineTuneBackend, DEFAULT_LORA_TARGETS, specFor, type LocalBackendOptions } from './local.ts';
export {
  runToCompletion,
  isTerminal,
  TERMINAL_JOB_STATUSES,
  JobLifecycleError,
  type LifecycleHooks,
  type Completion,
} from './lifecycle.ts';
// train-job.ts pulls in the engine (onnxruntime): import it directly (src/finetune/train-job.ts) where it is
// meant to load; this entry stays light so `tunelab report` and hosted-only runs never load onnxruntime
export type { TrainJobSpec, TrainJobEvent } from './train-job.ts';
