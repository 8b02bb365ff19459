// Public entry of the store: the record model and openStore (see README.md).
export type * from './types.ts';
export { openStore, type Store } from './store.ts';
export { StoreError, secretsFromEnv, type OpenStoreOptions } from './db.ts';
export { newRunId, type NewRun, type RunsTable } from './runs.ts';
export type { ArmsTable } from './arms.ts';
export type { ResultsTable } from './results.ts';
export type { CallsTable } from './calls.ts';
export type { CacheTable } from './cache.ts';
export type { JobsTable } from './jobs.ts';
export type { FilesTable } from './files.ts';
export { acquireWriterLock, StoreBusyError, type WriterLock } from './lock.ts';
export { MIGRATIONS, SCHEMA_VERSION } from './schema.ts';
