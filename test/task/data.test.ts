// Data edge cases: JSON array layout, text encodings, single-class data, broken CSV quotes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadTask, InputError, checkUtf8, readLines, taskSchema } from '../../src/task/index.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'tl-data-'));

async function rejectsInput(p: Promise<unknown>, where: string, msg: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    assert.equal(e.where, where);
    assert.match(e.message, msg);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    return true;
  });
}

test('a JSON array on one line: ids by record position, no false duplicate', async () => {
  const d = tmp();
  writeFileSync(
    join(d, 'one.json'),
    JSON.stringify([
      { t: 'a', y: 'x' },
      { t: 'b', y: 'z' },
      { t: 'c', y: 'x' },
    ]),
  );
  const t = await loadTask({ data: 'one.json', input: ['t'], expected: 'y' }, d);
  assert.deepEqual(
    t.examples.map((e) => e.id),
    ['one.json#1', 'one.json#2', 'one.json#3'],
  );
  assert.deepEqual(
    t.examples.map((e) => e.source!.line),
    [1, 1, 1],
  );
  // the same records pretty-printed get the same ids
  writeFileSync(
    join(d, 'one.json'),
    JSON.stringify(
      [
        { t: 'a', y: 'x' },
        { t: 'b', y: 'z' },
        { t: 'c', y: 'x' },
      ],
      null,
      2,
    ),
  );
  const p = await loadTask({ data: 'one.json', input: ['t'], expected: 'y' }, d);
  assert.deepEqual(
    p.examples.map((e) => e.id),
    t.examples.map((e) => e.id),
  );
  // a problem in a one-line array names the record
  writeFileSync(join(d, 'bad.json'), JSON.stringify([{ t: 'a', y: 'x' }, { t: 'b' }]));
  await rejectsInput(loadTask({ data: 'bad.json', input: ['t'], expected: 'y' }, d), 'bad.json:1 (record 2)', /missing expected field "y"/);
  // real duplicates (an id field) are still caught
  writeFileSync(
    join(d, 'dup.json'),
    JSON.stringify([
      { id: 1, t: 'a', y: 'x' },
      { id: 1, t: 'b', y: 'z' },
    ]),
  );
  await rejectsInput(loadTask({ data: 'dup.json', input: ['t'], expected: 'y', id: 'id' }, d), 'dup.json:1 (record 2)', /duplicate id "1"/);
});

test('invalid UTF-8 is an error naming file and line (JSONL, CSV, JSON)', async () => {
  const d = tmp();
  const latin1Line = Buffer.concat([Buffer.from('{"t": "caf'), Buffer.from([0xe9]), Buffer.from('", "y": "b"}\n')]);
  writeFileSync(join(d, 'l1.jsonl'), Buffer.concat([Buffer.from('{"t": "tea", "y": "a"}\n\n'), latin1Line]));
  await rejectsInput(
    loadTask({ data: 'l1.jsonl', input: ['t'], expected: 'y' }, d),
    'l1.jsonl:3',
    /invalid UTF-8 \(byte 0xe9 at byte 11 of the line\).*encoding: latin1/,
  );
  writeFileSync(join(d, 'l1.csv'), Buffer.concat([Buffer.from('t,y\ntea,a\ncaf'), Buffer.from([0xe9]), Buffer.from(',b\n')]));
  await rejectsInput(loadTask({ data: 'l1.csv', input: ['t'], expected: 'y' }, d), 'l1.csv:3', /invalid UTF-8/);
  writeFileSync(
    join(d, 'l1.json'),
    Buffer.concat([Buffer.from('[\n{"t": "tea", "y": "a"},\n{"t": "caf'), Buffer.from([0xe9]), Buffer.from('", "y": "b"}\n]')]),
  );
  await rejectsInput(loadTask({ data: 'l1.json', input: ['t'], expected: 'y' }, d), 'l1.json:3', /invalid UTF-8/);
  // a file cut inside a multi-byte character
  writeFileSync(join(d, 'cut.jsonl'), Buffer.concat([Buffer.from('{"t": "tea", "y": "a"}\n{"t": "x'), Buffer.from([0xe2, 0x82])]));
  await rejectsInput(loadTask({ data: 'cut.jsonl', input: ['t'], expected: 'y' }, d), 'cut.jsonl:2', /truncated UTF-8 sequence/);
});

test('encoding: latin1 (and windows-1252) decode the bytes as declared', async () => {
  const d = tmp();
  writeFileSync(join(d, 'l1.csv'), Buffer.concat([Buffer.from('t,y\ntea,a\ncaf'), Buffer.from([0xe9]), Buffer.from(',b\n')]));
  const t = await loadTask({ data: { path: 'l1.csv', encoding: 'latin1' }, input: ['t'], expected: 'y' }, d);
  assert.equal(t.examples[1].input.t, 'café');
  writeFileSync(
    join(d, 'w.jsonl'),
    Buffer.concat([Buffer.from('{"t": "5'), Buffer.from([0x80]), Buffer.from('", "y": "a"}\n{"t": "x", "y": "b"}\n')]),
  );
  const w = await loadTask({ data: { path: 'w.jsonl', encoding: 'windows-1252' }, input: ['t'], expected: 'y' }, d);
  assert.equal(w.examples[0].input.t, '5€');
  assert.equal(taskSchema.safeParse({ data: { path: 'x.csv', encoding: 'ebcdic' } }).success, false);
});

test('valid UTF-8 across read chunks, CRLF and BOM are read as before', async () => {
  const d = tmp();
  // multi-byte characters straddling the 64 KiB stream chunks
  const rows = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ t: `naïve €${i} 😀 ü`, y: i % 2 ? 'a' : 'b' }));
  writeFileSync(join(d, 'big.jsonl'), '\uFEFF' + rows.join('\r\n') + '\r\n');
  const t = await loadTask({ data: 'big.jsonl', input: ['t'], expected: 'y' }, d);
  assert.equal(t.examples.length, 4000);
  assert.equal(t.examples[3999].input.t, 'naïve €3999 😀 ü');
  assert.equal(t.examples[3999].id, 'big.jsonl:4000');
  const lines: number[] = [];
  for await (const l of readLines(join(d, 'big.jsonl'), 'big.jsonl')) lines.push(l.line);
  assert.equal(lines.length, 4000);
});

test('checkUtf8 rejects overlongs, surrogates and stray continuation bytes', () => {
  const ok = (...b: number[]) => checkUtf8(Uint8Array.from(b)).invalid;
  assert.equal(ok(0x61, 0xc3, 0xa9), -1);
  assert.equal(ok(0xf0, 0x9f, 0x98, 0x80), -1);
  assert.equal(ok(0x61, 0xc0, 0x80), 1, 'overlong');
  assert.equal(ok(0xed, 0xa0, 0x80), 0, 'surrogate');
  assert.equal(ok(0x80), 0, 'continuation byte alone');
  assert.equal(ok(0xf4, 0x90, 0x80, 0x80), 0, 'above U+10FFFF');
  assert.deepEqual(checkUtf8(Uint8Array.from([0x61, 0xe2, 0x82])), { invalid: -1, incomplete: 2 });
});

test('single-class data says "only one class: X"', async () => {
  const d = tmp();
  writeFileSync(join(d, 'one.jsonl'), ['a', 'b', 'c'].map((t) => JSON.stringify({ t, y: 'spam' })).join('\n'));
  await rejectsInput(
    loadTask({ data: 'one.jsonl', input: ['t'], expected: 'y' }, d),
    'one.jsonl',
    /only one class: "spam" \(all 3 examples/,
  );
});

test('a broken CSV quote names the line where the quote opened', async () => {
  const d = tmp();
  // never closed: csv-parse gives up at the end of the file
  writeFileSync(join(d, 'open.csv'), 't,y\nfine,a\n"broken,b\nmore,a\nrows,b\n');
  await rejectsInput(
    loadTask({ data: 'open.csv', input: ['t'], expected: 'y' }, d),
    'open.csv:3',
    /malformed CSV \(the quoted field that opens on this line is not closed properly/,
  );
  // closed on a later line by a quote that is followed by text
  writeFileSync(join(d, 'later.csv'), 't,y\nfine,a\n"broken,b\nnext,"c",a\n');
  await rejectsInput(
    loadTask({ data: 'later.csv', input: ['t'], expected: 'y' }, d),
    'later.csv:3',
    /quoted field that opens on this line/,
  );
  // text after the closing quote on the same line
  writeFileSync(join(d, 'same.csv'), 't,y\nfine,a\n"say "hi" now",b\n');
  await rejectsInput(loadTask({ data: 'same.csv', input: ['t'], expected: 'y' }, d), 'same.csv:3', /quoted field/);
  // a multi-line quoted field that is fine, then a broken one
  writeFileSync(join(d, 'multi.csv'), 't,y\n"two\nlines",a\n"ok ""quoted""",b\nx,"bad" ,a\n');
  await rejectsInput(loadTask({ data: 'multi.csv', input: ['t'], expected: 'y' }, d), 'multi.csv:5', /quoted field/);
  // well-formed quotes still load
  writeFileSync(join(d, 'good.csv'), 't,y\r\n"two\r\nlines",a\r\n"ok ""quoted""",b\r\n');
  const t = await loadTask({ data: 'good.csv', input: ['t'], expected: 'y' }, d);
  assert.deepEqual(
    t.examples.map((e) => e.input.t),
    ['two\r\nlines', 'ok "quoted"'],
  );
});
