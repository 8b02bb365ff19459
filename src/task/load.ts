import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { extname, isAbsolute, resolve } from 'node:path';
import { parse as csvParse } from 'csv-parse';
import { InputError, type Example } from './types.ts';
import type { DataSource, TaskConfig } from './schema.ts';
import { BUILTIN_NAMES } from './schema.ts';
import { loadBuiltin, builtinLabels } from './builtin.ts';
import { brokenQuoteLine, decodeFile, readLines, readText, type DataEncoding } from './text.ts';

/** A record read from a data source with where it came from (1-based line, or record number for built-ins). */
export interface RawRecord {
  value: unknown;
  file: string;
  line: number;
  /** 1-based position in a JSON array (its id is `<file>#<record>`, whatever the array's layout) */
  record?: number;
}

export interface LoadedTask {
  examples: Example[];
  /** Sorted label set when the expected field looks categorical (always for built-in sets). */
  labels?: string[];
  /** Paths (list form) or names (map form) to read an example's input with `getPath(example.input, field)`. */
  inputFields: string[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Reads a field path: an own key equal to the whole path wins, else dot segments descend into objects and arrays. */
export function getPath(obj: unknown, path: string): unknown {
  if (!isObj(obj)) return undefined;
  if (Object.prototype.hasOwnProperty.call(obj, path)) return obj[path];
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (!isObj(cur) || !Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const segs = path.split('.');
  let cur = obj;
  for (let i = 0; i < segs.length - 1; i++) {
    const next = cur[segs[i]];
    if (!isObj(next)) cur[segs[i]] = {};
    cur = cur[segs[i]] as Record<string, unknown>;
  }
  cur[segs[segs.length - 1]] = value;
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/** Converts a JSON.parse error into a 1-based line (and column) of `text`, when V8 gives a position. */
function jsonErrorWhere(text: string, err: unknown): { line: number; col: number } | undefined {
  const m = /position (\d+)/.exec(String((err as Error)?.message ?? ''));
  if (!m) return undefined;
  const pos = Number(m[1]);
  let line = 1;
  let last = -1;
  for (let i = 0; i < pos && i < text.length; i++)
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  return { line, col: pos - last };
}

function shortJsonMessage(err: unknown): string {
  return String((err as Error)?.message ?? err)
    .replace(/\s*in JSON at position \d+.*$/s, '')
    .replace(/^Unexpected token (.), ".*" is not valid JSON$/s, 'Unexpected token $1');
}

async function* readJsonl(file: string, name: string, encoding?: DataEncoding): AsyncGenerator<RawRecord> {
  for await (const read of readLines(file, name, encoding)) {
    const { line } = read;
    const text = line === 1 && read.text.charCodeAt(0) === 0xfeff ? read.text.slice(1) : read.text;
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new InputError(`${name}:${line}`, `malformed JSON line (${shortJsonMessage(e)})`);
    }
    if (!isObj(value) || Array.isArray(value)) throw new InputError(`${name}:${line}`, `expected a JSON object, got ${typeName(value)}`);
    yield { value, file: name, line };
  }
}

async function* readCsv(file: string, name: string, encoding?: DataEncoding): AsyncGenerator<RawRecord> {
  const parser = csvParse({ columns: true, bom: true, skip_empty_lines: true, info: true, relax_quotes: false });
  // feed the decoded text (an encoding error ends the parse with the InputError)
  void (async () => {
    try {
      for await (const text of decodeFile(file, name, encoding)) {
        if (parser.destroyed) return;
        if (!parser.write(text)) await Promise.race([once(parser, 'drain'), once(parser, 'close')]);
      }
      if (!parser.destroyed) parser.end();
    } catch (e) {
      parser.destroy(e as Error);
    }
  })();
  try {
    for await (const item of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      yield { value: item.record, file: name, line: item.info.lines };
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as { code?: string; lines?: number; message?: string };
    if (err.code === 'CSV_QUOTE_NOT_CLOSED' || err.code === 'CSV_INVALID_CLOSING_QUOTE') {
      // csv-parse reports where it gave up; name the line where the quoted field opened
      const open = brokenQuoteLine(await readText(file, name, encoding));
      if (open !== undefined)
        throw new InputError(
          `${name}:${open}`,
          `malformed CSV (the quoted field that opens on this line is not closed properly: a quote inside a quoted field must be doubled, "")`,
        );
    }
    if (err.code && (err.code.startsWith('CSV_') || err.code === 'INVALID_OPENING_QUOTE')) {
      const msg = String(err.message ?? e).replace(/^Invalid (Record Length|Opening Quote|Closing Quote)?:?\s*/i, '');
      throw new InputError(`${name}:${err.lines ?? '?'}`, `malformed CSV (${msg})`);
    }
    throw e;
  }
}

/** Byte offsets → 1-based line numbers of each top-level element of a JSON array text. */
function arrayElementLines(text: string): number[] {
  const lines: number[] = [];
  let depth = 0;
  let inStr = false;
  let line = 1;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10) line++;
    if (inStr) {
      if (ch === 92)
        i++; // backslash: skip next char
      else if (ch === 34) inStr = false;
      continue;
    }
    if (ch === 32 || ch === 9 || ch === 10 || ch === 13) continue;
    if (depth === 1 && expectValue) {
      lines.push(line);
      expectValue = false;
    }
    if (ch === 34) inStr = true;
    else if (ch === 91 || ch === 123) {
      depth++;
      if (depth === 1 && ch === 91) expectValue = true;
    } else if (ch === 93 || ch === 125) depth--;
    else if (ch === 44 && depth === 1) expectValue = true;
  }
  return lines;
}

async function* readJsonArray(file: string, name: string, encoding?: DataEncoding): AsyncGenerator<RawRecord> {
  let text = await readText(file, name, encoding);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const w = jsonErrorWhere(text, e);
    throw new InputError(w ? `${name}:${w.line}` : name, `malformed JSON (${shortJsonMessage(e)}${w ? `, column ${w.col}` : ''})`);
  }
  if (!Array.isArray(data)) throw new InputError(name, `expected a JSON array of records, got ${typeName(data)}`);
  const lines = arrayElementLines(text);
  for (let i = 0; i < data.length; i++) {
    const line = lines[i] ?? i + 1;
    const value = data[i];
    if (!isObj(value) || Array.isArray(value))
      throw new InputError(`${name}:${line}`, `record ${i + 1}: expected a JSON object, got ${typeName(value)}`);
    yield { value, file: name, line, record: i + 1 };
  }
}

export type FileFormat = 'jsonl' | 'csv' | 'json';

export function inferFormat(path: string): FileFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  return undefined;
}

/** Streams records from a data file. `displayName` is what errors call the file (the path as the user wrote it). */
export async function* loadRecords(
  file: string,
  displayName: string = file,
  format?: FileFormat,
  encoding?: DataEncoding,
): AsyncGenerator<RawRecord> {
  const fmt = format ?? inferFormat(file);
  if (!fmt) throw new InputError(displayName, `cannot tell the data format from the extension; set task.data.format to jsonl, csv or json`);
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new InputError(displayName, 'not a file');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(displayName, `data file not found (${file})`);
  }
  if (fmt === 'jsonl') yield* readJsonl(file, displayName, encoding);
  else if (fmt === 'csv') yield* readCsv(file, displayName, encoding);
  else yield* readJsonArray(file, displayName, encoding);
}

/** How records map to examples. */
export interface FieldMapping {
  /** [input key, source path]; `nested` keeps the source's nesting for list-form paths */
  inputs: [string, string][];
  nested: boolean;
  expected: string;
  id?: string;
}

export function resolveMapping(cfg: TaskConfig): FieldMapping {
  const builtin = typeof cfg.data === 'object' && 'builtin' in cfg.data;
  let input = cfg.input;
  let expected = cfg.expected;
  let id = cfg.id;
  if (builtin) {
    input ??= ['text'];
    expected ??= 'label';
    id ??= 'id';
  }
  if (!input) throw new InputError('task.input', 'required: list the input field(s), e.g. input: [text]');
  if (!expected) throw new InputError('task.expected', 'required: name the field holding the expected output, e.g. expected: label');
  if (Array.isArray(input)) return { inputs: input.map((p) => [p, p]), nested: true, expected, id };
  return { inputs: Object.entries(input), nested: false, expected, id };
}

function labelText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** A stateful record → example mapper (tracks ids to reject duplicates); names file:line and field on bad input. */
export function createMapper(mapping: FieldMapping, opts: { trackIds?: boolean } = {}): (r: RawRecord) => Example {
  // `trackIds: false` keeps nothing per record (the streaming loader checks ids by hash, task/stream.ts)
  const seen = opts.trackIds === false ? undefined : new Map<string, string>();
  return (r) => {
    const where = r.record === undefined ? `${r.file}:${r.line}` : `${r.file}:${r.line} (record ${r.record})`;
    const input: Record<string, unknown> = {};
    for (const [key, path] of mapping.inputs) {
      const v = getPath(r.value, path);
      if (v === undefined || v === null) throw new InputError(where, `missing input field "${path}"`);
      if (mapping.nested) setPath(input, path, v);
      else input[key] = v;
    }
    const ev = getPath(r.value, mapping.expected);
    if (ev === undefined) throw new InputError(where, `missing expected field "${mapping.expected}"`);
    const expected = labelText(ev);
    if (!expected) throw new InputError(where, `empty label (field "${mapping.expected}")`);
    let id = r.record === undefined ? `${r.file}:${r.line}` : `${r.file}#${r.record}`;
    if (mapping.id) {
      const iv = getPath(r.value, mapping.id);
      if (iv === undefined || iv === null || String(iv).trim() === '') throw new InputError(where, `missing id field "${mapping.id}"`);
      id = String(iv);
    }
    if (seen) {
      const prev = seen.get(id);
      if (prev) throw new InputError(where, `duplicate id "${id}" (first at ${prev})`);
      seen.set(id, where);
    }
    return { id, input, expected, source: { file: r.file, line: r.line } };
  };
}

/** Maps raw records to examples (see createMapper). */
export function mapRecords(records: Iterable<RawRecord>, mapping: FieldMapping): Example[] {
  const map = createMapper(mapping);
  const out: Example[] = [];
  for (const r of records) out.push(map(r));
  return out;
}

/**
 * Sorted distinct expected values when they look categorical: at most 1000 values, and at most half as many values as
 * examples (or, under 30 examples, at least one repeated value).
 */
export function inferLabels(examples: readonly Example[]): string[] | undefined {
  const set = new Set<string>();
  for (const e of examples) set.add(e.expected);
  const n = examples.length;
  const categorical = set.size <= 1000 && (set.size <= Math.max(2, n / 2) || (n < 30 && set.size < n));
  if (!categorical) return undefined;
  return [...set].sort();
}

/** The message of checkClasses (shared with the streaming loader, which counts labels instead of holding examples). */
export function oneClassMessage(label: string, n: number, field: string): string {
  return `only one class: ${JSON.stringify(label)} (all ${n} examples have it in "${field}"); the data needs at least two different expected values`;
}

/** Every example expecting the same output leaves nothing to compare: say so, naming the one class. */
export function checkClasses(examples: readonly Example[], where: string, field: string): void {
  if (examples.length < 2) return;
  const first = examples[0].expected;
  if (examples.every((e) => e.expected === first)) {
    throw new InputError(where, oneClassMessage(first, examples.length, field));
  }
}

export function checkCsvColumns(first: RawRecord, mapping: FieldMapping): void {
  const cols = Object.keys(first.value as object);
  const has = (p: string) => cols.includes(p) || cols.includes(p.split('.')[0]);
  const wanted: [string, string][] = [...mapping.inputs.map(([, p]) => ['input', p] as [string, string]), ['expected', mapping.expected]];
  if (mapping.id) wanted.push(['id', mapping.id]);
  for (const [role, p] of wanted) {
    if (!has(p)) throw new InputError(`${first.file}:1`, `missing column "${p}" (task.${role}); the header has: ${cols.join(', ')}`);
  }
}

/** Loads the task's data: reads the source, maps fields, validates. `baseDir` resolves relative data paths (the config's folder). */
export async function loadTask(taskCfg: TaskConfig, baseDir: string): Promise<LoadedTask> {
  const mapping = resolveMapping(taskCfg);
  const src: DataSource = taskCfg.data;
  const inputFields = mapping.inputs.map(([k]) => k);
  if (typeof src === 'object' && 'builtin' in src) {
    if (!(BUILTIN_NAMES as readonly string[]).includes(src.builtin)) {
      throw new InputError('task.data.builtin', `unknown built-in data set "${src.builtin}" (known: ${BUILTIN_NAMES.join(', ')})`);
    }
    const recs = await loadBuiltin(src);
    const raw: RawRecord[] = recs.map((value, i) => ({ value, file: `builtin:${src.builtin}`, line: i + 1 }));
    const examples = mapRecords(raw, mapping);
    checkClasses(examples, 'task.data.builtin', mapping.expected);
    const usesLabel = mapping.expected === 'label';
    return {
      examples,
      labels: usesLabel ? builtinLabels(src.builtin).filter((l) => examples.some((e) => e.expected === l)) : inferLabels(examples),
      inputFields,
    };
  }
  const fileSrc = typeof src === 'string' ? { path: src } : src;
  const abs = isAbsolute(fileSrc.path) ? fileSrc.path : resolve(baseDir, fileSrc.path);
  const format = fileSrc.format ?? inferFormat(fileSrc.path);
  const limit = fileSrc.limit ?? Infinity;
  const map = createMapper(mapping);
  const examples: Example[] = [];
  for await (const r of loadRecords(abs, fileSrc.path, format, fileSrc.encoding)) {
    if (examples.length === 0 && format === 'csv') checkCsvColumns(r, mapping);
    examples.push(map(r));
    if (examples.length >= limit) break;
  }
  if (examples.length === 0) throw new InputError(fileSrc.path, 'no records');
  checkClasses(examples, fileSrc.path, mapping.expected);
  return { examples, labels: inferLabels(examples), inputFields };
}
