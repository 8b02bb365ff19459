export * from './types.ts';
export * from './schema.ts';
export { getPath, loadRecords, mapRecords, type RawRecord, type LoadedTask, loadTask } from './load.ts';
export { loadBuiltin, builtinLabels, type BuiltinRecord } from './builtin.ts';
export { splitExamples, type SplitReport, type SplitResult } from './split.ts';
export { normalizeForLeakage, mulberry32, shuffle } from './util.ts';
