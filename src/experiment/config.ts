// tunelab.yaml: parse (yaml), validate (zod 4 strict schema composed from the modules' fragments),
// and turn every problem into one InputError line naming the file, line and config path.
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { hashOf } from '../core/index.ts';
import YAML from 'yaml';
import { z } from 'zod';
import { InputError, splitSchema } from '../task/index.ts';
import { taskConfigSchema } from '../metrics/index.ts';
import { modelConfigSchema } from '../models/index.ts';
import { armKind, armKinds } from './arms/index.ts';
import { decisionSchema } from '../decide/index.ts';
import { buildConfigJsonSchema, didYouMean, interpolateEnv, preferTypo } from './config-ux.ts';
import { expandArms, type CurveSpec, type RepeatSpec } from './expand.ts';

export const assertSchema = z.strictObject({
  /** every arm named (or every arm, when `arm` is omitted) must reach this metric value */
  minMetric: z
    .union([
      z.number(),
      z.strictObject({ arm: z.string().min(1).optional(), value: z.number() }),
      z.array(z.strictObject({ arm: z.string().min(1).optional(), value: z.number() })),
    ])
    .optional(),
  /** the largest share of test examples whose call failed, per arm (default 0.1) */
  maxErrorRate: z.number().min(0).max(1).optional(),
  /** an arm must beat the baseline by at least this much (metric difference) */
  minDiff: z.strictObject({ arm: z.string().min(1), value: z.number() }).optional(),
});

const armBase = z.looseObject({ name: z.string().min(1), kind: z.string().min(1) });

function topSchema() {
  return z.strictObject({
    /** experiment name (default: the config file's name) */
    experiment: z.string().min(1).optional(),
    description: z.string().optional(),
    task: taskConfigSchema,
    split: splitSchema.optional(),
    models: z.array(modelConfigSchema).min(1),
    arms: z.array(armBase).min(1),
    baseline: z.string().min(1).optional(),
    output: z.string().min(1).default('.tunelab'),
    seed: z.number().int().default(42),
    concurrency: z.number().int().min(1).max(4096).default(16),
    /** arms prepared and evaluated at once (default 1) */
    armConcurrency: z.number().int().min(1).max(64).optional(),
    /** per-call wall-clock limit (ms) passed to models that take one */
    assert: assertSchema.optional(),
    /** what the advisor weighs: volume, horizon, requirements, budgets (src/decide) */
    decision: decisionSchema.optional(),
    /** add the majority and classical baseline arms to accuracy / macro-F1 tasks (default true) */
    baselines: z.boolean().optional(),
  });
}

type Top = z.output<ReturnType<typeof topSchema>>;
export type AssertConfig = z.output<typeof assertSchema>;
export type ArmConfig = { name: string; kind: string; model?: string; [k: string]: unknown };
export interface ExperimentConfig extends Omit<Top, 'arms'> {
  arms: ArmConfig[];
  /** what `curve:`, `repeat:` and the automatic baselines expanded into (arms holds the expanded list) */
  expansion?: { curves: CurveSpec[]; repeats: RepeatSpec[]; baselines: string[] };
}

export interface LoadedConfig {
  config: ExperimentConfig;
  /** absolute path of the config file ("<inline>" when parsed from text) */
  file: string;
  /** folder relative paths in the config resolve against */
  baseDir: string;
  /** absolute output folder */
  outputDir: string;
  /** stable hash of everything that defines the results (not concurrency, output or assertions) */
  hash: string;
}

/** Read and validate a config file. Throws InputError naming file, line and path. */
export function loadConfig(path: string): LoadedConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      path,
      code === 'ENOENT' ? 'config file not found (create one with `tunelab init`)' : `cannot read config (${code})`,
    );
  }
  return parseConfig(text, { file, displayName: path });
}

/** Validate config text. `displayName` is what errors call the file. */
export function parseConfig(text: string, opts: { file?: string; displayName?: string; baseDir?: string } = {}): LoadedConfig {
  const file = opts.file ? resolve(opts.file) : '<inline>';
  const name = opts.displayName ?? (opts.file ? basename(opts.file) : 'tunelab.yaml');
  const baseDir = opts.baseDir ?? (opts.file ? dirname(file) : process.cwd());
  const lines = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? (typeof e.pos?.[0] === 'number' ? lines.linePos(e.pos[0]).line : undefined);
    const msg = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new InputError(line ? `${name}:${line}` : name, `invalid YAML: ${msg}`);
  }
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (raw === null || raw === undefined) throw new InputError(name, 'the config is empty');
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new InputError(name, 'the config must be a mapping of keys (task, models, arms, ...)');

  const where = (path: PropertyKey[], key?: string) => {
    const line = lineOf(doc, lines, path, key);
    const p = formatPath(key === undefined ? path : [...path, key]);
    return `${name}${line ? `:${line}` : ''}${p ? `: ${p}` : ''}`;
  };
  const fail = (issues: z.core.$ZodIssue[], prefix: PropertyKey[] = [], schema?: z.core.$ZodType): never => {
    const first = pickIssue(preferTypo(issues));
    const path = [...prefix, ...first.path];
    const key = first.code === 'unrecognized_keys' ? String(first.keys[0]) : undefined;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    throw new InputError(where(path, key), describeIssue(first, valueAt(raw, path)) + didYouMean(schema, first.path, key) + more);
  };

  interpolateEnv(raw, (path) => where(path));
  const topS = topSchema();
  const top = topS.safeParse(raw);
  if (!top.success) fail(top.error.issues, [], topS);
  const cfg = top.data as Top;

  // Arms: each validated by its kind's own schema, so errors name arms[i].<key>.
  const known = armKinds().map((k) => k.kind);
  const arms: ArmConfig[] = [];
  const names = new Set<string>();
  const modelIds = new Set(cfg.models.map((m: { id: string }) => m.id));
  const expanded = expandArms(cfg.arms, { metricType: cfg.task.metric?.type, baselines: cfg.baselines, where: (path) => where(path) });
  expanded.arms.forEach((a, j) => {
    const i = expanded.sources[j] < 0 ? j : expanded.sources[j];
    const kind = armKind(a.kind);
    if (!kind) {
      throw new InputError(
        where(['arms', i, 'kind']),
        `unknown arm kind '${a.kind}'${known.length ? ` (known: ${known.join(', ')})` : ''}`,
      );
    }
    const r = kind.schema.safeParse(a);
    if (!r.success) fail(r.error.issues, ['arms', i], kind.schema);
    const arm = r.data as ArmConfig;
    if (names.has(arm.name)) throw new InputError(where(['arms', i, 'name']), `duplicate arm name '${arm.name}'`);
    names.add(arm.name);
    if (typeof arm.model === 'string' && !modelIds.has(arm.model) && !arm.model.startsWith('local:')) {
      throw new InputError(where(['arms', i, 'model']), `unknown model '${arm.model}' (models: ${[...modelIds].join(', ')})`);
    }
    arms.push(arm);
  });
  const ids = new Set<string>();
  cfg.models.forEach((m: { id: string }, i: number) => {
    if (ids.has(m.id)) throw new InputError(where(['models', i, 'id']), `duplicate model id '${m.id}'`);
    ids.add(m.id);
  });
  if (cfg.baseline !== undefined && !names.has(cfg.baseline)) {
    throw new InputError(where(['baseline']), `no arm named '${cfg.baseline}' (arms: ${[...names].join(', ')})`);
  }
  const checkArmRef = (arm: string | undefined, path: PropertyKey[]) => {
    if (arm !== undefined && !names.has(arm)) throw new InputError(where(path), `no arm named '${arm}'`);
  };
  const mm = cfg.assert?.minMetric;
  if (Array.isArray(mm)) mm.forEach((m, i) => checkArmRef(m.arm, ['assert', 'minMetric', i, 'arm']));
  else if (mm && typeof mm === 'object') checkArmRef(mm.arm, ['assert', 'minMetric', 'arm']);
  checkArmRef(cfg.assert?.minDiff?.arm, ['assert', 'minDiff', 'arm']);

  const config: ExperimentConfig = {
    ...cfg,
    experiment: cfg.experiment ?? (opts.file ? basename(file).replace(/\.(ya?ml)$/i, '') : 'experiment'),
    arms,
  };
  if (expanded.curves.length || expanded.repeats.length || expanded.baselines.length)
    config.expansion = { curves: expanded.curves, repeats: expanded.repeats, baselines: expanded.baselines };
  const { output: _o, concurrency: _c, armConcurrency: _ac, assert: _a, description: _d, decision: _dec, ...defining } = config;
  return { config, file, baseDir, outputDir: resolve(baseDir, config.output), hash: hashOf(defining, 16) };
}

/** Hash of a value's canonical JSON (core); the config hash keeps 16 hex digits. */
export { hashOf };

// ---------------------------------------------------------------------------------------------
// Issue formatting

export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s ? `.${String(p)}` : String(p);
  }
  return s;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') return Number.isInteger(v) ? `${v}` : `${v}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 37) + '...' : v);
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

const TYPE_WORDS: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  nan: 'a number',
  bigint: 'a whole number',
};

/** Prefer the issue that is most specific (deepest path); unions pick their best branch. */
function pickIssue(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue {
  return issues[0];
}

/** What an invalid_union issue carries, whichever union produced it (plain or discriminated). */
type UnionIssue = z.core.$ZodIssue & { errors?: z.core.$ZodIssue[][]; note?: string; options?: unknown[] };

function unionBranch(issue: UnionIssue): z.core.$ZodIssue | undefined {
  const errors = issue.errors;
  if (!errors?.length) return undefined;
  // A branch that got past the type check (deeper path or a non-type issue) is what the user meant.
  let best: { score: number; issue: z.core.$ZodIssue } | undefined;
  for (const branch of errors) {
    for (const is of branch) {
      const score = is.path.length * 10 + (is.code === 'invalid_type' ? 0 : 5);
      if (!best || score > best.score) best = { score, issue: is };
    }
  }
  return best && best.score > 0 ? best.issue : undefined;
}

export function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type': {
      const want = TYPE_WORDS[issue.expected] ?? issue.expected;
      if (value === undefined) return `required (expected ${want})`;
      return `expected ${want}, got ${typeName(value)}`;
    }
    case 'unrecognized_keys':
      return `unknown key`;
    case 'invalid_value': {
      const vals = issue.values.map((v) => JSON.stringify(v));
      if (value === undefined) return `required (one of ${vals.join(', ')})`;
      return vals.length === 1
        ? `expected ${vals[0]}, got ${typeName(value)}`
        : `expected one of ${vals.join(', ')}, got ${typeName(value)}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array' || issue.origin === 'set') return `needs at least ${min} item${min === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return min === 1 ? 'must not be empty' : `needs at least ${min} characters`;
      return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${min}, got ${typeName(value)}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array' || issue.origin === 'set') return `allows at most ${max} item${max === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return `allows at most ${max} characters`;
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${max}, got ${typeName(value)}`;
    }
    case 'invalid_union': {
      const u: UnionIssue = issue;
      if (u.note === 'No matching discriminator') {
        const opts = u.options?.map((o) => JSON.stringify(o)).join(', ');
        return value === undefined ? `required (one of ${opts})` : `expected one of ${opts}, got ${typeName(value)}`;
      }
      const branch = unionBranch(u);
      if (branch) return describeIssue(branch, value === undefined ? undefined : valueAt(value, branch.path));
      const wants = new Set<string>();
      for (const b of u.errors ?? []) {
        for (const is of b) if (is.code === 'invalid_type') wants.add(TYPE_WORDS[is.expected] ?? is.expected);
        for (const is of b) if (is.code === 'invalid_value') is.values.forEach((v) => wants.add(JSON.stringify(v)));
      }
      if (wants.size)
        return value === undefined
          ? `required (expected ${[...wants].join(' or ')})`
          : `expected ${[...wants].join(' or ')}, got ${typeName(value)}`;
      return issue.message;
    }
    case 'invalid_format':
      return `not a valid ${issue.format}${value !== undefined ? `: ${typeName(value)}` : ''}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    default:
      return issue.message;
  }
}

/** Where the key of a mapping's entry starts and ends in the text. */
function keyRange(map: YAML.YAMLMap, key: PropertyKey): YAML.Range | undefined {
  const item = map.items.find((it) => (YAML.isScalar(it.key) ? it.key.value : it.key) === key);
  return YAML.isNode(item?.key) ? (item.key.range ?? undefined) : undefined;
}

function lineOf(doc: YAML.Document, lines: YAML.LineCounter, path: readonly PropertyKey[], key?: string): number | undefined {
  try {
    // Walk down as far as the document goes; report the deepest node found.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true);
      if (!YAML.isNode(node)) continue;
      if (key !== undefined && n === path.length && YAML.isMap(node)) {
        const r = keyRange(node, key);
        if (r) return lines.linePos(r[0]).line;
      }
      if (n === path.length && path.length > 0 && !YAML.isCollection(node)) {
        const r = node.range;
        if (r) return lines.linePos(r[0]).line;
      }
      // For a missing key or a collection, point at the key of the collection in its parent.
      if (n > 0) {
        const parent = doc.getIn(path.slice(0, n - 1) as unknown[], true);
        if (YAML.isMap(parent)) {
          const r = keyRange(parent, path[n - 1]);
          if (r) return lines.linePos(r[0]).line;
        }
      }
      const r = node.range;
      if (r) return lines.linePos(r[0]).line;
    }
  } catch {
    /* no line: the path alone names the place */
  }
  return undefined;
}

/** The JSON Schema of tunelab.yaml (schema/tunelab.schema.json is this, committed). */
export function configJsonSchema(): Record<string, unknown> {
  return buildConfigJsonSchema(topSchema(), armKinds());
}
