export * from './types.ts';
export * from './schema.ts';
export {
  getPath,
  loadRecords,
  mapRecords,
  createMapper,
  resolveMapping,
  inferFormat,
  inferLabels,
  loadTask,
  type RawRecord,
  type LoadedTask,
  type FieldMapping,
  type FileFormat,
} from './load.ts';
export {
  loadBuiltin,
  loadBuiltinFull,
  builtinLabels,
  builtinLoadMs,
  emailToText,
  brownToText,
  htmlToText,
  type BuiltinRecord,
} from './builtin.ts';
export { planTask, hash53, STREAM_MIN, type PlannedTask, type TestStream, type PlanOptions } from './stream.ts';
export { splitExamples, allocate, dedupeKey, leakageKey, type SplitReport, type SplitResult, type SplitOptions } from './split.ts';
export { normalizeForLeakage } from './util.ts';
export { DATA_ENCODINGS, type DataEncoding, checkUtf8, decodeFile, readText, readLines } from './text.ts';
export {
  findNearDuplicates,
  shingles,
  jaccard,
  testMembership,
  inputText as nearDupText,
  type NearDupMatch,
  type NearDupOptions,
} from './neardup.ts';
