// The task loader for data sets too large to hold: planTask reads the data file once, record by record, and
// keeps per record only what the split needs (a few numbers), then reads the file again for what the run
// needs (the train and dev examples; later the test examples one at a time, as the runner evaluates them).
//
// Up to `streamMin` records (default 50,000) nothing changes: the examples are held and split by
// splitExamples, as they always were. Past it, per record the first pass keeps
//   - 53-bit hashes of its id, of its dedupe key and of its leakage key (3 × 8 bytes),
//   - a 16-bit code of its expected output (and of its stratification field, when that is another field),
// and no example: the split runs over record positions with the same algorithm (task/split.ts assignSplit,
// the same seeded RNG draws), so the same data and seed give the same train/dev/test membership and order
// as the in-memory split. Hash matches are checked on the records themselves (a second read of the few
// records concerned) before a duplicate id is reported, a duplicate is dropped or a leak is removed. After
// the split only the record → split (1 byte) and record → position in its split (4 bytes) arrays stay, with
// the sorted hashes of the test ids and inputs (16 bytes per test record) for ArmContext.isTest.
// JSON array files and built-in sets are read whole (use JSONL or CSV for large data).
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { envNumber } from '../core/index.ts';
import { InputError, type Example, type Split } from './types.ts';
import type { SplitConfig, SplitConfigInput, TaskConfig } from './schema.ts';
import {
  checkClasses,
  checkCsvColumns,
  createMapper,
  inferFormat,
  inferLabels,
  loadRecords,
  loadTask,
  oneClassMessage,
  resolveMapping,
  type FieldMapping,
  type FileFormat,
} from './load.ts';
import {
  assignSplit,
  dedupeKey,
  leakageKey,
  parseCfg,
  splitExamples,
  splitSizes,
  stratifyValue,
  type SplitOptions,
  type SplitReport,
} from './split.ts';
import { inputText, shingles, type NearDupMatch } from './neardup.ts';
import type { DataEncoding } from './text.ts';

/** Records above which a data file streams (TUNELAB_STREAM_MIN overrides). */
export const STREAM_MIN = 50_000;

/** The test split of a streamed data set: read from the file again, one record at a time. */
export interface TestStream {
  /** test examples */
  size: number;
  /** hash of the split (train and dev in split order, test in file order): the run key's data part */
  hash: string;
  /** the test examples in file order, each with its position in the split's seeded order */
  cases(): AsyncGenerator<{ example: Example; index: number }>;
  /** true for a test example's id, or an input equal to a test example's after normalization (by 53-bit hash) */
  isTest(e: { id?: string; input?: Record<string, unknown> }): boolean;
}

export interface PlannedTask {
  /** sorted label set when the expected field looks categorical */
  labels?: string[];
  inputFields: string[];
  /** records read */
  records: number;
  /** the split; `test` is empty when the data set streams (see `stream`) */
  split: Split;
  report: SplitReport;
  stream?: TestStream;
}

export interface PlanOptions extends SplitOptions {
  /** records above which the file streams (default TUNELAB_STREAM_MIN or 50,000) */
  streamMin?: number;
}

/** A 53-bit string hash (cyrb53): exact as a double, so arrays of them sort and compare as Float64Arrays. */
export function hash53(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

const NONE = 0;
const TRAIN = 1;
const DEV = 2;
const TEST = 3;
/** code of a missing stratification value */
const MISSING = 0xffff;
const MAX_CODES = 0xfffe;

/** Distinct strings → 16-bit codes (at most MAX_CODES; past that `overflow` is set and codes are not kept). */
class Codes {
  private map = new Map<string, number>();
  names: string[] = [];
  overflow = false;
  code(s: string): number {
    let c = this.map.get(s);
    if (c === undefined) {
      if (this.names.length >= MAX_CODES) {
        this.overflow = true;
        return MAX_CODES;
      }
      c = this.names.length;
      this.map.set(s, c);
      this.names.push(s);
    }
    return c;
  }
}

/** What the first pass keeps per record, in arrays that double as they fill. */
class Columns {
  n = 0;
  id = new Float64Array(1024);
  dedupe: Float64Array | undefined;
  leak = new Float64Array(1024);
  label = new Uint16Array(1024);
  strat: Uint16Array | undefined;
  labels = new Codes();
  stratCodes = new Codes();
  constructor(
    private dedupeOn: boolean,
    private stratField: string | undefined,
  ) {
    if (dedupeOn) this.dedupe = new Float64Array(1024);
    if (stratField) this.strat = new Uint16Array(1024);
  }
  add(e: Example): void {
    if (this.n === this.id.length) this.grow();
    const i = this.n++;
    this.id[i] = hash53(e.id);
    if (this.dedupe) this.dedupe[i] = hash53(dedupeKey(e));
    this.leak[i] = hash53(leakageKey(e));
    this.label[i] = this.labels.code(e.expected);
    if (this.strat) {
      let code = MISSING;
      try {
        code = this.stratCodes.code(stratifyValue(e, this.stratField!));
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
      }
      this.strat[i] = code;
    }
  }
  private grow(): void {
    const cap = this.id.length * 2;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const u16 = (a: Uint16Array) => {
      const b = new Uint16Array(cap);
      b.set(a);
      return b;
    };
    this.id = f64(this.id);
    if (this.dedupe) this.dedupe = f64(this.dedupe);
    this.leak = f64(this.leak);
    this.label = u16(this.label);
    if (this.strat) this.strat = u16(this.strat);
  }
}

/** Hash values that occur more than once among the first n. */
function repeated(a: Float64Array, n: number): Set<number> {
  const s = a.slice(0, n).sort();
  const out = new Set<number>();
  for (let i = 1; i < s.length; i++) if (s[i] === s[i - 1]) out.add(s[i]);
  return out;
}

/** Binary search in a sorted Float64Array. */
function has(sorted: Float64Array, x: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid];
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

interface FileRef {
  abs: string;
  name: string;
  format: FileFormat | undefined;
  encoding?: DataEncoding;
  limit: number;
}

interface Stamp {
  size: number;
  mtimeMs: number;
}

async function stampOf(file: FileRef): Promise<Stamp> {
  const s = await stat(file.abs);
  return { size: s.size, mtimeMs: s.mtimeMs };
}

/** Reads the file again, mapping the records whose position `want` accepts; refuses a file changed since the first read. */
async function* reread(
  file: FileRef,
  mapping: FieldMapping,
  n: number,
  stamp: Stamp,
  want: (pos: number) => boolean,
): AsyncGenerator<{ pos: number; example: Example }> {
  let now: Stamp | undefined;
  try {
    now = await stampOf(file);
  } catch {
    /* reported below */
  }
  if (!now || now.size !== stamp.size || now.mtimeMs !== stamp.mtimeMs)
    throw new InputError(file.name, 'the data file changed (or went away) after tunelab read it; run again to read it afresh');
  const map = createMapper(mapping, { trackIds: false });
  let pos = 0;
  for await (const r of loadRecords(file.abs, file.name, file.format, file.encoding)) {
    if (pos >= n) break;
    if (want(pos)) yield { pos, example: map(r) };
    pos++;
  }
}

/**
 * Loads and splits the task's data: the examples held and split in memory up to `streamMin` records (exactly
 * loadTask + splitExamples), past it streamed as described at the top of this file.
 */
export async function planTask(
  taskCfg: TaskConfig,
  baseDir: string,
  splitIn: SplitConfigInput | SplitConfig,
  opts: PlanOptions = {},
): Promise<PlannedTask> {
  const src = taskCfg.data;
  const fileSrc = typeof src === 'string' ? { path: src } : 'path' in src ? src : undefined;
  const format = fileSrc ? (fileSrc.format ?? inferFormat(fileSrc.path)) : undefined;
  const inMemory = async (): Promise<PlannedTask> => {
    const task = await loadTask(taskCfg, baseDir);
    const { split, report } = splitExamples(task.examples, splitIn, opts);
    return { labels: task.labels, inputFields: task.inputFields, records: task.examples.length, split, report };
  };
  // built-in sets are small; a JSON array is parsed whole anyway
  if (!fileSrc || format === 'json' || !format) return inMemory();
  const streamMin = opts.streamMin ?? envNumber('TUNELAB_STREAM_MIN', STREAM_MIN);
  const cfg = parseCfg(splitIn);
  const mapping = resolveMapping(taskCfg);
  const inputFields = mapping.inputs.map(([k]) => k);
  const file: FileRef = {
    abs: isAbsolute(fileSrc.path) ? fileSrc.path : resolve(baseDir, fileSrc.path),
    name: fileSrc.path,
    format,
    encoding: fileSrc.encoding,
    limit: fileSrc.limit ?? Infinity,
  };
  const expectedIsStrat =
    cfg.stratify === 'auto' || cfg.stratify === false || cfg.stratify === 'expected' || cfg.stratify === opts.expectedField;
  const strict = createMapper(mapping);
  const loose = createMapper(mapping, { trackIds: false });
  let objects: Example[] | undefined = [];
  let cols: Columns | undefined;
  let n = 0;
  for await (const r of loadRecords(file.abs, file.name, file.format, file.encoding)) {
    if (n === 0 && format === 'csv') checkCsvColumns(r, mapping);
    n++;
    if (objects) {
      objects.push(strict(r));
      if (objects.length > streamMin) {
        cols = new Columns(cfg.dedupe, expectedIsStrat ? undefined : (cfg.stratify as string));
        for (const e of objects) cols.add(e);
        objects = undefined;
      }
    } else cols!.add(loose(r));
    if (n >= file.limit) break;
  }
  if (n === 0) throw new InputError(file.name, 'no records');
  if (objects) {
    // small: exactly what loadTask + splitExamples do
    checkClasses(objects, file.name, mapping.expected);
    const labels = inferLabels(objects);
    const { split, report } = splitExamples(objects, splitIn, opts);
    return { labels, inputFields, records: n, split, report };
  }
  return planStreamed(file, mapping, inputFields, cols!, n, await stampOf(file), cfg);
}

async function planStreamed(
  file: FileRef,
  mapping: FieldMapping,
  inputFields: string[],
  cols: Columns,
  n: number,
  stamp: Stamp,
  cfg: SplitConfig,
): Promise<PlannedTask> {
  const read = (want: (pos: number) => boolean) => reread(file, mapping, n, stamp, want);
  const warnings: string[] = [];
  // duplicate ids and exact duplicates: candidates by hash, confirmed on the records
  const dupIds = repeated(cols.id, n);
  const dupKeys = cols.dedupe ? repeated(cols.dedupe, n) : new Set<number>();
  let dropped: Uint8Array | undefined;
  let duplicatesRemoved = 0;
  let conflictingDuplicates = 0;
  if (dupIds.size || dupKeys.size) {
    const seenIds = new Map<string, string>();
    const seenKeys = new Map<string, string>();
    const dedupe = cols.dedupe;
    for await (const { pos, example: e } of read((p) => dupIds.has(cols.id[p]) || (dedupe !== undefined && dupKeys.has(dedupe[p])))) {
      if (dupIds.has(cols.id[pos])) {
        const where = `${e.source!.file}:${e.source!.line}`;
        const prev = seenIds.get(e.id);
        if (prev) throw new InputError(where, `duplicate id "${e.id}" (first at ${prev})`);
        seenIds.set(e.id, where);
      }
      if (dedupe && dupKeys.has(dedupe[pos])) {
        const k = dedupeKey(e);
        const first = seenKeys.get(k);
        if (first === undefined) seenKeys.set(k, e.expected);
        else {
          (dropped ??= new Uint8Array(n))[pos] = 1;
          duplicatesRemoved++;
          if (first !== e.expected) conflictingDuplicates++;
        }
      }
    }
  }
  cols.id = cols.id.subarray(0, n);
  // one class only (loadTask's check)
  if (!cols.labels.overflow && cols.labels.names.length === 1)
    throw new InputError(file.name, oneClassMessage(cols.labels.names[0], n, mapping.expected));
  const distinctAll = cols.labels.overflow ? Infinity : cols.labels.names.length;
  const labels = distinctAll <= 1000 && distinctAll <= Math.max(2, n / 2) ? [...cols.labels.names].sort() : undefined;
  if (duplicatesRemoved)
    warnings.push(
      `removed ${duplicatesRemoved} duplicate example(s) with the same input${conflictingDuplicates ? `, ${conflictingDuplicates} of them with a different expected output than the copy kept` : ''}`,
    );
  const list: number[] = [];
  for (let p = 0; p < n; p++) if (!dropped || !dropped[p]) list.push(p);
  dropped = undefined;
  const m = list.length;
  const size = splitSizes(m, cfg);
  if (size.test === 0)
    throw new InputError(
      'split.test',
      `the test split is empty (${m} example(s), test ${cfg.test}); give test a larger fraction or a count`,
    );
  if (size.train === 0) warnings.push('the train split is empty: prompt arms get no examples and fine-tuning has no data');
  // stratification: the same rules as splitExamples, on codes
  let keyOf: ((p: number) => string) | null = null;
  let stratifiedBy: string | null = null;
  const label = cols.label;
  const labelNames = cols.labels.names;
  if (cfg.stratify === 'auto') {
    if (cols.labels.overflow)
      warnings.push(`not stratified: the expected output has more than ${MAX_CODES} distinct values over ${m} examples (not categorical)`);
    else {
      const seen = new Uint8Array(labelNames.length);
      let distinct = 0;
      for (const p of list)
        if (!seen[label[p]]) {
          seen[label[p]] = 1;
          distinct++;
        }
      if (distinct > Math.max(2, m / 2))
        warnings.push(`not stratified: the expected output has ${distinct} distinct values over ${m} examples (not categorical)`);
      else {
        stratifiedBy = 'expected';
        keyOf = (p) => labelNames[label[p]];
      }
    }
  } else if (cfg.stratify !== false) {
    if (!cols.strat) {
      if (cols.labels.overflow)
        throw new InputError('split.stratify', `the expected output has more than ${MAX_CODES} distinct values: too many to stratify on`);
      stratifiedBy = 'expected';
      keyOf = (p) => labelNames[label[p]];
    } else {
      const strat = cols.strat;
      const first = list.find((p) => strat[p] === MISSING);
      if (first !== undefined) for await (const { example } of read((p) => p === first)) stratifyValue(example, cfg.stratify);
      if (cols.stratCodes.overflow)
        throw new InputError('split.stratify', `"${cfg.stratify}" has more than ${MAX_CODES} distinct values: too many to stratify on`);
      const names = cols.stratCodes.names;
      stratifiedBy = cfg.stratify;
      keyOf = (p) => names[strat[p]];
    }
  }
  const core = assignSplit(list, keyOf, cfg, size, file.name, warnings);
  list.length = 0;
  const pos = core.split;
  const part = new Uint8Array(n);
  const rank = new Uint32Array(n);
  for (const [code, ps] of [
    [TRAIN, pos.train],
    [DEV, pos.dev],
    [TEST, pos.test],
  ] as const)
    for (let i = 0; i < ps.length; i++) {
      part[ps[i]] = code;
      rank[ps[i]] = i;
    }
  // leakage candidates: train/dev records whose leakage hash is a test record's
  const testLeak = Float64Array.from(pos.test, (p) => cols.leak[p]).sort();
  const leakCand = new Set<number>();
  const candHashes = new Set<number>();
  for (const ps of [pos.train, pos.dev])
    for (const p of ps)
      if (has(testLeak, cols.leak[p])) {
        leakCand.add(p);
        candHashes.add(cols.leak[p]);
      }
  // second read: the train and dev examples (in split order), the test part of the data hash, the test inputs' hashes
  const leak = cols.leak;
  const train: Example[] = new Array(pos.train.length);
  const dev: Example[] = new Array(pos.dev.length);
  const testText = new Float64Array(pos.test.length);
  let ti = 0;
  const testHash = createHash('sha256');
  const candKey = new Map<number, string>();
  const testKeys = new Set<string>();
  for await (const { pos: p, example: e } of read((q) => part[q] !== NONE)) {
    const pt = part[p];
    if (pt === TEST) {
      testHash.update(`${e.id}\u0000${JSON.stringify(e.input)}\u0000${e.expected}\n`);
      testText[ti++] = hash53(inputText(e));
      if (candHashes.has(leak[p])) testKeys.add(leakageKey(e));
    } else {
      (pt === TRAIN ? train : dev)[rank[p]] = e;
      if (leakCand.has(p)) candKey.set(p, leakageKey(e));
    }
  }
  const testIds = Float64Array.from(pos.test, (p) => cols.id[p]).sort();
  testText.sort();
  const leakage: string[] = [];
  const bad = new Set<number>();
  for (const [ps, arr] of [
    [pos.train, train],
    [pos.dev, dev],
  ] as const)
    for (let i = 0; i < ps.length; i++) {
      const k = candKey.get(ps[i]);
      if (k !== undefined && testKeys.has(k)) {
        leakage.push(arr[i].id);
        bad.add(ps[i]);
      }
    }
  const split: Split = { train, dev, test: [] };
  let trainPos: readonly number[] = pos.train;
  let devPos: readonly number[] = pos.dev;
  const removeBad = () => {
    split.train = split.train.filter((_, i) => !bad.has(trainPos[i]));
    split.dev = split.dev.filter((_, i) => !bad.has(devPos[i]));
    trainPos = trainPos.filter((p) => !bad.has(p));
    devPos = devPos.filter((p) => !bad.has(p));
  };
  const leakageRemoved = cfg.leakage === 'remove';
  if (leakage.length) {
    if (leakageRemoved) {
      removeBad();
      warnings.push(`removed ${leakage.length} train/dev example(s) whose normalized input equals a test example's`);
    } else warnings.push(`${leakage.length} train/dev example(s) have the same normalized input as a test example (kept: leakage: report)`);
  }
  const stream = makeStream(file, mapping, n, stamp, part, rank, testIds, testText, pos.test.length, testHash.digest('hex'));
  // near-duplicates: train/dev indexed, the test split streamed past them
  const nd = cfg.nearDuplicates;
  const nearDuplicates = nd && (split.train.length || split.dev.length) ? await nearDupStreamed(split, stream.cases(), nd) : [];
  if (nd && nearDuplicates.length) {
    const tests = new Set(nearDuplicates.map((x) => x.testId)).size;
    const how = `word ${nd.shingle}-shingle Jaccard ≥ ${nd.threshold}`;
    if (nd.action === 'remove') {
      const ids = new Set(nearDuplicates.map((x) => x.id));
      split.train.forEach((e, i) => ids.has(e.id) && bad.add(trainPos[i]));
      split.dev.forEach((e, i) => ids.has(e.id) && bad.add(devPos[i]));
      removeBad();
      warnings.push(`removed ${nearDuplicates.length} train/dev example(s) that near-duplicate ${tests} test example(s) (${how})`);
    } else
      warnings.push(
        `${tests} of ${pos.test.length} test example(s) have a near-duplicate among ${nearDuplicates.length} train/dev example(s) (${how}; kept: split.nearDuplicates.action is report; set it to remove to drop them)`,
      );
  }
  const classCounts = core.classCounts;
  if (keyOf && bad.size) {
    for (const k of core.keys) classCounts[k] = { train: 0, dev: 0, test: 0 };
    for (const p of trainPos) classCounts[keyOf(p)].train++;
    for (const p of devPos) classCounts[keyOf(p)].dev++;
    for (const p of pos.test) classCounts[keyOf(p)].test++;
  }
  const report: SplitReport = {
    duplicatesRemoved,
    conflictingDuplicates,
    leakage,
    leakageRemoved,
    ...(nearDuplicates.length ? { nearDuplicates } : {}),
    warnings,
    stratifiedBy,
    sizes: { train: split.train.length, dev: split.dev.length, test: pos.test.length, unused: core.unused },
    ...(keyOf ? { classCounts } : {}),
  };
  return { labels, inputFields, records: n, split, report, stream: finish(stream, split) };
}

/** The test stream, built in its own scope so that it holds only what it needs (not the first pass's columns). */
function makeStream(
  file: FileRef,
  mapping: FieldMapping,
  n: number,
  stamp: Stamp,
  part: Uint8Array,
  rank: Uint32Array,
  testIds: Float64Array,
  testText: Float64Array,
  size: number,
  testDigest: string,
): TestStream {
  return {
    size,
    hash: testDigest,
    async *cases() {
      for await (const { pos, example } of reread(file, mapping, n, stamp, (p) => part[p] === TEST)) yield { example, index: rank[pos] };
    },
    isTest(e) {
      if (e.id !== undefined && has(testIds, hash53(e.id))) return true;
      return e.input !== undefined && has(testText, hash53(inputText({ id: '', input: e.input, expected: '' })));
    },
  };
}

/** The run key's data part for a streamed split: train and dev as runner.hashSplit hashes them, then the test digest. */
function finish(stream: TestStream, split: Split): TestStream {
  const h = createHash('sha256');
  for (const part of ['train', 'dev'] as const) {
    h.update(`#${part}\n`);
    for (const e of split[part]) h.update(`${e.id}\u0000${JSON.stringify(e.input)}\u0000${e.expected}\n`);
  }
  h.update(`#test (file order)\n${stream.hash}\n`);
  return { ...stream, hash: h.digest('hex').slice(0, 16) };
}

/**
 * findNearDuplicates with the roles swapped for a streamed test split: train/dev shingles are indexed (they are held
 * anyway) and each test example is compared as it streams past. The matches are the same pairs (at or above the
 * threshold, the most similar test example per train/dev example, ties to the first in file order), except that
 * `maxPosting` limits train/dev postings instead of test postings.
 */
async function nearDupStreamed(
  parts: { train: readonly Example[]; dev: readonly Example[] },
  test: AsyncIterable<{ example: Example }>,
  nd: { threshold: number; shingle: number },
  maxPosting = 1000,
): Promise<NearDupMatch[]> {
  const all = [...parts.train, ...parts.dev];
  const sets = all.map((e) => shingles(inputText(e), nd.shingle));
  const index = new Map<string, number[]>();
  sets.forEach((s, i) => {
    for (const x of s) {
      let l = index.get(x);
      if (!l) index.set(x, (l = []));
      l.push(i);
    }
  });
  const best = new Float64Array(all.length);
  const bestTest: (string | undefined)[] = new Array(all.length);
  const counts = new Map<number, number>();
  for await (const { example } of test) {
    const s = shingles(inputText(example), nd.shingle);
    counts.clear();
    for (const x of s) {
      const l = index.get(x);
      if (!l || l.length > maxPosting) continue;
      for (const c of l) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    for (const [c, inter] of counts) {
      const sim = inter / (s.size + sets[c].size - inter);
      if (sim >= nd.threshold && sim > best[c]) {
        best[c] = sim;
        bestTest[c] = example.id;
      }
    }
  }
  const out: NearDupMatch[] = [];
  all.forEach((e, i) => {
    if (bestTest[i] !== undefined)
      out.push({ id: e.id, part: i < parts.train.length ? 'train' : 'dev', testId: bestTest[i]!, similarity: best[i] });
  });
  return out;
}
