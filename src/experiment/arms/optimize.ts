// The `optimize` arm: an optimizer (bootstrap few-shot, instruction proposal, or a joint
// instruction × demonstrations search) on train + dev within a hard budget, then the frozen prompt
// on test. `load:` reuses a frozen prompt file instead of optimizing.
import { resolve, join } from 'node:path';
import { z } from 'zod';
import {
  baseProgram,
  bootstrapFewShot,
  budgetSchema,
  Evaluator,
  freezeProgram,
  Meter,
  MeteredModel,
  mipro,
  onlyOneOf,
  onlyOneOfMessage,
  preloadPrompt,
  programFromFrozen,
  promptFields,
  proposeInstructions,
  readFrozenPrompt,
  writeFrozenPrompt,
  type Budget,
  type CreateOptions,
  type FrozenPrompt,
  type OptimizeContext,
  type OptimizeResult,
  type PromptConfig,
} from '../../prompting/index.ts';
import { InputError } from '../../core/index.ts';
import type { Arm, ArmContext, Predictor } from '../types.ts';
import type { ArmKind } from './registry.ts';

export interface OptimizeArmConfig extends PromptConfig {
  name: string;
  kind: 'optimize';
  model: string;
  optimizer?: 'bootstrap' | 'instructions' | 'mipro';
  /** a frozen prompt file to reuse (no optimization) */
  load?: string;
  /** hard limits; default { calls: 200 } */
  budget?: Budget;
  /** model that proposes instructions (default: model) */
  proposer?: string;
  /** model that produces bootstrapped demonstrations (default: model) */
  teacher?: string;
  /** demonstrations per set (bootstrap, mipro; default 4) */
  k?: number;
  /** candidate demo sets (bootstrap; default 8) or instructions per round (instructions; default 4) */
  candidates?: number;
  /** proposal rounds (instructions; default 3) */
  rounds?: number;
  /** instruction × demo-set combinations (mipro; default 16) */
  trials?: number;
  /** demo sets (mipro; default 4) */
  demoSets?: number;
  /** train examples run per round to find failures (instructions; default 12) */
  trainBatch?: number;
  /** failures shown to the proposer (default 6) */
  failures?: number;
  teacherShots?: number;
  maxBootstrapped?: number;
  eta?: number;
  concurrency?: number;
  /** also write the frozen prompt here (relative to the working directory) */
  export?: string;
}

export const optimizeArmSchema = z
  .strictObject({
    name: z.string().min(1),
    kind: z.literal('optimize'),
    model: z.string().min(1),
    ...promptFields,
    optimizer: z.enum(['bootstrap', 'instructions', 'mipro']).optional(),
    load: z.string().min(1).optional(),
    budget: budgetSchema.optional(),
    proposer: z.string().min(1).optional(),
    teacher: z.string().min(1).optional(),
    k: z.number().int().min(1).max(64).optional(),
    candidates: z.number().int().min(1).max(256).optional(),
    rounds: z.number().int().min(1).max(50).optional(),
    trials: z.number().int().min(1).max(1024).optional(),
    demoSets: z.number().int().min(1).max(256).optional(),
    trainBatch: z.number().int().min(1).max(1000).optional(),
    failures: z.number().int().min(0).max(50).optional(),
    teacherShots: z.number().int().min(0).max(64).optional(),
    maxBootstrapped: z.number().int().min(1).max(1000).optional(),
    eta: z.number().int().min(2).max(8).optional(),
    concurrency: z.number().int().min(1).max(256).optional(),
    export: z.string().min(1).optional(),
  })
  .refine(onlyOneOf, onlyOneOfMessage)
  .refine((c) => (c.optimizer === undefined) !== (c.load === undefined), {
    message: 'give exactly one of optimizer (bootstrap, instructions, mipro) or load (a frozen prompt file)',
    path: ['optimizer'],
  })
  .refine((c) => c.load === undefined || (c.messages === undefined && c.prompt === undefined), {
    message: 'load: takes the whole prompt from the file; drop messages/prompt',
    path: ['load'],
  }) as unknown as z.ZodType<OptimizeArmConfig>;

export function createOptimizeArm(config: OptimizeArmConfig, opts: CreateOptions = {}): Arm {
  const baseDir = opts.baseDir ?? process.cwd();
  const where = `arms.${config.name}`;
  const pre = config.load ? {} : preloadPrompt(config, where, baseDir);
  const loaded = config.load
    ? (() => {
        try {
          return readFrozenPrompt(config.load!, baseDir);
        } catch (e) {
          if (e instanceof InputError) throw new InputError(`${where}.load: ${e.where}`, e.message.slice(e.where.length + 2));
          throw e;
        }
      })()
    : undefined;
  const fromFrozen = (fp: FrozenPrompt, labels?: string[]) => {
    const request: Record<string, number> = {};
    if (config.temperature !== undefined) request.temperature = config.temperature;
    if (config.maxTokens !== undefined) request.maxTokens = config.maxTokens;
    if (config.seed !== undefined) request.seed = config.seed;
    const program = programFromFrozen(fp, { request, labels });
    return config.format && loaded ? program.with({ format: config.format }) : program;
  };
  return {
    name: config.name,
    kind: 'optimize',
    async restore(ctx: ArmContext, artifact: unknown): Promise<Predictor> {
      const a = artifact as { kind?: string; frozen?: FrozenPrompt; notes?: Record<string, unknown> };
      if (a?.kind !== 'tunelab.optimize' || !a.frozen) return this.prepare(ctx);
      const program = fromFrozen(a.frozen, ctx.labels ?? ctx.scorer.labels);
      if (program.hash !== a.frozen.hash) return this.prepare(ctx);
      ctx.log(`optimize: restored frozen prompt ${program.hash.slice(0, 12)}`);
      return {
        model: ctx.model(config.model),
        prompt: program,
        spent: a.frozen.spent ?? { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: 0 },
        notes: a.notes,
        artifact,
      };
    },
    async prepare(ctx: ArmContext): Promise<Predictor> {
      const t0 = Date.now();
      const seed = config.seed ?? ctx.seed;
      const labels = ctx.labels ?? ctx.scorer.labels;
      const raw = ctx.model(config.model);
      if (loaded) {
        const fromTest = loaded.demos.map((d, i) => ({ d, i })).filter(({ d }) => ctx.isTest?.({ id: d.id, input: d.input }));
        if (fromTest.length) {
          const which = fromTest
            .slice(0, 3)
            .map(({ d, i }) => `demos[${i}]${d.id ? ` (id ${d.id})` : ''}`)
            .join(', ');
          throw new InputError(
            `${where}.load`,
            `${config.load}: ${fromTest.length} demonstration(s) are test examples (${which}); a prompt must not be scored on examples it shows. Freeze it again from a run whose split keeps them out of test, or drop those demos`,
          );
        }
        const program = fromFrozen(loaded, labels);
        ctx.log(`optimize: loaded frozen prompt ${program.hash.slice(0, 12)} from ${config.load}`);
        return {
          model: raw,
          prompt: program,
          spent: { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: Date.now() - t0 },
          notes: {
            promptHash: program.hash,
            loadedFrom: resolve(baseDir, config.load!),
            frozenHash: loaded.hash,
            frozenDevScore: loaded.devScore,
            frozenSpent: loaded.spent,
          },
        };
      }
      const bctx = { inputFields: ctx.inputFields, labels, seed, train: ctx.data.train };
      const base = baseProgram(config, pre, bctx);
      const meter = new Meter(config.budget ?? { calls: 200 });
      const model = new MeteredModel(raw, meter);
      const o: OptimizeContext = {
        train: ctx.data.train,
        dev: ctx.data.dev,
        scorer: ctx.scorer,
        model,
        proposer: config.proposer ? new MeteredModel(ctx.model(config.proposer), meter) : undefined,
        teacher: config.teacher ? new MeteredModel(ctx.model(config.teacher), meter) : undefined,
        meter,
        seed,
        labels,
        inputFields: ctx.inputFields,
        log: ctx.log,
        concurrency: config.concurrency,
        signal: ctx.signal,
      };
      o.evaluator = new Evaluator(model, ctx.scorer, meter, { concurrency: config.concurrency ?? 8, signal: ctx.signal });
      let res: OptimizeResult;
      if (config.optimizer === 'bootstrap') {
        res = await bootstrapFewShot(o, base, {
          k: config.k,
          candidates: config.candidates,
          teacherShots: config.teacherShots,
          maxBootstrapped: config.maxBootstrapped,
          eta: config.eta,
        });
      } else if (config.optimizer === 'instructions') {
        res = await proposeInstructions(o, base, {
          rounds: config.rounds,
          candidates: config.candidates,
          trainBatch: config.trainBatch,
          failures: config.failures,
          eta: config.eta,
        });
      } else {
        res = await mipro(o, base, {
          k: config.k,
          trials: config.trials,
          demoSets: config.demoSets,
          instructions: config.candidates,
          teacherShots: config.teacherShots,
          maxBootstrapped: config.maxBootstrapped,
          failures: config.failures,
          eta: config.eta,
        });
      }
      const spent = meter.snapshot();
      const frozen = freezeProgram(res.program, {
        devScore: res.devScore,
        spent,
        meta: {
          arm: config.name,
          optimizer: config.optimizer,
          model: config.model,
          seed,
          devN: res.devN,
          baselineDevScore: res.baselineScore,
          budget: meter.budget,
        },
      });
      const frozenPath = join(ctx.workDir, 'frozen-prompt.json');
      writeFrozenPrompt(frozenPath, frozen);
      if (config.export) writeFrozenPrompt(resolve(baseDir, config.export), frozen);
      ctx.log(
        `optimize ${config.optimizer}: dev ${res.devScore.toFixed(3)} (n=${res.devN}, base ${res.baselineScore?.toFixed(3) ?? '?'}); ${spent.calls} calls, $${spent.costUsd.toFixed(4)}`,
      );
      const notes = {
        promptHash: res.program.hash,
        optimizer: config.optimizer,
        devScore: res.devScore,
        devN: res.devN,
        baselineDevScore: res.baselineScore,
        candidates: res.table.map((r) => ({ id: r.id, label: r.label, hash: r.hash, devScore: r.devScore, devN: r.n, rung: r.rung })),
        details: res.details,
        frozenPrompt: frozenPath,
        exported: config.export ? resolve(baseDir, config.export) : undefined,
        budget: meter.budget,
      };
      return { model: raw, prompt: res.program, spent, notes, artifact: { kind: 'tunelab.optimize', frozen } };
    },
  };
}

export const optimizeArmKind: ArmKind<OptimizeArmConfig> = { kind: 'optimize', schema: optimizeArmSchema, create: createOptimizeArm };
