import assert from 'node:assert/strict';
import { test } from 'node:test';
import { armKind } from '../../src/experiment/arms/index.ts';
import { ctxFor, fakeModel, toyTask } from './fakes.ts';

test('prompt arm: schema, default template naming the labels, seeded shots from train only', async () => {
  const k = armKind('prompt');
  assert.ok(k, 'prompt arm kind registered');
  assert.equal(k.schema.safeParse({ name: 'a', kind: 'prompt', model: 'm', shots: 1.5 }).success, false);
  assert.equal(k.schema.safeParse({ name: 'a', kind: 'prompt', model: 'm', bogus: 1 }).success, false);
  assert.equal(
    k.schema.safeParse({ name: 'a', kind: 'prompt', model: 'm', messages: [{ role: 'user', content: 'x' }], prompt: 'p.md' }).success,
    false,
  );
  const cfg = k.schema.parse({ name: 'zero', kind: 'prompt', model: 'm', shots: 3, format: 'label' });
  const model = fakeModel('m', () => 'spam');
  const train = toyTask(20, 'tr'),
    dev = toyTask(10, 'dv');
  const pred = await k.create(cfg).prepare(ctxFor({ m: model }, train, dev));
  const req = await pred.prompt.render({ id: 't1', input: { text: 'hello' }, expected: 'ham' });
  assert.match(req.messages[0].content, /spam, ham/);
  assert.equal(req.messages.length, 1 + 3 * 2 + 1);
  assert.equal(req.messages.at(-1)!.content, 'Text:\nhello');
  const ids = pred.notes!.demos as string[];
  assert.ok(
    ids.every((id) => id.startsWith('tr')),
    'demos come from train',
  );
  const again = await k.create(cfg).prepare(ctxFor({ m: model }, train, dev));
  assert.equal(again.prompt.hash, pred.prompt.hash, 'same seed, same prompt');
  assert.equal(pred.prompt.parse!('SPAM'), 'spam');
  assert.equal(model.calls.length, 0, 'the prompt arm makes no calls while preparing');
});
