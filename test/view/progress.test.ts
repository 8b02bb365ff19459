// CLI progress without a TTY: training as throttled lines with loss and ETA (not one per step), "arm k
// of n" and the run's total ETA, each warning once, and a last line covering the whole run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, trainTick } from '../../src/cli/progress.ts';
import type { RunEvent } from '../../src/experiment/index.ts';

function sinkStream() {
  const lines: string[] = [];
  const stream = {
    isTTY: false,
    write: (s: string) => (lines.push(...s.split('\n').filter(Boolean)), true),
  } as unknown as NodeJS.WriteStream;
  return { lines, stream };
}

test('training steps become one throttled line each 10 s with loss and ETA; arm k of n; warnings once; took covers the run', async () => {
  let t = 1_000_000;
  const { lines, stream } = sinkStream();
  const p = await createProgress({ stream, now: () => t });
  const ev = (e: RunEvent) => p(e);
  ev({
    type: 'run-start',
    runId: 'r1',
    experiment: 'demo',
    resumed: false,
    arms: ['zero-shot', 'lora'],
    sizes: { train: 600, dev: 100, test: 200 },
  });
  ev({ type: 'arm-prepare', arm: 'zero-shot', kind: 'prompt' });
  ev({ type: 'arm-prepared', arm: 'zero-shot', restored: false, spent: { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: 0 } });
  ev({ type: 'arm-prepare', arm: 'lora', kind: 'finetune' });
  for (let step = 1; step <= 300; step++) {
    t += 1000;
    ev({ type: 'log', arm: 'lora', message: `training step ${step}/300 loss ${(2 - step / 200).toFixed(3)} 900 tok/s eta ${300 - step}s` });
  }
  ev({ type: 'warning', message: 'split: 3 near-duplicates' });
  ev({ type: 'warning', message: 'split: 3 near-duplicates' });
  t += 1000;
  ev({ type: 'arm-prepared', arm: 'lora', restored: false, spent: { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: 0 } });
  ev({ type: 'arm-start', arm: 'zero-shot', total: 200, done: 0 });
  t += 10_000;
  ev({ type: 'arm-end', arm: 'zero-shot', status: 'done', done: 200, total: 200, cached: 0, errors: 0, costUsd: 0, elapsedMs: 10_000 });
  ev({ type: 'arm-start', arm: 'lora', total: 200, done: 0 });
  t += 3000;
  ev({ type: 'progress', arm: 'lora', done: 100, total: 200, startDone: 0, calls: 100, cached: 0, errors: 0, costUsd: 0, elapsedMs: 5000 });
  ev({ type: 'arm-end', arm: 'lora', status: 'done', done: 200, total: 200, cached: 0, errors: 0, costUsd: 0, elapsedMs: 10_000 });
  ev({ type: 'run-end', runId: 'r1' });
  const training = lines.filter((l) => l.includes('training step'));
  assert.ok(training.length >= 25 && training.length <= 32, `${training.length} training lines for 300 steps over 300 s`);
  assert.match(training[0], /\[lora\] training step \d+\/300 \| loss \d\.\d{3} \| ETA \d+m\d\ds \| arm 2 of 2/);
  assert.equal(lines.filter((l) => l.includes('near-duplicates')).length, 1, 'a warning prints once');
  assert.ok(
    lines.some((l) => /\[lora\] 100\/200 50% .*ETA 5s \| total ETA 5s \| arm 2 of 2/.test(l)),
    lines.join('\n'),
  );
  const last = lines.at(-1)!;
  assert.match(last, /^tunelab: run r1 started \d\d:\d\d:\d\d UTC, took 5m\d\ds \(preparing and training 5m0\ds, evaluating 20s\)$/);
  p.stop();
});

test('trainTick reads engine training events too', () => {
  const e = {
    type: 'train-progress',
    arm: 'lora',
    step: 5,
    totalSteps: 40,
    trainLoss: 1.25,
    validLoss: 1.5,
    etaSec: 30,
  } as unknown as RunEvent;
  assert.deepEqual(trainTick(e), { arm: 'lora', step: 5, total: 40, loss: 1.25, valLoss: 1.5, etaSec: 30 });
  assert.equal(trainTick({ type: 'log', message: 'hello' }), undefined);
});
