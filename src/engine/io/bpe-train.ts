/**
 * Byte-level BPE trainer (GPT-2 style). Vocab order: special tokens, the 256 byte symbols (by code point),
 * then one token per merge. Pair choice: highest count, ties to the smallest (left id, right id), as the
 * Hugging Face trainer does; deterministic for a given corpus.
 */
import { EngineIoError } from './errors.ts';
import { PairHeap } from './pair-heap.ts';
import { BpeTokenizer, GPT2_PATTERN, byteLevelAlphabet, byteLevelTokenizerJson, textToByteLevel } from './tokenizer.ts';

export interface TrainBpeOptions {
  /** total vocabulary size, special tokens and the 256 byte symbols included */
  vocabSize: number;
  /** added as special tokens at ids 0..k-1, never split, never learned from the corpus */
  specialTokens?: string[];
  /** stop when the best pair occurs fewer times than this (default 2) */
  minFrequency?: number;
}

export function trainBpe(corpus: string | Iterable<string>, options: TrainBpeOptions): BpeTokenizer {
  const specials = options.specialTokens ?? [];
  const minFreq = Math.max(1, options.minFrequency ?? 2);
  if (new Set(specials).size !== specials.length) throw new EngineIoError('trainBpe', 'specialTokens has duplicates');
  const base = specials.length + 256;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < base)
    throw new EngineIoError('trainBpe', `vocabSize must be an integer >= ${base} (special tokens + 256 bytes)`);
  if (options.vocabSize > 1 << 20) throw new EngineIoError('trainBpe', 'vocabSize above 2^20 is not supported');

  // 1. word counts (byte-level strings)
  const re = new RegExp(GPT2_PATTERN, 'gu');
  const splitRe = specials.length ? new RegExp(specials.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gu') : null;
  const raw = new Map<string, number>();
  const docs = typeof corpus === 'string' ? [corpus] : corpus;
  for (const doc of docs) {
    for (const part of splitRe ? doc.split(splitRe) : [doc]) {
      re.lastIndex = 0;
      for (const m of part.matchAll(re)) raw.set(m[0], (raw.get(m[0]) ?? 0) + 1);
    }
  }

  // 2. symbols
  const alphabet = byteLevelAlphabet().slice().sort();
  const vocab: string[] = [...specials, ...alphabet];
  const idOf = new Map<string, number>();
  vocab.forEach((t, i) => idOf.set(t, i));
  const words: Int32Array[] = [];
  const counts: number[] = [];
  for (const [w, c] of raw) {
    const bl = textToByteLevel(w);
    const syms = new Int32Array(bl.length);
    for (let i = 0; i < bl.length; i++) syms[i] = idOf.get(bl[i])!;
    words.push(syms);
    counts.push(c);
  }

  // 3. pair statistics
  const M = options.vocabSize + 1;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  for (let w = 0; w < words.length; w++) {
    const s = words[w],
      c = counts[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i] * M + s[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + c);
      let l = pairWords.get(key);
      if (!l) pairWords.set(key, (l = []));
      if (l[l.length - 1] !== w) l.push(w);
    }
  }
  const heap = new PairHeap(); // (-count, key): most frequent pair first, ties by key
  for (const [k, c] of pairCount) heap.push(-c, k);

  const merges: Array<[string, string]> = [];
  const changed = new Set<number>();
  while (vocab.length < options.vocabSize && heap.size) {
    const [negCount, key] = heap.pop();
    const c = -negCount;
    if (pairCount.get(key) !== c) continue; // stale entry
    if (c < minFreq) break;
    const a = Math.floor(key / M),
      b = key - a * M;
    const str = vocab[a] + vocab[b];
    let nid = idOf.get(str);
    if (nid === undefined) {
      nid = vocab.length;
      vocab.push(str);
      idOf.set(str, nid);
    }
    merges.push([vocab[a], vocab[b]]);
    changed.clear();
    const list = pairWords.get(key) ?? [];
    pairWords.delete(key);
    for (const w of list) {
      const s = words[w];
      let has = false;
      for (let i = 0; i + 1 < s.length; i++)
        if (s[i] === a && s[i + 1] === b) {
          has = true;
          break;
        }
      if (!has) continue;
      const cw = counts[w];
      for (let i = 0; i + 1 < s.length; i++) {
        const k = s[i] * M + s[i + 1];
        pairCount.set(k, pairCount.get(k)! - cw);
        changed.add(k);
      }
      const t: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          t.push(nid);
          i++;
        } else t.push(s[i]);
      }
      const ns = Int32Array.from(t);
      words[w] = ns;
      for (let i = 0; i + 1 < ns.length; i++) {
        const k = ns[i] * M + ns[i + 1];
        pairCount.set(k, (pairCount.get(k) ?? 0) + cw);
        changed.add(k);
        if (ns[i] === nid || ns[i + 1] === nid) {
          let l = pairWords.get(k);
          if (!l) pairWords.set(k, (l = []));
          if (l[l.length - 1] !== w) l.push(w);
        }
      }
    }
    pairCount.delete(key);
    for (const k of changed) {
      const v = pairCount.get(k);
      if (v === undefined) continue;
      if (v <= 0) pairCount.delete(k);
      else heap.push(-v, k);
    }
  }
  return new BpeTokenizer(byteLevelTokenizerJson(vocab, merges, specials), 'trainBpe');
}
