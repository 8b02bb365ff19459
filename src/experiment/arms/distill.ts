// kind: distill — a teacher arm (any arm: typically an optimized prompt on a large model) answers the train
// split (optionally keeping its reasoning); a student is fine-tuned on those answers through any backend
// (local, openai, together, fireworks). The teacher's calls are part of the student's one-off cost; the
// arm's notes carry the teacher-vs-student comparison (teacher cost per request, latency, agreement with
// the gold labels) for the report. Dev keeps its gold labels (validation loss); test is never seen.
import { armKind, loadArmKinds, type ArmCreateOptions } from './registry.ts';
import { createFinetuneArm } from './finetune.ts';
import type { FinetuneArmConfig } from './finetune-schema.ts';
import type { DistillArmConfig } from './distill-schema.ts';
import type { Arm, ArmContext, Predictor } from '../types.ts';
import type { Example } from '../../task/types.ts';
import { InputError, mapLimit, Rng } from '../../core/index.ts';

export { distillArmSchema, type DistillArmConfig } from './distill-schema.ts';

interface TeacherSummary {
  arm: string;
  kind: string;
  modelId: string;
  examples: number;
  calls: number;
  errors: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  /** what preparing the teacher cost (its own optimizer calls, training) */
  prepareCostUsd: number;
  latencyMsMean: number;
  costPerRequestUsd: number;
  /** share of train examples where the teacher's answer matched the gold label */
  agreementWithGold: number;
  rationales: boolean;
}

interface DistillArtifact {
  kind: 'tunelab.distill';
  /** teacher answers (training targets) by train example id */
  labels: Record<string, string>;
  teacher: TeacherSummary;
  student: unknown;
}

export function createDistillArm(config: DistillArmConfig, opts: ArmCreateOptions = {}): Arm {
  const where = `arms.${config.name}`;
  const { teacher: _t, rationales: _r, teacherExamples: _n, teacherConcurrency: _c, ...rest } = config;
  const student = createFinetuneArm({ ...rest, kind: 'finetune' } as FinetuneArmConfig, { baseDir: opts.baseDir });
  let teacherCfg: { name: string; kind: string } & Record<string, unknown>;
  if (typeof config.teacher === 'string') {
    const found = opts.arms?.find((a) => a.name === config.teacher);
    if (!found)
      throw new InputError(
        `${where}.teacher`,
        `no arm named '${config.teacher}'${opts.arms ? ` (arms: ${opts.arms.map((a) => a.name).join(', ')})` : ''}`,
      );
    if (found.name === config.name) throw new InputError(`${where}.teacher`, 'an arm cannot be its own teacher');
    teacherCfg = found as typeof teacherCfg;
  } else {
    teacherCfg = { ...config.teacher, name: config.teacher.name ?? `${config.name}.teacher` };
    const k = armKind(teacherCfg.kind);
    if (!k) throw new InputError(`${where}.teacher.kind`, `unknown arm kind '${teacherCfg.kind}'`);
    const parsed = k.schema.safeParse(teacherCfg);
    if (!parsed.success)
      throw new InputError(`${where}.teacher`, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    teacherCfg = parsed.data;
  }
  if (teacherCfg.kind === 'distill') throw new InputError(`${where}.teacher`, 'a distill arm cannot teach another distill arm');

  function studentCtx(ctx: ArmContext, labels: Record<string, string>): ArmContext {
    const train: Example[] = ctx.data.train.filter((e) => labels[e.id] !== undefined).map((e) => ({ ...e, expected: labels[e.id] }));
    return { ...ctx, data: { ...ctx.data, train } };
  }

  function finish(p: Predictor, t: TeacherSummary, labels: Record<string, string>): Predictor {
    const spent = {
      calls: p.spent.calls + t.calls,
      tokensIn: p.spent.tokensIn + t.tokensIn,
      tokensOut: p.spent.tokensOut + t.tokensOut,
      costUsd: p.spent.costUsd + t.costUsd + t.prepareCostUsd,
      ms: p.spent.ms,
    };
    return {
      ...p,
      spent,
      training: p.training && {
        ...p.training,
        details: {
          ...(p.training.details ?? {}),
          teacher: t.arm,
          teacherCalls: t.calls,
          teacherCostUsd: t.costUsd + t.prepareCostUsd,
          studentTrainingCostUsd: p.training.costUsd,
        },
      },
      notes: {
        ...(p.notes ?? {}),
        distill: {
          teacher: t.arm,
          teacherKind: t.kind,
          teacherModel: t.modelId,
          rationales: t.rationales,
          teacherExamples: t.examples,
          teacherCalls: t.calls,
          teacherErrors: t.errors,
          teacherCostUsd: t.costUsd,
          teacherPrepareCostUsd: t.prepareCostUsd,
          teacherCostPerRequestUsd: t.costPerRequestUsd,
          teacherLatencyMsMean: t.latencyMsMean,
          teacherAgreementWithGold: t.agreementWithGold,
          studentTrainingCostUsd: p.training?.costUsd ?? 0,
          studentModel: p.model.id,
          oneOffCostUsd: spent.costUsd + (p.training?.costUsd ?? 0),
        },
      },
      artifact: { kind: 'tunelab.distill', labels, teacher: t, student: p.artifact } satisfies DistillArtifact,
    };
  }

  async function prepare(ctx: ArmContext): Promise<Predictor> {
    await loadArmKinds([teacherCfg.kind]);
    const k = armKind(teacherCfg.kind);
    if (!k) throw new InputError(`${where}.teacher`, `unknown arm kind '${teacherCfg.kind}'`);
    const teacherArm = k.create(teacherCfg, { baseDir: opts.baseDir, arms: opts.arms });
    ctx.log(`teacher ${teacherCfg.name} (${teacherCfg.kind}): preparing`);
    const tp = await teacherArm.prepare({ ...ctx, workDir: `${ctx.workDir}/teacher`, resume: undefined, save: undefined });
    const seed = config.seed ?? ctx.seed;
    const pool = config.teacherExamples
      ? new Rng((seed + 7) >>> 0 || 1).shuffle(ctx.data.train).slice(0, config.teacherExamples)
      : ctx.data.train;
    const labels: Record<string, string> = {};
    let calls = 0,
      errors = 0,
      tokensIn = 0,
      tokensOut = 0,
      cost = 0,
      latency = 0,
      agree = 0;
    ctx.log(`teacher ${teacherCfg.name} answers ${pool.length} train examples${config.rationales ? ' (keeping its reasoning)' : ''}`);
    await mapLimit(pool, config.teacherConcurrency ?? 8, async (ex) => {
      if (ctx.signal?.aborted) return;
      try {
        const res = await tp.model.complete(await tp.prompt.render(ex), { signal: ctx.signal });
        calls++;
        tokensIn += res.usage.input;
        tokensOut += res.usage.output;
        cost += res.costUsd;
        latency += res.latencyMs;
        const parsed = tp.prompt.parse ? tp.prompt.parse(res.text) : res.text;
        const s = await ctx.scorer.score(parsed, ex);
        if (s.pass) agree++;
        const answer = config.rationales ? res.text.trim() : (s.extracted ?? parsed).trim();
        if (answer) labels[ex.id] = answer;
      } catch (e) {
        if (ctx.signal?.aborted) throw e;
        errors++;
        ctx.log(`teacher failed on ${ex.id}: ${(e as Error).message}`);
      }
    });
    if (ctx.signal?.aborted) throw new Error('stopped while the teacher was answering');
    if (!Object.keys(labels).length) throw new Error(`the teacher answered none of the ${pool.length} train examples`);
    const teacher: TeacherSummary = {
      arm: teacherCfg.name,
      kind: teacherCfg.kind,
      modelId: tp.model.id,
      examples: pool.length,
      calls,
      errors,
      tokensIn,
      tokensOut,
      costUsd: cost,
      prepareCostUsd: (tp.spent?.costUsd ?? 0) + (tp.training?.costUsd ?? 0),
      latencyMsMean: calls ? latency / calls : 0,
      costPerRequestUsd: calls ? cost / calls : 0,
      agreementWithGold: calls ? agree / calls : 0,
      rationales: Boolean(config.rationales),
    };
    ctx.log(
      `teacher: ${calls} calls, $${cost.toFixed(4)}, agrees with the gold label on ${(teacher.agreementWithGold * 100).toFixed(1)}% of train; fine-tuning the student on its answers`,
    );
    const p = await student.prepare(studentCtx(ctx, labels));
    return finish(p, teacher, labels);
  }

  return {
    name: config.name,
    kind: 'distill',
    prepare,
    async restore(ctx, artifact) {
      const a = artifact as DistillArtifact;
      if (a?.kind !== 'tunelab.distill' || !student.restore) return prepare(ctx);
      const p = await student.restore(studentCtx(ctx, a.labels), a.student);
      return finish(p, a.teacher, a.labels);
    },
  };
}

/** The factory the arm registry loads for kind `distill`. */
export const create = createDistillArm;
