// openStore: one SQLite file per project, its tables composed into one Store that speaks the record
// model (types.ts). Every write validates its input first and runs in one statement or transaction;
// every text written is scrubbed of known secret values.
import type Database from 'better-sqlite3';
import { makeCtx, openDb, secretsFromEnv, type OpenStoreOptions } from './db.ts';
import { SCHEMA_VERSION } from './schema.ts';
import { runsTable, type RunsTable } from './runs.ts';
import { armsTable, type ArmsTable } from './arms.ts';
import { resultsTable, type ResultsTable } from './results.ts';
import { callsTable, type CallsTable } from './calls.ts';
import { cacheTable, type CacheTable } from './cache.ts';
import { jobsTable, type JobsTable } from './jobs.ts';
import { filesTable, type FilesTable } from './files.ts';

export interface Store extends RunsTable, ArmsTable, ResultsTable, CallsTable, CacheTable, JobsTable, FilesTable {
  /** absolute path of the SQLite file */
  readonly path: string;
  readonly schemaVersion: number;
  /** the better-sqlite3 handle, for queries this API lacks (read-only use recommended) */
  readonly db: Database.Database;
  /** runs fn in one transaction (nested calls join the outer one) */
  transaction<T>(fn: () => T): T;
  /** more secret values to scrub from everything written from now on */
  addSecrets(values: string[]): void;
  /** writes buffered calls and cache entries, then closes the file */
  close(): void;
}

/**
 * Opens (creating if needed) a tunelab store: one SQLite file in WAL mode, migrated to the current
 * schema. A file from a newer tunelab, or a SQLite file that is not a tunelab store, is refused before
 * anything is changed (StoreError).
 */
export function openStore(path: string, opts: OpenStoreOptions = {}): Store {
  const { db, abs } = openDb(path, opts);
  let secrets = [...new Set([...(opts.secrets ?? []), ...secretsFromEnv(opts.env ?? process.env)])].filter((s) => s.length >= 4);
  const ctx = makeCtx(db, () => secrets);
  const runs = runsTable(ctx);
  const arms = armsTable(ctx);
  const results = resultsTable(ctx);
  const calls = callsTable(ctx);
  const cache = cacheTable(ctx);
  const jobs = jobsTable(ctx);
  const files = filesTable(ctx);
  const store: Store = {
    ...runs,
    ...arms,
    ...results,
    ...calls,
    ...cache,
    ...jobs,
    ...files,
    path: abs,
    schemaVersion: SCHEMA_VERSION,
    db,
    // results carry the calls and cache entries that led to them in the same transaction
    putResults(run, arm, rows) {
      return db.transaction(() => {
        cache.flushCache();
        calls.flushCalls();
        return results.putResults(run, arm, rows);
      })();
    },
    transaction<T>(fn: () => T): T {
      return db.transaction(fn)();
    },
    addSecrets(values) {
      secrets = [...new Set([...secrets, ...values.filter((v) => typeof v === 'string' && v.length >= 4)])];
    },
    close() {
      if (!db.open) return;
      try {
        cache.flushCache();
        calls.flushCalls();
      } finally {
        db.close();
      }
    },
  };
  return store;
}
