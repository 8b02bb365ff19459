// The one fine-tune job lifecycle: start (or follow) a job, events once each in order, progress, the job
// handed to the caller before the first poll, cancel on abort, result on success.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runToCompletion, JobLifecycleError, type FineTuneJob, type JobEvent } from '../../src/finetune/index.ts';
import { ScriptedBackend } from '../server/fake.ts';

const data = [
  {
    messages: [
      { role: 'user' as const, content: 'x' },
      { role: 'assistant' as const, content: 'yes' },
    ],
  },
];
const opts = { baseModel: 'b', method: 'lora' as const, epochs: 1, learningRate: 1e-3, seed: 1, outputDir: '/nonexistent' };

test('runs a job to success: onJob first, every event once in order, progress, model id', async () => {
  const backend = new ScriptedBackend(5, 6);
  const order: string[] = [];
  const events: JobEvent[] = [];
  let progress = 0;
  const r = await runToCompletion(backend, data, opts, {
    pollMs: 3,
    onJob: (j) => {
      order.push(`job ${j.id}`);
    },
    onEvent: (e) => {
      order.push('event');
      events.push(e);
    },
    onProgress: () => {
      progress++;
    },
  });
  assert.equal(order[0], 'job s0');
  assert.equal(r.state.status, 'succeeded');
  assert.equal(r.modelId, 'fake:yes');
  assert.deepEqual(
    events.map((e) => e.data!.step),
    [1, 2, 3, 4, 5, 6],
  );
  assert.ok(progress >= 2);
});

test('abort cancels the job in the backend and returns its cancelled state', async () => {
  const backend = new ScriptedBackend(50, 1000);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 30);
  const r = await runToCompletion(backend, data, opts, { signal: ac.signal, pollMs: 5 });
  assert.equal(r.state.status, 'cancelled');
  assert.equal(r.modelId, undefined);
  assert.ok(backend.jobs.get('s0')!.cancelled);
});

test('`job` follows an existing job instead of starting a second one', async () => {
  const backend = new ScriptedBackend(5, 3);
  let job: FineTuneJob | undefined;
  // the first session stores the job id, then stops following (without cancelling: a process that died)
  await assert.rejects(
    runToCompletion(backend, data, opts, {
      pollMs: 2,
      onJob: (j) => {
        job = j;
        throw new Error('process died');
      },
    }),
    /process died/,
  );
  const r = await runToCompletion(backend, data, opts, { job, pollMs: 2 });
  assert.equal(r.state.status, 'succeeded');
  assert.equal(backend.jobs.size, 1, 'no second job started');
});

test('a backend call that throws is a JobLifecycleError naming its phase', async () => {
  const backend = new ScriptedBackend(5, 3);
  backend.start = async () => {
    throw new Error('quota exceeded');
  };
  await assert.rejects(
    runToCompletion(backend, data, opts),
    (e: unknown) => e instanceof JobLifecycleError && e.phase === 'start' && /quota/.test(e.message),
  );
});
