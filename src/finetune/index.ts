export type * from './types.ts';
export { toTrainingRecords, plainPrompt, promptHash, recordHash, targetOf, parseJsonl, toJsonl } from './records.ts';
export { validateRecords, formatProblems, approxTokens, type ValidateOptions } from './validate.ts';
export { estimateRun, type EstimateInput } from './estimate.ts';
