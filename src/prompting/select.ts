import MiniSearch from 'minisearch';
import { z } from 'zod';
import type { ChatModel } from '../models/types.ts';
import type { Example } from '../task/types.ts';
import { InputError } from '../core/index.ts';
import { demoOf, type Demo, type DemoSelector, type TemplateProgram } from './program.ts';
import { deriveSeed, Rng } from '../core/index.ts';
import { approxTokens } from './util.ts';

export type SelectionStrategy = 'fixed' | 'random' | 'stratified' | 'bm25' | 'embedding';

/** How demonstrations are chosen from the train split. */
export interface SelectionSpec {
  strategy: SelectionStrategy;
  /** number of demonstrations (default 4; for `fixed`, the number of ids) */
  k?: number;
  /** example ids, for `fixed` */
  ids?: string[];
  /** `random` (seeded), `similar-last` (most similar closest to the question; kNN strategies), `as-selected` */
  order?: 'random' | 'similar-last' | 'as-selected';
  /** max marginal relevance: lambda in [0,1] (1 = relevance only, lower = more diverse); kNN strategies */
  mmr?: number;
  /** token budget for all demonstrations together (approx. chars/4, or the model's countTokens when it has one) */
  tokenBudget?: number;
  /** input fields matched for bm25 (default: all input fields) */
  fields?: string[];
}

/** The zod fields of a SelectionSpec, for configs that carry one inline (the fewshot arm). */
export const selectionFields = {
  strategy: z.enum(['fixed', 'random', 'stratified', 'bm25', 'embedding']),
  k: z.number().int().min(0).optional(),
  ids: z.array(z.string()).min(1).optional(),
  order: z.enum(['random', 'similar-last', 'as-selected']).optional(),
  mmr: z.number().min(0).max(1).optional(),
  tokenBudget: z.number().int().positive().optional(),
  fields: z.array(z.string()).min(1).optional(),
};

export const selectionSchema = z
  .strictObject(selectionFields)
  .refine((s) => s.strategy !== 'fixed' || (s.ids && s.ids.length > 0), { message: 'strategy fixed needs ids', path: ['ids'] });

export function isDynamic(s: SelectionSpec): boolean {
  return s.strategy === 'bm25' || s.strategy === 'embedding';
}

type TokenCounter = (text: string) => number;

/** The model's own token counter when it exposes one (`countTokens(text): number`), else chars/4. */
export function tokenCounter(model?: ChatModel): TokenCounter {
  const f = (model as unknown as { countTokens?: unknown } | undefined)?.countTokens;
  if (typeof f === 'function') {
    return (t: string) => {
      const n = (f as (t: string) => unknown).call(model, t);
      return typeof n === 'number' ? n : approxTokens(t);
    };
  }
  return approxTokens;
}

function fitBudget(demos: Demo[], program: TemplateProgram | undefined, budget: number | undefined, count: TokenCounter): Demo[] {
  if (budget === undefined || !program) return demos;
  const out: Demo[] = [];
  let used = 0;
  for (const d of demos) {
    const t = program.renderDemo(d).reduce((s, m) => s + count(m.content), 0);
    if (used + t > budget) continue;
    used += t;
    out.push(d);
  }
  return out;
}

/** Static selection (fixed, random, stratified): the same demonstrations for every example. */
export function selectStatic(
  pool: readonly Example[],
  spec: SelectionSpec,
  seed: number,
  opts: { program?: TemplateProgram; count?: TokenCounter; where?: string } = {},
): Demo[] {
  const k = spec.k ?? (spec.strategy === 'fixed' ? (spec.ids?.length ?? 0) : 4);
  const rng = new Rng(deriveSeed(seed, `select:${spec.strategy}`));
  let picked: Example[];
  switch (spec.strategy) {
    case 'fixed': {
      const byId = new Map(pool.map((e) => [e.id, e]));
      picked = (spec.ids ?? [])
        .map((id, i) => {
          const e = byId.get(id);
          if (!e) throw new InputError(`${opts.where ?? 'selection'}.ids[${i}]`, `no train example with id "${id}"`);
          return e;
        })
        .slice(0, k);
      break;
    }
    case 'random':
      picked = rng.sample(pool, k);
      break;
    case 'stratified': {
      const groups = new Map<string, Example[]>();
      for (const e of pool) {
        const g = groups.get(e.expected);
        if (g) g.push(e);
        else groups.set(e.expected, [e]);
      }
      const labels = rng.shuffle([...groups.keys()].sort());
      const queues = labels.map((l) => rng.shuffle(groups.get(l)!));
      picked = [];
      for (let round = 0; picked.length < k && queues.some((q) => q.length > round); round++) {
        for (const q of queues) if (round < q.length && picked.length < k) picked.push(q[round]);
      }
      break;
    }
    default:
      throw new Error(`selectStatic: ${spec.strategy} is a per-example strategy`);
  }
  let demos = picked.map((e) => demoOf(e));
  if (spec.order === 'random') demos = rng.shuffle(demos);
  return fitBudget(demos, opts.program, spec.tokenBudget, opts.count ?? approxTokens);
}

const WORD = /[\p{L}\p{N}]+/gu;
function terms(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const w of text.toLowerCase().match(WORD) ?? []) m.set(w, (m.get(w) ?? 0) + 1);
  return m;
}
function cosineTf(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0,
    na = 0,
    nb = 0;
  for (const [t, x] of a) {
    na += x * x;
    const y = b.get(t);
    if (y) dot += x * y;
  }
  for (const y of b.values()) nb += y * y;
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}
export function cosine(a: number[], b: number[]): number {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/**
 * Max marginal relevance over candidates sorted by relevance: picks k, trading relevance (lambda)
 * against similarity to what is already picked (1 - lambda).
 */
export function mmr<T>(
  cands: { item: T; rel: number }[],
  k: number,
  lambda: number,
  sim: (a: T, b: T) => number,
): { item: T; rel: number }[] {
  const left = cands.slice();
  const out: { item: T; rel: number }[] = [];
  while (out.length < k && left.length) {
    let bi = 0,
      bv = -Infinity;
    for (let i = 0; i < left.length; i++) {
      const red = out.length ? Math.max(...out.map((o) => sim(left[i].item, o.item))) : 0;
      const v = lambda * left[i].rel - (1 - lambda) * red;
      if (v > bv) {
        bv = v;
        bi = i;
      }
    }
    out.push(left.splice(bi, 1)[0]);
  }
  return out;
}

function textOf(input: Record<string, unknown>, fields?: string[]): string {
  const keys = fields ?? Object.keys(input);
  return keys
    .map((k) => {
      let v: unknown = input;
      for (const p of k.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
      return v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    })
    .join('\n');
}

function orderDemos(ranked: Demo[], spec: SelectionSpec, seed: number, id: string): Demo[] {
  const order = spec.order ?? 'similar-last';
  if (order === 'similar-last') return ranked.slice().reverse();
  if (order === 'random') return new Rng(deriveSeed(seed, `order:${id}`)).shuffle(ranked);
  return ranked;
}

/** BM25 nearest neighbours from the pool (minisearch), optionally diversified by MMR. */
export class Bm25Selector implements DemoSelector {
  private index: MiniSearch<{ i: number; text: string }>;
  private tf: Map<string, number>[];
  private readonly k: number;
  constructor(
    private pool: readonly Example[],
    private spec: SelectionSpec,
    private seed: number,
    private program?: TemplateProgram,
    private count: TokenCounter = approxTokens,
  ) {
    this.k = spec.k ?? 4;
    this.index = new MiniSearch({ idField: 'i', fields: ['text'], searchOptions: { combineWith: 'OR', prefix: false, fuzzy: false } });
    const docs = pool.map((e, i) => ({ i, text: textOf(e.input, spec.fields) }));
    this.index.addAll(docs);
    // tf-idf vectors for MMR's redundancy term (words every document shares weigh nothing)
    const tfs = docs.map((d) => terms(d.text));
    const df = new Map<string, number>();
    for (const t of tfs) for (const w of t.keys()) df.set(w, (df.get(w) ?? 0) + 1);
    this.tf = tfs.map(
      (t) => new Map([...t].map(([w, n]) => [w, n * Math.log((docs.length + 1) / (df.get(w)! + 0.5))] as [string, number])),
    );
  }
  /** Pool examples ranked for a query example (best first), after MMR. */
  rank(example: Example): { item: number; rel: number }[] {
    const q = textOf(example.input, this.spec.fields);
    const hits = this.index.search(q).filter((h) => this.pool[h.id as number].id !== example.id);
    const want = this.spec.mmr !== undefined ? Math.min(hits.length, this.k * 5) : this.k;
    const top = hits.slice(0, want);
    const max = top[0]?.score ?? 1;
    let cands = top.map((h) => ({ item: h.id as number, rel: h.score / max }));
    if (this.spec.mmr !== undefined) cands = mmr(cands, this.k, this.spec.mmr, (a, b) => cosineTf(this.tf[a], this.tf[b]));
    if (cands.length < this.k) {
      // too few lexical matches: fill with a seeded sample of the rest
      const have = new Set(cands.map((c) => c.item));
      const rest = new Rng(deriveSeed(this.seed, `fill:${example.id}`)).shuffle(
        this.pool.map((_, i) => i).filter((i) => !have.has(i) && this.pool[i].id !== example.id),
      );
      for (const i of rest.slice(0, this.k - cands.length)) cands.push({ item: i, rel: 0 });
    }
    return cands;
  }
  select(example: Example): Demo[] {
    const ranked = this.rank(example).map((c) => demoOf(this.pool[c.item]));
    return orderDemos(fitBudget(ranked, this.program, this.spec.tokenBudget, this.count), this.spec, this.seed, example.id);
  }
  describe(): unknown {
    return {
      strategy: 'bm25',
      k: this.k,
      order: this.spec.order ?? 'similar-last',
      mmr: this.spec.mmr,
      tokenBudget: this.spec.tokenBudget,
      fields: this.spec.fields,
      pool: this.pool.map((e) => e.id),
    };
  }
}

/** Embeddings already computed, per embedding model (variants rebuild selectors over the same pool). */
const embedMemo = new WeakMap<ChatModel, Map<string, number[]>>();

/**
 * Embedding nearest neighbours: the pool is embedded once in `init()`; each example's rendered final user
 * turn is embedded when the program renders it (so `select` is async).
 */
export class EmbeddingSelector implements DemoSelector {
  private vecs: number[][] = [];
  private qcache = new Map<string, number[]>();
  readonly k: number;
  constructor(
    private pool: readonly Example[],
    private spec: SelectionSpec,
    private seed: number,
    private embedder: ChatModel,
    private program: TemplateProgram,
    private count: TokenCounter = approxTokens,
  ) {
    if (!embedder.embed) throw new InputError('selection.strategy', `model ${embedder.id} offers no embeddings; use bm25`);
    this.k = spec.k ?? 4;
  }
  /** The text embedded for an example: its rendered final user turn. */
  queryText(input: Record<string, unknown>, id?: string): string {
    return this.program.renderDemo({ input, expected: '', id })[0].content;
  }
  async init(): Promise<void> {
    const texts = this.pool.map((e) => this.queryText(e.input, e.id));
    let memo = embedMemo.get(this.embedder);
    if (!memo) embedMemo.set(this.embedder, (memo = new Map()));
    const missing = [...new Set(texts.filter((t) => !memo!.has(t)))];
    for (let i = 0; i < missing.length; i += 64) {
      const batch = missing.slice(i, i + 64);
      const vecs = await this.embedder.embed!(batch);
      batch.forEach((t, j) => memo!.set(t, vecs[j]));
    }
    this.vecs = texts.map((t) => memo!.get(t)!);
    this.qcache = memo;
  }
  select(example: Example): Promise<Demo[]> {
    return this.selectForText(this.queryText(example.input, example.id), example.id);
  }
  async selectForText(text: string, excludeId?: string): Promise<Demo[]> {
    let q = this.qcache.get(text);
    if (!q) {
      q = (await this.embedder.embed!([text]))[0];
      this.qcache.set(text, q);
    }
    const scored = this.vecs.map((v, i) => ({ item: i, rel: cosine(q!, v) })).filter((c) => this.pool[c.item].id !== excludeId);
    scored.sort((a, b) => b.rel - a.rel || a.item - b.item);
    let cands = scored.slice(0, this.spec.mmr !== undefined ? this.k * 5 : this.k);
    if (this.spec.mmr !== undefined) cands = mmr(cands, this.k, this.spec.mmr, (a, b) => cosine(this.vecs[a], this.vecs[b]));
    const ranked = cands.map((c) => demoOf(this.pool[c.item]));
    return orderDemos(fitBudget(ranked, this.program, this.spec.tokenBudget, this.count), this.spec, this.seed, text);
  }
  describe(): unknown {
    return {
      strategy: 'embedding',
      k: this.k,
      order: this.spec.order ?? 'similar-last',
      mmr: this.spec.mmr,
      tokenBudget: this.spec.tokenBudget,
      embedder: this.embedder.id,
      pool: this.pool.map((e) => e.id),
    };
  }
}
