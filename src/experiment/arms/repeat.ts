// The `repeat` arm: another arm evaluated again, with the repeat number as the request seed, so the response cache
// (keyed by the whole request) does not hand back the first answer. `repeat: n` on an arm expands into the arm
// itself plus n-1 of these (`name#2` ... `name#n`); the report measures agreement across them.
import { z } from 'zod';
import type { Arm, ArmContext, Predictor } from '../types.ts';
import type { PromptProgram } from '../../prompting/types.ts';
import type { Example } from '../../task/types.ts';
import { armKind, type ArmCreateOptions, type ArmKind } from './registry.ts';

export interface RepeatArmConfig {
  name: string;
  kind: 'repeat';
  /** the repeated arm's own config */
  of: { name: string; kind: string; [k: string]: unknown };
  /** 2..n: enters every request as `seed` */
  index: number;
}

export const repeatArmSchema = z
  .strictObject({
    name: z.string().min(1),
    kind: z.literal('repeat'),
    of: z.looseObject({ name: z.string().min(1), kind: z.string().min(1) }),
    index: z.number().int().min(2),
  })
  .superRefine((c, ctx) => {
    const k = armKind(c.of.kind);
    if (!k) return ctx.addIssue({ code: 'custom', path: ['of', 'kind'], message: `unknown arm kind '${c.of.kind}'` });
    const r = k.schema.safeParse(c.of);
    if (!r.success) for (const i of r.error.issues) ctx.addIssue({ ...i, path: ['of', ...i.path] } as never);
  }) as unknown as z.ZodType<RepeatArmConfig>;

/** The program with `seed: index` in every request (and in its hash). */
export function seededProgram(p: PromptProgram, index: number): PromptProgram {
  return {
    hash: `${p.hash}#r${index}`,
    render: (ex: Example) => {
      const r = p.render(ex);
      return r instanceof Promise ? r.then((x) => ({ ...x, seed: index })) : { ...r, seed: index };
    },
    ...(p.parse ? { parse: (s: string) => p.parse!(s) } : {}),
    ...(p.describe ? { describe: () => p.describe!() } : {}),
  };
}

export function createRepeatArm(config: RepeatArmConfig, opts?: ArmCreateOptions): Arm {
  let inner: Arm | undefined;
  const get = async () => {
    if (inner) return inner;
    const k = armKind(config.of.kind)!;
    await k.load?.();
    inner = k.create(config.of, opts);
    return inner;
  };
  const wrap = (p: Predictor): Predictor => ({
    ...p,
    prompt: seededProgram(p.prompt, config.index),
    notes: { ...(p.notes ?? {}), repeatOf: config.of.name, repeat: config.index },
  });
  return {
    name: config.name,
    kind: config.of.kind,
    async prepare(ctx: ArmContext) {
      return wrap(await (await get()).prepare(ctx));
    },
    async restore(ctx: ArmContext, artifact: unknown) {
      const a = await get();
      return wrap(a.restore ? await a.restore(ctx, artifact) : await a.prepare(ctx));
    },
  };
}

export const repeatArmKind: ArmKind<RepeatArmConfig> = { kind: 'repeat', schema: repeatArmSchema, create: createRepeatArm };
