export interface NormalizeOptions {
  /** fold case */
  case?: boolean;
  /** collapse whitespace runs to one space */
  whitespace?: boolean;
  /** strip punctuation and symbols */
  punctuation?: boolean;
  /** trim both ends */
  trim?: boolean;
}

/** Applies the selected normalizations (each flag true = apply). */
export function normalizeText(s: string, o: NormalizeOptions): string {
  let t = s;
  if (o.case) t = t.toLowerCase();
  if (o.punctuation) t = t.replace(/[\p{P}\p{S}]+/gu, o.whitespace ? ' ' : '');
  if (o.whitespace) t = t.replace(/\s+/g, ' ');
  if (o.trim || o.whitespace) t = t.trim();
  return t;
}

const EDGE = /^[\s"'`*_.,:;!?()[\]{}<>~-]+|[\s"'`*_.,:;!?()[\]{}<>~-]+$/g;

/** The form labels are compared in: lowercase, whitespace collapsed, surrounding quotes/punctuation/markdown removed. */
export function normalizeLabel(s: string): string {
  return s.toLowerCase().replace(/\s+/g, ' ').replace(EDGE, '');
}

interface Compiled {
  labels: readonly string[];
  norm: string[];
  re: RegExp[];
  /** for each label, the indices of other labels whose normalized text contains it */
  supersets: number[][];
}

const compiledCache = new Map<string, Compiled>();

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compile(labels: readonly string[]): Compiled {
  const key = labels.join('\u0000');
  let c = compiledCache.get(key);
  if (c) return c;
  const norm = labels.map(normalizeLabel);
  const re = labels.map((l) => {
    // spaces, underscores and hyphens inside a label match each other ("science_fiction" ~ "science fiction")
    const body = l.trim().split(/[\s_-]+/).map(escapeRe).join('[\\s_-]+');
    return new RegExp(`(?<![\\p{L}\\p{N}_])${body}(?![\\p{L}\\p{N}_])`, 'giu');
  });
  const loose = norm.map((n) => n.replace(/[\s_-]+/g, ' '));
  const supersets = loose.map((a, i) => loose.map((b, j) => (j !== i && b.length > a.length && b.includes(a) ? j : -1)).filter((j) => j >= 0));
  c = { labels, norm, re, supersets };
  if (compiledCache.size > 100) compiledCache.clear();
  compiledCache.set(key, c);
  return c;
}

function spans(re: RegExp, text: string): [number, number][] {
  const out: [number, number][] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push([m.index, m.index + m[0].length]);
    if (m[0].length === 0) re.lastIndex++;
  }
  return out;
}

/**
 * Label extraction from free text.
 * Non-strict: the first label, in the listed order, that occurs in the text as a whole word (case-insensitive; spaces,
 * `_` and `-` inside a label match each other), not counting occurrences that are part of a longer label's occurrence
 * ("Democratic" inside "Democratic-Republican").
 * Strict: the whole text, lowercased with whitespace collapsed and surrounding quotes/punctuation removed, must equal a label.
 * Returns the label as listed, or undefined.
 */
export function extractLabel(text: string, labels: readonly string[], strict = false): string | undefined {
  const c = compile(labels);
  if (strict) {
    const t = normalizeLabel(text);
    const i = c.norm.indexOf(t);
    return i >= 0 ? labels[i] : undefined;
  }
  for (let i = 0; i < labels.length; i++) {
    const own = spans(c.re[i], text);
    if (!own.length) continue;
    if (!c.supersets[i].length) return labels[i];
    const covers = c.supersets[i].flatMap((j) => spans(c.re[j], text));
    if (own.some(([s, e]) => !covers.some(([cs, ce]) => cs <= s && e <= ce))) return labels[i];
  }
  return undefined;
}

/** The listed label matching `value` after label normalization, or undefined. */
export function canonicalLabel(value: string, labels: readonly string[]): string | undefined {
  const c = compile(labels);
  const i = c.norm.indexOf(normalizeLabel(value));
  return i >= 0 ? labels[i] : undefined;
}
