import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadTask, getPath, InputError, taskSchema, splitSchema, type TaskConfig } from '../../src/task/index.ts';

const dir = join(import.meta.dirname, '../fixtures/data');

async function rejectsInput(p: Promise<unknown>, where: string | RegExp, msg: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    if (typeof where === 'string') assert.equal(e.where, where);
    else assert.match(e.where, where);
    assert.match(e.message, msg);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    return true;
  });
}

test('getPath: own key with dots wins, else nested', () => {
  assert.equal(getPath({ a: { b: 1 } }, 'a.b'), 1);
  assert.equal(getPath({ 'a.b': 2, a: { b: 1 } }, 'a.b'), 2);
  assert.equal(getPath({ a: [{ b: 3 }] }, 'a.0.b'), 3);
  assert.equal(getPath({ a: 1 }, 'a.b'), undefined);
  assert.equal(getPath(null, 'a'), undefined);
});

test('JSONL: nested input paths, id field, blank lines skipped, 1-based lines', async () => {
  const t = await loadTask({ data: 'tickets.jsonl', input: ['ticket.subject', 'ticket.body'], expected: 'label', id: 'id' }, dir);
  assert.equal(t.examples.length, 4);
  assert.deepEqual(t.inputFields, ['ticket.subject', 'ticket.body']);
  const e = t.examples[3];
  assert.equal(e.id, 't4');
  assert.deepEqual(e.input, { ticket: { subject: 'Invoice', body: 'Where can I download my invoice?' } });
  assert.equal(e.expected, 'billing');
  assert.deepEqual(e.source, { file: 'tickets.jsonl', line: 5 });
  assert.deepEqual(t.labels, ['billing', 'bug', 'praise']);
});

test('JSONL: map form gives flat names; default ids are file:line', async () => {
  const t = await loadTask({ data: { path: 'tickets.jsonl' }, input: { subject: 'ticket.subject' }, expected: 'label' }, dir);
  assert.deepEqual(t.examples[0].input, { subject: 'Refund please' });
  assert.equal(t.examples[2].id, 'tickets.jsonl:4');
  assert.deepEqual(t.inputFields, ['subject']);
});

test('JSONL: malformed line names file and 1-based line', async () => {
  await rejectsInput(
    loadTask({ data: 'malformed.jsonl', input: ['text'], expected: 'label' }, dir),
    'malformed.jsonl:3',
    /malformed JSON line/,
  );
});

test('missing input field names file:line and field', async () => {
  await rejectsInput(
    loadTask({ data: 'missing-field.jsonl', input: ['text'], expected: 'label' }, dir),
    'missing-field.jsonl:2',
    /missing input field "text"/,
  );
});

test('missing expected field and empty label are InputErrors naming file:line', async () => {
  await rejectsInput(
    loadTask({ data: 'tickets.jsonl', input: ['ticket.body'], expected: 'category' }, dir),
    'tickets.jsonl:1',
    /missing expected field "category"/,
  );
  await rejectsInput(
    loadTask({ data: 'empty-label.jsonl', input: ['text'], expected: 'label' }, dir),
    'empty-label.jsonl:3',
    /empty label \(field "label"\)/,
  );
});

test('duplicate ids are rejected with both places', async () => {
  const d = mkdtempSync(join(tmpdir(), 'tl-task-'));
  writeFileSync(join(d, 'dup.jsonl'), '{"id":1,"t":"a","y":"x"}\n{"id":1,"t":"b","y":"x"}\n');
  await rejectsInput(
    loadTask({ data: 'dup.jsonl', input: ['t'], expected: 'y', id: 'id' }, d),
    'dup.jsonl:2',
    /duplicate id "1" \(first at dup.jsonl:1\)/,
  );
});

test('CSV with header: quoted fields, multi-line records, line numbers', async () => {
  const t = await loadTask({ data: 'reviews.csv', input: ['review', 'stars'], expected: 'sentiment', id: 'id' }, dir);
  assert.equal(t.examples.length, 3);
  assert.equal(t.examples[0].input.review, 'Great, would buy again');
  assert.equal(t.examples[1].input.review, 'Terrible.\nBroke on day one');
  assert.equal(t.examples[1].input.stars, '1');
  assert.deepEqual(
    t.examples.map((e) => e.source!.line),
    [2, 4, 5],
  );
  assert.equal(t.examples[2].expected, 'neutral');
});

test('CSV missing column names the column and the header', async () => {
  await rejectsInput(
    loadTask({ data: 'reviews.csv', input: ['review', 'title'], expected: 'sentiment' }, dir),
    'reviews.csv:1',
    /missing column "title" \(task.input\); the header has: id, review, stars, sentiment/,
  );
  await rejectsInput(
    loadTask({ data: 'reviews.csv', input: ['review'], expected: 'label' }, dir),
    'reviews.csv:1',
    /missing column "label" \(task.expected\)/,
  );
});

test('CSV row with too many fields names its line', async () => {
  await rejectsInput(
    loadTask({ data: 'reviews-bad.csv', input: ['review'], expected: 'stars' }, dir),
    'reviews-bad.csv:3',
    /malformed CSV/,
  );
});

test('JSON array: records with their starting lines; numbers as expected text', async () => {
  const t = await loadTask({ data: 'items.json', input: ['q.text'], expected: 'a' }, dir);
  assert.equal(t.examples.length, 3);
  assert.deepEqual(
    t.examples.map((e) => e.source!.line),
    [2, 3, 4],
  );
  assert.deepEqual(
    t.examples.map((e) => e.expected),
    ['4', '9', '5'],
  );
  assert.equal(t.examples[2].id, 'items.json#3', 'ids by record position');
  assert.equal(t.labels, undefined, 'all-distinct numbers are not categorical');
});

test('JSON array: malformed JSON names the line', async () => {
  await rejectsInput(loadTask({ data: 'items-bad.json', input: ['q.text'], expected: 'a' }, dir), 'items-bad.json:3', /malformed JSON/);
});

test('file not found, unknown extension, limit', async () => {
  await rejectsInput(loadTask({ data: 'nope.jsonl', input: ['t'], expected: 'y' }, dir), 'nope.jsonl', /not found/);
  await rejectsInput(loadTask({ data: 'tickets.txt', input: ['t'], expected: 'y' }, dir), 'tickets.txt', /format/);
  const t = await loadTask({ data: { path: 'tickets.jsonl', limit: 2 }, input: ['ticket.body'], expected: 'label' }, dir);
  assert.equal(t.examples.length, 2);
  // explicit format overrides the extension
  const d = mkdtempSync(join(tmpdir(), 'tl-task-'));
  writeFileSync(join(d, 'data.txt'), 'text,label\nhi,a\n');
  const c = await loadTask({ data: { path: 'data.txt', format: 'csv' }, input: ['text'], expected: 'label' }, d);
  assert.equal(c.examples[0].expected, 'a');
});

test('file sources need input and expected', async () => {
  await rejectsInput(loadTask({ data: 'tickets.jsonl', expected: 'label' }, dir), 'task.input', /required/);
  await rejectsInput(loadTask({ data: 'tickets.jsonl', input: ['ticket.body'] }, dir), 'task.expected', /required/);
});

test('unknown built-in data set lists the known ones (loader and schema)', async () => {
  await rejectsInput(
    loadTask({ data: { builtin: 'imdb' } } as TaskConfig, dir),
    'task.data.builtin',
    /unknown built-in data set "imdb" \(known: spamassassin, brown-genre, sotu-party[,)]/,
  );
  const r = taskSchema.safeParse({ data: { builtin: 'imdb' } });
  assert.equal(r.success, false);
  const msgs = r.error!.issues.map((i) => i.message).join(' | ');
  assert.match(msgs, /unknown built-in data set "imdb" \(known: spamassassin, brown-genre, sotu-party[,)]/);
});

test('schemas: strict keys, defaults, fraction/count rules', () => {
  assert.equal(taskSchema.safeParse({ data: 'x.jsonl', input: ['a'], expected: 'b', bogus: 1 }).success, false);
  assert.equal(taskSchema.safeParse({ data: { path: 'x.csv', format: 'xml' } }).success, false);
  assert.ok(taskSchema.safeParse({ data: { builtin: 'spamassassin', maxChars: 500, limit: 100 } }).success);
  const s = splitSchema.parse({});
  assert.deepEqual(s, {
    train: 0.6,
    dev: 0.2,
    test: 0.2,
    seed: 42,
    stratify: 'auto',
    dedupe: true,
    leakage: 'remove',
    nearDuplicates: { threshold: 0.5, shingle: 3, action: 'report' },
  });
  assert.ok(splitSchema.safeParse({ train: 100, dev: 20, test: 50 }).success);
  const mixed = splitSchema.safeParse({ train: 100, dev: 0.5, test: 50 });
  assert.equal(mixed.success, false);
  assert.deepEqual(mixed.error!.issues[0].path, ['dev']);
  const over = splitSchema.safeParse({ train: 0.8, dev: 0.2, test: 0.2 });
  assert.equal(over.success, false);
  assert.match(over.error!.issues[0].message, /sum to 1.2/);
});

test('the first problem in file order is reported (records are mapped while streaming)', async () => {
  await rejectsInput(
    loadTask({ data: 'late-malformed.jsonl', input: ['text'], expected: 'label' }, dir),
    'late-malformed.jsonl:2',
    /missing expected field "label"/,
  );
});

test('an empty data file is an InputError', async () => {
  const d = mkdtempSync(join(tmpdir(), 'tl-task-'));
  writeFileSync(join(d, 'empty.jsonl'), '\n\n');
  await rejectsInput(loadTask({ data: 'empty.jsonl', input: ['t'], expected: 'y' }, d), 'empty.jsonl', /no records/);
  writeFileSync(join(d, 'obj.json'), '{"a": 1}');
  await rejectsInput(loadTask({ data: 'obj.json', input: ['t'], expected: 'y' }, d), 'obj.json', /expected a JSON array/);
  writeFileSync(join(d, 'arr.jsonl'), '[1,2]\n');
  await rejectsInput(
    loadTask({ data: 'arr.jsonl', input: ['t'], expected: 'y' }, d),
    'arr.jsonl:1',
    /expected a JSON object, got an array/,
  );
});

test('UTF-8 BOM and CRLF line endings are handled in CSV and JSONL', async () => {
  const c = await loadTask({ data: 'bom-crlf.csv', input: ['name'], expected: 'label' }, dir);
  assert.deepEqual(
    c.examples.map((e) => [e.input.name, e.expected, e.source!.line]),
    [
      ['alpha', 'x', 2],
      ['beta', 'y', 3],
    ],
  );
  const j = await loadTask({ data: 'bom-crlf.jsonl', input: ['t'], expected: 'y' }, dir);
  assert.deepEqual(
    j.examples.map((e) => [e.input.t, e.expected, e.id]),
    [
      ['a', 'x', 'bom-crlf.jsonl:1'],
      ['b', 'y', 'bom-crlf.jsonl:2'],
    ],
  );
});
