import { z } from 'zod';
import { taskSchema } from '../task/index.ts';

/** Text normalization before comparing. Each flag true = apply that normalization. */
export const normalizeSchema = z.strictObject({
  /** fold case (default false) */
  case: z.boolean().default(false),
  /** collapse runs of whitespace to one space (default true) */
  whitespace: z.boolean().default(true),
  /** strip punctuation and symbols (default false) */
  punctuation: z.boolean().default(false),
  /** trim both ends (default true) */
  trim: z.boolean().default(true),
});

const labelsSchema = z.array(z.string().min(1)).min(2, 'expected at least two labels').optional();

export const exactMetricSchema = z.strictObject({
  type: z.literal('exact'),
  normalize: normalizeSchema.default({ case: false, whitespace: true, punctuation: false, trim: true }),
});

/** Label classification. `labels` default to the data's label set. Extraction: first listed label found (whole word, case-insensitive); `strict` requires the whole normalized output to equal a label. */
export const accuracyMetricSchema = z.strictObject({
  type: z.literal('accuracy'),
  labels: labelsSchema,
  strict: z.boolean().default(false),
});

export const macroF1MetricSchema = z.strictObject({
  type: z.literal('macro-f1'),
  labels: labelsSchema,
  strict: z.boolean().default(false),
});

/** Output contains `value` (default: the expected output). */
export const containsMetricSchema = z.strictObject({
  type: z.literal('contains'),
  value: z.string().min(1).optional(),
  ignoreCase: z.boolean().default(false),
});

/** Output matches `pattern` (JS regex source). `{{expected}}` in the pattern is replaced by the regex-escaped expected output. */
export const regexMetricSchema = z.strictObject({
  type: z.literal('regex'),
  pattern: z.string().min(1),
  flags: z
    .string()
    .regex(/^[dgimsuvy]*$/, 'expected regex flags such as "i" or "ms"')
    .default(''),
});

/**
 * Output (JSON, optionally inside a ``` fence or surrounded by text) is valid against `schema` (inline object, or a path
 * to a .json file relative to the config). `fields`: paths compared (deep equality) with the expected output parsed as JSON;
 * `'*'` compares the whole value. Score = fraction of fields matched (0 when not valid); pass = valid and all match.
 */
export const jsonSchemaMetricSchema = z.strictObject({
  type: z.literal('json-schema'),
  schema: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
  fields: z.union([z.array(z.string().min(1)).min(1), z.literal('*')]).optional(),
});

/** First number in the output within tolerance of the expected number: |x - e| ≤ max(abs, rel·|e|). */
export const numericMetricSchema = z.strictObject({
  type: z.literal('numeric'),
  abs: z.number().nonnegative().default(0),
  rel: z.number().nonnegative().default(0),
});

/** A user's .js/.mjs/.ts file whose default export is `(output, example) => number | boolean | {score, pass?, extracted?, detail?}` (or a Promise of one). pass = score ≥ threshold. */
export const customMetricSchema = z.strictObject({
  type: z.literal('custom'),
  path: z.string().min(1),
  name: z.string().min(1).optional(),
  threshold: z.number().default(0.5),
});

export const metricSchema = z.discriminatedUnion('type', [
  exactMetricSchema,
  accuracyMetricSchema,
  macroF1MetricSchema,
  containsMetricSchema,
  regexMetricSchema,
  jsonSchemaMetricSchema,
  numericMetricSchema,
  customMetricSchema,
]);

/** The whole `task:` section: data part from task plus `metric`. */
export const taskConfigSchema = taskSchema.extend({ metric: metricSchema });

export type MetricConfigInput = z.input<typeof metricSchema>;
export type MetricConfig = z.output<typeof metricSchema>;
export type TaskConfigWithMetric = z.output<typeof taskConfigSchema>;
