import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { canonicalJson, InputError } from '../core/index.ts';
import type { Example } from '../task/index.ts';
import type { Scorer, ScoreResult } from './types.ts';
import { metricSchema, type MetricConfig, type MetricConfigInput } from './schema.ts';
import { canonicalLabel, extractLabel, normalizeText } from './text.ts';

export interface ScorerContext {
  /** folder that relative paths in the metric config (custom scorer, JSON schema file) resolve against */
  baseDir: string;
  /** the data's label set (from loadTask), used when the metric lists none */
  labels?: string[];
  /** config path prefix for error messages (default 'task.metric') */
  where?: string;
}

/** Per-scorer checks of an example's expected output, run by validateExpected before any model call. */
const expectedChecks = new WeakMap<Scorer, (e: Example) => void>();

/**
 * Checks every example's expected output against what the scorer needs (a listed label for accuracy/macro-F1, a number
 * for numeric, JSON for json-schema with fields) and throws an InputError naming the first bad example's file:line.
 * Call it on all examples before evaluating, so bad data fails before any model call.
 */
export function validateExpected(scorer: Scorer, examples: Iterable<Example>): void {
  const check = expectedChecks.get(scorer);
  if (!check) return;
  for (const e of examples) check(e);
}

const exWhere = (e: Example) => (e.source ? `${e.source.file}:${e.source.line}` : `example ${e.id}`);
const result = (pass: boolean, extracted?: string, detail?: string): ScoreResult => ({
  score: pass ? 1 : 0,
  pass,
  ...(extracted !== undefined ? { extracted } : {}),
  ...(detail ? { detail } : {}),
});

function parseCfg(cfg: MetricConfigInput | MetricConfig, where: string): MetricConfig {
  const r = metricSchema.safeParse(cfg);
  if (!r.success) {
    const iss = r.error.issues[0];
    throw new InputError([where, ...iss.path.map(String)].join('.'), iss.message);
  }
  return r.data;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** First number in the text: optional sign, thousands separators, decimals, exponent. */
export function extractNumber(text: string): number | undefined {
  const m = /[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+)(?:[eE][-+]?\d+)?/.exec(text);
  if (!m) return undefined;
  const v = Number(m[0].replace(/,/g, ''));
  return Number.isFinite(v) ? v : undefined;
}

/** Parses JSON from model output: the whole text, a ``` fence, or the first balanced {...} / [...] in it. */
export function extractJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const tryParse = (s: string) => {
    try {
      return { ok: true as const, value: JSON.parse(s) as unknown };
    } catch {
      return undefined;
    }
  };
  const t = text.trim();
  const whole = tryParse(t);
  if (whole) return whole;
  const fence = /```(?:json|JSON)?\s*\n?([\s\S]*?)```/.exec(t);
  if (fence) {
    const f = tryParse(fence[1].trim());
    if (f) return f;
  }
  for (let start = 0; start < t.length; start++) {
    const ch = t[start];
    if (ch !== '{' && ch !== '[') continue;
    let depth = 0;
    let inStr = false;
    for (let i = start; i < t.length; i++) {
      const c = t[i];
      if (inStr) {
        if (c === '\\') i++;
        else if (c === '"') inStr = false;
        continue;
      }
      if (c === '"') inStr = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          const p = tryParse(t.slice(start, i + 1));
          if (p) return p;
          break;
        }
      }
    }
  }
  return { ok: false };
}

function jsonPath(obj: unknown, path: string): unknown {
  if (obj && typeof obj === 'object' && Object.prototype.hasOwnProperty.call(obj, path)) return (obj as Record<string, unknown>)[path];
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (!cur || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function classification(cfg: Extract<MetricConfig, { type: 'accuracy' | 'macro-f1' }>, ctx: ScorerContext, where: string): Scorer {
  const labels = cfg.labels ?? ctx.labels;
  if (!labels || labels.length < 2)
    throw new InputError(
      `${where}.labels`,
      `${cfg.type} needs a label set: list labels in the metric, or use data whose expected field has a few repeated values`,
    );
  const strict = cfg.strict;
  const wanted = (example: Example) => {
    const want = canonicalLabel(example.expected, labels);
    if (want === undefined)
      throw new InputError(exWhere(example), `expected "${example.expected}" is not one of the labels (${labels.join(', ')})`);
    return want;
  };
  const scorer: Scorer = {
    name: cfg.type,
    labels: [...labels],
    score(output, example) {
      const want = wanted(example);
      const got = extractLabel(output, labels, strict);
      return result(got === want, got, got === undefined ? 'no label found in the output' : undefined);
    },
  };
  expectedChecks.set(scorer, (e) => void wanted(e));
  return scorer;
}

async function loadSchema(schema: string | Record<string, unknown>, ctx: ScorerContext, where: string): Promise<Record<string, unknown>> {
  if (typeof schema !== 'string') return schema;
  const p = isAbsolute(schema) ? schema : resolve(ctx.baseDir, schema);
  let text: string;
  try {
    text = await readFile(p, 'utf8');
  } catch {
    throw new InputError(`${where}.schema`, `JSON Schema file not found: ${schema}`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new InputError(schema, `malformed JSON Schema file (${(e as Error).message})`);
  }
}

async function jsonSchemaScorer(cfg: Extract<MetricConfig, { type: 'json-schema' }>, ctx: ScorerContext, where: string): Promise<Scorer> {
  let validate: ((v: unknown) => boolean) & { errors?: unknown } = () => true;
  let errorsText: (errs: unknown) => string = () => '';
  if (cfg.schema !== undefined) {
    const schema = await loadSchema(cfg.schema, ctx, where);
    const is2020 = typeof schema.$schema === 'string' && /2019-09|2020-12/.test(schema.$schema);
    const mod = is2020 ? await import('ajv/dist/2020.js') : await import('ajv');
    const AjvClass = ((mod as { default?: unknown }).default ?? mod) as new (o: object) => {
      compile(s: object): typeof validate;
      errorsText(e: unknown): string;
    };
    const Ctor = ((AjvClass as unknown as { default?: unknown }).default ?? AjvClass) as typeof AjvClass;
    const ajv = new Ctor({ allErrors: false, strict: false });
    try {
      validate = ajv.compile(schema);
    } catch (e) {
      throw new InputError(`${where}.schema`, `invalid JSON Schema (${(e as Error).message})`);
    }
    errorsText = (errs) => ajv.errorsText(errs as never);
  }
  const fields = cfg.fields;
  const wantJson = (example: Example): unknown => {
    try {
      return JSON.parse(example.expected);
    } catch {
      throw new InputError(exWhere(example), `expected output is not JSON (json-schema metric with fields compares against it)`);
    }
  };
  const scorer: Scorer = {
    name: 'json-schema',
    score(output, example) {
      const parsed = extractJson(output);
      if (!parsed.ok) return result(false, undefined, 'output is not JSON');
      const extracted = JSON.stringify(parsed.value);
      if (!validate(parsed.value)) return result(false, extracted, `schema: ${errorsText(validate.errors)}`);
      if (!fields) return result(true, extracted);
      const want = wantJson(example);
      if (fields === '*') {
        const ok = canonicalJson(parsed.value) === canonicalJson(want);
        return result(ok, extracted, ok ? undefined : 'value differs from expected');
      }
      const wrong = fields.filter((f) => canonicalJson(jsonPath(parsed.value, f)) !== canonicalJson(jsonPath(want, f)));
      const score = (fields.length - wrong.length) / fields.length;
      return { score, pass: wrong.length === 0, extracted, ...(wrong.length ? { detail: `fields differ: ${wrong.join(', ')}` } : {}) };
    },
  };
  if (fields) expectedChecks.set(scorer, (e) => void wantJson(e));
  return scorer;
}

type CustomFn = (output: string, example: Example) => unknown;

async function customScorer(cfg: Extract<MetricConfig, { type: 'custom' }>, ctx: ScorerContext, where: string): Promise<Scorer> {
  const p = isAbsolute(cfg.path) ? cfg.path : resolve(ctx.baseDir, cfg.path);
  if (!existsSync(p)) throw new InputError(`${where}.path`, `custom scorer file not found: ${cfg.path}`);
  const url = pathToFileURL(p).href;
  let mod: { default?: unknown };
  try {
    if (/^\.[mc]?ts$/.test(extname(p))) {
      const { tsImport } = await import('tsx/esm/api');
      mod = (await tsImport(url, import.meta.url)) as { default?: unknown };
    } else mod = (await import(url)) as { default?: unknown };
  } catch (e) {
    throw new InputError(cfg.path, `custom scorer failed to load: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  }
  // tsImport of a CommonJS-shaped module can nest the default one level deeper
  let fn = mod.default;
  if (fn && typeof fn === 'object' && typeof (fn as { default?: unknown }).default === 'function')
    fn = (fn as { default: unknown }).default;
  if (typeof fn !== 'function')
    throw new InputError(cfg.path, 'a custom scorer must export a default function (output, example) => number | boolean | {score, pass}');
  const f = fn as CustomFn;
  const threshold = cfg.threshold;
  return {
    name: cfg.name ?? 'custom',
    async score(output, example) {
      const r = await f(output, example);
      if (typeof r === 'boolean') return result(r);
      if (typeof r === 'number') {
        if (!Number.isFinite(r)) throw new InputError(cfg.path, `custom scorer returned ${r} for example ${example.id}`);
        return { score: r, pass: r >= threshold };
      }
      if (
        r &&
        typeof r === 'object' &&
        typeof (r as { score?: unknown }).score === 'number' &&
        Number.isFinite((r as { score: number }).score)
      ) {
        const o = r as { score: number; pass?: unknown; extracted?: unknown; detail?: unknown };
        return {
          score: o.score,
          pass: typeof o.pass === 'boolean' ? o.pass : o.score >= threshold,
          ...(o.extracted !== undefined ? { extracted: String(o.extracted) } : {}),
          ...(o.detail !== undefined ? { detail: String(o.detail) } : {}),
        };
      }
      throw new InputError(
        cfg.path,
        `custom scorer returned ${JSON.stringify(r)} for example ${example.id}; expected a number, a boolean or {score, pass}`,
      );
    },
  };
}

/** Builds the scorer for a metric config (validated here too; errors name `task.metric.<key>`). */
export async function createScorer(cfgIn: MetricConfigInput | MetricConfig, ctx: ScorerContext): Promise<Scorer> {
  const where = ctx.where ?? 'task.metric';
  const cfg = parseCfg(cfgIn, where);
  switch (cfg.type) {
    case 'exact': {
      const norm = cfg.normalize;
      return {
        name: 'exact',
        score: (output, example) => {
          const got = normalizeText(output, norm);
          return result(got === normalizeText(example.expected, norm));
        },
      };
    }
    case 'accuracy':
    case 'macro-f1':
      return classification(cfg, ctx, where);
    case 'contains': {
      const fixed = cfg.value;
      const ic = cfg.ignoreCase;
      return {
        name: 'contains',
        score: (output, example) => {
          const needle = fixed ?? example.expected;
          return result(ic ? output.toLowerCase().includes(needle.toLowerCase()) : output.includes(needle));
        },
      };
    }
    case 'regex': {
      const usesExpected = cfg.pattern.includes('{{expected}}');
      const make = (src: string) => {
        try {
          return new RegExp(src, cfg.flags.replace(/[gy]/g, ''));
        } catch (e) {
          throw new InputError(`${where}.pattern`, `invalid regular expression (${(e as Error).message})`);
        }
      };
      const fixed = usesExpected ? undefined : make(cfg.pattern);
      if (usesExpected) make(cfg.pattern.replaceAll('{{expected}}', 'x'));
      const cache = new Map<string, RegExp>();
      return {
        name: 'regex',
        score: (output, example) => {
          let re = fixed;
          if (!re) {
            re = cache.get(example.expected);
            if (!re) {
              re = make(cfg.pattern.replaceAll('{{expected}}', escapeRe(example.expected)));
              if (cache.size > 10000) cache.clear();
              cache.set(example.expected, re);
            }
          }
          const m = re.exec(output);
          return result(!!m, m ? (m[1] ?? m[0]) : undefined);
        },
      };
    }
    case 'json-schema':
      return jsonSchemaScorer(cfg, ctx, where);
    case 'numeric': {
      const { abs, rel } = cfg;
      const wantNum = (example: Example): number => {
        const e = Number(example.expected.trim().replace(/,/g, ''));
        const want = Number.isFinite(e) && example.expected.trim() !== '' ? e : extractNumber(example.expected);
        if (want === undefined)
          throw new InputError(exWhere(example), `expected output "${example.expected}" is not a number (numeric metric)`);
        return want;
      };
      const scorer: Scorer = {
        name: 'numeric',
        score: (output, example) => {
          const want = wantNum(example);
          const got = extractNumber(output);
          if (got === undefined) return result(false, undefined, 'no number in the output');
          const tol = Math.max(abs, rel * Math.abs(want)) + 1e-12 * Math.max(1, Math.abs(want));
          return result(Math.abs(got - want) <= tol, String(got));
        },
      };
      expectedChecks.set(scorer, (e) => void wantNum(e));
      return scorer;
    }
    case 'custom':
      return customScorer(cfg, ctx, where);
  }
}
