/** Small seeded PRNG (mulberry32): returns floats in [0, 1). (Also in stats/rng.ts: task/ and stats/ may import nothing from each other.) */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle in place with the given random source. */
export function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

const PUNCT = /[\p{P}\p{S}]/u;

/** Normalized text for the leakage check: lowercase; ASCII non-alphanumerics, Unicode punctuation and symbols and whitespace become single spaces; trimmed. */
export function normalizeForLeakage(s: string): string {
  // a char loop: ~10× faster than Unicode-property regexes on long texts
  const lower = s.toLowerCase();
  let out = '';
  let start = -1; // start of the current run of kept chars
  let pendingSpace = false;
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    let keep: boolean;
    let pair = false; // a surrogate pair: one code point in two UTF-16 units
    if (c < 128) keep = (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    else if (c >= 0xd800 && c <= 0xdbff) {
      keep = !PUNCT.test(String.fromCodePoint(lower.codePointAt(i)!));
      pair = true;
    } else keep = !PUNCT.test(lower[i]) && !/\s/.test(lower[i]);
    if (keep) {
      if (start < 0) {
        if (pendingSpace && out) out += ' ';
        pendingSpace = false;
        start = i;
      }
    } else {
      if (start >= 0) {
        out += lower.slice(start, i);
        start = -1;
      }
      pendingSpace = true;
    }
    if (pair) i++;
  }
  if (start >= 0) out += lower.slice(start);
  return out;
}
