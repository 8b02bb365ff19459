// The `prompt` arm: a chat template (given, from a prompt file, or the default), optional static
// few-shot demonstrations drawn seeded from train, an output format; no search.
import { z } from 'zod';
import {
  applySelection,
  baseProgram,
  onlyOneOf,
  onlyOneOfMessage,
  preloadPrompt,
  promptFields,
  type CreateOptions,
  type PromptConfig,
} from '../../prompting/index.ts';
import type { Arm, ArmContext, Predictor } from '../types.ts';
import type { ArmKind } from './registry.ts';

export interface PromptArmConfig extends PromptConfig {
  name: string;
  kind: 'prompt';
  model: string;
  /** k demonstrations drawn seeded from train, rendered as user/assistant turns before the question */
  shots?: number;
}

export const promptArmSchema = z
  .strictObject({
    name: z.string().min(1),
    kind: z.literal('prompt'),
    model: z.string().min(1),
    ...promptFields,
    shots: z.number().int().min(0).optional(),
  })
  .refine(onlyOneOf, onlyOneOfMessage) as unknown as z.ZodType<PromptArmConfig>;

export function createPromptArm(config: PromptArmConfig, opts: CreateOptions = {}): Arm {
  const pre = preloadPrompt(config, `arms.${config.name}`, opts.baseDir);
  return {
    name: config.name,
    kind: 'prompt',
    async prepare(ctx: ArmContext): Promise<Predictor> {
      const t0 = Date.now();
      const seed = config.seed ?? ctx.seed;
      const bctx = { inputFields: ctx.inputFields, labels: ctx.labels ?? ctx.scorer.labels, seed, train: ctx.data.train };
      let program = baseProgram(config, pre, bctx);
      let model = ctx.model(config.model);
      if (config.shots)
        ({ program, model } = await applySelection(
          program,
          { strategy: 'random', k: config.shots },
          bctx,
          model,
          undefined,
          `arms.${config.name}.shots`,
        ));
      ctx.log(`prompt ${program.hash.slice(0, 12)}: ${program.demos.length} demos, format ${program.formatSpec.type}`);
      return {
        model,
        prompt: program,
        spent: { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: Date.now() - t0 },
        notes: { promptHash: program.hash, demos: program.demos.map((d) => d.id), format: program.formatSpec, promptFile: pre.file?.file },
      };
    },
  };
}

export const promptArmKind: ArmKind<PromptArmConfig> = { kind: 'prompt', schema: promptArmSchema, create: createPromptArm };
