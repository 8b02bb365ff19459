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
