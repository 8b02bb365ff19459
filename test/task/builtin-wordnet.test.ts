import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTask, builtinLabels } from '../../src/task/index.ts';
import { parseNounLine } from '../../src/task/wordnet-topic.ts';

test('wordnet-topic: 700 noun definitions, 7 topics × 100, stable ids and labels', async () => {
  const task = await loadTask({ data: { builtin: 'wordnet-topic' } }, '.');
  assert.equal(task.examples.length, 700);
  assert.deepEqual(task.labels, ['animal', 'artifact', 'body', 'food', 'location', 'person', 'plant']);
  assert.deepEqual(builtinLabels('wordnet-topic'), task.labels);
  const counts: Record<string, number> = {};
  for (const e of task.examples) counts[e.expected] = (counts[e.expected] ?? 0) + 1;
  assert.deepEqual(Object.values(counts), [100, 100, 100, 100, 100, 100, 100]);
  assert.equal(new Set(task.examples.map((e) => e.id)).size, 700);
  // pinned: the first record of the set and one from the middle (ids are WordNet 3.1 noun offsets)
  assert.equal(task.examples[0].id, 'wordnet:n:01315584');
  assert.equal(task.examples[0].expected, 'animal');
  const food = task.examples.find((e) => e.id === task.examples[350].id)!;
  assert.equal(food.expected, 'food');
  // the text is the definition only: no quoted usage examples
  assert.ok(task.examples.every((e) => !String(e.input.text).includes('"')));
  assert.ok(task.examples.every((e) => String(e.input.text).length >= 12));
});

test('parseNounLine: words, lexicographer file and the definition without its examples', () => {
  const p = parseNounLine(
    '02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 001 @ 02083346 n 0000 | a member of the genus Canis; "the dog barked all night"  ',
  );
  assert.deepEqual(p, {
    offset: '02084071',
    lexFile: '05',
    words: ['dog', 'domestic dog', 'Canis familiaris'],
    definition: 'a member of the genus Canis',
  });
  assert.equal(parseNounLine('  1 This software and database is being provided'), undefined);
});
