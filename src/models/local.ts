// The `local` provider: any Hugging Face–layout folder on disk (the built-in model, fine-tuned outputs,
// a PEFT adapter folder over a base) as a ChatModel, through the engine's loader and generator.
// Model ids: `local:builtin` (models/tunelab-base) and `local:<path>`.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
// The engine (and onnxruntime) loads on the first local call, not at import: runs that use only hosted
// models don't pay its start-up cost.
import type { BpeTokenizer, Generator, LlamaConfig, LoraAdapter, TokenizerConfig, applyChatTemplate } from '../engine/index.ts';
import { computeKey, computeModelFor, computeMsOf, generationShape, scoringShape, type ComputeModel } from './local-compute.ts';
import { env as readEnv } from '../core/index.ts';
import { registerProvider } from './registry.ts';
import type { ProviderModel } from './providers/common.ts';
import { ModelError, type ChatMessage, type ChatRequest, type ChatResponse, type CompleteOptions } from './types.ts';

export const BUILTIN_MODEL_NAME = 'tunelab-base';

/** The folder of the shipped model: $TUNELAB_BUILTIN_MODEL, else models/tunelab-base above this file. */
export function builtinModelDir(): string {
  const env = readEnv('TUNELAB_BUILTIN_MODEL');
  if (env) return resolve(env);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = join(dir, 'models', BUILTIN_MODEL_NAME);
    if (existsSync(join(cand, 'config.json'))) return cand;
    dir = dirname(dir);
  }
  return resolve('models', BUILTIN_MODEL_NAME);
}

/** `local:builtin` → the built-in folder; `local:<path>` or `<path>` → that path (relative to `base`, default cwd). */
export function resolveLocalPath(idOrPath: string, base = process.cwd()): string {
  let p = idOrPath.startsWith('local:') ? idOrPath.slice(6) : idOrPath;
  if (p === 'builtin' || p === '' || p === BUILTIN_MODEL_NAME) return builtinModelDir();
  if (p.startsWith('~/')) p = join(readEnv('HOME') ?? '', p.slice(2));
  return isAbsolute(p) ? p : resolve(base, p);
}

interface Loaded {
  dir: string;
  config: LlamaConfig;
  tokenizer: BpeTokenizer;
  tokenizerConfig: TokenizerConfig;
  template: string;
  gen: Generator;
  applyTemplate: typeof applyChatTemplate;
  eos: number[];
  maxNew: number;
  adapter?: LoraAdapter;
  /** onnxruntime intra-op threads (part of the compute calibration's key) */
  threads: number;
}

const loaded = new Map<string, Promise<Loaded>>();

function load(dir: string): Promise<Loaded> {
  let p = loaded.get(dir);
  if (!p) {
    p = (async () => {
      const { Generator, loadHfModel, loadPeftAdapter, applyChatTemplate, chatTemplateOf, runtimeSettings } = await import('../engine/index.ts');
      if (!existsSync(dir)) throw new ModelError(`local:${dir}`, `no model folder at ${dir}${dir === builtinModelDir() ? ' (the built-in model is missing: run `tunelab pretrain recipes/base.yaml`)' : ''}`);
      let baseDir = dir;
      let adapter: LoraAdapter | undefined;
      const isAdapterOnly = existsSync(join(dir, 'adapter_config.json')) && !existsSync(join(dir, 'config.json'));
      if (isAdapterOnly) {
        const a = loadPeftAdapter(dir);
        adapter = a.adapter;
        const base = a.config.base_model_name_or_path;
        if (!base) throw new ModelError(`local:${dir}`, 'adapter_config.json has no base_model_name_or_path');
        baseDir = resolveLocalPath(base, dir);
      }
      const m = loadHfModel(baseDir);
      if (!m.tokenizer) throw new ModelError(`local:${dir}`, `${baseDir} has no tokenizer.json`);
      const tc = m.tokenizerConfig;
      const eosIds = new Set<number>();
      const addEos = (x: unknown) => { if (typeof x === 'number') eosIds.add(x); else if (Array.isArray(x)) x.forEach(addEos); };
      addEos(m.config.eos_token_id);
      addEos(m.generationConfig?.eos_token_id);
      if (typeof tc.eos_token === 'string') { const t = m.tokenizer.tokenId(tc.eos_token); if (t !== undefined) eosIds.add(t); }
      const imEnd = m.tokenizer.tokenId('<|im_end|>');
      if (imEnd !== undefined) eosIds.add(imEnd);
      return {
        dir, config: m.config, tokenizer: m.tokenizer, tokenizerConfig: tc, template: chatTemplateOf(tc),
        gen: new Generator({ config: m.config, weights: m.weights }, adapter ? { adapter } : {}), applyTemplate: applyChatTemplate,
        eos: [...eosIds], maxNew: Number(m.generationConfig?.max_new_tokens ?? 128), adapter, threads: runtimeSettings().threads,
      };
    })();
    loaded.set(dir, p);
    p.catch(() => loaded.delete(dir));
  }
  return p;
}

/** Forget loaded weights (e.g. after a folder was rewritten). */
export function unloadLocalModels(dir?: string): void {
  if (dir) loaded.delete(resolve(dir)); else loaded.clear();
}

export interface LocalModelOptions {
  /** tokens kept free for the answer when a prompt is truncated (default: maxTokens of the request) */
  reserve?: number;
}

/** Process CPU time (user + system, all threads) since `start`, in ms. */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/**
 * The calibrated compute model of a loaded model (local-compute.ts): calls are charged by the tokens they run, not by
 * the CPU time they happened to take on a loaded machine. Run inside the Serial queue (the calibration uses the engine).
 */
function computeModel(m: Loaded): Promise<ComputeModel> {
  const text = m.tokenizer.encode('The quarterly report is attached; please review the figures before the meeting. ', { addSpecialTokens: false });
  const endTok = m.tokenizer.tokenId('<|im_end|>') ?? m.eos[0] ?? 0;
  const idsOf = (n: number) => Array.from({ length: n }, (_, i) => text[i % text.length]);
  return computeModelFor(
    computeKey(m.config as unknown as Record<string, unknown>, m.threads),
    async (kind, n) => {
      if (kind === 'score') {
        const cands = [[text[0], endTok], [text[1 % text.length], endTok]];
        await m.gen.scoreCandidates([idsOf(n)], cands);
        return scoringShape(n, cands.map((c) => c.length));
      }
      const [g] = await m.gen.generate([idsOf(n)], { maxTokens: 8, temperature: 0, eosTokenId: [] });
      return generationShape(n, g.tokens.length);
    },
    { maxPrompt: m.config.max_position_embeddings - 16 },
  );
}

/** Runs one job at a time: the engine computes synchronously, so queued calls just wait their turn. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(f: () => Promise<T>): Promise<T> {
    const r = this.tail.then(f, f);
    this.tail = r.catch(() => undefined);
    return r;
  }
}

export class LocalModel implements ProviderModel {
  readonly endpoint: string;
  private serial = new Serial();
  constructor(readonly id: string, readonly dir: string, private o: LocalModelOptions = {}) {
    this.endpoint = `local:${dir}`;
  }

  /** Load now (otherwise the first call loads). */
  async ready(): Promise<{ config: LlamaConfig; contextLength: number }> {
    const m = await load(this.dir);
    return { config: m.config, contextLength: m.config.max_position_embeddings };
  }

  private render(m: Loaded, messages: ChatMessage[]): string {
    return m.applyTemplate(messages.map((x) => ({ role: x.role, content: x.content })), { chatTemplate: m.template, tokenizerConfig: m.tokenizerConfig, addGenerationPrompt: true });
  }

  /** Prompt token ids, shrinking the longest message (keeping its start) until the prompt fits. */
  private promptIds(m: Loaded, messages: ChatMessage[], reserve: number): number[] {
    const limit = Math.max(8, m.config.max_position_embeddings - reserve);
    let msgs = messages;
    let ids = m.tokenizer.encode(this.render(m, msgs), { addSpecialTokens: false });
    for (let i = 0; i < 6 && ids.length > limit; i++) {
      let k = 0;
      msgs.forEach((x, j) => { if (x.content.length > msgs[k].content.length) k = j; });
      const c = msgs[k].content;
      const keep = Math.max(0, Math.floor(c.length * (1 - (ids.length - limit) / ids.length) * 0.97) - 4);
      msgs = msgs.map((x, j) => (j === k ? { ...x, content: c.slice(0, keep) + ' ...' } : x));
      ids = m.tokenizer.encode(this.render(m, msgs), { addSpecialTokens: false });
    }
    if (ids.length > limit) ids = ids.slice(ids.length - limit);
    return ids;
  }

  /** Tokens of a rendered conversation (chat template applied), for validation and estimates. */
  async countTokens(messages: ChatMessage[]): Promise<number> {
    const m = await load(this.dir);
    return m.tokenizer.encode(m.applyTemplate(messages.map((x) => ({ role: x.role, content: x.content })), { chatTemplate: m.template, tokenizerConfig: m.tokenizerConfig }), { addSpecialTokens: false }).length;
  }

  async complete(req: ChatRequest, options?: CompleteOptions): Promise<ChatResponse> {
    if (req.choices?.length) return this.completeChoice(req, req.choices, options);
    return this.stream(req, () => {}, options);
  }

  /** A closed-choice answer: the candidate with the highest log-likelihood as the whole assistant turn. */
  private async completeChoice(req: ChatRequest, choices: string[], options?: CompleteOptions): Promise<ChatResponse> {
    if (options?.signal?.aborted) throw new ModelError(this.id, 'aborted');
    const t0 = performance.now();
    const { scores, cpuMs, measuredCpuMs } = await this.scoreTimed(req, choices);
    let best = 0;
    for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
    const m = await load(this.dir);
    const input = this.promptIds(m, req.messages, 0).length;
    const output = m.tokenizer.encode(choices[best], { addSpecialTokens: false }).length + 1;
    return { text: choices[best], usage: { input, output }, latencyMs: performance.now() - t0, costUsd: 0, cpuMs, measuredCpuMs };
  }

  /** Generates with text deltas as they come (held back while they could still become a stop sequence). */
  async stream(req: ChatRequest, onDelta: (text: string) => void, options?: CompleteOptions): Promise<ChatResponse> {
    const m = await load(this.dir);
    return this.serial.run(async () => {
      const cm = await computeModel(m);
      const cpu0 = process.cpuUsage();
      if (options?.signal?.aborted) throw new ModelError(this.id, 'aborted');
      const t0 = performance.now();
      const maxTokens = Math.max(1, Math.min(req.maxTokens ?? m.maxNew, m.config.max_position_embeddings - 8));
      const ids = this.promptIds(m, req.messages, this.o.reserve ?? maxTokens);
      const room = m.config.max_position_embeddings - ids.length;
      let sent = '';
      const toks: number[] = [];
      const stops = req.stop?.filter((s) => s) ?? [];
      const [g] = await m.gen.generate([ids], {
        maxTokens: Math.max(1, Math.min(maxTokens, room)), temperature: req.temperature ?? 0, topP: req.topP, seed: req.seed ?? 0,
        stop: stops.length ? stops : undefined, tokenizer: m.tokenizer, eosTokenId: m.eos,
        onToken: (_row, tok) => {
          if (m.eos.includes(tok)) return;
          toks.push(tok);
          const text = m.tokenizer.decode(toks, { skipSpecialTokens: true });
          // hold back text that could still become a stop sequence, and incomplete UTF-8
          let safe = text.endsWith('\uFFFD') ? text.slice(0, -1) : text;
          for (const s of stops) { const i = safe.indexOf(s); if (i >= 0) safe = safe.slice(0, i); for (let k = Math.min(s.length - 1, safe.length); k > 0; k--) if (safe.endsWith(s.slice(0, k))) { safe = safe.slice(0, -k); break; } }
          if (safe.length > sent.length && safe.startsWith(sent)) { onDelta(safe.slice(sent.length)); sent = safe; }
        },
      });
      const text = g.text ?? m.tokenizer.decode(g.tokens, { skipSpecialTokens: true });
      if (text.length > sent.length && text.startsWith(sent)) onDelta(text.slice(sent.length));
      return {
        text, usage: { input: ids.length, output: g.tokens.length }, latencyMs: performance.now() - t0, costUsd: 0,
        cpuMs: computeMsOf(cm, generationShape(ids.length, g.tokens.length)), measuredCpuMs: cpuMsSince(cpu0),
        finishReason: g.finishReason === 'length' ? 'length' : 'stop',
      };
    });
  }

  /** Log-likelihood of each candidate as the whole assistant answer (candidate + end-of-turn). */
  async scoreCandidates(req: ChatRequest, candidates: string[]): Promise<number[]> {
    return (await this.scoreTimed(req, candidates)).scores;
  }

  /** scoreCandidates with its compute (calibrated model, ms) and the process CPU time its job took (ms). */
  private async scoreTimed(req: ChatRequest, candidates: string[]): Promise<{ scores: number[]; cpuMs: number; measuredCpuMs: number }> {
    const m = await load(this.dir);
    return this.serial.run(async () => {
      const cm = await computeModel(m);
      const cpu0 = process.cpuUsage();
      const endTok = m.tokenizer.tokenId('<|im_end|>') ?? m.eos[0];
      const cands = candidates.map((c) => [...m.tokenizer.encode(c, { addSpecialTokens: false }), ...(endTok !== undefined ? [endTok] : [])]);
      const longest = Math.max(...cands.map((c) => c.length));
      const ids = this.promptIds(m, req.messages, longest + 1);
      const [scores] = await m.gen.scoreCandidates([ids], cands);
      const cpuMs = computeMsOf(cm, scoringShape(ids.length, cands.map((c) => c.length)));
      return { scores: scores.map((s) => s.logprob), cpuMs, measuredCpuMs: cpuMsSince(cpu0) };
    });
  }
}

const instances = new Map<string, LocalModel>();

/** A LocalModel for `local:builtin`, `local:<path>` or a path (one instance per folder). */
export function openLocalModel(idOrPath: string, options: LocalModelOptions = {}): LocalModel {
  const dir = resolveLocalPath(idOrPath);
  const id = idOrPath.startsWith('local:') ? idOrPath : `local:${idOrPath}`;
  const key = `${id}|${dir}`;
  let m = instances.get(key);
  if (!m) { m = new LocalModel(id, dir, options); instances.set(key, m); }
  return m;
}

/** Forget the LocalModel for `local:builtin`, `local:<path>` or a path, and its loaded weights. */
export function closeLocalModel(idOrPath: string): void {
  const dir = resolveLocalPath(idOrPath);
  for (const [k, m] of instances) if (m.dir === dir) instances.delete(k);
  loaded.delete(dir);
}

/**
 * Is `idOrPath` (local:<path> or a path) an existing folder inside `root`, symbolic links resolved?
 * For servers that load models only under an allowed root.
 */
export function isLocalModelUnder(idOrPath: string, root: string): boolean {
  try {
    const dir = realpathSync(resolveLocalPath(idOrPath));
    const r = realpathSync(root);
    return (dir === r || dir.startsWith(r.endsWith(sep) ? r : r + sep)) && statSync(dir).isDirectory() && isLocalModelDir(dir);
  } catch {
    return false;
  }
}

/** Does this folder look like a model tunelab can load? */
export function isLocalModelDir(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) || existsSync(join(dir, 'adapter_config.json'));
}

export function readModelConfig(dir: string): LlamaConfig | undefined {
  const f = join(dir, 'config.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : undefined;
}

registerProvider('local', (cfg) => {
  const target = cfg.path ?? cfg.model ?? cfg.id;
  return openLocalModel(target.startsWith('local:') ? target : `local:${target}`);
});
