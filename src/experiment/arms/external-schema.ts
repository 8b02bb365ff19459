// The external arm's config (kept apart from external.ts so parsing a config loads nothing else).
import { z } from 'zod';
import { onlyOneOf, onlyOneOfMessage, promptFields, type PromptConfig } from '../../prompting/index.ts';

export interface ExternalArmConfig extends PromptConfig {
  name: string;
  kind: 'external';
  /** a models[] id serving the trained model (e.g. vLLM with --enable-lora, an Ollama model, a provider's tuned model) */
  model?: string;
  /** or a folder on disk: a PEFT adapter (adapter_config.json) or a Hugging Face model folder, run by the local engine */
  path?: string;
  /** with `path`: the models[] entry whose settings (temperature, maxTokens, price per hour) the local model takes */
  like?: string;
  /** training cost entered by hand */
  trainingCost?: { usd?: number; seconds?: number };
  /** a trainer's log to read the training time from: HF Trainer's trainer_state.json, or a log printing train_runtime */
  trainerLog?: string;
  /** with trainerLog: USD per GPU hour (cost = runtime × gpus × pricePerHour) */
  pricePerHour?: number;
  gpus?: number;
}

export const externalArmSchema = z
  .strictObject({
    name: z.string().min(1),
    kind: z.literal('external'),
    ...promptFields,
    model: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
    like: z.string().min(1).optional(),
    trainingCost: z.strictObject({ usd: z.number().nonnegative().optional(), seconds: z.number().nonnegative().optional() }).optional(),
    trainerLog: z.string().min(1).optional(),
    pricePerHour: z.number().nonnegative().optional(),
    gpus: z.number().int().min(1).optional(),
  })
  .refine(onlyOneOf, onlyOneOfMessage)
  .refine((c) => Boolean(c.model) !== Boolean(c.path), {
    message: 'give exactly one of model (a models[] id) or path (a PEFT adapter or HF folder)',
  }) as unknown as z.ZodType<ExternalArmConfig>;
