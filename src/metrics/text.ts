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
    const body = l
      .trim()
      .split(/[\s_-]+/)
      .map(escapeRe)
      .join('[\\s_-]+');
    return new RegExp(`(?<![\\p{L}\\p{N}_])${body}(?![\\p{L}\\p{N}_])`, 'giu');
  });
  const loose = norm.map((n) => n.replace(/[\s_-]+/g, ' '));
  const supersets = loose.map((a, i) =>
    loose.map((b, j) => (j !== i && b.length > a.length && b.includes(a) ? j : -1)).filter((j) => j >= 0),
  );
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

/** Words that negate a label mentioned right after them in the same clause ("not spam", "isn't ham", "rather than news"). */
const NEGATORS =
  /(?:^|[^\p{L}\p{N}_'’])(?:not|no|never|neither|nor|non|without|isn['’]?t|aren['’]?t|wasn['’]?t|doesn['’]?t|rather\s+than|instead\s+of|other\s+than)(?:[^\p{L}\p{N}_]+(?:\p{L}+[^\p{L}\p{N}_]+){0,2})?$/iu;
/** Where a clause ends: a negation before one of these does not reach the label after it. */
const CLAUSE_END = /[.;:!?\n,]|\bbut\b/giu;

/** Is the label occurrence at `start` negated by a word shortly before it in the same clause? */
function negated(text: string, start: number): boolean {
  let from = 0;
  const before = text.slice(Math.max(0, start - 80), start);
  CLAUSE_END.lastIndex = 0;
  for (let m = CLAUSE_END.exec(before); m; m = CLAUSE_END.exec(before)) from = m.index + m[0].length;
  const clause = before.slice(from);
  // "non-spam": a prefix joined by a hyphen
  if (/(?:^|[^\p{L}])non[-\s]?$/iu.test(clause)) return true;
  return NEGATORS.test(clause);
}

/**
 * Label extraction from free text.
 * Non-strict: every whole-word occurrence of every label (case-insensitive; spaces, `_` and `-` inside a label match
 * each other) is found, except occurrences that are part of a longer label's occurrence ("Democratic" inside
 * "Democratic-Republican"). Occurrences negated in their own clause ("not ham", "isn't spam", "non-spam", "rather than
 * news": a negation word up to three words before the label, with no `.,;:!?`, newline or "but" in between) are
 * skipped. The answer is the LAST remaining occurrence: "not ham, it is spam" → spam; "spam or ham? ham" → ham.
 * When every occurrence is negated, no label is read (undefined).
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
  let best: { label: number; at: number; end: number } | undefined;
  for (let i = 0; i < labels.length; i++) {
    const own = spans(c.re[i], text);
    if (!own.length) continue;
    const covers = c.supersets[i].length ? c.supersets[i].flatMap((j) => spans(c.re[j], text)) : [];
    for (const [s, e] of own) {
      if (covers.some(([cs, ce]) => cs <= s && e <= ce)) continue;
      if (negated(text, s)) continue;
      if (!best || s > best.at || (s === best.at && e > best.end)) best = { label: i, at: s, end: e };
    }
  }
  return best ? labels[best.label] : undefined;
}

/** The listed label matching `value` after label normalization, or undefined. */
export function canonicalLabel(value: string, labels: readonly string[]): string | undefined {
  const c = compile(labels);
  const i = c.norm.indexOf(normalizeLabel(value));
  return i >= 0 ? labels[i] : undefined;
}
