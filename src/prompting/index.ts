// Public entry of the prompting module: templates, prompt files, output formats, few-shot selection,
// metering, evaluation, variant search and optimizers.
export type { PromptTemplate, FrozenPrompt, Spent, PromptProgram } from './types.ts';
export { approxTokens } from './util.ts';
export { renderText, checkTemplate, templateVariables, resolveIncludes, resolveMessageIncludes } from './template.ts';
export {
  type FormatSpec,
  type OutputFormat,
  formatSchema,
  formatObjectSchema,
  normalizeFormat,
  createFormat,
  extractAnswer,
  findLabel,
  extractJson,
} from './format.ts';
export {
  type Demo,
  type DemoSelector,
  type RequestOptions,
  type ProgramSpec,
  TemplateProgram,
  defaultMessages,
  demoOf,
  promptHash,
  promptContent,
} from './program.ts';
export {
  type PromptFile,
  loadPromptFile,
  freezeProgram,
  programFromFrozen,
  writeFrozenPrompt,
  readFrozenPrompt,
  messageSchema,
  demoSchema,
} from './files.ts';
export {
  type SelectionSpec,
  type SelectionStrategy,
  selectionSchema,
  selectionFields,
  selectStatic,
  Bm25Selector,
  EmbeddingSelector,
  isDynamic,
  mmr,
  cosine,
  tokenCounter,
} from './select.ts';
export { type Budget, BudgetExceeded, Meter, MeteredModel, zeroSpent, addSpent } from './meter.ts';
export {
  type PromptConfig,
  type BuildContext,
  type CreateOptions,
  promptFields,
  budgetSchema,
  preloadPrompt,
  baseProgram,
  applySelection,
  requestOptions,
  onlyOneOf,
  onlyOneOfMessage,
} from './build.ts';
export {
  type EvalItem,
  type EvalCase,
  type EvalResult,
  type EvaluateOptions,
  type EvaluateOutcome,
  Evaluator,
  EvaluationFailed,
  GIVE_UP_AFTER,
  evaluate,
  runExample,
  mean,
} from './evaluate.ts';
export {
  type SearchCandidate,
  type CandidateScore,
  type HalvingResult,
  type HalvingOptions,
  successiveHalving,
  planHalving,
} from './search.ts';
export { type VaryConfig, type VariantPoint, varySchema, expandGrid, buildVariant } from './variants.ts';
export * from './optimize/index.ts';
