/**
 * Training checkpoints: float32 tensors plus a JSON state, stored as one safetensors file (the state in its
 * metadata) and written atomically through the engine's one safetensors writer.
 */
import { existsSync } from 'node:fs';
import { readSafetensors, writeSafetensors } from './io/safetensors.ts';
import { EngineIoError } from './io/errors.ts';

export interface CheckpointData {
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  state: unknown;
}

const FORMAT = 'tunelab-checkpoint';

export function writeCheckpoint(path: string, ck: CheckpointData): void {
  writeSafetensors(path, ck.tensors, { dtype: 'F32', metadata: { format: FORMAT, state: JSON.stringify(ck.state) } });
}

export function readCheckpoint(path: string): CheckpointData {
  const { tensors, dtypes, metadata } = readSafetensors(path);
  for (const [name, dtype] of dtypes) if (dtype !== 'F32') throw new EngineIoError(path, `tensor ${name} has dtype ${dtype}, want F32`);
  return { tensors, state: metadata?.state ? JSON.parse(metadata.state) : null };
}

export function checkpointExists(path: string): boolean {
  return existsSync(path);
}
