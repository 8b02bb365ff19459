// The distill arm's config (kept apart from distill.ts so that parsing a config loads no training code).
import { z } from 'zod';
import { onlyOneOf, onlyOneOfMessage } from '../../prompting/index.ts';
import { trainFields, type FinetuneArmConfig } from './finetune-schema.ts';

export interface DistillArmConfig extends Omit<FinetuneArmConfig, 'kind'> {
  kind: 'distill';
  /** the teacher: the name of another arm of this experiment, or an arm config written inline (any kind) */
  teacher: string | ({ kind: string; name?: string } & Record<string, unknown>);
  /** keep the teacher's whole answer (its reasoning and the answer) as the training target, not only the answer */
  rationales?: boolean;
  /** have the teacher answer at most this many train examples (seeded subset) */
  teacherExamples?: number;
  /** teacher requests in flight (default 8) */
  teacherConcurrency?: number;
}

export const distillArmSchema = z
  .strictObject({
    ...trainFields,
    kind: z.literal('distill'),
    teacher: z.union([z.string().min(1), z.looseObject({ kind: z.string().min(1), name: z.string().optional() })]),
    rationales: z.boolean().optional(),
    teacherExamples: z.number().int().min(1).optional(),
    teacherConcurrency: z.number().int().min(1).max(256).optional(),
  })
  .refine(onlyOneOf, onlyOneOfMessage) as unknown as z.ZodType<DistillArmConfig>;
