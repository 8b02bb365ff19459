import { z } from 'zod';
import { DATA_ENCODINGS } from './text.ts';

/** Names of the built-in data sets (npm packages read in-process). */
export const BUILTIN_NAMES = ['spamassassin', 'brown-genre', 'sotu-party', 'wordnet-topic'] as const;
export type BuiltinName = (typeof BUILTIN_NAMES)[number];

/** A field path: a key, or a dot path into nested objects (`email.body`). A key that itself contains dots wins over the nested reading. */
export const fieldPathSchema = z.string().min(1, 'expected a field name');

export const fileSourceSchema = z.strictObject({
  /** Data file, relative to the config file's folder. */
  path: z.string().min(1),
  /** Default: from the extension (.jsonl/.ndjson → jsonl, .csv → csv, .json → json). */
  format: z.enum(['jsonl', 'csv', 'json']).optional(),
  /** Keep only the first N records. */
  limit: z.number().int().positive().optional(),
  /** Text encoding of the file (default utf8; invalid UTF-8 is an error naming the line). */
  encoding: z.enum(DATA_ENCODINGS).optional(),
});

export const builtinSourceSchema = z.strictObject({
  builtin: z.string().refine((v) => (BUILTIN_NAMES as readonly string[]).includes(v), {
    error: (iss) => `unknown built-in data set ${JSON.stringify(iss.input)} (known: ${BUILTIN_NAMES.join(', ')})`,
  }),
  /** Cut each text to this many characters (default 1000). */
  maxChars: z.number().int().positive().optional(),
  /** Keep N records evenly spaced over the set (keeps its class mix). */
  limit: z.number().int().positive().optional(),
});

/** `data:` a file path (shorthand), a file source, or a built-in set. */
export const dataSourceSchema = z.union([z.string().min(1), fileSourceSchema, builtinSourceSchema]);

/**
 * The task's data part. The config helper adds `metric` (see metrics' `taskConfigSchema`).
 * `input`: a list of field paths (the example's input keeps the nested shape, so `{{email.body}}` works in templates)
 * or a map name → path (the input gets flat keys `name`). For built-in sets, input defaults to `[text]` and expected to `label`.
 */
export const taskSchema = z.strictObject({
  data: dataSourceSchema,
  input: z.union([z.array(fieldPathSchema).min(1), z.record(z.string().min(1), fieldPathSchema)]).optional(),
  expected: fieldPathSchema.optional(),
  id: fieldPathSchema.optional(),
});

const sizeSchema = z.number().nonnegative();

/**
 * Split sizes are all fractions (each ≤ 1, summing to ≤ 1; any remainder is left unused) or all whole counts.
 * `stratify`: a field path, `false`, or `auto` (default): stratify by the expected field unless it is clearly not
 * categorical (more distinct values than half the examples), which adds a warning.
 * `leakage`: `remove` (default) drops train/dev examples whose normalized input equals a test example's; `report` only lists them.
 */
export const splitSchema = z
  .strictObject({
    train: sizeSchema.default(0.6),
    dev: sizeSchema.default(0.2),
    test: sizeSchema.default(0.2),
    seed: z.number().int().default(42),
    stratify: z.union([z.literal('auto'), z.literal(false), fieldPathSchema]).default('auto'),
    dedupe: z.boolean().default(true),
    leakage: z.enum(['remove', 'report']).default('remove'),
    /** near-duplicates of test examples in train/dev (word-shingle Jaccard, task/neardup.ts): reported (default) or removed; false: not checked */
    nearDuplicates: z
      .union([
        z.literal(false),
        z.strictObject({
          threshold: z.number().gt(0).max(1).default(0.5),
          shingle: z.number().int().min(1).max(10).default(3),
          action: z.enum(['remove', 'report']).default('report'),
        }),
      ])
      .default({ threshold: 0.5, shingle: 3, action: 'report' }),
  })
  .superRefine((s, ctx) => {
    const v = [s.train, s.dev, s.test];
    const fractions = v.every((x) => x <= 1);
    if (fractions) {
      if (v[0] + v[1] + v[2] > 1 + 1e-9)
        ctx.addIssue({
          code: 'custom',
          path: ['test'],
          message: `fractions train+dev+test sum to ${+(v[0] + v[1] + v[2]).toFixed(6)}, more than 1`,
        });
    } else {
      (['train', 'dev', 'test'] as const).forEach((k) => {
        if (!Number.isInteger(s[k]))
          ctx.addIssue({ code: 'custom', path: [k], message: 'expected a whole number (sizes are counts when any size is above 1)' });
      });
    }
  });

export type FileSource = z.infer<typeof fileSourceSchema>;
export type BuiltinSource = z.infer<typeof builtinSourceSchema>;
export type DataSource = z.infer<typeof dataSourceSchema>;
export type TaskConfig = z.infer<typeof taskSchema>;
/** Split config as written (all fields optional). */
export type SplitConfigInput = z.input<typeof splitSchema>;
/** Split config after defaults. */
export type SplitConfig = z.output<typeof splitSchema>;
