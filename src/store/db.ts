// The SQLite file: open (WAL), version check, migrations, secret scrubbing and the input checks every
// table module uses. A table module gets a `Ctx` and prepares its own statements.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.ts';

/** Bad data handed to the store (nothing is written), or a store file tunelab cannot use. `where` names the method and field. */
export class StoreError extends Error {
  constructor(
    public where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'StoreError';
  }
}

export interface OpenStoreOptions {
  /** secret values to scrub from everything written (replaced by "[redacted]"); added to those found in env */
  secrets?: string[];
  /** env scanned for secrets: values (8+ chars) of variables whose names contain KEY, TOKEN, SECRET, PASSWORD or CREDENTIAL. Default process.env; pass {} to disable. */
  env?: NodeJS.ProcessEnv;
  readonly?: boolean;
}

const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

/** Secret values found in an env: see OpenStoreOptions.env. */
export function secretsFromEnv(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env)) if (v && v.length >= 8 && SECRET_NAME.test(k)) out.push(v);
  return out;
}

/** What every table module shares. */
export interface Ctx {
  db: Database.Database;
  scrub(s: string | null): string | null;
  /** throws StoreError(where) unless the run exists */
  requireRun(where: string, runId: string): void;
  /** forget a deleted run */
  forgetRun(runId: string): void;
}

/** A database row as better-sqlite3 returns it. */
export type Row = Record<string, unknown>;

// ---- input checks (throw StoreError before anything is written) ----
export function str(where: string, v: unknown, opts: { optional?: boolean; nonEmpty?: boolean; max?: number } = {}): string | null {
  if (v == null) {
    if (opts.optional) return null;
    throw new StoreError(where, 'required');
  }
  if (typeof v !== 'string') throw new StoreError(where, `expected a string, got ${typeof v}`);
  if (opts.nonEmpty && v.length === 0) throw new StoreError(where, 'must not be empty');
  if (opts.max && v.length > opts.max) throw new StoreError(where, `longer than ${opts.max} characters`);
  return v;
}
export const id = (where: string, v: unknown): string => str(where, v, { nonEmpty: true, max: 512 }) as string;
export function num(where: string, v: unknown, opts: { int?: boolean; min?: number; optional?: boolean } = {}): number | null {
  if (v == null && opts.optional) return null;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new StoreError(where, `expected a finite number, got ${v === null ? 'null' : typeof v === 'number' ? String(v) : typeof v}`);
  if (opts.int && !Number.isInteger(v)) throw new StoreError(where, `expected a whole number, got ${v}`);
  if (opts.min != null && v < opts.min) throw new StoreError(where, `must be at least ${opts.min}, got ${v}`);
  return v;
}
export function bool(where: string, v: unknown, optional = false): 0 | 1 {
  if (v == null && optional) return 0;
  if (typeof v !== 'boolean') throw new StoreError(where, `expected true or false, got ${v === null ? 'null' : typeof v}`);
  return v ? 1 : 0;
}
export function jsonText(where: string, v: unknown, optional = false): string | null {
  if (v === undefined) {
    if (optional) return null;
    throw new StoreError(where, 'required');
  }
  let s: string | undefined;
  try {
    s = JSON.stringify(v, (_k, x) => {
      if (typeof x === 'bigint') throw new Error('a BigInt is not JSON');
      if (typeof x === 'number' && !Number.isFinite(x)) throw new Error(`${x} is not JSON`);
      return x;
    });
  } catch (e) {
    throw new StoreError(where, `not serializable as JSON (${(e as Error).message})`);
  }
  if (s === undefined) throw new StoreError(where, 'not serializable as JSON');
  return s;
}

// ---- reading rows ----
export function parseJson<T = unknown>(s: unknown): T | undefined {
  return s == null ? undefined : (JSON.parse(String(s)) as T);
}
export const optStr = (v: unknown): string | undefined => (v == null ? undefined : String(v));
export const optNum = (v: unknown): number | undefined => (v == null ? undefined : Number(v));

/** Opens the file and migrates it; a foreign or newer file is refused before anything is changed. */
export function openDb(path: string, opts: OpenStoreOptions): { db: Database.Database; abs: string } {
  const abs = resolve(path);
  let db: Database.Database;
  try {
    if (!opts.readonly) mkdirSync(dirname(abs), { recursive: true });
    db = new Database(abs, { readonly: !!opts.readonly, fileMustExist: !!opts.readonly });
  } catch (e) {
    throw new StoreError(abs, `cannot open the store (${(e as Error).message})`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    const version = checkVersion(db, abs, !!opts.readonly);
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    if (version < SCHEMA_VERSION) migrate(db, version);
  } catch (e) {
    db.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError(abs, `cannot open the store (${(e as Error).message})`);
  }
  return { db, abs };
}

export function makeCtx(db: Database.Database, secretList: () => string[]): Ctx {
  const getRun = db.prepare('SELECT 1 FROM runs WHERE id = ?').pluck();
  const known = new Set<string>();
  return {
    db,
    scrub(s) {
      const secrets = secretList();
      if (s == null || secrets.length === 0) return s;
      for (const k of secrets) if (s.includes(k)) s = s.split(k).join('[redacted]');
      return s;
    },
    requireRun(where, runId) {
      if (known.has(runId)) return;
      if (!getRun.get(runId)) throw new StoreError(where, `no run with id "${runId}"`);
      known.add(runId);
    },
    forgetRun(runId) {
      known.delete(runId);
    },
  };
}

function checkVersion(db: Database.Database, where: string, readonly: boolean): number {
  const v = db.pragma('user_version', { simple: true }) as number;
  if (v > SCHEMA_VERSION)
    throw new StoreError(where, `store schema version ${v} is newer than this tunelab understands (${SCHEMA_VERSION}); upgrade tunelab`);
  if (v === SCHEMA_VERSION) return v;
  if (readonly)
    throw new StoreError(
      where,
      `store schema version ${v} needs migrating to ${SCHEMA_VERSION}; open it read-write once (any tunelab run, or tunelab runs)`,
    );
  if (v === 0) {
    // a non-empty database that is not a tunelab store must not be touched
    const n = db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get() as number;
    if (n > 0) throw new StoreError(where, 'this SQLite file is not a tunelab store (it has tables but no tunelab schema version)');
  }
  return v;
}

function migrate(db: Database.Database, from: number) {
  db.transaction(() => {
    for (let i = from; i < SCHEMA_VERSION; i++) {
      db.exec(MIGRATIONS[i]);
      db.pragma(`user_version = ${i + 1}`);
    }
  })();
}
