// Config ergonomics kept out of config.ts: `${VAR}` interpolation in string values, "did you mean"
// for unknown keys, and the JSON Schema of tunelab.yaml generated from the zod schemas.
import { z } from 'zod';
import { InputError } from '../core/index.ts';

const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

/**
 * Replaces `${NAME}` and `${NAME:-default}` in every string value (not keys) with the environment's
 * value, in place; `$${` stays a literal `${`. An unset variable without a default is an InputError
 * naming the place. Secrets are never interpolated: keys are read from the environment by name
 * (`apiKeyEnv`), so they never reach the stored config.
 */
export function interpolateEnv(root: unknown, where: (path: PropertyKey[]) => string, env: NodeJS.ProcessEnv = process.env): void {
  const sub = (s: string, path: PropertyKey[]): string =>
    s
      .split('$${')
      .map((part) =>
        part.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_all, name: string, dflt: string | undefined) => {
          if (SECRET_NAME.test(name))
            throw new InputError(
              where(path),
              `\${${name}} looks like a secret: secrets are not written into the config; name the variable instead (e.g. apiKeyEnv: ${name})`,
            );
          const v = env[name];
          if (v !== undefined && v !== '') return v;
          if (dflt !== undefined) return dflt;
          throw new InputError(where(path), `environment variable ${name} is not set (write \${${name}:-default} for a default)`);
        }),
      )
      .join('${');
  const walk = (v: unknown, path: PropertyKey[]): unknown => {
    if (typeof v === 'string') return v.includes('${') ? sub(v, path) : v;
    if (Array.isArray(v)) {
      v.forEach((x, i) => (v[i] = walk(x, [...path, i])));
      return v;
    }
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) o[k] = walk(o[k], [...path, k]);
      return o;
    }
    return v;
  };
  walk(root, []);
}

function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let prev2 = prev;
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      // a swap of two neighbours counts as one edit
      if (i > 1 && j > 1 && a[i - 1].toLowerCase() === b[j - 2].toLowerCase() && a[i - 2].toLowerCase() === b[j - 1].toLowerCase())
        cur[j] = Math.min(cur[j], prev2[j - 2] + 1);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[n];
}

/** The closest of `known` to `key`, when it is close enough to be a typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(key, k);
    if (!best || d < best.d) best = { k, d };
  }
  if (!best) return undefined;
  return best.d <= (best.k.length <= 3 ? 1 : best.k.length <= 7 ? 2 : 3) ? best.k : undefined;
}

type AnySchema = z.core.$ZodType;

function unwrap(s: AnySchema): AnySchema {
  let cur: AnySchema = s;
  for (let i = 0; i < 10; i++) {
    const def = cur._zod.def as { innerType?: AnySchema; in?: AnySchema; getter?: () => AnySchema };
    if (def.innerType) cur = def.innerType;
    else if (def.in && (def as { type?: string }).type === 'pipe') cur = def.in;
    else if (def.getter) cur = def.getter();
    else break;
  }
  return cur;
}

/** The keys an object schema at `path` knows (unions: every option's keys). */
export function keysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  const out = new Set<string>();
  const visit = (s: AnySchema, i: number) => {
    const u = unwrap(s);
    const def = u._zod.def as {
      type?: string;
      shape?: Record<string, AnySchema>;
      element?: AnySchema;
      options?: AnySchema[];
      valueType?: AnySchema;
    };
    if (def.type === 'union' && def.options) return def.options.forEach((o) => visit(o, i));
    if (i === path.length) {
      if (def.type === 'object' && def.shape) for (const k of Object.keys(def.shape)) out.add(k);
      return;
    }
    const p = path[i];
    if (def.type === 'object' && def.shape && typeof p === 'string' && def.shape[p]) visit(def.shape[p], i + 1);
    else if (def.type === 'array' && def.element && typeof p === 'number') visit(def.element, i + 1);
    else if (def.type === 'record' && def.valueType) visit(def.valueType, i + 1);
  };
  try {
    visit(schema, 0);
  } catch {
    /* a schema shape this walk does not know: no suggestion */
  }
  return [...out];
}

/** " (did you mean `x`?)" for an unknown key, or ''. */
export function didYouMean(schema: AnySchema | undefined, path: readonly PropertyKey[], key: string | undefined): string {
  if (!schema || key === undefined) return '';
  const known = keysAt(schema, path);
  const k = closest(key, known);
  return k ? ` (did you mean \`${k}\`?)` : '';
}

/**
 * The JSON Schema (draft 2020-12) of tunelab.yaml: the top-level schema, with `arms` items as one of the
 * arm kinds' schemas (chosen by `kind`). For editors (yaml-language-server) and for reading.
 */
export function buildConfigJsonSchema(top: AnySchema, kinds: readonly { kind: string; schema: AnySchema }[]): Record<string, unknown> {
  const opts = { io: 'input' as const, unrepresentable: 'any' as const, target: 'draft-2020-12' as const };
  const base = z.toJSONSchema(top, opts) as Record<string, unknown> & { properties?: Record<string, Record<string, unknown>> };
  const arms = kinds.map((k) => {
    const s = z.toJSONSchema(k.schema, opts) as Record<string, unknown>;
    delete s.$schema;
    return { title: `arm of kind ${k.kind}`, if: { properties: { kind: { const: k.kind } }, required: ['kind'] }, then: s };
  });
  if (base.properties?.arms) {
    base.properties.arms = {
      type: 'array',
      minItems: 1,
      description: 'the arms to compare; each is checked against the schema of its kind',
      items: {
        type: 'object',
        required: ['name', 'kind'],
        properties: { name: { type: 'string', minLength: 1 }, kind: { type: 'string', enum: kinds.map((k) => k.kind) } },
        allOf: arms,
      },
    };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'tunelab.schema.json',
    title: 'tunelab.yaml',
    description: 'An experiment for tunelab: prompt engineering vs fine-tuning on your own data.',
    ...base,
  };
}

/**
 * A misspelt key shows as two issues: the unknown key, and the key it meant as missing. Report the
 * unknown key first when it is close to a missing one in the same mapping.
 */
export function preferTypo(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const unknown = issues.filter((i) => i.code === 'unrecognized_keys');
  for (const u of unknown) {
    const parent = JSON.stringify(u.path);
    const missing = issues
      .filter((i) => i.code === 'invalid_type' && i.path.length === u.path.length + 1 && JSON.stringify(i.path.slice(0, -1)) === parent)
      .map((i) => String(i.path.at(-1)));
    if (u.code === 'unrecognized_keys' && u.keys.some((k) => closest(k, missing))) return [u, ...issues.filter((i) => i !== u)];
  }
  return [...issues];
}
