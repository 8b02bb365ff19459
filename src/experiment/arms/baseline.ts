// Baseline arms for classification tasks, evaluated like any arm on the same test split:
//   majority   always answers the most frequent train label
//   classical  TF-IDF (word 1–2-grams + character 3–5-grams) with a linear SVM, C chosen on dev (src/decide)
// Both are fitted on train only; their "model" runs in-process, so they cost CPU time only (measured per request).
// Added automatically to accuracy / macro-F1 experiments (`baselines: false` turns that off).
import { z } from 'zod';
import { fitClassical, majorityLabel, accuracyOf, type ClassicalModel } from '../../decide/index.ts';
import { classificationReport } from '../../metrics/index.ts';
import type { ChatModel, ChatRequest, ChatResponse } from '../../models/types.ts';
import type { Example } from '../../task/types.ts';
import type { Arm, ArmContext, Predictor } from '../types.ts';
import type { ArmKind } from './registry.ts';

export interface BaselineArmConfig {
  name: string;
  kind: 'majority' | 'classical';
  /** classical: regularisation values tried on dev */
  cs?: number[];
}

const schemaOf = (kind: 'majority' | 'classical') =>
  z.strictObject({
    name: z.string().min(1),
    kind: z.literal(kind),
    ...(kind === 'classical' ? { cs: z.array(z.number().positive()).min(1).optional() } : {}),
  }) as unknown as z.ZodType<BaselineArmConfig>;

/** The text of an example the classical baseline reads: its input fields' values, one per line. */
export function exampleText(ex: Example, fields: readonly string[]): string {
  const keys = fields.length ? fields : Object.keys(ex.input);
  return keys
    .map((k) => {
      const v = ex.input[k];
      return typeof v === 'string' ? v : JSON.stringify(v ?? '');
    })
    .join('\n');
}

/** $/CPU-hour the baseline arms' stored cost assumes (decide's default computePerHour). */
export const BASELINE_CPU_HOUR_USD = 0.05;

class InProcessModel implements ChatModel {
  constructor(
    readonly id: string,
    private answer: (text: string) => string,
  ) {}
  async complete(req: ChatRequest): Promise<ChatResponse> {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const text = this.answer(req.messages.at(-1)?.content ?? '');
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    // priced like a local model: CPU time at the default $0.05 per CPU-hour (decide rescales to decision.computePerHour)
    return {
      text,
      usage: { input: 0, output: 0 },
      latencyMs: performance.now() - t0,
      costUsd: (cpuMs / 3_600_000) * BASELINE_CPU_HOUR_USD,
      cpuMs,
    };
  }
}

function program(fields: readonly string[], kind: string) {
  return {
    hash: `baseline:${kind}`,
    render: (ex: Example): ChatRequest => ({ messages: [{ role: 'user', content: exampleText(ex, fields) }] }),
    parse: (s: string) => s,
  };
}

export function createBaselineArm(config: BaselineArmConfig): Arm {
  async function build(ctx: ArmContext): Promise<Predictor> {
    const t0 = performance.now();
    const labels = ctx.labels ?? ctx.scorer.labels;
    const fields = ctx.inputFields;
    if (config.kind === 'majority') {
      const m = majorityLabel(ctx.data.train.map((e) => e.expected));
      ctx.log(`majority baseline: always '${m.label}' (${m.count} of ${ctx.data.train.length} train examples)`);
      return {
        model: new InProcessModel('baseline:majority', () => m.label),
        prompt: program(fields, 'majority'),
        spent: { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: performance.now() - t0 },
        notes: { baseline: 'majority', label: m.label, trainCount: m.count, trainSize: ctx.data.train.length },
      };
    }
    const score =
      ctx.scorer.name === 'macro-f1' && labels?.length
        ? (e: readonly string[], p: readonly string[]) => classificationReport(labels, e, p).macroF1
        : accuracyOf;
    const toText = (e: Example) => ({ text: exampleText(e, fields), label: e.expected });
    const cpu0 = process.cpuUsage();
    const clf: ClassicalModel = fitClassical(ctx.data.train.map(toText), ctx.data.dev.map(toText), {
      cs: config.cs,
      seed: ctx.seed,
      score,
    });
    const cpu = process.cpuUsage(cpu0);
    ctx.log(
      `classical baseline: TF-IDF + linear SVM on ${clf.trainSize} train examples, C ${clf.c} chosen on dev (${clf.dev.map((d) => `C ${d.c}: ${d.score.toFixed(3)}`).join(', ')}), fitted in ${Math.round(clf.fitMs)} ms`,
    );
    return {
      model: new InProcessModel('baseline:tfidf-svm', (t) => clf.predict(t)),
      prompt: program(fields, 'classical'),
      spent: { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: performance.now() - t0 },
      training: {
        seconds: (cpu.user + cpu.system) / 1e6,
        costUsd: 0,
        modelId: 'baseline:tfidf-svm',
        details: { method: clf.kind, c: clf.c, dev: clf.dev, trainExamples: clf.trainSize, cpuSeconds: (cpu.user + cpu.system) / 1e6 },
      },
      notes: { baseline: 'classical', method: clf.kind, c: clf.c, dev: clf.dev },
    };
  }
  return { name: config.name, kind: config.kind, prepare: build, restore: (ctx) => build(ctx) };
}

export const majorityArmKind: ArmKind<BaselineArmConfig> = { kind: 'majority', schema: schemaOf('majority'), create: createBaselineArm };
export const classicalArmKind: ArmKind<BaselineArmConfig> = { kind: 'classical', schema: schemaOf('classical'), create: createBaselineArm };
