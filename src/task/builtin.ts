import type { BuiltinSource } from './schema.ts';

/** A built-in record: `text` and `label` always; other fields per set. */
export interface BuiltinRecord { id: string; text: string; label: string; [k: string]: unknown }

export async function loadBuiltin(src: BuiltinSource): Promise<BuiltinRecord[]> { throw new Error('not implemented'); }
export function builtinLabels(name: string): string[] { throw new Error('not implemented'); }
