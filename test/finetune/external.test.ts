// kind: external — a model trained elsewhere: a folder on disk run by the local engine (training cost read
// from HF Trainer's trainer_state.json × price per GPU hour) and a model at an OpenAI-compatible endpoint
// (training cost from config), evaluated on the test split next to the other arms.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, runExperiment } from '../../src/experiment/index.ts';
import { readTrainerLog } from '../../src/experiment/arms/external.ts';
import { startMockOpenAI } from '../helpers/mock-openai-server.ts';
import { makeTinyModel, TINY_WORDS } from './tiny.ts';

const dir = mkdtempSync(join(tmpdir(), 'tunelab-external-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test(
  'external arms: HF folder + trainer_state.json, and an endpoint model with a configured training cost',
  { timeout: 60_000 },
  async () => {
    const server = await startMockOpenAI();
    try {
      makeTinyModel(join(dir, 'outputs', 'merged'));
      writeFileSync(
        join(dir, 'outputs', 'trainer_state.json'),
        JSON.stringify({
          global_step: 30,
          log_history: [
            { loss: 0.9, step: 10 },
            { train_runtime: 1800, train_loss: 0.42, step: 30 },
          ],
        }),
      );
      writeFileSync(
        join(dir, 'train.log'),
        "{'loss': 0.5}\n{'train_runtime': 90.5, 'train_samples_per_second': 3.1, 'train_loss': 0.61}\n",
      );
      const rows = Array.from({ length: 24 }, (_, i) =>
        JSON.stringify({ id: `e${i}`, text: `Item: ${TINY_WORDS[i % 16]} number ${i}`, label: i % 16 < 8 ? 'fruit' : 'tool' }),
      );
      writeFileSync(join(dir, 'items.jsonl'), rows.join('\n') + '\n');
      mkdirSync(join(dir, '.tunelab'), { recursive: true });
      writeFileSync(
        join(dir, 'tunelab.yaml'),
        `experiment: external-test
task: { data: items.jsonl, input: [text], expected: label, id: id, metric: { type: accuracy } }
split: { train: 12, dev: 4, test: 8, seed: 1 }
models:
  - { id: vllm, provider: openai-compatible, baseURL: ${server.baseURL}, model: my-lora, retries: 0 }
arms:
  - name: gpu-lora
    kind: external
    path: outputs/merged
    trainerLog: outputs/trainer_state.json
    pricePerHour: 2.5
    gpus: 2
    messages: [{ role: user, content: "{{text}}" }]
  - name: served-lora
    kind: external
    model: vllm
    trainingCost: { usd: 4.2, seconds: 600 }
    messages: [{ role: user, content: "{{text}}" }]
`,
      );
      const r = await runExperiment(loadConfig(join(dir, 'tunelab.yaml')));
      for (const a of r.arms) assert.equal(a.status, 'done', a.error);
      const a = r.report.arms.find((x: any) => x.name === 'gpu-lora') as any;
      assert.equal(a.training.seconds, 1800);
      assert.equal(a.training.costUsd, 0.5 * 2 * 2.5);
      assert.equal(a.training.details.trainLoss, 0.42);
      const b = r.report.arms.find((x: any) => x.name === 'served-lora') as any;
      assert.deepEqual([b.training.costUsd, b.training.seconds], [4.2, 600]);
      assert.equal(server.requests.filter((q: any) => q.model === 'my-lora').length, 8);
      assert.deepEqual(readTrainerLog(join(dir, 'train.log'), 'x'), { seconds: 90.5, trainLoss: 0.61 });
    } finally {
      await server.close();
    }
  },
);
