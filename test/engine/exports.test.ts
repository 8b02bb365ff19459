import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as engine from '../../src/engine/index.ts';
import * as io from '../../src/engine/io/index.ts';
import * as peft from '../../src/engine/io/peft.ts';
import * as config from '../../src/engine/config.ts';

test('engine/index shadows no io export: every io name is the same object through the engine entry', () => {
  for (const [name, value] of Object.entries(io))
    assert.equal((engine as Record<string, unknown>)[name], value, `engine/index.ts shadows io's ${name}`);
});

test('one mergeLora, one config normaliser, one weight-shape table, no worker system', () => {
  assert.equal(engine.mergeLora, peft.mergeLora);
  assert.equal(engine.normalizeLlamaConfig, config.normalizeLlamaConfig);
  assert.equal(engine.paramShapes, config.paramShapes);
  assert.equal(engine.checkWeights, config.checkWeights);
  const names = Object.keys(engine);
  for (const gone of ['resolveConfig', 'llamaWeightShapes', 'checkLlamaWeights', 'EngineWorker'])
    assert.ok(!names.includes(gone), `${gone} is still exported`);
  // no second definition of these anywhere in the engine's sources
  const src = ['llama.ts', 'train.ts', 'generate.ts', 'io/hf.ts', 'io/gguf.ts']
    .map((f) => readFileSync(new URL(`../../src/engine/${f}`, import.meta.url), 'utf8'))
    .join('\n');
  for (const fn of ['mergeLora', 'normalizeLlamaConfig', 'paramShapes', 'checkWeights'])
    assert.ok(!new RegExp(`export function ${fn}\\b`).test(src), `${fn} defined twice`);
});
