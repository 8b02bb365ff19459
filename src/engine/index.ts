// Public entry of the engine: graphs, autodiff, ONNX execution, Llama model, training and generation, file I/O.
// Every name is exported once (test/engine/exports.test.ts checks that no export shadows another).
export type { LlamaConfig, HostTensor, Weights, LoraAdapter, Tokenizer } from './types.ts';
export { Graph, Value, OPS, matmulFlops, type DType, type Node } from './graph.ts';
export { emitOnnx, OPSET } from './onnx.ts';
export {
  configureRuntime,
  runtimeSettings,
  compileGraph,
  compileCached,
  clearSessionCache,
  releaseSessions,
  sessionStats,
  runGraph,
  Compiled,
  bucketLength,
  GROUP_LIMITS,
  type HostArray,
  type RuntimeSettings,
} from './runtime.ts';
export { gradCheck, type GradCheckResult, type GradInputSpec } from './gradcheck.ts';
export { normalizeLlamaConfig, headDim, paramShapes, countParams, checkWeights } from './config.ts';
export {
  LORA_TARGETS,
  type LoraTarget,
  type LoraSpec,
  fusedParamShapes,
  fuseWeights,
  initWeights,
  loraModules,
  initLora,
  ropeInvFreq,
  ropeTables,
  causalMask,
  configKey,
  lmHead,
  buildExportGraph,
  addParamInputs,
  addLoraInputs,
  buildLossGraph,
  buildDecodeGraph,
  llamaForward,
  rmsNorm,
} from './llama.ts';
export { adamwUpdate, scheduleLr, sumSquares, type AdamWOptions, type ScheduleKind } from './optim.ts';
export { writeCheckpoint, readCheckpoint, type CheckpointData } from './checkpoint.ts';
export {
  createModel,
  Trainer,
  train,
  makeBatch,
  compactTargets,
  epochPlan,
  balancedEpoch,
  type LlamaModel,
  type TrainExample,
  type TrainerOptions,
  type StepResult,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  type TrainerState,
} from './train.ts';
export {
  Generator,
  exportOnnx,
  sampleToken,
  logSoftmaxRow,
  type GenerateOptions,
  type Generation,
  type TokenLogprob,
  type CandidateScore,
  type GeneratorOptions,
} from './generate.ts';
export { ByteTokenizer } from './bytetok.ts';
export { EtaEstimator } from './eta.ts';
export * from './io/index.ts';
