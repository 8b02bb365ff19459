import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EXIT,
  InputError,
  UsageError,
  exitCodeOf,
  isBadInput,
  env,
  requireEnv,
  envNumber,
  envFlag,
  mapLimit,
} from '../../src/core/index.ts';

test('InputError names where, and is bad input (exit 2)', () => {
  const e = new InputError('data.jsonl:3', 'missing field "label"');
  assert.equal(e.message, 'data.jsonl:3: missing field "label"');
  assert.equal(e.where, 'data.jsonl:3');
  assert.equal(e.name, 'InputError');
  assert.ok(e instanceof Error);
  assert.equal(exitCodeOf(e), 2);
  assert.equal(exitCodeOf(new UsageError('no store')), 2);
});

test('exitCodeOf: own exitCode wins, errors named as bad input from other modules, unreachable endpoints; else 1', () => {
  assert.equal(exitCodeOf(Object.assign(new Error('x'), { exitCode: 5 })), 5);
  assert.equal(exitCodeOf(Object.assign(new Error('x'), { name: 'ModelConfigError' })), EXIT.badInput);
  assert.equal(exitCodeOf(Object.assign(new Error('x'), { name: 'ModelCallError', kind: 'unreachable' })), 2);
  assert.equal(exitCodeOf(Object.assign(new Error('x'), { name: 'ModelCallError', kind: 'timeout' })), 1);
  assert.equal(exitCodeOf(new TypeError('crash')), 1);
  assert.equal(exitCodeOf('a string'), 1);
  assert.equal(exitCodeOf(undefined), 1);
  assert.equal(exitCodeOf(null), 1);
  assert.equal(isBadInput(new InputError('a', 'b')), true);
});

test('env access', () => {
  const src = { A: 'x', EMPTY: '', N: '12', BAD: 'twelve', F: 'off', T: '1' };
  assert.equal(env('A', src), 'x');
  assert.equal(env('EMPTY', src), undefined);
  assert.equal(env('NOPE', src), undefined);
  assert.equal(requireEnv('A', undefined, src), 'x');
  assert.throws(
    () => requireEnv('NOPE', 'models.gpt.apiKeyEnv', src),
    (e: unknown) => e instanceof InputError && /models\.gpt\.apiKeyEnv: NOPE is not set/.test(e.message),
  );
  assert.equal(envNumber('N', 3, src), 12);
  assert.equal(envNumber('NOPE', 3, src), 3);
  assert.throws(() => envNumber('BAD', 3, src), InputError);
  assert.equal(envFlag('F', src), false);
  assert.equal(envFlag('T', src), true);
  assert.equal(envFlag('NOPE', src), false);
});

test('mapLimit keeps order, bounds concurrency, rethrows the first failure', async () => {
  let inFlight = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3], 2, async (x) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setImmediate(r));
    inFlight--;
    return x * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30]);
  assert.equal(peak, 2);
  await assert.rejects(
    mapLimit([1, 2, 3], 3, async (x) => {
      if (x === 2) throw new Error('two');
      return x;
    }),
    /two/,
  );
  assert.deepEqual(await mapLimit([], 4, async (x) => x), []);
});
