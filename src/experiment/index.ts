// Public entry of the experiment module: config, runner (resumable), report building, assertions.
export type { Arm, ArmContext, Predictor } from './types.ts';
export {
  registerArmKind,
  lazyArmKind,
  armKind,
  armKinds,
  loadArmKinds,
  BUILTIN_ARM_KINDS,
  type ArmKind,
  type ArmCreateOptions,
  type ArmFactory,
} from './arms/index.ts';
export {
  loadConfig,
  parseConfig,
  assertSchema,
  hashOf,
  formatPath,
  describeIssue,
  configJsonSchema,
  type LoadedConfig,
  type ExperimentConfig,
  type ArmConfig,
  type AssertConfig,
} from './config.ts';
export type { RunEvent } from './events.ts';
export { prepareExperiment, executeExperiment, armConcurrencyOf, type RunOptions, type RunOutcome, type Prepared } from './runner.ts';
export { modelFactory, preflightModels, checkReachable, modelConfigFor, modelsOfArm, type ModelFactory, type ModelDeps } from './models.ts';
export { buildRunReport, reportFrom } from './report.ts';
export { checkAssertions, DEFAULT_MAX_ERROR_RATE, type AssertionResult } from './assertions.ts';
export { runExperiment, storePath, type ExperimentResult } from './experiment.ts';
// the record model lives in src/store; these names are kept for the runner's callers
export { openStore as openRunStore, newRunId, type Store as ExperimentStore, type Store as RunStore } from '../store/index.ts';
export type { RunRecord, ArmRecord, ArmProgress, ResultRecord, RunMeta, RunStatus, ArmStatus } from '../store/index.ts';
