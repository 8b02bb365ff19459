import { Ajv } from 'ajv';
import { z } from 'zod';
import { InputError } from '../core/index.ts';
import { extractLabel } from '../metrics/index.ts';

/**
 * Output formats: how the prompt asks for the answer and how the model's output is parsed into
 * the answer the metric scores. `reasoning: true` asks for step-by-step reasoning followed by a
 * final line `Answer: X`, and parsing takes X before applying the format's own parser.
 */
export type FormatSpec =
  | { type: 'text'; reasoning?: boolean; instruction?: string; instruct?: boolean }
  | { type: 'label'; labels?: string[]; strict?: boolean; choices?: boolean; reasoning?: boolean; instruction?: string; instruct?: boolean }
  | { type: 'json'; schema?: Record<string, unknown>; field?: string; reasoning?: boolean; instruction?: string; instruct?: boolean }
  | {
      type: 'regex';
      pattern: string;
      flags?: string;
      group?: number | string;
      reasoning?: boolean;
      instruction?: string;
      instruct?: boolean;
    };

const common = {
  reasoning: z.boolean().optional(),
  /** replaces the format's default instruction text */
  instruction: z.string().optional(),
  /** false: don't append the format instruction to the system message (default true) */
  instruct: z.boolean().optional(),
};

export const formatObjectSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), ...common }),
  z.strictObject({
    type: z.literal('label'),
    labels: z.array(z.string().min(1)).min(1).optional(),
    strict: z.boolean().optional(),
    choices: z.boolean().optional(),
    ...common,
  }),
  z.strictObject({
    type: z.literal('json'),
    schema: z.record(z.string(), z.unknown()).optional(),
    field: z.string().optional(),
    ...common,
  }),
  z.strictObject({
    type: z.literal('regex'),
    pattern: z
      .string()
      .min(1)
      .refine((p) => {
        try {
          new RegExp(p);
          return true;
        } catch {
          return false;
        }
      }, 'not a valid regular expression'),
    flags: z
      .string()
      .regex(/^[dgimsuy]*$/)
      .optional(),
    group: z.union([z.number().int().min(0), z.string()]).optional(),
    ...common,
  }),
]);

/** A format in config: an object, or a shorthand string: text | label | json | cot (label with reasoning) | reasoning */
export const formatSchema = z.union([
  z.enum(['text', 'label', 'json', 'cot', 'reasoning']).transform((s): FormatSpec => {
    if (s === 'cot') return { type: 'label', reasoning: true };
    if (s === 'reasoning') return { type: 'text', reasoning: true };
    return { type: s } as FormatSpec;
  }),
  formatObjectSchema,
]) as unknown as z.ZodType<FormatSpec>;

export function normalizeFormat(f: FormatSpec | string | undefined, labels?: string[]): FormatSpec {
  let spec: FormatSpec;
  if (f === undefined) spec = labels?.length ? { type: 'label' } : { type: 'text' };
  else if (typeof f === 'string') {
    const r = formatSchema.safeParse(f);
    if (!r.success) throw new InputError('format', `unknown format "${f}" (expected text, label, json, cot, reasoning or an object)`);
    spec = r.data;
  } else spec = f;
  if (spec.type === 'label' && !spec.labels?.length) {
    if (!labels?.length) throw new InputError('format', 'a label format needs labels (format.labels, or a classification task)');
    spec = { ...spec, labels: [...labels] };
  }
  return spec;
}

export interface OutputFormat {
  spec: FormatSpec;
  /** text appended to the system message, or '' */
  instruction(): string;
  /** model output -> the answer the metric scores */
  parse(output: string): string;
  /** what a demonstration's assistant turn says for an expected answer (or the model's own output, when bootstrapped) */
  demoAnswer(expected: string, output?: string): string;
}

const ANSWER_RE = /(?:^|\n)[\s>*#_-]*(?:final\s+)?answer\s*[:：]\s*/gi;

/** The text after the last "Answer:" marker, or the whole output when there is none. */
export function extractAnswer(output: string): string {
  let last = -1;
  for (const m of output.matchAll(ANSWER_RE)) last = m.index! + m[0].length;
  if (last < 0) return output.trim();
  return output
    .slice(last)
    .trim()
    .replace(/^\*+|\*+$/g, '')
    .trim();
}

/**
 * The label a free-text answer gives: an exact match of the whole (trimmed) text first; otherwise (unless `strict`)
 * the metrics module's extractLabel: the LAST whole-word mention that is not negated in its clause, so
 * "not ham, it is spam" reads as spam and "ham, not spam" as ham (see metrics/text.ts for the rule).
 */
export function findLabel(text: string, labels: string[], strict = false): string | undefined {
  const clean = text.trim().replace(/^["'`*\s]+|["'`*.!\s]+$/g, '');
  const exact = labels.find((l) => l.toLowerCase() === clean.toLowerCase());
  if (exact !== undefined || strict) return exact;
  return extractLabel(text, labels);
}

/** The first JSON object or array in a text (a ```json fence, or the outermost braces). */
export function extractJson(text: string): unknown {
  const fence = /```(?:json)?\s*\n?([\s\S]*?)```/i.exec(text);
  const candidates = [fence?.[1], text];
  for (const c of candidates) {
    if (c === undefined) continue;
    const t = c.trim();
    try {
      return JSON.parse(t);
    } catch {
      /* fall through */
    }
    for (const [open, close] of [
      ['{', '}'],
      ['[', ']'],
    ] as const) {
      const a = t.indexOf(open);
      const b = t.lastIndexOf(close);
      if (a >= 0 && b > a) {
        try {
          return JSON.parse(t.slice(a, b + 1));
        } catch {
          /* next */
        }
      }
    }
  }
  return undefined;
}

let ajv: Ajv | undefined;

export function createFormat(specIn: FormatSpec): OutputFormat {
  const spec = specIn;
  const reasoning = spec.reasoning === true;
  const reasoningLead = 'Think step by step first. Then give the final answer on its own last line, as "Answer: <answer>".';
  let base: { instruction: string; parse: (s: string) => string };
  switch (spec.type) {
    case 'text':
      base = { instruction: '', parse: (s) => s.trim() };
      break;
    case 'label': {
      const labels = spec.labels ?? [];
      base = {
        instruction: reasoning
          ? `The answer must be exactly one of these labels: ${labels.join(', ')}.`
          : `Answer with exactly one of these labels and nothing else: ${labels.join(', ')}.`,
        parse: (s) => findLabel(s, labels, spec.strict) ?? s.trim(),
      };
      break;
    }
    case 'json': {
      let validate: ((v: unknown) => boolean) | undefined;
      if (spec.schema) {
        ajv ??= new Ajv({ allErrors: false, strict: false });
        try {
          validate = ajv.compile(spec.schema);
        } catch (e) {
          throw new InputError('format.schema', `invalid JSON Schema: ${(e as Error).message}`);
        }
      }
      const field = spec.field;
      base = {
        instruction: `Answer with a single JSON object and nothing else${spec.schema ? `, matching this JSON Schema: ${JSON.stringify(spec.schema)}` : ''}.`,
        parse: (s) => {
          const v = extractJson(s);
          if (v === undefined || (validate && !validate(v))) return s.trim();
          if (field !== undefined) {
            let cur: unknown = v;
            for (const p of field.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined;
            return cur === undefined ? '' : typeof cur === 'string' ? cur : JSON.stringify(cur);
          }
          return JSON.stringify(v);
        },
      };
      break;
    }
    case 'regex': {
      const re = new RegExp(spec.pattern, (spec.flags ?? '').replace('g', ''));
      const group = spec.group ?? 1;
      base = {
        instruction: '',
        parse: (s) => {
          const m = re.exec(s);
          if (!m) return s.trim();
          const g = typeof group === 'number' ? (m[group] ?? m[0]) : m.groups?.[group];
          return (g ?? m[0]).trim();
        },
      };
      break;
    }
  }
  const instruction = spec.instruction ?? [reasoning ? reasoningLead : '', base.instruction].filter(Boolean).join(' ');
  return {
    spec,
    instruction: () => (spec.instruct === false ? '' : instruction),
    parse: (output) => base.parse(reasoning ? extractAnswer(output) : output),
    demoAnswer: (expected, output) => (output !== undefined ? output : reasoning ? `Answer: ${expected}` : expected),
  };
}
