// A synthetic instruction mixture for pretraining the built-in model: many small tasks phrased as
// instructions with answers (classification with label lists, lookups, text transformations, simple
// arithmetic), some with in-context examples as user/assistant turns, all in chat-message form.
// Deterministic for a seed.
import { Rng } from '../../core/index.ts';
import type { ChatMessage } from '../../models/types.ts';
import type { Doc, Gloss } from './corpus.ts';

/** The mixture's random source: core's Rng, with seed 0 read as 1. */
export class Rand extends Rng {
  constructor(seed: number) {
    super(seed >>> 0 || 1);
  }
}

export interface Sources {
  glosses: Gloss[];
  brown: (Doc & { genre: string })[];
  sotu: (Doc & { year: number; party: string; name: string })[];
  moby: Doc[];
}

interface Item {
  input: string;
  label: string;
}
/** A classification family: draws an (input, label) with its label set and a description of the task. */
interface ClsTask {
  name: string;
  labels: string[];
  what: string;
  inputName: string;
  draw(r: Rand): Item;
}

const POS = ['noun', 'verb', 'adjective', 'adverb'];

const sentenceCache = new Map<string, string[]>();
function sentences(text: string): string[] {
  const hit = sentenceCache.get(text);
  if (hit) return hit;
  const v = splitSentences(text);
  if (text.length > 400) sentenceCache.set(text, v);
  return v;
}
function splitSentences(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?])\s+(?=[A-Z"])/)
    .filter((s) => s.length > 20 && s.length < 300);
}

function passage(r: Rand, text: string, minChars = 120, maxChars = 700): string {
  const ss = sentences(text);
  if (!ss.length) return text.slice(0, maxChars);
  const want = minChars + r.int(maxChars - minChars);
  let i = r.int(ss.length);
  let out = '';
  while (i < ss.length && out.length < want) {
    out += (out ? ' ' : '') + ss[i];
    i++;
  }
  return out.slice(0, maxChars + 200);
}

const POSITIVE = [
  'wonderful',
  'excellent',
  'delightful',
  'great',
  'lovely',
  'superb',
  'pleasant',
  'fantastic',
  'charming',
  'brilliant',
  'enjoyable',
  'helpful',
  'friendly',
  'perfect',
  'impressive',
];
const NEGATIVE = [
  'terrible',
  'awful',
  'dreadful',
  'poor',
  'horrible',
  'disappointing',
  'boring',
  'rude',
  'broken',
  'useless',
  'unpleasant',
  'miserable',
  'annoying',
  'slow',
  'dirty',
];
const THINGS = [
  'the hotel',
  'the film',
  'this book',
  'the service',
  'the meal',
  'our trip',
  'the new phone',
  'the concert',
  'the staff',
  'the room',
  'this product',
  'the lecture',
  'the game',
  'the coffee',
  'the weather',
];
const TOPICS: Record<string, string[]> = {
  sports: [
    'the team won the match',
    'the striker scored twice',
    'the coach praised the players',
    'the race ended in a sprint',
    'fans filled the stadium',
    'the pitcher threw a strike',
  ],
  food: [
    'the soup was seasoned with pepper',
    'she baked fresh bread',
    'the recipe calls for two eggs',
    'we ordered noodles and rice',
    'the cheese was aged for a year',
    'he roasted the vegetables',
  ],
  weather: [
    'heavy rain is expected tomorrow',
    'the wind blew all night',
    'a cold front moves in',
    'snow covered the hills',
    'the sun broke through the clouds',
    'a storm warning was issued',
  ],
  money: [
    'the bank raised interest rates',
    'stocks fell sharply today',
    'the company reported a profit',
    'prices rose last month',
    'he paid off the loan',
    'the budget was cut',
  ],
  health: [
    'the doctor prescribed rest',
    'the patient recovered quickly',
    'exercise lowers blood pressure',
    'the clinic opened a new ward',
    'a vaccine was approved',
    'she sprained her ankle',
  ],
  travel: [
    'the train left the station',
    'our flight was delayed',
    'we booked a room by the sea',
    'the ferry crossed the bay',
    'tourists crowded the old town',
    'he packed his suitcase',
  ],
};

function clsTasks(s: Sources): ClsTask[] {
  const byGenre = new Map<string, (Doc & { genre: string })[]>();
  for (const d of s.brown) {
    if (!byGenre.has(d.genre)) byGenre.set(d.genre, []);
    byGenre.get(d.genre)!.push(d);
  }
  const genres = [...byGenre.keys()].filter((g) => byGenre.get(g)!.length >= 6).sort();
  const sotuParty = s.sotu.filter((d) => d.year >= 1860 && (d.party === 'Democratic' || d.party === 'Republican'));
  const century = (y: number) => (y < 1800 ? '18th' : y < 1900 ? '19th' : y < 2000 ? '20th' : '21st');
  const topics = Object.keys(TOPICS);
  return [
    {
      name: 'pos',
      labels: POS,
      what: 'the part of speech of the word, given its definition',
      inputName: 'Word',
      draw: (r) => {
        const g = r.pick(s.glosses);
        return { input: `${g.word} — ${g.gloss}`, label: g.pos };
      },
    },
    {
      name: 'genre',
      labels: genres,
      what: 'the genre of the passage',
      inputName: 'Passage',
      draw: (r) => {
        const g = r.pick(genres);
        const d = r.pick(byGenre.get(g)!);
        return { input: passage(r, d.text), label: g };
      },
    },
    {
      name: 'party',
      labels: ['Democratic', 'Republican'],
      what: 'the political party of the president who gave this speech',
      inputName: 'Speech excerpt',
      draw: (r) => {
        const d = r.pick(sotuParty);
        return { input: passage(r, d.text), label: d.party };
      },
    },
    {
      name: 'century',
      labels: ['18th', '19th', '20th', '21st'],
      what: 'the century in which this address was given',
      inputName: 'Address',
      draw: (r) => {
        const d = r.pick(s.sotu);
        return { input: passage(r, d.text), label: century(d.year) };
      },
    },
    {
      name: 'source',
      labels: ['novel', 'speech', 'dictionary', 'news'],
      what: 'where the text comes from',
      inputName: 'Text',
      draw: (r) => {
        const k = r.int(4);
        if (k === 0) return { input: passage(r, r.pick(s.moby).text), label: 'novel' };
        if (k === 1) return { input: passage(r, r.pick(s.sotu).text), label: 'speech' };
        if (k === 2) {
          const g = r.pick(s.glosses);
          return { input: `${g.word}: ${g.gloss}`, label: 'dictionary' };
        }
        return { input: passage(r, r.pick(byGenre.get('news')!).text), label: 'news' };
      },
    },
    {
      name: 'sentiment',
      labels: ['positive', 'negative'],
      what: 'the sentiment of the review',
      inputName: 'Review',
      draw: (r) => {
        const pos = r.chance(0.5);
        const w = r.sample(pos ? POSITIVE : NEGATIVE, 1 + r.int(2));
        const t = r.pick(THINGS);
        const forms = [
          `${t} was ${w.join(' and ')}.`,
          `I found ${t} ${w[0]}.`,
          `Honestly, ${t} was ${w[0]}${w[1] ? `, even ${w[1]}` : ''}.`,
          `What a ${w[0]} experience: ${t} ${pos ? 'made my day' : 'ruined my day'}.`,
          `${t[0].toUpperCase()}${t.slice(1)}? ${w[0][0].toUpperCase()}${w[0].slice(1)}.`,
        ];
        return { input: r.pick(forms), label: pos ? 'positive' : 'negative' };
      },
    },
    {
      name: 'topic',
      labels: topics,
      what: 'the topic of the sentence',
      inputName: 'Sentence',
      draw: (r) => {
        const t = r.pick(topics);
        const a = r.pick(TOPICS[t]);
        return { input: `${a[0].toUpperCase()}${a.slice(1)}${r.chance(0.5) ? `, and ${r.pick(TOPICS[t])}` : ''}.`, label: t };
      },
    },
    {
      name: 'question',
      labels: ['yes', 'no'],
      what: 'whether the sentence is a question',
      inputName: 'Sentence',
      draw: (r) => {
        const sents = sentences(r.pick(s.brown).text);
        const qs = sents.filter((x) => x.endsWith('?'));
        const isQ = r.chance(0.5) && qs.length > 0;
        const x = isQ ? r.pick(qs) : (r.pick(sents) ?? 'The sky is blue.');
        return { input: x, label: x.endsWith('?') ? 'yes' : 'no' };
      },
    },
    {
      name: 'number',
      labels: ['yes', 'no'],
      what: 'whether the text contains a number written with digits',
      inputName: 'Text',
      draw: (r) => {
        const has = r.chance(0.5);
        let t = passage(r, r.pick(s.sotu).text, 60, 200).replace(/\d/g, '');
        if (has) {
          const ws = t.split(' ');
          ws.splice(r.int(ws.length), 0, String(1 + r.int(2000)));
          t = ws.join(' ');
        }
        return { input: t, label: has ? 'yes' : 'no' };
      },
    },
    {
      name: 'length',
      labels: ['short', 'long'],
      what: 'whether the text is short (under 20 words) or long',
      inputName: 'Text',
      draw: (r) => {
        const long = r.chance(0.5);
        const t = passage(r, r.pick(s.brown).text, long ? 200 : 30, long ? 500 : 90);
        const n = t.split(/\s+/).length;
        return { input: t, label: n < 20 ? 'short' : 'long' };
      },
    },
  ];
}

// ------------------------------------------------------------ phrasing

function labelList(r: Rand, labels: string[]): string {
  const q = r.chance(0.3) ? (l: string) => `"${l}"` : (l: string) => l;
  const ls = labels.map(q);
  switch (r.int(4)) {
    case 0:
      return ls.join(', ');
    case 1:
      return ls.join(' | ');
    case 2:
      return ls.length === 2 ? `${ls[0]} or ${ls[1]}` : `${ls.slice(0, -1).join(', ')} or ${ls[ls.length - 1]}`;
    default:
      return ls.join(' / ');
  }
}

function clsInstruction(r: Rand, t: ClsTask, labels: string[]): string {
  const L = labelList(r, labels);
  const forms = [
    `Classify ${t.what}. Answer with one of: ${L}.`,
    `Decide ${t.what}. Possible labels: ${L}. Reply with the label only.`,
    `You are a careful classifier. Determine ${t.what}. Respond with exactly one of ${L}.`,
    `Label the input. Task: ${t.what}. Labels: ${L}.`,
    `Which label fits best: ${L}? The task is ${t.what}. Answer with the label and nothing else.`,
    `Categorize the ${t.inputName.toLowerCase()} by ${t.what}. Output one label from: ${L}.`,
  ];
  return r.pick(forms);
}

function renderInput(r: Rand, t: ClsTask, input: string): string {
  const name = r.chance(0.7) ? t.inputName : r.pick(['Input', 'Text', 'Message', 'Content']);
  return r
    .pick([`${name}: ${input}`, `${name}:\n${input}`, input, `${input}\n\n${name.toLowerCase()} above`])
    .replace(/\n\n\w+ above$/, '');
}

/** Map true labels to other label names sometimes, described in the instruction, so the label set itself is read from the prompt. */
function relabel(r: Rand, t: ClsTask): { labels: string[]; map: (l: string) => string; note: string } {
  if (t.labels.length !== 2 || !r.chance(0.3)) return { labels: t.labels, map: (l) => l, note: '' };
  const pairs = [
    ['A', 'B'],
    ['1', '0'],
    ['true', 'false'],
    ['X', 'Y'],
    ['match', 'other'],
    ['keep', 'drop'],
  ];
  const p = r.pick(pairs);
  const m = new Map([
    [t.labels[0], p[0]],
    [t.labels[1], p[1]],
  ]);
  return { labels: p, map: (l) => m.get(l) ?? l, note: ` Use "${p[0]}" for ${t.labels[0]} and "${p[1]}" for ${t.labels[1]}.` };
}

function clsRecord(r: Rand, t: ClsTask): ChatMessage[] {
  const { labels, map, note } = relabel(r, t);
  let shown = labels;
  if (labels.length > 4) {
    // offer a subset containing the answer
    const it = t.draw(r);
    const others = r.sample(
      labels.filter((l) => l !== it.label),
      1 + r.int(3),
    );
    shown = r.shuffle([it.label, ...others]);
    return finishCls(r, t, shown, map, note, it, shown);
  }
  return finishCls(r, t, shown, map, note, t.draw(r), shown);
}

function finishCls(
  r: Rand,
  t: ClsTask,
  shown: string[],
  map: (l: string) => string,
  note: string,
  it: Item,
  pool: string[],
): ChatMessage[] {
  const instr = clsInstruction(r, t, shown.map(map)) + note;
  const msgs: ChatMessage[] = [];
  const system = r.chance(0.6);
  if (system) msgs.push({ role: 'system', content: instr });
  const k = r.chance(0.35) ? 1 + r.int(4) : 0; // in-context demonstrations as prior turns
  for (let i = 0; i < k; i++) {
    let d = t.draw(r);
    for (let tries = 0; tries < 5 && !pool.includes(d.label); tries++) d = t.draw(r);
    if (!pool.includes(d.label)) continue;
    msgs.push({ role: 'user', content: (system || i > 0 ? '' : instr + '\n\n') + renderInput(r, t, short(d.input)) });
    msgs.push({ role: 'assistant', content: map(d.label) });
  }
  const first = msgs.filter((m) => m.role === 'user').length === 0;
  msgs.push({ role: 'user', content: (system || !first ? '' : instr + '\n\n') + renderInput(r, t, it.input) });
  msgs.push({ role: 'assistant', content: map(it.label) });
  return msgs;
}

function short(s: string): string {
  return s.length > 300 ? s.slice(0, 300).replace(/\s\S*$/, '') + ' ...' : s;
}

/** Classification where only the in-context examples define the mapping. */
function inContextRecord(r: Rand, s: Sources): ChatMessage[] {
  const groups = r.sample(Object.keys(TOPICS), 2);
  const names = r.pick([
    ['A', 'B'],
    ['left', 'right'],
    ['red', 'blue'],
    ['alpha', 'beta'],
    ['1', '2'],
  ]);
  const lines: string[] = [];
  for (let i = 0; i < 3 + r.int(4); i++) {
    const g = r.int(2);
    lines.push(`${r.pick(TOPICS[groups[g]])} -> ${names[g]}`);
  }
  const g = r.int(2);
  const q = r.pick(TOPICS[groups[g]]);
  const user = `${r.pick(['Follow the pattern.', 'Continue the pattern from the examples.', 'Label the last line like the examples.'])}\n${lines.join('\n')}\n${q} ->`;
  return [
    { role: 'user', content: user },
    { role: 'assistant', content: names[g] },
  ];
}

function genRecord(r: Rand, s: Sources): ChatMessage[] {
  const g = r.pick(s.glosses);
  const sent = () => r.pick(sentences(r.pick(s.brown).text).filter((x) => x.length < 120)) ?? 'The cat sat on the mat.';
  const k = r.int(16);
  let user = '';
  let answer = '';
  switch (k) {
    case 0:
      user = r.pick([
        `What does "${g.word}" mean?`,
        `Define the word "${g.word}".`,
        `Give a short definition of ${g.word}.`,
        `Definition of "${g.word}" (${g.pos}):`,
      ]);
      answer = g.gloss;
      break;
    case 1:
      user = `Which word matches this definition: ${g.gloss}?`;
      answer = g.word;
      break;
    case 2: {
      const w = s.glosses.filter((x) => x.synonyms.length)[r.int(1000)];
      user = `Give a synonym of "${w.word}".`;
      answer = w.synonyms[0];
      break;
    }
    case 3: {
      const x = sent();
      user = `Convert to upper case: ${x}`;
      answer = x.toUpperCase();
      break;
    }
    case 4: {
      const x = sent();
      user = `Rewrite in lower case: ${x}`;
      answer = x.toLowerCase();
      break;
    }
    case 5: {
      const x = sent();
      user = `How many words are in this sentence? ${x}`;
      answer = String(x.split(/\s+/).length);
      break;
    }
    case 6: {
      const x = sent();
      user = `What is the first word of: ${x}`;
      answer = x.split(/\s+/)[0].replace(/[^\w'-]/g, '');
      break;
    }
    case 7: {
      const x = sent().replace(/[.!?]$/, '');
      user = `What is the last word of: ${x}`;
      answer = x
        .split(/\s+/)
        .pop()!
        .replace(/[^\w'-]/g, '');
      break;
    }
    case 8: {
      const a = r.int(100),
        b = r.int(100);
      user = r.pick([`What is ${a} + ${b}?`, `Add ${a} and ${b}.`, `${a} plus ${b} equals`]);
      answer = String(a + b);
      break;
    }
    case 9: {
      const a = r.int(100),
        b = r.int(a + 1);
      user = `What is ${a} - ${b}?`;
      answer = String(a - b);
      break;
    }
    case 10: {
      const a = r.int(1000),
        b = r.int(1000);
      user = `Which number is larger, ${a} or ${b}?`;
      answer = String(Math.max(a, b));
      break;
    }
    case 11: {
      const ws = r.sample(s.glosses, 3 + r.int(3)).map((x) => x.word);
      user = `Sort these words alphabetically: ${ws.join(', ')}`;
      answer = ws.slice().sort().join(', ');
      break;
    }
    case 12: {
      const w = g.word.split(' ')[0];
      user = `Spell "${w}" letter by letter.`;
      answer = w.split('').join('-');
      break;
    }
    case 13: {
      const x = sent();
      user = `Repeat exactly: ${x}`;
      answer = x;
      break;
    }
    case 14: {
      const ss = sentences(r.pick(s.moby).text);
      const i = r.int(Math.max(1, ss.length - 1));
      user = `Continue the text with one sentence.\n${ss[i] ?? ''}`;
      answer = ss[i + 1] ?? ss[0] ?? '';
      break;
    }
    default: {
      const ws = sent().split(/\s+/).slice(0, 6);
      user = `Reverse the order of these words: ${ws.join(' ')}`;
      answer = ws.slice().reverse().join(' ');
      break;
    }
  }
  const msgs: ChatMessage[] = [];
  if (r.chance(0.3))
    msgs.push({
      role: 'system',
      content: r.pick([
        'You are a helpful assistant.',
        'Answer briefly.',
        'You are a concise assistant. Give only the answer.',
        'Reply with the answer only.',
      ]),
    });
  msgs.push({ role: 'user', content: user }, { role: 'assistant', content: answer });
  return msgs;
}

/** `n` instruction conversations, deterministic for the seed: ~55% classification, ~10% in-context pattern, ~35% other tasks. */
export function instructionMixture(s: Sources, n: number, seed: number): ChatMessage[][] {
  const r = new Rand(seed);
  const tasks = clsTasks(s);
  const out: ChatMessage[][] = [];
  for (let i = 0; i < n; i++) {
    const u = r.next();
    if (u < 0.55) out.push(clsRecord(r, r.pick(tasks)));
    else if (u < 0.65) out.push(inContextRecord(r, s));
    else out.push(genRecord(r, s));
  }
  return out;
}

export const CLASSIFICATION_TASKS = ['pos', 'genre', 'party', 'century', 'source', 'sentiment', 'topic', 'question', 'number', 'length'];

/** Held-out probes for the model card: fresh classification items (another seed) per task. */
export function classificationProbes(
  s: Sources,
  perTask: number,
  seed: number,
): { task: string; messages: ChatMessage[]; labels: string[]; answer: string }[] {
  const r = new Rand(seed);
  const out: { task: string; messages: ChatMessage[]; labels: string[]; answer: string }[] = [];
  for (const t of clsTasks(s)) {
    for (let i = 0; i < perTask; i++) {
      const it = t.draw(r);
      const labels =
        t.labels.length > 4
          ? r.shuffle([
              it.label,
              ...r.sample(
                t.labels.filter((l) => l !== it.label),
                3,
              ),
            ])
          : t.labels;
      const instr = `Classify ${t.what}. Answer with one of: ${labels.join(', ')}.`;
      out.push({
        task: t.name,
        labels,
        answer: it.label,
        messages: [
          { role: 'system', content: instr },
          { role: 'user', content: `${t.inputName}: ${it.input}` },
        ],
      });
    }
  }
  return out;
}
