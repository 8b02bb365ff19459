// Instrumented run: every prompt arm kind and both fine-tuned kinds are prepared by the real runner while
// the test split's examples are proxies that record any read. Reads during prepare (optimizers, few-shot
// selection, training-data rendering, the training worker's input) must be zero; evaluation then reads
// every test example. Test inputs also carry a marker that must never reach a training record or any
// model call made while preparing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { loadConfig, prepareExperiment, executeExperiment, modelFactory, openRunStore } from '../../src/experiment/index.ts';
import { LocalFineTuneBackend, type TrainingRecord } from '../../src/finetune/index.ts';
import { LocalModel } from '../../src/models/index.ts';
import { makeTinyModel, TINY_WORDS } from './tiny.ts';

test('trainer and every prompt arm never read the test split', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-leak-'));
  const tiny = makeTinyModel(join(dir, 'tiny'));
  const rows = Array.from({ length: 48 }, (_, i) => ({
    id: `r${i}`,
    text: `Item: ${TINY_WORDS[i % 16]} number ${i}`,
    label: i % 16 < 8 ? 'fruit' : 'tool',
  }));
  writeFileSync(join(dir, 'data.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const sys = [
    { role: 'system', content: 'Answer with one of: fruit, tool.' },
    { role: 'user', content: '{{text}}' },
  ];
  const ft = { model: 'tiny', method: 'lora', epochs: 1, rank: 2, learningRate: 0.01, batchSize: 8, messages: sys };
  const cfg = {
    experiment: 'leak',
    seed: 5,
    concurrency: 2,
    output: join(dir, 'out'),
    task: { data: 'data.jsonl', input: ['text'], expected: 'label', id: 'id', metric: { type: 'accuracy' } },
    split: { train: 24, dev: 8, test: 16, seed: 3 },
    models: [{ id: 'tiny', provider: 'local', path: tiny, maxTokens: 3 }],
    arms: [
      { name: 'zero', kind: 'prompt', model: 'tiny', messages: sys },
      { name: 'shots', kind: 'prompt', model: 'tiny', shots: 2, messages: sys },
      { name: 'bm25', kind: 'fewshot', model: 'tiny', strategy: 'bm25', k: 2, messages: sys },
      { name: 'grid', kind: 'variants', model: 'tiny', messages: sys, vary: { shots: [0, 1] }, budget: { calls: 24 } },
      { name: 'opt', kind: 'optimize', model: 'tiny', optimizer: 'bootstrap', messages: sys, budget: { calls: 24 }, k: 1, candidates: 2 },
      { name: 'ft', kind: 'finetune', ...ft },
      { name: 'ft-shots', kind: 'finetune+prompt', ...ft, shots: 1 },
    ],
  };
  writeFileSync(join(dir, 'tunelab.yaml'), YAML.stringify(cfg));

  let phase: 'prepare' | 'evaluate' | 'idle' = 'idle';
  const readsInPrepare: string[] = [];
  let readsInEval = 0;
  const MARK = 'TESTSPLITMARK';
  const origStart = LocalFineTuneBackend.prototype.start;
  const trained: TrainingRecord[] = [];
  LocalFineTuneBackend.prototype.start = function (data, opts) {
    trained.push(...data, ...(opts.validation ?? []));
    return origStart.call(this, data, opts);
  };
  const origComplete = LocalModel.prototype.complete;
  const prepCalls: string[] = [];
  LocalModel.prototype.complete = function (req, o) {
    if (phase === 'prepare') prepCalls.push(JSON.stringify(req.messages));
    return origComplete.call(this, req, o);
  };
  try {
    const loaded = loadConfig(join(dir, 'tunelab.yaml'));
    const p = await prepareExperiment(loaded);
    assert.equal(p.arms.filter((a) => a.config.kind !== 'majority' && a.config.kind !== 'classical').length, 7);
    p.split.test = p.split.test.map(
      (ex) =>
        new Proxy(ex, {
          get(t, k, r) {
            if (k === 'input' || k === 'expected') {
              if (phase === 'prepare')
                readsInPrepare.push(`${String(k)} of ${t.id}: ${new Error().stack?.split('\n').slice(2, 5).join(' | ')}`);
              else readsInEval++;
              if (k === 'input') return { ...t.input, text: `${t.input.text} ${MARK}` };
            }
            return Reflect.get(t, k, r);
          },
        }),
    );
    for (const a of p.arms) {
      const prep = a.arm.prepare.bind(a.arm);
      a.arm.prepare = async (ctx) => {
        assert.deepEqual(Object.keys(ctx.data).sort(), ['dev', 'train']);
        phase = 'prepare';
        try {
          return await prep(ctx);
        } finally {
          phase = 'evaluate';
        }
      };
    }
    const store = openRunStore(join(dir, 'out', 'tunelab.db'), { env: {} });
    try {
      const out = await executeExperiment(p, store, modelFactory(loaded.config, { cache: store.cache, onCall: store.logCall }), {});
      for (const a of out.arms) assert.equal(a.status, 'done', `${a.name}: ${a.error}`);
    } finally {
      store.close();
    }
    assert.deepEqual(readsInPrepare, []);
    assert.ok(readsInEval >= 16 * 7, `evaluation read the test split (${readsInEval} reads)`);
    assert.ok(trained.length >= 24, 'the trainer received the train and dev records');
    assert.ok(
      trained.every((r) => !JSON.stringify(r).includes(MARK)),
      'no training or validation record holds a test input',
    );
    assert.ok(prepCalls.length > 0, 'the optimizing arms made calls while preparing');
    assert.ok(
      prepCalls.every((c) => !c.includes(MARK)),
      'no call made while preparing holds a test input',
    );
  } finally {
    LocalFineTuneBackend.prototype.start = origStart;
    LocalModel.prototype.complete = origComplete;
    rmSync(dir, { recursive: true, force: true });
  }
});
