import { InputError } from './errors.ts';

export type EnvSource = Readonly<Record<string, string | undefined>>;

/** An environment variable, or undefined when it is unset or empty. `source` defaults to process.env. */
export function env(name: string, source: EnvSource = process.env): string | undefined {
  const v = source[name];
  return v === undefined || v === '' ? undefined : v;
}

/** An environment variable that must be set: InputError naming the variable (and `where`, e.g. a config path) when not. The value is never part of a message. */
export function requireEnv(name: string, where = `environment variable ${name}`, source: EnvSource = process.env): string {
  const v = env(name, source);
  if (v === undefined) throw new InputError(where, `${name} is not set`);
  return v;
}

/** A numeric environment variable, or `fallback` when unset; InputError when set but not a finite number. */
export function envNumber(name: string, fallback: number, source: EnvSource = process.env): number {
  const v = env(name, source);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InputError(`environment variable ${name}`, `expected a number, got ${JSON.stringify(v)}`);
  return n;
}

/** A boolean flag: set and not one of '0', 'false', 'no', 'off'. */
export function envFlag(name: string, source: EnvSource = process.env): boolean {
  const v = env(name, source);
  return v !== undefined && !/^(0|false|no|off)$/i.test(v.trim());
}
