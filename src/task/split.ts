import { InputError, type Example, type Split } from './types.ts';
import { splitSchema, type SplitConfig, type SplitConfigInput } from './schema.ts';
import { getPath } from './load.ts';
import { canonicalJson, Rng } from '../core/index.ts';
import { normalizeForLeakage } from './util.ts';
import { findNearDuplicates, type NearDupMatch } from './neardup.ts';

export interface SplitReport {
  /** exact duplicates (same input after trimming and collapsing whitespace) removed before splitting; the first copy is kept */
  duplicatesRemoved: number;
  /** of those, how many had a different expected output than the kept copy */
  conflictingDuplicates: number;
  /** ids of train/dev examples whose leakage-normalized input equals a test example's (removed from train/dev unless leakage: report) */
  leakage: string[];
  leakageRemoved: boolean;
  /** train/dev examples that near-duplicate a test example (task/neardup.ts), removed unless nearDuplicates.action is report */
  nearDuplicates?: NearDupMatch[];
  warnings: string[];
  /** the field stratified on ('expected' for the expected output), or null */
  stratifiedBy: string | null;
  /** final sizes (after leakage removal); unused = examples left out when fractions sum below 1 */
  sizes: { train: number; dev: number; test: number; unused: number };
  /** per split, examples per class when stratified */
  classCounts?: Record<string, { train: number; dev: number; test: number }>;
}

export interface SplitResult {
  split: Split;
  report: SplitReport;
}

export interface SplitOptions {
  /** the task's expected-field path, so `stratify: <that path>` means the expected output */
  expectedField?: string;
}

/** The value with every string passed through `norm` (keys untouched), for comparison keys. */
function mapStrings(v: unknown, norm: (s: string) => string): unknown {
  if (typeof v === 'string') return norm(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, norm));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, norm)]));
  return v;
}
const canonical = (v: unknown, norm: (s: string) => string): string => canonicalJson(mapStrings(v, norm));

const wsNorm = (s: string) => s.trim().replace(/\s+/g, ' ');
/** The key exact-duplicate removal compares: the whole input with strings trimmed and whitespace collapsed. */
export function dedupeKey(e: Example): string {
  return canonical(e.input, wsNorm);
}
/** The key the leakage check compares: every input value lowercased, punctuation stripped, whitespace collapsed. */
export function leakageKey(e: Example): string {
  return canonical(e.input, normalizeForLeakage);
}

export function parseCfg(cfg: SplitConfigInput | SplitConfig): SplitConfig {
  const r = splitSchema.safeParse(cfg);
  if (!r.success) {
    const iss = r.error.issues[0];
    throw new InputError(['split', ...iss.path.map(String)].join('.'), iss.message);
  }
  return r.data;
}

/**
 * Apportions each class's examples over the columns (test, dev, train, unused) so that column totals hit their
 * targets and every class gets at least `minimum[s]` in each column (largest-remainder rounding, then rebalancing).
 */
export function allocate(sizes: number[], targets: number[], minimum: number[]): number[][] {
  const N = sizes.reduce((a, b) => a + b, 0);
  const S = targets.length;
  const q = sizes.map((n) => targets.map((t) => (N ? (n * t) / N : 0)));
  const a = sizes.map((n, g) => targets.map((t, s) => (t > 0 ? Math.max(minimum[s], Math.floor(q[g][s])) : 0)));
  const rowSum = (g: number) => a[g].reduce((x, y) => x + y, 0);
  const colSum = (s: number) => a.reduce((x, r) => x + r[s], 0);
  // rows over their size (from minimums): take back from the most over-allocated cells above their minimum
  for (let g = 0; g < sizes.length; g++) {
    while (rowSum(g) > sizes[g]) {
      let best = -1;
      for (let s = 0; s < S; s++)
        if (a[g][s] > (targets[s] > 0 ? minimum[s] : 0) && (best < 0 || q[g][s] - a[g][s] < q[g][best] - a[g][best])) best = s;
      if (best < 0) break;
      a[g][best]--;
    }
  }
  // fill row deficits, preferring columns with a deficit, by largest remainder
  for (;;) {
    let bg = -1;
    let bs = -1;
    let bestScore = -Infinity;
    for (let g = 0; g < sizes.length; g++) {
      if (rowSum(g) >= sizes[g]) continue;
      for (let s = 0; s < S; s++) {
        if (targets[s] === 0) continue;
        const colDef = targets[s] - colSum(s);
        const score = (colDef > 0 ? 1e6 : 0) + q[g][s] - a[g][s];
        if (score > bestScore) {
          bestScore = score;
          bg = g;
          bs = s;
        }
      }
    }
    if (bg < 0) break;
    a[bg][bs]++;
  }
  // rebalance columns: move units from surplus to deficit columns within a class
  for (let guard = 0; guard < N * S + 10; guard++) {
    let sPlus = -1;
    let sMinus = -1;
    for (let s = 0; s < S; s++) {
      const d = targets[s] - colSum(s);
      if (d > 0 && sPlus < 0) sPlus = s;
      if (d < 0 && sMinus < 0) sMinus = s;
    }
    if (sPlus < 0 || sMinus < 0) break;
    let bg = -1;
    let best = -Infinity;
    for (let g = 0; g < sizes.length; g++) {
      if (a[g][sMinus] <= minimum[sMinus]) continue;
      const gain = q[g][sPlus] - a[g][sPlus] - (q[g][sMinus] - a[g][sMinus]);
      if (gain > best) {
        best = gain;
        bg = g;
      }
    }
    if (bg < 0) break;
    a[bg][sMinus]--;
    a[bg][sPlus]++;
  }
  return a;
}

export function splitSizes(n: number, cfg: SplitConfig): { train: number; dev: number; test: number } {
  const { train, dev, test } = cfg;
  const fractions = train <= 1 && dev <= 1 && test <= 1;
  if (!fractions) {
    if (train + dev + test > n)
      throw new InputError(
        'split',
        `train ${train} + dev ${dev} + test ${test} = ${train + dev + test} examples asked for, but only ${n} available`,
      );
    return { train, dev, test };
  }
  const t = Math.round(n * test);
  const d = Math.round(n * dev);
  const sum = train + dev + test;
  const tr = Math.abs(sum - 1) < 1e-9 ? n - t - d : Math.min(Math.round(n * train), n - t - d);
  return { train: Math.max(0, tr), dev: d, test: t };
}

/** How the split stratifies: the key of an item (null: not stratified) and what the report calls it. */
export function stratification(
  list: readonly Example[],
  cfg: SplitConfig,
  opts: SplitOptions,
  warnings: string[],
  n: number,
): { keyOf: ((e: Example) => string) | null; stratifiedBy: string | null } {
  if (cfg.stratify === 'auto') {
    const distinct = new Set(list.map((e) => e.expected)).size;
    if (distinct > Math.max(2, n / 2)) {
      warnings.push(`not stratified: the expected output has ${distinct} distinct values over ${n} examples (not categorical)`);
      return { keyOf: null, stratifiedBy: null };
    }
    return { keyOf: (e) => e.expected, stratifiedBy: 'expected' };
  }
  if (cfg.stratify === false) return { keyOf: null, stratifiedBy: null };
  const field = cfg.stratify;
  if (field === 'expected' || field === opts.expectedField) return { keyOf: (e) => e.expected, stratifiedBy: 'expected' };
  return { keyOf: (e) => stratifyValue(e, field), stratifiedBy: field };
}

/** An example's value of the stratification field (as text), or an InputError naming its file:line. */
export function stratifyValue(e: Example, field: string): string {
  const v = getPath(e.input, field);
  if (v === undefined || v === null)
    throw new InputError(
      e.source ? `${e.source.file}:${e.source.line}` : `example ${e.id}`,
      `split.stratify: field "${field}" is missing (stratify on the expected field or an input field)`,
    );
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Steps 2 of the split, for items of any kind (examples, or record positions when the data set streams): groups by
 * key (sorted), apportions every group over test/dev/train/unused (allocate), draws each group's members with the
 * seeded RNG, then shuffles each split. The same items, keys and seed give the same split whatever the items are.
 */
export function assignSplit<T>(
  list: readonly T[],
  keyOf: ((x: T) => string) | null,
  cfg: SplitConfig,
  size: { train: number; dev: number; test: number },
  where: string,
  warnings: string[],
): {
  split: { train: T[]; dev: T[]; test: T[] };
  classCounts: Record<string, { train: number; dev: number; test: number }>;
  keys: string[];
  unused: number;
} {
  const n = list.length;
  const groups = new Map<string, T[]>();
  for (const e of list) {
    const k = keyOf ? keyOf(e) : '';
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(e);
  }
  const keys = [...groups.keys()].sort();
  const targets = [size.test, size.dev, size.train, n - size.test - size.dev - size.train];
  const minimum = keyOf ? [1, size.dev > 0 ? 1 : 0, size.train > 0 ? 1 : 0, 0] : [0, 0, 0, 0];
  const need = minimum.reduce((x, y) => x + y, 0);
  if (keyOf) {
    const small = keys.filter((k) => groups.get(k)!.length < need);
    if (small.length) {
      const names = ['test', size.dev > 0 ? 'dev' : '', size.train > 0 ? 'train' : ''].filter(Boolean).join('/');
      const counts = keys.map((k) => `${k} ${groups.get(k)!.length}`).join(', ');
      const k0 = small[0];
      throw new InputError(
        where,
        `class "${k0}" has ${groups.get(k0)!.length} example(s), too few for a stratified ${names} split (needs at least ${need} per class)${
          small.length > 1
            ? `; also too few: ${small
                .slice(1)
                .map((k) => `"${k}"`)
                .join(', ')}`
            : ''
        }. Examples per class: ${counts}. Add examples, drop the class, or set split.stratify: false`,
      );
    }
    if (size.test < keys.length)
      warnings.push(
        `the test split (${size.test}) is smaller than the number of classes (${keys.length}); it was enlarged to hold one example per class`,
      );
  }
  const rng = new Rng(cfg.seed);
  const alloc = allocate(
    keys.map((k) => groups.get(k)!.length),
    targets,
    minimum,
  );
  const split = { train: [] as T[], dev: [] as T[], test: [] as T[] };
  const classCounts: Record<string, { train: number; dev: number; test: number }> = {};
  keys.forEach((k, gi) => {
    const g = rng.shuffle(groups.get(k)!);
    groups.delete(k);
    const [t, d, tr] = alloc[gi];
    // a loop, not push(...slice): spreading a class of a million examples overflows the call stack
    for (let i = 0; i < t + d + tr; i++) (i < t ? split.test : i < t + d ? split.dev : split.train).push(g[i]);
    if (keyOf) classCounts[k] = { train: tr, dev: d, test: t };
  });
  rng.shuffleInPlace(split.test);
  rng.shuffleInPlace(split.dev);
  rng.shuffleInPlace(split.train);
  const unused = n - split.test.length - split.dev.length - split.train.length;
  return { split, classCounts, keys, unused };
}

/**
 * Seeded, stratified train/dev/test split with exact-duplicate removal and a train/test leakage check.
 *
 * 1. Dedupe (default on): examples whose input is identical after trimming/collapsing whitespace are dropped (first kept).
 * 2. Stratification by the expected output (`auto`, default), another field of the input, or none. Each class needs at
 *    least one example per non-empty split, else an InputError names the class and the counts.
 * 3. Leakage: a train/dev example whose input equals a test example's after lowercasing, stripping punctuation and
 *    collapsing whitespace is removed from train/dev (the test split is never changed), or only reported with `leakage: report`.
 *
 * Same seed and data → same split. Each split is returned in a seeded random order.
 */
export function splitExamples(
  examples: readonly Example[],
  cfgIn: SplitConfigInput | SplitConfig = {},
  opts: SplitOptions = {},
): SplitResult {
  const cfg = parseCfg(cfgIn);
  const warnings: string[] = [];
  const where = examples[0]?.source?.file ?? 'split';
  // 1. dedupe
  let list: Example[] = [...examples];
  let duplicatesRemoved = 0;
  let conflictingDuplicates = 0;
  if (cfg.dedupe) {
    const seen = new Map<string, Example>();
    list = [];
    for (const e of examples) {
      const k = dedupeKey(e);
      const first = seen.get(k);
      if (first) {
        duplicatesRemoved++;
        if (first.expected !== e.expected) conflictingDuplicates++;
        continue;
      }
      seen.set(k, e);
      list.push(e);
    }
    if (duplicatesRemoved)
      warnings.push(
        `removed ${duplicatesRemoved} duplicate example(s) with the same input${conflictingDuplicates ? `, ${conflictingDuplicates} of them with a different expected output than the copy kept` : ''}`,
      );
  }
  const n = list.length;
  if (n === 0) throw new InputError(where, 'no examples to split');
  const size = splitSizes(n, cfg);
  if (size.test === 0)
    throw new InputError(
      'split.test',
      `the test split is empty (${n} example(s), test ${cfg.test}); give test a larger fraction or a count`,
    );
  if (size.train === 0) warnings.push('the train split is empty: prompt arms get no examples and fine-tuning has no data');
  // 2. stratification key
  const strat = stratification(list, cfg, opts, warnings, n);
  const keyOf = strat.keyOf;
  const stratifiedBy = strat.stratifiedBy;
  const core = assignSplit(list, keyOf, cfg, size, where, warnings);
  const split: Split = core.split;
  const classCounts = core.classCounts;
  const keys = core.keys;
  const unused = core.unused;
  // 3. leakage
  const testKeys = new Set(split.test.map(leakageKey));
  const leakage: string[] = [];
  for (const part of [split.train, split.dev]) for (const e of part) if (testKeys.has(leakageKey(e))) leakage.push(e.id);
  const leakageRemoved = cfg.leakage === 'remove';
  if (leakage.length) {
    if (leakageRemoved) {
      const bad = new Set(leakage);
      split.train = split.train.filter((e) => !bad.has(e.id));
      split.dev = split.dev.filter((e) => !bad.has(e.id));
      warnings.push(`removed ${leakage.length} train/dev example(s) whose normalized input equals a test example's`);
    } else warnings.push(`${leakage.length} train/dev example(s) have the same normalized input as a test example (kept: leakage: report)`);
  }
  // 4. near-duplicates of test examples in train/dev (word-shingle Jaccard, task/neardup.ts)
  const nd = cfg.nearDuplicates;
  // (nothing to compare when train and dev are empty: skip indexing the test split)
  const nearDuplicates = nd && (split.train.length || split.dev.length) ? findNearDuplicates(split.test, split, nd) : [];
  if (nd && nearDuplicates.length) {
    const tests = new Set(nearDuplicates.map((m) => m.testId)).size;
    const how = `word ${nd.shingle}-shingle Jaccard ≥ ${nd.threshold}`;
    if (nd.action === 'remove') {
      const bad = new Set(nearDuplicates.map((m) => m.id));
      split.train = split.train.filter((e) => !bad.has(e.id));
      split.dev = split.dev.filter((e) => !bad.has(e.id));
      warnings.push(`removed ${nearDuplicates.length} train/dev example(s) that near-duplicate ${tests} test example(s) (${how})`);
    } else
      warnings.push(
        `${tests} of ${split.test.length} test example(s) have a near-duplicate among ${nearDuplicates.length} train/dev example(s) (${how}; kept: split.nearDuplicates.action is report; set it to remove to drop them)`,
      );
  }
  if (keyOf && ((leakage.length && leakageRemoved) || (nd && nd.action === 'remove' && nearDuplicates.length))) {
    for (const k of keys) classCounts[k] = { train: 0, dev: 0, test: 0 };
    for (const [name, part] of [
      ['train', split.train],
      ['dev', split.dev],
      ['test', split.test],
    ] as const)
      for (const e of part) classCounts[keyOf(e)][name]++;
  }
  return {
    split,
    report: {
      duplicatesRemoved,
      conflictingDuplicates,
      leakage,
      leakageRemoved,
      ...(nearDuplicates.length ? { nearDuplicates } : {}),
      warnings,
      stratifiedBy,
      sizes: { train: split.train.length, dev: split.dev.length, test: split.test.length, unused },
      ...(keyOf ? { classCounts } : {}),
    },
  };
}
