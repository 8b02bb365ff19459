import type { Example } from './types.ts';
import type { TaskConfig } from './schema.ts';

/** A record read from a data source with where it came from. */
export interface RawRecord { value: unknown; file: string; line: number }

export interface LoadedTask {
  examples: Example[];
  /** sorted label set when the expected field looks categorical (always for built-in sets) */
  labels?: string[];
  /** paths/names to read each example's input with `getPath(example.input, field)` */
  inputFields: string[];
}

/** Reads a field path: an own key equal to the whole path wins, else dot segments descend into objects. */
export function getPath(obj: unknown, path: string): unknown { throw new Error('not implemented'); }

/** Streams records from a data file (jsonl, csv, json). */
export async function* loadRecords(file: string, displayName: string, format?: 'jsonl' | 'csv' | 'json'): AsyncGenerator<RawRecord> { throw new Error('not implemented'); }

export function mapRecords(records: RawRecord[], cfg: TaskConfig): Example[] { throw new Error('not implemented'); }

/** Loads the task's data: reads the source, maps fields, validates (missing field, empty label, duplicate id). */
export async function loadTask(taskCfg: TaskConfig, baseDir: string): Promise<LoadedTask> { throw new Error('not implemented'); }
