// The streaming loader (task/stream.ts): past `streamMin` records the data file is read record by record, the
// split runs over record positions (the same split as in memory), the test split is read again lazily, and
// what stays in memory is a few bytes per record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { planTask, InputError, type PlannedTask, type TaskConfig } from '../../src/task/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tunelab-stream-'));
const LABELS = ['billing', 'bug', 'praise', 'other'];

/** n records, some exact duplicates, some leaking near-copies (case/punctuation), a few near-duplicates. */
function writeData(name: string, n: number, opts: { dupId?: number } = {}): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    let text = `ticket ${i} about ${LABELS[i % 4]} number ${(i * 7919) % 1000} word${i % 13}`;
    if (i % 50 === 7) text = `ticket ${i - 1} about ${LABELS[(i - 1) % 4]} number ${((i - 1) * 7919) % 1000} word${(i - 1) % 13}`; // exact duplicate
    if (i % 97 === 5) text = `TICKET ${i - 3} About ${LABELS[(i - 3) % 4]} number ${((i - 3) * 7919) % 1000} word${(i - 3) % 13}!`; // leaks after normalization
    const id = opts.dupId !== undefined && i === n - 1 ? `id${opts.dupId}` : `id${i}`;
    lines.push(JSON.stringify({ id, text, label: LABELS[(i * 31) % 4 === 3 && i % 5 === 0 ? 3 : i % 4] }));
    if (i === 10) lines.push('');
  }
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return name;
}

const task = (data: string): TaskConfig => ({ data, input: ['text'], expected: 'label', id: 'id' });
const ids = (xs: { id: string }[]) => xs.map((e) => e.id);

async function testOrder(p: PlannedTask): Promise<string[]> {
  const out: string[] = [];
  for await (const c of p.stream!.cases()) out[c.index] = c.example.id;
  return out;
}

test('a streamed split equals the in-memory split: same members, same order, same report', async () => {
  const data = writeData('same.jsonl', 3000);
  for (const split of [
    { seed: 3 },
    { seed: 5, train: 0.5, dev: 0.1, test: 0.3, nearDuplicates: { threshold: 0.6, action: 'remove' as const } },
    { seed: 9, stratify: false as const, leakage: 'report' as const, nearDuplicates: false as const },
    { seed: 1, train: 0, dev: 0, test: 1, dedupe: false },
  ]) {
    const mem = await planTask(task(data), dir, split, { streamMin: Infinity });
    const str = await planTask(task(data), dir, split, { streamMin: 100 });
    assert.equal(mem.stream, undefined);
    assert.ok(str.stream, 'past streamMin the data set streams');
    assert.equal(str.split.test.length, 0, 'a streamed test split is not held');
    assert.equal(str.stream.size, mem.split.test.length);
    assert.deepEqual(ids(str.split.train), ids(mem.split.train));
    assert.deepEqual(ids(str.split.dev), ids(mem.split.dev));
    assert.deepEqual(await testOrder(str), ids(mem.split.test), 'each test case carries its position in the seeded order');
    assert.deepEqual(str.labels, mem.labels);
    const { nearDuplicates: ndA, ...a } = str.report;
    const { nearDuplicates: ndB, ...b } = mem.report;
    assert.deepEqual(a, b);
    assert.deepEqual(ndA?.map((m) => m.id).sort(), ndB?.map((m) => m.id).sort());
    if (split.seed === 3) {
      assert.ok(b.duplicatesRemoved > 0 && b.leakage.length > 0, 'the data exercises dedupe and leakage');
      // isTest: a test id or a test input (normalized) is recognized; a train example is not
      const t = await testOrder(str);
      assert.equal(str.stream.isTest({ id: t[0] }), true);
      const first = (await str.stream.cases().next()).value!.example;
      assert.equal(str.stream.isTest({ input: { text: String(first.input.text).toUpperCase() + '!!' } }), true);
      assert.equal(str.stream.isTest({ id: str.split.train[0].id, input: str.split.train[0].input }), false);
    }
  }
});

test('bad input still names file:line when the file streams', async () => {
  const dup = writeData('dup.jsonl', 500, { dupId: 42 });
  await assert.rejects(planTask(task(dup), dir, {}, { streamMin: 100 }), (e: unknown) => {
    assert.ok(e instanceof InputError);
    // record 499 is on line 501 (one blank line after record 10); id42 is on line 44
    assert.equal(e.where, 'dup.jsonl:501');
    assert.match(e.message, /duplicate id "id42" \(first at dup\.jsonl:44\)/);
    return true;
  });
  const bad = writeData('bad.jsonl', 500);
  appendFileSync(join(dir, bad), '{"id": "x", "text": "broken"\n');
  await assert.rejects(planTask(task(bad), dir, {}, { streamMin: 100 }), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.where, 'bad.jsonl:502');
    return true;
  });
  const missing = writeData('missing.jsonl', 300);
  appendFileSync(join(dir, missing), JSON.stringify({ id: 'm', label: 'bug' }) + '\n');
  await assert.rejects(planTask(task(missing), dir, {}, { streamMin: 100 }), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.where, 'missing.jsonl:302');
    assert.match(e.message, /missing input field "text"/);
    return true;
  });
});

test('the test split is read lazily, and a file changed after the first read is refused', async () => {
  const data = writeData('lazy.jsonl', 1000);
  const p = await planTask(task(data), dir, { train: 0, dev: 0, test: 1, dedupe: false }, { streamMin: 100 });
  const it = p.stream!.cases();
  const first = await it.next();
  assert.equal(first.done, false);
  await it.return(undefined);
  appendFileSync(join(dir, data), JSON.stringify({ id: 'late', text: 'late', label: 'bug' }) + '\n');
  await assert.rejects(
    (async () => {
      for await (const _ of p.stream!.cases());
    })(),
    (e: unknown) => e instanceof InputError && e.where === 'lazy.jsonl' && /changed/.test(e.message),
  );
});

test('a large file is planned with bounded memory: a few bytes per record stay, not the records', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const N = 120_000;
  const path = join(dir, 'large.jsonl');
  let chunk = '';
  writeFileSync(path, '');
  for (let i = 0; i < N; i++) {
    chunk +=
      JSON.stringify({ id: `case-${i}`, text: `message number ${i} with some words in it ${i % 7}`, label: i % 3 ? 'ham' : 'spam' }) + '\n';
    if (chunk.length > 1 << 20) {
      appendFileSync(path, chunk);
      chunk = '';
    }
  }
  appendFileSync(path, chunk);
  gc();
  const before = process.memoryUsage().heapUsed;
  const p = await planTask(task('large.jsonl'), dir, { train: 0, dev: 0, test: 1 }, { streamMin: 1000 });
  gc();
  const held = process.memoryUsage().heapUsed - before;
  assert.equal(p.stream!.size, N);
  // held as objects, 120k examples take ~40 MB; streamed, ~5 bytes per record (+16 per test record, outside the heap)
  assert.ok(held < 40 * N, `heap held after planning: ${(held / N).toFixed(1)} bytes per record`);
  let count = 0;
  for await (const _ of p.stream!.cases()) count++;
  assert.equal(count, N);
});
