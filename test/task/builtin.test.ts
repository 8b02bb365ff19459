import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTask, loadBuiltin, builtinLoadMs, splitExamples, emailToText, brownToText, htmlToText } from '../../src/task/index.ts';

const countBy = (xs: { expected: string }[]) =>
  xs.reduce<Record<string, number>>((m, e) => ((m[e.expected] = (m[e.expected] ?? 0) + 1), m), {});

test('spamassassin: 6,046 emails, spam 1,896 / ham 4,150, headers stripped, bodies cut', async (t) => {
  const t0 = performance.now();
  const task = await loadTask({ data: { builtin: 'spamassassin' } }, '.');
  const ms = performance.now() - t0;
  t.diagnostic(`spamassassin first load ${ms.toFixed(0)} ms (parse ${builtinLoadMs.spamassassin?.toFixed(0)} ms)`);
  assert.equal(task.examples.length, 6046);
  assert.deepEqual(countBy(task.examples), { ham: 4150, spam: 1896 });
  assert.deepEqual(task.labels, ['ham', 'spam']);
  assert.deepEqual(task.inputFields, ['text']);
  const e = task.examples[0];
  assert.equal(e.id, 'spamassassin:easy-ham-1/00001');
  const texts = task.examples.map((x) => String(x.input.text));
  assert.ok(texts.every((s) => s.length <= 1000));
  assert.ok(!texts.some((s) => /^(Return-Path|Received|Delivered-To|From [^ ]+@)/.test(s)), 'no header block left');
  const withTags = texts.filter((s) => /<\/?(html|body|div|table|font|td)\b/i.test(s)).length;
  assert.ok(withTags < 30, `${withTags} texts still contain HTML tags`);
  assert.ok(texts.filter((s) => s.startsWith('Subject: ')).length > 6000);
  // cached: the second load is cheap; maxChars is applied per call
  const t1 = performance.now();
  const short = await loadTask({ data: { builtin: 'spamassassin', maxChars: 200 } }, '.');
  const ms2 = performance.now() - t1;
  t.diagnostic(`spamassassin cached load ${ms2.toFixed(0)} ms`);
  assert.ok(ms2 < ms, 'cached load is faster');
  assert.ok(short.examples.every((x) => String(x.input.text).length <= 200));
  // limit keeps the class mix
  const lim = await loadTask({ data: { builtin: 'spamassassin', limit: 600 } }, '.');
  const c = countBy(lim.examples);
  assert.equal(lim.examples.length, 600);
  assert.ok(Math.abs(c.spam - 188) <= 2, `spam ${c.spam}`);
  // dedupe and a default split work on the real set
  const t2 = performance.now();
  const s = splitExamples(task.examples, { seed: 1 });
  t.diagnostic(
    `spamassassin split ${(performance.now() - t2).toFixed(0)} ms; duplicates removed ${s.report.duplicatesRemoved}; leakage ${s.report.leakage.length}`,
  );
  assert.ok(s.report.duplicatesRemoved > 50 && s.report.duplicatesRemoved < 400);
  assert.equal(s.report.sizes.test, Math.round((6046 - s.report.duplicatesRemoved) * 0.2));
});

test('spamassassin input fields: subject and body', async () => {
  const task = await loadTask({ data: { builtin: 'spamassassin', limit: 50 }, input: ['subject', 'body'] }, '.');
  assert.deepEqual(Object.keys(task.examples[0].input), ['subject', 'body']);
  assert.equal(task.examples[0].input.subject, 'Re: New Sequences Window');
});

test('brown-genre: 500 documents, 15 genres, tags stripped', async () => {
  const task = await loadTask({ data: { builtin: 'brown-genre' } }, '.');
  assert.equal(task.examples.length, 500);
  const c = countBy(task.examples);
  assert.equal(Object.keys(c).length, 15);
  assert.equal(task.labels!.length, 15);
  assert.deepEqual([c.learned, c.belles_lettres, c.news, c.humor, c.science_fiction], [80, 75, 44, 9, 6]);
  const first = String(task.examples[0].input.text);
  assert.match(
    first,
    /^The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced "no evidence" that/,
  );
  assert.ok(
    task.examples.every((e) => !/\w\/(at|nn|vbd|in|jj)\b/.test(String(e.input.text))),
    'no word/tag left',
  );
  assert.ok(task.examples.every((e) => String(e.input.text).length <= 1000));
  // stratified split works with the rarest genre (6)
  const s = splitExamples(task.examples, { seed: 2 });
  assert.ok(s.split.test.some((e) => e.expected === 'science_fiction'));
});

test('sotu-party: 233 addresses labeled by party', async () => {
  const task = await loadTask({ data: { builtin: 'sotu-party', maxChars: 300 } }, '.');
  assert.equal(task.examples.length, 233);
  const c = countBy(task.examples);
  assert.equal(c.Republican, 92);
  assert.equal(c.Democratic, 90);
  assert.equal(new Set(task.examples.map((e) => e.id)).size, 233);
  assert.ok(task.examples.every((e) => String(e.input.text).length <= 300));
  const recs = await loadBuiltin({ builtin: 'sotu-party' });
  assert.equal(typeof recs[0].year, 'number');
  assert.equal(recs[0].president, 'George Washington');
});

test('email cleanup: headers, quoted-printable, multipart alternative, HTML', () => {
  const raw = [
    'From: a@b.c',
    'Subject: =?utf-8?B?SGVsbG8gd29ybGQ=?=',
    'Content-Type: multipart/alternative; boundary="XX"',
    '',
    'preamble',
    '--XX',
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Buy now =3D cheap, soft=',
    'break here',
    '--XX',
    'Content-Type: text/html',
    '',
    '<html><body><p>Buy <b>now</b></p></body></html>',
    '--XX--',
  ].join('\n');
  const r = emailToText(raw);
  assert.equal(r.subject, 'Hello world');
  assert.equal(r.body, 'Buy now = cheap, softbreak here');
  const h = emailToText(
    'Subject: x\nContent-Type: text/html\n\n<html><head><style>p{}</style></head><body><p>Hi&nbsp;there &amp; you</p><script>x()</script></body></html>',
  );
  assert.equal(h.body, 'Hi there & you');
  assert.equal(htmlToText('a<br>b&#33;').replace(/\s+/g, ' '), 'a b!');
  assert.equal(brownToText("The/at ``/`` best/jjt ''/'' ,/, 1/2/cd ./."), 'The "best", 1/2.');
});
