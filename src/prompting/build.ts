import { z } from 'zod';
import type { ChatMessage, ChatModel } from '../models/types.ts';
import type { Example } from '../task/types.ts';
import { InputError } from '../core/index.ts';
import { formatSchema, type FormatSpec } from './format.ts';
import { loadPromptFile, messageSchema, programFromFrozen, type PromptFile } from './files.ts';
import { defaultMessages, TemplateProgram, type Demo, type RequestOptions } from './program.ts';
import { Bm25Selector, EmbeddingSelector, isDynamic, selectStatic, tokenCounter, type SelectionSpec } from './select.ts';
import { resolveMessageIncludes } from './template.ts';

/** Config fields every prompt arm kind shares. */
export const promptFields = {
  /** chat messages with {{field}} variables; `{{> file}}` includes */
  messages: z.array(messageSchema).min(1).optional(),
  /** a prompt file (.md with front matter, .yaml, or a frozen prompt .json), relative to the config file */
  prompt: z.string().min(1).optional(),
  format: formatSchema.optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().optional(),
  seed: z.number().int().optional(),
};

export interface PromptConfig {
  messages?: ChatMessage[];
  prompt?: string;
  format?: FormatSpec;
  temperature?: number;
  maxTokens?: number;
  seed?: number;
}

export const onlyOneOf = (c: { messages?: unknown; prompt?: unknown }) => !(c.messages !== undefined && c.prompt !== undefined);
export const onlyOneOfMessage = { message: 'give either messages or prompt, not both', path: ['prompt'] };

/** What building a program needs from the experiment. */
/** Second argument of the arm factories: where relative paths in the arm config start. */
export interface CreateOptions {
  baseDir?: string;
}

export interface BuildContext {
  inputFields: string[];
  labels?: string[];
  seed: number;
  train: readonly Example[];
}

/** Read the prompt file now (at config time), so a bad file fails before anything runs. */
/** `baseDir`: where relative paths start (the config file's folder; default the working directory). */
export function preloadPrompt(cfg: PromptConfig, where: string, baseDir = process.cwd()): { file?: PromptFile; messages?: ChatMessage[] } {
  if (cfg.prompt !== undefined) {
    try {
      return { file: loadPromptFile(cfg.prompt, baseDir) };
    } catch (e) {
      if (e instanceof InputError && !e.where.startsWith(where))
        throw new InputError(`${where}.prompt: ${e.where}`, e.message.slice(e.where.length + 2));
      throw e;
    }
  }
  if (cfg.messages) return { messages: resolveMessageIncludes(cfg.messages, baseDir, `${where}.messages`) };
  return {};
}

export function requestOptions(cfg: PromptConfig, fileReq?: RequestOptions): RequestOptions {
  const r: RequestOptions = { ...(fileReq ?? {}) };
  if (cfg.temperature !== undefined) r.temperature = cfg.temperature;
  if (cfg.maxTokens !== undefined) r.maxTokens = cfg.maxTokens;
  if (cfg.seed !== undefined) r.seed = cfg.seed;
  return r;
}

/** The base program of an arm: its messages (given, from a file, or the default template), demos from the file, format. */
export function baseProgram(cfg: PromptConfig, pre: { file?: PromptFile; messages?: ChatMessage[] }, ctx: BuildContext): TemplateProgram {
  if (pre.file?.frozen) {
    const p = programFromFrozen(pre.file.frozen, { labels: ctx.labels });
    const patch: { format?: FormatSpec; request?: RequestOptions } = { request: requestOptions(cfg, p.request) };
    if (cfg.format) patch.format = cfg.format;
    return p.with(patch);
  }
  const messages = pre.file?.messages ?? pre.messages ?? defaultMessages(ctx.inputFields, ctx.labels);
  return new TemplateProgram({
    messages,
    demos: pre.file?.demos,
    format: cfg.format ?? pre.file?.format,
    labels: ctx.labels,
    request: requestOptions(cfg, pre.file?.request),
  });
}

/**
 * Apply a few-shot selection to a program. Static strategies add demos to the template; bm25 and
 * embedding add a per-example selector (the embedding pool is embedded here). The model is returned as given.
 */
export async function applySelection(
  program: TemplateProgram,
  sel: SelectionSpec,
  ctx: BuildContext,
  model: ChatModel,
  embedder?: ChatModel,
  where = 'selection',
): Promise<{ program: TemplateProgram; model: ChatModel }> {
  const count = tokenCounter(model);
  if (!isDynamic(sel)) {
    const demos: Demo[] = selectStatic(ctx.train, sel, ctx.seed, { program, count, where });
    return { program: program.with({ demos: [...program.demos, ...demos] }), model };
  }
  if (sel.strategy === 'bm25') {
    const selector = new Bm25Selector(ctx.train, sel, ctx.seed, program, count);
    return { program: program.with({ selector }), model };
  }
  const emb = embedder ?? model;
  const es = new EmbeddingSelector(ctx.train, sel, ctx.seed, emb, program, count);
  await es.init();
  return { program: program.with({ selector: es }), model };
}

/** `budget:` in arm configs: hard limits on the calls, cost and tokens spent preparing the arm. */
export const budgetSchema = z.strictObject({
  calls: z.number().int().positive().optional(),
  costUsd: z.number().positive().optional(),
  tokens: z.number().int().positive().optional(),
});
