// The `fewshot` arm: a template plus demonstrations chosen from train by a selection strategy
// (fixed ids, seeded random, stratified, BM25 or embedding nearest neighbours, MMR diversity).
import { z } from 'zod';
import {
  applySelection,
  baseProgram,
  onlyOneOf,
  onlyOneOfMessage,
  preloadPrompt,
  promptFields,
  selectionFields,
  type CreateOptions,
  type PromptConfig,
  type SelectionSpec,
} from '../../prompting/index.ts';
import type { Arm, ArmContext, Predictor } from '../types.ts';
import type { ArmKind } from './registry.ts';

export interface FewshotArmConfig extends PromptConfig, SelectionSpec {
  name: string;
  kind: 'fewshot';
  model: string;
  /** model whose `embed` serves strategy embedding (default: model) */
  embedder?: string;
}

export const fewshotArmSchema = z
  .strictObject({
    name: z.string().min(1),
    kind: z.literal('fewshot'),
    model: z.string().min(1),
    ...promptFields,
    ...selectionFields,
    embedder: z.string().min(1).optional(),
  })
  .refine(onlyOneOf, onlyOneOfMessage)
  .refine((c) => c.strategy !== 'fixed' || !!c.ids, {
    message: 'strategy fixed needs ids',
    path: ['ids'],
  }) as unknown as z.ZodType<FewshotArmConfig>;

export function createFewshotArm(config: FewshotArmConfig, opts: CreateOptions = {}): Arm {
  const where = `arms.${config.name}`;
  const pre = preloadPrompt(config, where, opts.baseDir);
  return {
    name: config.name,
    kind: 'fewshot',
    async prepare(ctx: ArmContext): Promise<Predictor> {
      const t0 = Date.now();
      const seed = config.seed ?? ctx.seed;
      const bctx = { inputFields: ctx.inputFields, labels: ctx.labels ?? ctx.scorer.labels, seed, train: ctx.data.train };
      const base = baseProgram(config, pre, bctx);
      const sel: SelectionSpec = {
        strategy: config.strategy,
        k: config.k,
        ids: config.ids,
        order: config.order,
        mmr: config.mmr,
        tokenBudget: config.tokenBudget,
        fields: config.fields,
      };
      const raw = ctx.model(config.model);
      const { program, model } = await applySelection(
        base,
        sel,
        bctx,
        raw,
        config.embedder ? ctx.model(config.embedder) : undefined,
        where,
      );
      ctx.log(`fewshot ${config.strategy}: prompt ${program.hash.slice(0, 12)}`);
      return {
        model,
        prompt: program,
        spent: { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: Date.now() - t0 },
        notes: {
          promptHash: program.hash,
          selection: sel,
          staticDemos: program.demos.map((d) => d.id),
          dynamic: config.strategy === 'bm25' || config.strategy === 'embedding',
        },
      };
    },
  };
}

export const fewshotArmKind: ArmKind<FewshotArmConfig> = { kind: 'fewshot', schema: fewshotArmSchema, create: createFewshotArm };
