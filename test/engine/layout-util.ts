// Shared by the layout tests: the fixture folders written by scripts/layout-fixtures.py and their reference logits.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadHfModel, readSafetensors, type HfModel } from '../../src/engine/index.ts';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'layouts');
export const LAYOUTS = ['llama', 'llama3', 'qwen2', 'qwen3'] as const;

export interface Reference {
  ids: number[][];
  logits: Float32Array;
  shape: number[];
}

export function reference(name: string): Reference {
  const dir = path.join(FIXTURES, name);
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'));
  const t = readSafetensors(path.join(dir, 'reference.safetensors')).tensors.get('logits')!;
  return { ids: meta.input_ids, logits: t.data, shape: t.shape };
}

/** max |a - b| between the engine's logits per sequence and the reference [B, S, V] */
export function maxDiff(got: Float32Array[], ref: Reference): number {
  const [, S, V] = ref.shape;
  let m = 0;
  got.forEach((g, b) => {
    assert.equal(g.length, S * V);
    for (let i = 0; i < g.length; i++) m = Math.max(m, Math.abs(g[i] - ref.logits[b * S * V + i]));
  });
  return m;
}

const loaded = new Map<string, HfModel>();
export function load(name: string): HfModel {
  let m = loaded.get(name);
  if (!m) loaded.set(name, (m = loadHfModel(path.join(FIXTURES, name))));
  return m;
}
