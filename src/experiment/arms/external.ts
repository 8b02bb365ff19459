// kind: external — a model trained elsewhere joins the comparison: a PEFT adapter or Hugging Face folder
// on disk (run by the local engine where its architecture is supported), or a model served at an
// OpenAI-compatible endpoint (vLLM --enable-lora, Ollama, a provider). Its training cost comes from the
// config or from the trainer's log (HF Trainer's trainer_state.json / train_runtime), so the loop
// `tunelab export` → train on a GPU → compare closes.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { baseProgram, preloadPrompt } from '../../prompting/index.ts';
import { InputError } from '../../core/index.ts';
import type { Arm, ArmContext, Predictor } from '../types.ts';
import type { ArmCreateOptions } from './registry.ts';
import type { ExternalArmConfig } from './external-schema.ts';

export { externalArmSchema, type ExternalArmConfig } from './external-schema.ts';

/** Training seconds (and loss) from a trainer log: trainer_state.json's log_history, or a printed train_runtime. */
export function readTrainerLog(file: string, where: string): { seconds: number; trainLoss?: number; steps?: number } {
  if (!existsSync(file)) throw new InputError(where, `trainer log ${file} not found`);
  const text = readFileSync(file, 'utf8');
  try {
    const j = JSON.parse(text);
    const hist: Record<string, unknown>[] = Array.isArray(j?.log_history) ? j.log_history : [];
    const end = [...hist].reverse().find((h) => typeof h.train_runtime === 'number');
    if (end)
      return {
        seconds: end.train_runtime as number,
        trainLoss: typeof end.train_loss === 'number' ? end.train_loss : undefined,
        steps: typeof j.global_step === 'number' ? j.global_step : undefined,
      };
  } catch {
    /* not JSON: a text log */
  }
  const m = [...text.matchAll(/['"]?train_runtime['"]?\s*[:=]\s*([0-9.]+)/g)].pop();
  if (!m)
    throw new InputError(
      where,
      `no train_runtime in ${file} (expected HF Trainer's trainer_state.json or a log that prints train_runtime)`,
    );
  const loss = [...text.matchAll(/['"]?train_loss['"]?\s*[:=]\s*([0-9.]+)/g)].pop();
  return { seconds: Number(m[1]), trainLoss: loss ? Number(loss[1]) : undefined };
}

export function createExternalArm(config: ExternalArmConfig, opts: ArmCreateOptions = {}): Arm {
  const where = `arms.${config.name}`;
  const pre = preloadPrompt(config, where, opts.baseDir);
  const base = opts.baseDir ?? process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  if (config.path) {
    const dir = abs(config.path);
    if (!existsSync(join(dir, 'config.json')) && !existsSync(join(dir, 'adapter_config.json'))) {
      throw new InputError(
        `${where}.path`,
        `${dir} is neither a Hugging Face model folder (config.json) nor a PEFT adapter (adapter_config.json)`,
      );
    }
  }
  let training: { seconds: number; costUsd: number; source: string; trainLoss?: number; steps?: number } | undefined;
  if (config.trainerLog) {
    const log = readTrainerLog(abs(config.trainerLog), `${where}.trainerLog`);
    const seconds = config.trainingCost?.seconds ?? log.seconds;
    const usd = config.trainingCost?.usd ?? (seconds / 3600) * (config.gpus ?? 1) * (config.pricePerHour ?? 0);
    training = {
      seconds,
      costUsd: usd,
      source:
        config.trainingCost?.usd !== undefined
          ? 'config'
          : `trainer log ${config.trainerLog}${config.pricePerHour === undefined ? ' (no pricePerHour: cost 0)' : ''}`,
      trainLoss: log.trainLoss,
      steps: log.steps,
    };
  } else if (config.trainingCost) {
    training = { seconds: config.trainingCost.seconds ?? 0, costUsd: config.trainingCost.usd ?? 0, source: 'config' };
  }

  async function build(ctx: ArmContext): Promise<Predictor> {
    const seed = config.seed ?? ctx.seed;
    const program = baseProgram(config, pre, {
      inputFields: ctx.inputFields,
      labels: ctx.labels ?? ctx.scorer.labels,
      seed,
      train: ctx.data.train,
    });
    const modelId = config.path ? `local:${abs(config.path)}` : config.model!;
    const model = config.path ? ctx.model(modelId, config.like ? { like: config.like } : undefined) : ctx.model(modelId);
    return {
      model,
      prompt: program,
      spent: { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: 0 },
      ...(training
        ? {
            training: {
              seconds: training.seconds,
              costUsd: training.costUsd,
              modelId,
              details: {
                trainedElsewhere: true,
                costSource: training.source,
                trainLoss: training.trainLoss,
                steps: training.steps,
                gpus: config.gpus,
                pricePerHour: config.pricePerHour,
              },
            },
          }
        : {}),
      notes: { promptHash: program.hash, external: config.path ? { path: abs(config.path) } : { model: config.model } },
    };
  }
  return { name: config.name, kind: 'external', prepare: build, restore: (ctx) => build(ctx) };
}

/** The factory the arm registry loads for kind `external`. */
export const create = createExternalArm;
