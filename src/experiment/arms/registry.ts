import type { z } from 'zod';
import type { Arm } from '../types.ts';

/**
 * An arm kind: its config schema (validated as part of tunelab.yaml) and a factory.
 * Every arm config has at least `name` and `kind`; `model` names a models[] id where the kind needs one.
 */
export interface ArmKind<C extends { name: string; kind: string } = any> {
  kind: string;
  schema: z.ZodType<C>;
  /** `opts.baseDir`: the config file's folder (relative paths in the arm config resolve against it) */
  create(config: C, opts?: ArmCreateOptions): Arm;
}

export interface ArmCreateOptions {
  baseDir?: string;
}

const kinds = new Map<string, ArmKind>();

export function registerArmKind(k: ArmKind): void {
  kinds.set(k.kind, k);
}

export function armKind(kind: string): ArmKind | undefined {
  return kinds.get(kind);
}

export function armKinds(): ArmKind[] {
  return [...kinds.values()];
}
