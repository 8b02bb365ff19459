/**
 * BPE tokenizer compatible with Hugging Face `tokenizer.json` (own code).
 *
 * Covers the layouts Llama-family checkpoints publish:
 * - byte-level BPE (GPT-2, SmolLM2, Llama 3, Qwen2/2.5/3): ByteLevel / Split / Digits pre-tokenizers, NFC, ByteLevel decoder;
 * - SentencePiece-style BPE (Llama 2, TinyLlama): Prepend/Replace normalizers or Metaspace, byte_fallback,
 *   Replace/ByteFallback/Fuse/Strip decoders;
 * - added tokens (split out before pre-tokenization; lstrip/rstrip), TemplateProcessing post-processor.
 * encode caches word -> ids.
 */
import type { Tokenizer } from '../types.ts';
import { EngineIoError } from './errors.ts';
import { PairHeap } from './pair-heap.ts';

// ---------------------------------------------------------------- byte <-> unicode (GPT-2)

const BYTE_TO_CHAR: string[] = [];
const CHAR_TO_BYTE = new Map<string, number>();
{
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  for (let i = 0; i < 256; i++) {
    BYTE_TO_CHAR[bs[i]] = String.fromCharCode(cs[i]);
    CHAR_TO_BYTE.set(String.fromCharCode(cs[i]), bs[i]);
  }
}

/** The 256 byte-level symbols, indexed by byte value. */
export function byteLevelAlphabet(): string[] {
  return BYTE_TO_CHAR.slice();
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

export function bytesToByteLevel(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]];
  return s;
}

export function textToByteLevel(text: string): string {
  return bytesToByteLevel(utf8.encode(text));
}

function byteLevelToBytes(s: string, out: number[]): void {
  for (const ch of s) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b !== undefined) out.push(b);
    else for (const x of utf8.encode(ch)) out.push(x);
  }
}

// ---------------------------------------------------------------- regexes

/** GPT-2's pre-tokenizer pattern (also HF ByteLevel with use_regex). */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
/** Llama 3's Split pattern. */
export const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Qwen2 / Qwen2.5 / Qwen3's Split pattern (Llama 3's with single digits). */
export const QWEN2_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Translate an Oniguruma pattern from tokenizer.json into a JS regex (the constructs published tokenizers use). */
function compilePattern(src: string, where: string): RegExp {
  // (?i:...) groups of literal alternatives -> case-expanded classes
  let s = src.replace(
    /\(\?i:([^()]*)\)/g,
    (_m, body: string) => '(?:' + body.replace(/[a-zA-Z]/g, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`) + ')',
  );
  s = s.replace(/\\A/g, '^').replace(/\\z/g, '$');
  try {
    return new RegExp(s, 'gu');
  } catch (e) {
    throw new EngineIoError(where, `unsupported regex ${JSON.stringify(src)}: ${(e as Error).message}`);
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------- components

type Json = Record<string, any>;
type Normalizer = (s: string) => string;
/** pieces -> pieces; byte-level mapping is one of the steps */
type PreTok = (pieces: string[]) => string[];

function buildNormalizer(cfg: Json | null | undefined, where: string): Normalizer | null {
  if (!cfg) return null;
  switch (cfg.type) {
    case 'Sequence': {
      const fs = (cfg.normalizers as Json[]).map((c) => buildNormalizer(c, where)).filter((f): f is Normalizer => !!f);
      return (s) => fs.reduce((acc, f) => f(acc), s);
    }
    case 'Prepend':
      return (s) => (s.length ? cfg.prepend + s : s);
    case 'Replace': {
      const p =
        cfg.pattern?.String !== undefined ? new RegExp(escapeRegex(cfg.pattern.String), 'gu') : compilePattern(cfg.pattern?.Regex, where);
      return (s) => s.replace(p, cfg.content);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      return (s) => s.normalize(cfg.type);
    case 'Lowercase':
      return (s) => s.toLowerCase();
    case 'Strip':
      return (s) => {
        let r = s;
        if (cfg.left !== false) r = r.replace(/^\s+/u, '');
        if (cfg.right !== false) r = r.replace(/\s+$/u, '');
        return r;
      };
  }
  throw new EngineIoError(where, `unsupported normalizer ${cfg.type}`);
}

function splitBy(re: RegExp, behavior: string, invert: boolean, piece: string): string[] {
  const out: string[] = [];
  const matches: Array<[number, number]> = [];
  re.lastIndex = 0;
  for (let m = re.exec(piece); m; m = re.exec(piece)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    matches.push([m.index, m.index + m[0].length]);
  }
  // segments: [start, end, isMatch]
  const segs: Array<[number, number, boolean]> = [];
  let pos = 0;
  for (const [a, b] of matches) {
    if (a > pos) segs.push([pos, a, false]);
    segs.push([a, b, true]);
    pos = b;
  }
  if (pos < piece.length) segs.push([pos, piece.length, false]);
  const isDelim = (s: [number, number, boolean]) => (invert ? !s[2] : s[2]);
  if (behavior === 'Isolated') for (const s of segs) out.push(piece.slice(s[0], s[1]));
  else if (behavior === 'Removed') {
    for (const s of segs) if (!isDelim(s)) out.push(piece.slice(s[0], s[1]));
  } else if (behavior === 'MergedWithPrevious') {
    for (const s of segs) {
      if (isDelim(s) && out.length) out[out.length - 1] += piece.slice(s[0], s[1]);
      else out.push(piece.slice(s[0], s[1]));
    }
  } else if (behavior === 'MergedWithNext') {
    let carry = '';
    for (const s of segs) {
      if (isDelim(s)) carry += piece.slice(s[0], s[1]);
      else {
        out.push(carry + piece.slice(s[0], s[1]));
        carry = '';
      }
    }
    if (carry) out.push(carry);
  } else if (behavior === 'Contiguous') {
    for (const s of segs) {
      const t = piece.slice(s[0], s[1]);
      if (isDelim(s) && out.length && (out as any)._lastDelim) out[out.length - 1] += t;
      else out.push(t);
      (out as any)._lastDelim = isDelim(s);
    }
  } else throw new Error(`split behavior ${behavior}`);
  return out;
}

interface PreTokInfo {
  byteLevel: boolean;
  kinds: string[];
  deferred: boolean;
}

/** `defer`: this step is the last one, so a ByteLevel step may leave the byte mapping to the BPE stage (so the cache skips it). */
function buildPreTokenizer(cfg: Json | null | undefined, where: string, info: PreTokInfo, defer: boolean): PreTok | null {
  if (!cfg) return null;
  info.kinds.push(cfg.type);
  switch (cfg.type) {
    case 'Sequence': {
      const list = cfg.pretokenizers as Json[];
      const ps = list.map((c, i) => buildPreTokenizer(c, where, info, defer && i === list.length - 1)).filter((f): f is PreTok => !!f);
      return (pieces) => ps.reduce((acc, f) => f(acc), pieces);
    }
    case 'ByteLevel': {
      info.byteLevel = true;
      const re = cfg.use_regex !== false ? compilePattern(GPT2_PATTERN, where) : null;
      const prefix = !!cfg.add_prefix_space;
      if (defer) info.deferred = true;
      const map = defer ? (x: string) => x : textToByteLevel;
      return (pieces) => {
        const out: string[] = [];
        pieces.forEach((p, i) => {
          let q = p;
          if (prefix && i === 0 && !q.startsWith(' ')) q = ' ' + q;
          if (re) {
            re.lastIndex = 0;
            for (let m = re.exec(q); m; m = re.exec(q)) out.push(map(m[0]));
          } else out.push(map(q));
        });
        return out;
      };
    }
    case 'Split': {
      const re =
        cfg.pattern?.String !== undefined ? new RegExp(escapeRegex(cfg.pattern.String), 'gu') : compilePattern(cfg.pattern?.Regex, where);
      const behavior: string = cfg.behavior ?? 'Isolated';
      return (pieces) => pieces.flatMap((p) => splitBy(re, behavior, !!cfg.invert, p));
    }
    case 'Digits': {
      const re = cfg.individual_digits ? /\p{N}/gu : /\p{N}+/gu;
      return (pieces) => pieces.flatMap((p) => splitBy(re, 'Isolated', false, p));
    }
    case 'Whitespace': {
      const re = /\w+|[^\w\s]+/gu;
      return (pieces) => pieces.flatMap((p) => [...p.matchAll(re)].map((m) => m[0]));
    }
    case 'WhitespaceSplit':
      return (pieces) => pieces.flatMap((p) => p.split(/\s+/u).filter((x) => x));
    case 'Metaspace': {
      const rep: string = cfg.replacement ?? '▁';
      const scheme: string = cfg.prepend_scheme ?? (cfg.add_prefix_space === false ? 'never' : 'always');
      return (pieces) => {
        const out: string[] = [];
        pieces.forEach((p, i) => {
          let q = p.replace(/ /g, rep);
          if ((scheme === 'always' || (scheme === 'first' && i === 0)) && !q.startsWith(rep)) q = rep + q;
          if (cfg.split !== false) out.push(...splitBy(new RegExp(escapeRegex(rep), 'gu'), 'MergedWithNext', false, q));
          else out.push(q);
        });
        return out;
      };
    }
  }
  throw new EngineIoError(where, `unsupported pre_tokenizer ${cfg.type}`);
}

type Decoder = (tokens: string[]) => string[];

function buildDecoder(cfg: Json | null | undefined, where: string): Decoder {
  if (!cfg) return (t) => [t.join('')];
  switch (cfg.type) {
    case 'Sequence': {
      const ds = (cfg.decoders as Json[]).map((c) => buildDecoder(c, where));
      return (t) => ds.reduce((acc, d) => d(acc), t);
    }
    case 'ByteLevel':
      return (t) => {
        const bytes: number[] = [];
        for (const s of t) byteLevelToBytes(s, bytes);
        return [utf8Decoder.decode(new Uint8Array(bytes))];
      };
    case 'Replace': {
      const p =
        cfg.pattern?.String !== undefined ? new RegExp(escapeRegex(cfg.pattern.String), 'gu') : compilePattern(cfg.pattern?.Regex, where);
      return (t) => t.map((s) => s.replace(p, cfg.content));
    }
    case 'ByteFallback':
      return (t) => {
        const out: string[] = [];
        let bytes: number[] = [];
        const flush = () => {
          if (bytes.length) {
            out.push(utf8Decoder.decode(new Uint8Array(bytes)));
            bytes = [];
          }
        };
        for (const s of t) {
          const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(s);
          if (m) bytes.push(parseInt(m[1], 16));
          else {
            flush();
            out.push(s);
          }
        }
        flush();
        return out;
      };
    case 'Fuse':
      return (t) => [t.join('')];
    case 'Strip':
      return (t) =>
        t.map((s) => {
          let a = 0,
            b = s.length;
          for (let i = 0; i < (cfg.start ?? 0) && s[a] === cfg.content; i++) a++;
          for (let i = 0; i < (cfg.stop ?? 0) && b > a && s[b - 1] === cfg.content; i++) b--;
          return s.slice(a, b);
        });
    case 'Metaspace': {
      const rep: string = cfg.replacement ?? '▁';
      const strip = (cfg.prepend_scheme ?? (cfg.add_prefix_space === false ? 'never' : 'always')) !== 'never';
      return (t) =>
        t.map((s, i) => {
          let r = s.split(rep).join(' ');
          if (strip && i === 0 && r.startsWith(' ')) r = r.slice(1);
          return r;
        });
    }
  }
  throw new EngineIoError(where, `unsupported decoder ${cfg.type}`);
}

// ---------------------------------------------------------------- heap-based BPE merge

interface MergeInfo {
  rank: number;
  id: number;
}

// ---------------------------------------------------------------- the tokenizer

export interface AddedToken {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

export class BpeTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly specialTokens: string[];
  /** true when the model works on GPT-2 byte-level symbols */
  readonly byteLevel: boolean;
  /** pre-tokenizer component types, in order (e.g. ["Sequence", "Digits", "ByteLevel"]) */
  readonly preTokenizerKinds: string[];
  private readonly json: Json;
  private readonly vocab = new Map<string, number>();
  private readonly idToTok: string[] = [];
  private readonly merges = new Map<number, MergeInfo>();
  private readonly added: AddedToken[];
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly addedRe: RegExp | null;
  private readonly normalizer: Normalizer | null;
  private readonly preTok: PreTok | null;
  private readonly decoder: Decoder;
  private readonly plainByteLevelDecoder: boolean;
  private readonly prefix: number[] = [];
  private readonly suffix: number[] = [];
  private readonly unkId: number | undefined;
  private readonly byteFallback: boolean;
  private readonly fuseUnk: boolean;
  private readonly ignoreMerges: boolean;
  private readonly cache = new Map<string, number[]>();
  private readonly deferByteLevel: boolean;
  private readonly M: number;
  private byteCache: Array<Uint8Array | undefined> = [];

  constructor(json: unknown, where = 'tokenizer.json') {
    const j = json as Json;
    if (!j || typeof j !== 'object' || !j.model) throw new EngineIoError(where, 'not a tokenizer.json (no "model")');
    const model = j.model as Json;
    if (model.type !== undefined && model.type !== 'BPE')
      throw new EngineIoError(where, `model.type ${model.type} is not supported (BPE only)`);
    if (!model.vocab || !model.merges) throw new EngineIoError(where, 'model.vocab and model.merges are required');
    this.json = j;
    let maxId = -1;
    for (const [tok, id] of Object.entries(model.vocab as Record<string, number>)) {
      this.vocab.set(tok, id);
      this.idToTok[id] = tok;
      if (id > maxId) maxId = id;
    }
    this.added = ((j.added_tokens ?? []) as AddedToken[]).map((t) => ({ ...t }));
    for (const t of this.added) {
      this.addedById.set(t.id, t);
      this.addedByContent.set(t.content, t);
      if (this.idToTok[t.id] === undefined) this.idToTok[t.id] = t.content;
      if (!this.vocab.has(t.content)) this.vocab.set(t.content, t.id);
      if (t.id > maxId) maxId = t.id;
    }
    this.vocabSize = maxId + 1;
    this.M = this.vocabSize + 1;
    this.specialTokens = this.added.filter((t) => t.special).map((t) => t.content);
    (model.merges as Array<string | [string, string]>).forEach((m, rank) => {
      let a: string, b: string;
      if (Array.isArray(m)) [a, b] = m;
      else {
        const k = m.indexOf(' ', 1);
        a = m.slice(0, k);
        b = m.slice(k + 1);
      }
      const ia = this.vocab.get(a),
        ib = this.vocab.get(b),
        ic = this.vocab.get(a + b);
      if (ia === undefined || ib === undefined || ic === undefined)
        throw new EngineIoError(where, `merge ${rank} (${JSON.stringify([a, b])}) uses a token missing from the vocab`);
      const key = ia * this.M + ib;
      if (!this.merges.has(key)) this.merges.set(key, { rank, id: ic });
    });
    this.unkId = model.unk_token != null ? this.vocab.get(model.unk_token) : undefined;
    this.byteFallback = !!model.byte_fallback;
    this.fuseUnk = !!model.fuse_unk;
    this.ignoreMerges = !!model.ignore_merges;
    const sorted = this.added.slice().sort((a, b) => b.content.length - a.content.length);
    this.addedRe = sorted.length ? new RegExp(sorted.map((t) => escapeRegex(t.content)).join('|'), 'gu') : null;
    this.normalizer = buildNormalizer(j.normalizer, where);
    const info: PreTokInfo = { byteLevel: false, kinds: [], deferred: false };
    this.preTok = buildPreTokenizer(j.pre_tokenizer, where, info, true);
    this.deferByteLevel = info.deferred;
    this.byteLevel = info.byteLevel;
    this.preTokenizerKinds = info.kinds;
    this.decoder = buildDecoder(j.decoder, where);
    this.plainByteLevelDecoder = j.decoder?.type === 'ByteLevel';
    this.readPostProcessor(j.post_processor, where);
  }

  private readPostProcessor(pp: Json | null | undefined, where: string) {
    if (!pp) return;
    if (pp.type === 'Sequence') {
      for (const p of pp.processors ?? []) this.readPostProcessor(p, where);
      return;
    }
    if (pp.type !== 'TemplateProcessing') return; // ByteLevel etc. do not change ids
    let seen = false;
    for (const piece of pp.single ?? []) {
      if (piece.Sequence) {
        seen = true;
        continue;
      }
      const name = piece.SpecialToken?.id;
      const ids: number[] = pp.special_tokens?.[name]?.ids ?? [this.vocab.get(name)];
      if (ids.some((x) => x === undefined)) throw new EngineIoError(where, `post_processor special token ${name} is not in the vocab`);
      (seen ? this.suffix : this.prefix).push(...ids);
    }
  }

  tokenId(token: string): number | undefined {
    return this.vocab.get(token);
  }
  /** token string of an id (byte-level symbols for byte-level models) */
  idToToken(id: number): string | undefined {
    return this.idToTok[id];
  }
  /** all token strings by id (holes as "") */
  tokens(): string[] {
    return Array.from({ length: this.vocabSize }, (_, i) => this.idToTok[i] ?? '');
  }
  addedTokens(): AddedToken[] {
    return this.added.map((t) => ({ ...t }));
  }
  isSpecial(id: number): boolean {
    return !!this.addedById.get(id)?.special;
  }
  /** merges as "a b" strings, in rank order */
  mergeList(): string[] {
    return (this.json.model.merges as Array<string | [string, string]>).map((m) => (Array.isArray(m) ? `${m[0]} ${m[1]}` : m));
  }

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    const out: number[] = [];
    const add = options.addSpecialTokens !== false;
    if (add) out.push(...this.prefix);
    // split out added tokens
    const segs: Array<string | number> = [];
    let pos = 0;
    if (this.addedRe) {
      this.addedRe.lastIndex = 0;
      for (const m of text.matchAll(this.addedRe)) {
        if (m.index! < pos) continue; // inside a span eaten by rstrip
        const t = this.addedByContent.get(m[0])!;
        let seg = text.slice(pos, m.index);
        if (t.lstrip) seg = seg.replace(/\s+$/u, '');
        segs.push(seg, t.id);
        pos = m.index! + m[0].length;
        if (t.rstrip) while (pos < text.length && /\s/u.test(text[pos])) pos++;
      }
    }
    segs.push(text.slice(pos));
    for (const seg of segs) {
      if (typeof seg === 'number') out.push(seg);
      else if (seg) this.encodeSegment(seg, out);
    }
    if (add) out.push(...this.suffix);
    return out;
  }

  private encodeSegment(seg: string, out: number[]) {
    const s = this.normalizer ? this.normalizer(seg) : seg;
    const pieces = this.preTok ? this.preTok([s]) : [s];
    for (const p of pieces) {
      if (!p) continue;
      const cached = this.cache.get(p);
      if (cached) {
        for (const x of cached) out.push(x);
        continue;
      }
      const ids = this.bpe(this.deferByteLevel ? textToByteLevel(p) : p);
      if (p.length <= 64) {
        if (this.cache.size > 200_000) this.cache.clear();
        this.cache.set(p, ids);
      }
      for (const x of ids) out.push(x);
    }
  }

  private bpe(word: string): number[] {
    if (this.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) return [id];
    }
    const sym: number[] = [];
    for (const ch of word) {
      const id = this.vocab.get(ch);
      if (id !== undefined) {
        sym.push(id);
        continue;
      }
      if (this.byteFallback) {
        let ok = true;
        const bs: number[] = [];
        for (const b of utf8.encode(ch)) {
          const bid = this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
          if (bid === undefined) {
            ok = false;
            break;
          }
          bs.push(bid);
        }
        if (ok) {
          sym.push(...bs);
          continue;
        }
      }
      if (this.unkId === undefined)
        throw new EngineIoError('tokenizer', `symbol ${JSON.stringify(ch)} is not in the vocab and there is no unk_token`);
      if (this.fuseUnk && sym.length && sym[sym.length - 1] === this.unkId) continue;
      sym.push(this.unkId);
    }
    const n = sym.length;
    if (n < 2) return sym;
    const next = new Int32Array(n),
      prev = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new PairHeap();
    for (let i = 0; i + 1 < n; i++) {
      const m = this.merges.get(sym[i] * this.M + sym[i + 1]);
      if (m) heap.push(m.rank, i);
    }
    while (heap.size) {
      const [rank, i] = heap.pop();
      if (!alive[i]) continue;
      const j = next[i];
      if (j < 0) continue;
      const m = this.merges.get(sym[i] * this.M + sym[j]);
      if (!m || m.rank !== rank) continue;
      sym[i] = m.id;
      alive[j] = 0;
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      if (prev[i] >= 0) {
        const mp = this.merges.get(sym[prev[i]] * this.M + sym[i]);
        if (mp) heap.push(mp.rank, prev[i]);
      }
      if (next[i] >= 0) {
        const mn = this.merges.get(sym[i] * this.M + sym[next[i]]);
        if (mn) heap.push(mn.rank, i);
      }
    }
    const res: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) res.push(sym[i]);
    return res;
  }

  decode(ids: number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const skip = !!options.skipSpecialTokens;
    if (this.plainByteLevelDecoder) {
      let total = 0;
      const parts: Uint8Array[] = [];
      for (const id of ids) {
        if (skip && this.addedById.get(id)?.special) continue;
        let b = this.byteCache[id];
        if (!b) {
          const tok = this.idToTok[id];
          if (tok === undefined) continue;
          const arr: number[] = [];
          if (this.addedById.has(id)) arr.push(...utf8.encode(tok));
          else byteLevelToBytes(tok, arr);
          b = this.byteCache[id] = Uint8Array.from(arr);
        }
        parts.push(b);
        total += b.length;
      }
      const all = new Uint8Array(total);
      let o = 0;
      for (const p of parts) {
        all.set(p, o);
        o += p.length;
      }
      return utf8Decoder.decode(all);
    }
    // generic chain over all kept tokens, added tokens included (as the Rust reference does)
    const run: string[] = [];
    for (const id of ids) {
      if (skip && this.addedById.get(id)?.special) continue;
      const tok = this.idToTok[id];
      if (tok !== undefined) run.push(tok);
    }
    return this.decoder(run).join('');
  }

  toJSON(): unknown {
    return this.json;
  }
}

/** Load a tokenizer from a parsed tokenizer.json object (or its text). */
export function loadTokenizer(json: unknown, where = 'tokenizer.json'): BpeTokenizer {
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch (e) {
      throw new EngineIoError(where, `bad JSON: ${(e as Error).message}`);
    }
  }
  return new BpeTokenizer(json, where);
}

/** The tokenizer.json skeleton tunelab writes for a byte-level BPE model. */
export function byteLevelTokenizerJson(vocab: string[], merges: Array<[string, string]>, specialTokens: string[]): Json {
  const v: Record<string, number> = {};
  vocab.forEach((t, i) => {
    v[t] = i;
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialTokens.map((content) => ({
      id: v[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: v,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/**
 * A byte-level tokenizer without merges in Hugging Face form: id b (0..255) is byte b, then the special
 * tokens from 256 (the same ids as the engine's ByteTokenizer), so tiny byte models save as HF folders and GGUF.
 */
export function byteTokenizer(specialTokens: string[] = ['<|bos|>', '<|eos|>', '<|pad|>']): BpeTokenizer {
  const vocab = [...BYTE_TO_CHAR, ...specialTokens];
  const j = byteLevelTokenizerJson(vocab, [], specialTokens);
  return new BpeTokenizer(j, 'byteTokenizer');
}
