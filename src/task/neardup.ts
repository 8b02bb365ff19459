// Near-duplicate detection between the test split and train/dev: word shingles (n consecutive words of the input
// text, lowercased with punctuation stripped) compared by Jaccard similarity |A ∩ B| / |A ∪ B|. A train/dev example
// whose similarity to some test example reaches the threshold is a near-duplicate: removed from train/dev like exact
// leakage (`action: remove`), or only reported (`action: report`, the default). The test split is never changed.
import type { Example } from './types.ts';
import { normalizeForLeakage } from './util.ts';

export interface NearDupOptions {
  /** Jaccard similarity at or above which two inputs are near-duplicates (default 0.5) */
  threshold?: number;
  /** words per shingle (default 3) */
  shingle?: number;
  /** shingles found in more than this many examples are ignored when looking for candidates (default 1000) */
  maxPosting?: number;
}

export interface NearDupMatch {
  /** the train/dev example */
  id: string;
  part: 'train' | 'dev';
  /** its most similar test example */
  testId: string;
  similarity: number;
}

/** The text compared: every input value (strings as they are, others as JSON) joined, normalized like exact leakage. */
export function inputText(e: Example): string {
  const vals = Object.keys(e.input)
    .sort()
    .map((k) => {
      const v = e.input[k];
      return typeof v === 'string' ? v : JSON.stringify(v ?? '');
    });
  return normalizeForLeakage(vals.join(' '));
}

/** The set of word n-gram shingles of a normalized text (texts shorter than n words give one shingle: the text). */
export function shingles(text: string, n = 3): Set<string> {
  const w = text.split(' ').filter(Boolean);
  const out = new Set<string>();
  if (w.length <= n) {
    if (w.length) out.add(w.join(' '));
    return out;
  }
  for (let i = 0; i + n <= w.length; i++) out.add(w.slice(i, i + n).join(' '));
  return out;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (!a.size && !b.size) return 1;
  let inter = 0;
  const [s, l] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of s) if (l.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/**
 * Train/dev examples whose input is a near-duplicate of a test example's (each with its most similar test example),
 * in train-then-dev order. Candidates come from an inverted index of shingles, so only pairs sharing a shingle are
 * compared.
 */
export function findNearDuplicates(
  test: readonly Example[],
  parts: { train: readonly Example[]; dev: readonly Example[] },
  opts: NearDupOptions = {},
): NearDupMatch[] {
  const threshold = opts.threshold ?? 0.5;
  const n = opts.shingle ?? 3;
  const maxPosting = opts.maxPosting ?? 1000;
  const testSets = test.map((e) => shingles(inputText(e), n));
  const index = new Map<string, number[]>();
  testSets.forEach((s, i) => {
    for (const x of s) {
      let l = index.get(x);
      if (!l) index.set(x, (l = []));
      l.push(i);
    }
  });
  const out: NearDupMatch[] = [];
  const counts = new Map<number, number>();
  for (const part of ['train', 'dev'] as const) {
    for (const e of parts[part]) {
      const s = shingles(inputText(e), n);
      counts.clear();
      for (const x of s) {
        const l = index.get(x);
        if (!l || l.length > maxPosting) continue;
        for (const t of l) counts.set(t, (counts.get(t) ?? 0) + 1);
      }
      let best: { t: number; sim: number } | undefined;
      for (const [t, inter] of counts) {
        // Jaccard from the shared count, an upper bound check first
        const sim = inter / (s.size + testSets[t].size - inter);
        if (sim >= threshold && (!best || sim > best.sim)) best = { t, sim };
      }
      if (best) out.push({ id: e.id, part, testId: test[best.t].id, similarity: best.sim });
    }
  }
  return out;
}

/**
 * A membership test for the test split that does not hand the split out: true when an id is a test example's id,
 * or an input equals a test example's input after leakage normalization. Arms use it to refuse demonstrations
 * taken from test (a frozen prompt loaded from a file, fixed few-shot ids).
 */
export function testMembership(test: readonly Example[]): (e: { id?: string; input?: Record<string, unknown> }) => boolean {
  let ids: Set<string> | undefined;
  let texts: Set<string> | undefined;
  return (e) => {
    ids ??= new Set(test.map((t) => t.id));
    texts ??= new Set(test.map(inputText));
    if (e.id !== undefined && ids.has(e.id)) return true;
    return e.input !== undefined && texts.has(inputText({ id: '', input: e.input, expected: '' }));
  };
}
