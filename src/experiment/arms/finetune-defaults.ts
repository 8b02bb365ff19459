// The training settings of a local `kind: finetune` arm when its config names no hyperparameter (issue 12 goal 1).
// Chosen on wordnet-topic's train+dev (bench/learn --explore: test untouched) and reported on three tasks nobody
// tuned them for (bench/learn: wordnet-topic, brown-genre, sotu-party). A config that pins any of learningRate, epochs or
// maxSteps keeps the earlier behaviour for everything it does not name (LEGACY), so a pinned experiment (the demo)
// trains exactly as before.
import type { FinetuneArmConfig } from './finetune-schema.ts';

/** What the trainer is given; `auto` says whether the measured defaults (true) or the pinned config (false) decided. */
export interface TrainingPlan {
  auto: boolean;
  method: 'lora' | 'full';
  learningRate: number;
  epochs: number;
  batchSize: number;
  rank: number;
  alpha?: number;
  /** class-balanced sampling over the train labels */
  balance: boolean;
  objective: 'answer' | 'channel';
  patience: number;
  /** steps between validations (undefined: the trainer's own default) */
  evalEvery?: number;
  devExamples: number;
  /** warmup steps (undefined: the trainer's own default) */
  warmupSteps?: number;
  /** probability of dropping each word of the input fields, drawn afresh for every epoch (0: off) */
  wordDropout: number;
}

/** The measured defaults (auto mode). */
export const AUTO = {
  full: { learningRate: 3e-4 },
  lora: { learningRate: 1e-3, rank: 16, alpha: 32 },
  batchSize: 8,
  /**
   * the time budget, in tokens fed to the model: epochs = TOKEN_BUDGET / (tokens of one epoch), rounded, within
   * [minEpochs, maxEpochs]: more passes over small or short sets, fewer over large or long ones (tokens estimated from
   * the records' characters, CHARS_PER_TOKEN)
   */
  tokenBudget: 250_000,
  charsPerToken: 3.5,
  /**
   * at least 4 passes: with word dropout the model overfits later; brown-genre (300 long documents, 2 epochs by the
   * budget) measured dev accuracy at the best dev-loss epoch 0.138 after 2 epochs, 0.212 after 6 (levers.ts, full)
   */
  minEpochs: 4,
  maxEpochs: 12,
  /** validation once per epoch; stop after this many epochs without a better dev loss, keep the best epoch */
  patience: 3,
  devExamples: 96,
  /** class-balanced sampling (opt-in with `balance: true`): hurt accuracy on an imbalanced set whose test keeps the imbalance */
  balance: false as boolean,
  /**
   * the answer objective; the generative one (finetune-channel.ts, `objective: channel`) measured worse on the
   * built-in model (wordnet-topic dev: full 13.5% vs 29.7%) and stays opt-in
   */
  objective: 'answer' as 'answer' | 'channel',
  /**
   * word dropout on the input fields, a fresh draw each epoch (answer objective only): the built-in model memorises
   * its train split. Measured on dev (bench/learn/levers.ts, full fine-tune, 8 epochs, dev accuracy at the best
   * dev-loss epoch, without → with 0.2): wordnet-topic 0.323 → 0.396 (96 dev), sotu-party 0.424 → 0.455 (33 dev,
   * best dev loss 0.835 → 0.671). Frozen embeddings measured worse (wordnet-topic dev 0.271 after 6 epochs).
   */
  wordDropout: 0.2,
} as const;

/** The defaults before issue 12 (kept for configs that pin a hyperparameter). */
export const LEGACY = {
  full: { learningRate: 3e-4 },
  lora: { learningRate: 2e-3, rank: 8 },
  batchSize: 8,
  epochs: 3,
  patience: 2,
  devExamples: 64,
} as const;

/** Does the config pin the training schedule (learning rate, epochs or steps)? */
export function pinsSchedule(c: Pick<FinetuneArmConfig, 'learningRate' | 'epochs' | 'maxSteps'>): boolean {
  return c.learningRate !== undefined || c.epochs !== undefined || c.maxSteps !== undefined;
}

/** Characters of a set of chat records (what the token budget is estimated from). */
export function recordChars(records: readonly { messages: readonly { content: string }[] }[]): number {
  let n = 0;
  for (const r of records) for (const m of r.messages) n += m.content.length + 12;
  return n;
}

/**
 * The plan for a local fine-tune from the arm's config, the number of training examples, their labels
 * (classification with a closed label set: `closedLabels`) and their characters (recordChars of the train records). Deterministic: the same inputs give the same plan; it
 * reads nothing of dev or test but dev's size.
 */
export function planTraining(
  config: FinetuneArmConfig,
  data: { trainSize: number; trainLabels?: readonly string[]; closedLabels: boolean; trainChars?: number },
): TrainingPlan {
  const method = config.method ?? 'lora';
  const batchSize = config.batchSize ?? AUTO.batchSize;
  if (pinsSchedule(config)) {
    return {
      auto: false,
      method,
      learningRate: config.learningRate ?? LEGACY[method].learningRate,
      epochs: config.epochs ?? LEGACY.epochs,
      batchSize: config.batchSize ?? LEGACY.batchSize,
      rank: config.rank ?? LEGACY.lora.rank,
      alpha: config.alpha,
      balance: config.balance ?? false,
      objective: config.objective === 'channel' && data.closedLabels ? 'channel' : 'answer',
      patience: config.patience ?? LEGACY.patience,
      devExamples: config.devExamples ?? LEGACY.devExamples,
      wordDropout: config.wordDropout ?? 0,
    };
  }
  const stepsPerEpoch = Math.max(1, Math.ceil(data.trainSize / batchSize));
  // without a character count: a typical short record (100 tokens)
  const epochTokens = Math.max(1, (data.trainChars ?? data.trainSize * 100 * AUTO.charsPerToken) / AUTO.charsPerToken);
  const epochs = Math.max(AUTO.minEpochs, Math.min(AUTO.maxEpochs, Math.round(AUTO.tokenBudget / epochTokens)));
  const classes = new Set(data.trainLabels ?? []).size;
  return {
    auto: true,
    method,
    learningRate: AUTO[method].learningRate,
    epochs,
    batchSize,
    rank: config.rank ?? AUTO.lora.rank,
    alpha: config.alpha ?? (config.rank === undefined ? AUTO.lora.alpha : undefined),
    // measured off: on brown-genre (imbalanced, explore split) balanced epochs gave 7.0% against 22.8% without
    balance: config.balance ?? (AUTO.balance && data.closedLabels && classes >= 2),
    objective: data.closedLabels ? (config.objective ?? AUTO.objective) : 'answer',
    patience: config.patience ?? AUTO.patience,
    evalEvery: stepsPerEpoch,
    devExamples: config.devExamples ?? AUTO.devExamples,
    wordDropout: config.wordDropout ?? AUTO.wordDropout,
  };
}
