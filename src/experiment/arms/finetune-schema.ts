// The fine-tuned arms' config and schemas, kept apart from the arm itself (finetune.ts) so that parsing a
// config never loads the arm's module: the registry (registry.ts) loads finetune.ts only when a
// fine-tuned arm runs.
import { z } from 'zod';
import { onlyOneOf, onlyOneOfMessage, promptFields, type PromptConfig } from '../../prompting/index.ts';

export interface FinetuneArmConfig extends PromptConfig {
  name: string;
  kind: 'finetune' | 'finetune+prompt';
  /**
   * backend local: a models[] id of a local model, or local:builtin / local:<path>.
   * hosted backends: the models[] id whose endpoint serves the base model; the tuned model answers there too.
   */
  model: string;
  /** where training runs: local (this machine, default), or a hosted jobs API */
  backend?: 'local' | 'openai' | 'together' | 'fireworks';
  /** hosted: the provider's name of the model to fine-tune (default: the models[] entry's model name) */
  baseModel?: string;
  /** hosted: refuse to start a job whose estimated cost (USD) is over this */
  budget?: number;
  /** hosted: USD per 1M trained tokens (overrides the built-in price table) */
  trainingPrice?: number;
  /** hosted: env variable holding the jobs-API key (default OPENAI_API_KEY / TOGETHER_API_KEY / FIREWORKS_API_KEY) */
  apiKeyEnv?: string;
  /** hosted: jobs API base URL (default: the model's endpoint for openai/together, https://api.fireworks.ai/v1 for fireworks) */
  baseURL?: string;
  /** fireworks: account id */
  account?: string;
  /** hosted: added to the tuned model's name */
  suffix?: string;
  /** hosted: seconds between polls (default 10) */
  pollSeconds?: number;
  /** openai backend: multiplier of the provider's learning rate (learningRate is not sent) */
  learningRateMultiplier?: number;
  method?: 'lora' | 'full';
  epochs?: number;
  learningRate?: number;
  rank?: number;
  alpha?: number;
  dropout?: number;
  batchSize?: number;
  targetModules?: string[];
  /** use at most this many training examples (seeded subset of train) */
  trainExamples?: number;
  /** use at most this many dev examples for validation loss (default 64) */
  devExamples?: number;
  maxSteps?: number;
  /** longest training sequence in tokens (default: the model's context) */
  maxSeqLen?: number;
  /** stop after this many validations without improvement (default 3 epochs; 2 validations when the schedule is pinned) */
  patience?: number;
  /** class-balanced sampling: each epoch draws the classes equally often (default off) */
  balance?: boolean;
  /**
   * what the model learns: `answer` (the expected output after the prompt) or `channel` (classification only: the
   * label then the input text, P(label, text); the prediction is the label under which the text is most likely)
   */
  objective?: 'answer' | 'channel';
  /**
   * word dropout: each epoch trains on a fresh copy of the train split in which every word of the input fields is
   * dropped with this probability (0: off; default 0.2 when the schedule is not pinned)
   */
  wordDropout?: number;
  /** finetune+prompt: demonstrations at inference time */
  shots?: number;
  strategy?: 'random' | 'stratified' | 'bm25';
}

/** The fields every trained arm shares (finetune, finetune+prompt, the student of distill). */
export const trainFields = {
  name: z.string().min(1),
  model: z.string().min(1),
  ...promptFields,
  method: z.enum(['lora', 'full']).optional(),
  epochs: z.number().int().min(1).max(100).optional(),
  learningRate: z.number().positive().max(1).optional(),
  rank: z.number().int().min(1).max(256).optional(),
  alpha: z.number().positive().optional(),
  dropout: z.number().min(0).max(0.9).optional(),
  batchSize: z.number().int().min(1).max(512).optional(),
  targetModules: z
    .array(z.enum(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']))
    .min(1)
    .optional(),
  trainExamples: z.number().int().min(1).optional(),
  devExamples: z.number().int().min(0).optional(),
  maxSteps: z.number().int().min(1).optional(),
  maxSeqLen: z.number().int().min(16).optional(),
  patience: z.number().int().min(1).optional(),
  balance: z.boolean().optional(),
  objective: z.enum(['answer', 'channel']).optional(),
  wordDropout: z.number().min(0).max(0.9).optional(),
  backend: z.enum(['local', 'openai', 'together', 'fireworks']).optional(),
  baseModel: z.string().min(1).optional(),
  budget: z.number().nonnegative().optional(),
  trainingPrice: z.number().nonnegative().optional(),
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name such as TOGETHER_API_KEY')
    .optional(),
  baseURL: z.string().url().optional(),
  account: z.string().min(1).optional(),
  suffix: z.string().min(1).max(64).optional(),
  pollSeconds: z.number().positive().optional(),
  learningRateMultiplier: z.number().positive().optional(),
};

export const finetuneArmSchema = z
  .strictObject({ ...trainFields, kind: z.literal('finetune') })
  .refine(onlyOneOf, onlyOneOfMessage) as unknown as z.ZodType<FinetuneArmConfig>;
export const finetunePromptArmSchema = z
  .strictObject({
    ...trainFields,
    kind: z.literal('finetune+prompt'),
    shots: z.number().int().min(0).max(64).optional(),
    strategy: z.enum(['random', 'stratified', 'bm25']).optional(),
  })
  .refine(onlyOneOf, onlyOneOfMessage) as unknown as z.ZodType<FinetuneArmConfig>;
