import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/index.ts';
import { dropWords, wordDropoutEpochs } from '../../src/experiment/arms/finetune-augment.ts';
import { planTraining, AUTO } from '../../src/experiment/arms/finetune-defaults.ts';
import { finetuneArmSchema, type FinetuneArmConfig } from '../../src/experiment/arms/finetune-schema.ts';
import type { Example } from '../../src/task/types.ts';

const arm = (x: Partial<FinetuneArmConfig> = {}): FinetuneArmConfig => ({ name: 'ft', kind: 'finetune', model: 'builtin', ...x });

test('dropWords: drops about p of the words, keeps their order, never returns nothing', () => {
  const words = [...Array(2000).keys()].map((i) => `w${i}`);
  const text = words.join(' ');
  assert.equal(dropWords(text, 0, new Rng(1)), text);
  const out = dropWords(text, 0.2, new Rng(1)).split(' ');
  assert.ok(out.length > 2000 * 0.75 && out.length < 2000 * 0.85, `${out.length} of 2000 kept`);
  // kept words are in their original order
  const idx = out.map((w) => Number(w.slice(1)));
  assert.ok(idx.every((v, i) => i === 0 || v > idx[i - 1]));
  assert.equal(dropWords(text, 0.2, new Rng(1)), dropWords(text, 0.2, new Rng(1)));
  // all dropped: one word survives
  assert.equal(dropWords('a b c', 0.9999, new Rng(3)).split(' ').length, 1);
  assert.equal(dropWords('single', 0.9, new Rng(3)), 'single');
});

test('wordDropoutEpochs: one fresh copy of train per epoch, input fields only, labels kept, seeded', () => {
  const train: Example[] = [...Array(20).keys()].map((i) => ({
    id: `e${i}`,
    input: { text: `the quick brown fox number ${i} jumps over the lazy dog again and again`, n: i, other: 'keep me as I am' },
    expected: i % 2 ? 'odd' : 'even',
  }));
  const copies = wordDropoutEpochs(train, ['text'], 0.3, 3, 7);
  assert.equal(copies.length, 60);
  assert.deepEqual(
    copies.map((c) => c.expected),
    [...train, ...train, ...train].map((e) => e.expected),
  );
  assert.equal(copies[0].id, 'e0#0');
  assert.equal(copies[45].id, 'e5#2');
  for (const c of copies) {
    assert.equal(c.input.other, 'keep me as I am');
    assert.equal(typeof c.input.n, 'number');
    assert.ok((c.input.text as string).length < train[0].input.text!.toString().length + 3);
  }
  // epochs differ from each other (a fresh draw each epoch) and the train split is untouched
  const e0 = copies.slice(0, 20).map((c) => c.input.text);
  const e1 = copies.slice(20, 40).map((c) => c.input.text);
  assert.notDeepEqual(e0, e1);
  assert.ok(String(train[0].input.text).startsWith('the quick brown fox number 0'));
  assert.deepEqual(wordDropoutEpochs(train, ['text'], 0.3, 3, 7), copies);
  assert.notDeepEqual(wordDropoutEpochs(train, ['text'], 0.3, 3, 8), copies);
});

test('planTraining: word dropout on by default, off for pinned schedules, explicit setting wins', () => {
  const d = { trainSize: 300, trainLabels: ['a', 'b'], closedLabels: true };
  assert.equal(planTraining(arm(), d).wordDropout, AUTO.wordDropout);
  assert.ok(AUTO.wordDropout > 0);
  assert.equal(planTraining(arm({ method: 'full' }), d).wordDropout, AUTO.wordDropout);
  // the demo pins its schedule: no word dropout, it trains as before
  assert.equal(planTraining(arm({ epochs: 4, learningRate: 0.002 }), d).wordDropout, 0);
  assert.equal(planTraining(arm({ wordDropout: 0 }), d).wordDropout, 0);
  assert.equal(planTraining(arm({ epochs: 4, wordDropout: 0.1 }), d).wordDropout, 0.1);
  // the config key parses; out of range is refused
  assert.equal(finetuneArmSchema.safeParse(arm({ wordDropout: 0.3 })).success, true);
  assert.equal(finetuneArmSchema.safeParse(arm({ wordDropout: 1 })).success, false);
});

test(
  'a finetune arm with word dropout trains on one dropped copy of train per epoch, in one pass, dev untouched',
  { timeout: 120_000 },
  async () => {
    const { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const YAML = (await import('yaml')).default;
    const { loadConfig, runExperiment } = await import('../../src/experiment/index.ts');
    const { LocalFineTuneBackend } = await import('../../src/finetune/index.ts');
    const { makeTinyModel, TINY_WORDS } = await import('./tiny.ts');
    const dir = mkdtempSync(join(tmpdir(), 'tunelab-wdrop-'));
    const tiny = makeTinyModel(join(dir, 'tiny'));
    const rows = Array.from({ length: 40 }, (_, i) => ({
      id: `r${i}`,
      text: `Item: ${TINY_WORDS[i % 16]} number ${i} is here and there`,
      label: i % 16 < 8 ? 'fruit' : 'tool',
    }));
    writeFileSync(join(dir, 'data.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const cfg = {
      experiment: 'wdrop',
      seed: 5,
      output: join(dir, 'out'),
      task: { data: 'data.jsonl', input: ['text'], expected: 'label', id: 'id', metric: { type: 'accuracy' } },
      split: { train: 24, dev: 8, test: 8, seed: 3 },
      models: [{ id: 'tiny', provider: 'local', path: tiny, maxTokens: 3 }],
      arms: [{ name: 'ft', kind: 'finetune', model: 'tiny', method: 'lora', rank: 2, epochs: 3, learningRate: 0.01, wordDropout: 0.3 }],
    };
    writeFileSync(join(dir, 'tunelab.yaml'), YAML.stringify(cfg));
    const origStart = LocalFineTuneBackend.prototype.start;
    const seen: { n: number; epochs: number; val: number; texts: string[] }[] = [];
    LocalFineTuneBackend.prototype.start = function (data, opts) {
      seen.push({
        n: data.length,
        epochs: opts.epochs,
        val: opts.validation?.length ?? 0,
        texts: data.map((r) => r.messages.filter((m) => m.role === 'user').at(-1)!.content),
      });
      return origStart.call(this, data, opts);
    };
    try {
      const res = await runExperiment(loadConfig(join(dir, 'tunelab.yaml')), {});
      const ft = res.report.arms.find((a) => a.name === 'ft')!;
      assert.equal(ft.status, 'done', ft.error);
      assert.equal(seen.length, 1);
      // 3 epochs → 3 copies of the 24 train examples, trained as one pass; the 8 dev records as they are
      assert.deepEqual({ n: seen[0].n, epochs: seen[0].epochs, val: seen[0].val }, { n: 72, epochs: 1, val: 8 });
      const [c0, c1] = [seen[0].texts.slice(0, 24), seen[0].texts.slice(24, 48)];
      assert.notDeepEqual(c0, c1, 'each epoch draws its own dropout');
      assert.ok(
        seen[0].texts.some((t) => !/is here and there/.test(t)),
        'some words were dropped',
      );
      assert.equal(ft.training?.details?.wordDropout, 0.3);
      // validation ran once per copy (an epoch's steps), not once for the whole pass
      const fin = join(res.runDir, 'arms', '_finetuned');
      const tj = JSON.parse(readFileSync(join(fin, readdirSync(fin)[0], 'training.json'), 'utf8'));
      assert.deepEqual(
        tj.valLosses.map((v: { step: number }) => v.step),
        [3, 6, 9],
      );
    } finally {
      LocalFineTuneBackend.prototype.start = origStart;
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
