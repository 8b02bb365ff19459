import type { z } from 'zod';
import type { Arm } from '../types.ts';

export interface ArmCreateOptions {
  /** the config file's folder (relative paths in the arm config resolve against it) */
  baseDir?: string;
  /** every arm of the experiment (an arm may refer to another by name, e.g. a distill arm's teacher) */
  arms?: ReadonlyArray<{ name: string; kind: string }>;
}

/** Builds an arm from its validated config. Input problems (a missing prompt file...) throw InputError here. */
export type ArmFactory<C> = (config: C, opts?: ArmCreateOptions) => Arm;

/**
 * An arm kind: its config schema (validated as part of tunelab.yaml) and its factory.
 * Every arm config has at least `name` and `kind`; `model` names a models[] id where the kind needs one.
 * A kind whose module is heavy (it loads the training engine, a provider SDK) is made with lazyArmKind:
 * its schema lives in a light module, its factory is loaded by `load()` when an arm of that kind runs.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds kinds of every config type
export interface ArmKind<C extends { name: string; kind: string } = any> {
  kind: string;
  schema: z.ZodType<C>;
  /** sync; for a lazy kind only after `load()` has resolved */
  create: ArmFactory<C>;
  /** loads the kind's module (no-op for kinds defined in an already loaded module) */
  load?(): Promise<void>;
}

/** A kind whose factory module is imported on first `load()` (see ArmKind). */
export function lazyArmKind<C extends { name: string; kind: string }>(
  kind: string,
  schema: z.ZodType<C>,
  load: () => Promise<{ create: ArmFactory<C> }>,
): ArmKind<C> {
  let factory: ArmFactory<C> | undefined;
  return {
    kind,
    schema,
    async load() {
      factory ??= (await load()).create;
    },
    create(config, opts) {
      if (!factory) throw new Error(`arm kind '${kind}' is not loaded yet: await armKind('${kind}').load() first`);
      return factory(config, opts);
    },
  };
}

const kinds = new Map<string, ArmKind>();

/** Add (or replace) an arm kind: the built-in ones are listed in arms/index.ts; users may add their own. */
export function registerArmKind(k: ArmKind): void {
  kinds.set(k.kind, k);
}

export function armKind(kind: string): ArmKind | undefined {
  return kinds.get(kind);
}

export function armKinds(): ArmKind[] {
  return [...kinds.values()];
}

/** Load the modules of these kinds (unknown kinds are skipped), so their `create` can be called. */
export async function loadArmKinds(names: Iterable<string>): Promise<void> {
  for (const n of new Set(names)) await kinds.get(n)?.load?.();
}
