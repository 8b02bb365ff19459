// The `variants` arm: declared alternatives expanded into a grid, scored on dev by successive
// halving within a budget; the best variant is carried to test. Every variant's dev score is in notes.
import { join } from 'node:path';
import { z } from 'zod';
import {
  baseProgram,
  budgetSchema,
  buildVariant,
  Evaluator,
  expandGrid,
  freezeProgram,
  Meter,
  MeteredModel,
  onlyOneOf,
  onlyOneOfMessage,
  preloadPrompt,
  promptFields,
  selectionSchema,
  successiveHalving,
  varySchema,
  writeFrozenPrompt,
  type Budget,
  type CreateOptions,
  type PromptConfig,
  type SearchCandidate,
  type SelectionSpec,
  type VariantPoint,
  type VaryConfig,
} from '../../prompting/index.ts';
import type { Arm, ArmContext, Predictor } from '../types.ts';
import type { ArmKind } from './registry.ts';

export interface VariantsArmConfig extends PromptConfig {
  name: string;
  kind: 'variants';
  model: string;
  /** base few-shot: k random demos, or a selection (alternatives in vary override them) */
  shots?: number;
  selection?: SelectionSpec;
  embedder?: string;
  vary: VaryConfig;
  budget?: Budget;
  /** successive-halving rate (default 2) */
  eta?: number;
  /** grids larger than this are sampled (seeded); default 64 */
  maxVariants?: number;
  concurrency?: number;
}

export const variantsArmSchema = z
  .strictObject({
    name: z.string().min(1),
    kind: z.literal('variants'),
    model: z.string().min(1),
    ...promptFields,
    shots: z.number().int().min(0).optional(),
    selection: selectionSchema.optional(),
    embedder: z.string().min(1).optional(),
    vary: varySchema,
    budget: budgetSchema.optional(),
    eta: z.number().int().min(2).max(8).optional(),
    maxVariants: z.number().int().min(1).max(4096).optional(),
    concurrency: z.number().int().min(1).max(256).optional(),
  })
  .refine(onlyOneOf, onlyOneOfMessage) as unknown as z.ZodType<VariantsArmConfig>;

export function createVariantsArm(config: VariantsArmConfig, opts: CreateOptions = {}): Arm {
  const where = `arms.${config.name}`;
  const pre = preloadPrompt(config, where, opts.baseDir);
  const setup = (ctx: ArmContext) => {
    const seed = config.seed ?? ctx.seed;
    const bctx = { inputFields: ctx.inputFields, labels: ctx.labels ?? ctx.scorer.labels, seed, train: ctx.data.train };
    return {
      seed,
      bctx,
      base: baseProgram(config, pre, bctx),
      defaults: { selection: config.selection, shots: config.shots },
      embedder: config.embedder ? ctx.model(config.embedder) : undefined,
    };
  };
  return {
    name: config.name,
    kind: 'variants',
    async prepare(ctx: ArmContext): Promise<Predictor> {
      const { seed, bctx, base, defaults, embedder } = setup(ctx);
      const meter = new Meter(config.budget ?? {});
      const raw = ctx.model(config.model);
      const metered = new MeteredModel(raw, meter);
      const points = expandGrid(config.vary, config.maxVariants ?? 64, seed);
      const cands: SearchCandidate[] = [];
      for (const p of points) {
        const built = await buildVariant(base, p, defaults, bctx, metered, embedder);
        cands.push({ id: p.id, label: p.label, program: built.program, model: built.model, info: { point: p } });
      }
      const ev = new Evaluator(metered, ctx.scorer, meter, { concurrency: config.concurrency ?? 8, signal: ctx.signal });
      const sh = await successiveHalving(cands, ctx.data.dev, ev, { eta: config.eta, budgetCalls: meter.callsLeft(), seed });
      const bestPoint = points.find((p) => p.id === sh.best.id)!;
      const final = await buildVariant(base, bestPoint, defaults, bctx, raw, embedder);
      const spent = meter.snapshot();
      let frozenPath: string | undefined;
      if (!final.program.selector) {
        frozenPath = join(ctx.workDir, 'frozen-prompt.json');
        writeFrozenPrompt(
          frozenPath,
          freezeProgram(final.program, {
            devScore: sh.bestScore,
            spent,
            meta: { arm: config.name, variant: bestPoint.label, devN: sh.bestN },
          }),
        );
      }
      ctx.log(
        `variants: ${cands.length} variants, best ${bestPoint.label} dev ${sh.bestScore.toFixed(3)} (n=${sh.bestN}); ${spent.calls} calls`,
      );
      const notes = {
        promptHash: final.program.hash,
        best: { id: bestPoint.id, label: bestPoint.label, devScore: sh.bestScore, devN: sh.bestN },
        variants: sh.table.map((r) => ({ id: r.id, label: r.label, hash: r.hash, devScore: r.devScore, devN: r.n, rung: r.rung })),
        rungs: sh.rungs,
        frozenPrompt: frozenPath,
      };
      return {
        model: final.model,
        prompt: final.program,
        spent,
        notes,
        artifact: { kind: 'tunelab.variants', point: bestPoint, hash: final.program.hash, notes },
      };
    },
    async restore(ctx: ArmContext, artifact: unknown): Promise<Predictor> {
      const a = artifact as { kind?: string; point?: VariantPoint; hash?: string; notes?: Record<string, unknown> };
      if (a?.kind !== 'tunelab.variants' || !a.point) return this.prepare(ctx);
      const { bctx, base, defaults, embedder } = setup(ctx);
      const final = await buildVariant(base, a.point, defaults, bctx, ctx.model(config.model), embedder);
      if (final.program.hash !== a.hash) return this.prepare(ctx);
      return {
        model: final.model,
        prompt: final.program,
        spent: { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: 0 },
        notes: a.notes,
        artifact,
      };
    },
  };
}

export const variantsArmKind: ArmKind<VariantsArmConfig> = { kind: 'variants', schema: variantsArmSchema, create: createVariantsArm };
