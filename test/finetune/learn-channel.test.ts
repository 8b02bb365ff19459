import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelModel, channelRecord, CHANNEL_SYSTEM, CHANNEL_MAX_CHARS } from '../../src/experiment/arms/finetune-channel.ts';
import type { ChatModel, ChatRequest } from '../../src/models/types.ts';

test('channelRecord: the label, then the text of the last user turn, as the assistant turn', () => {
  const r = channelRecord(
    [
      { role: 'system', content: 'Classify the input into one of these labels: a, b.' },
      { role: 'user', content: 'Text:\nsome words' },
    ],
    'b',
  );
  assert.deepEqual(r.messages, [
    { role: 'system', content: CHANNEL_SYSTEM },
    { role: 'user', content: 'Example:' },
    { role: 'assistant', content: 'b\nText:\nsome words' },
  ]);
  const long = channelRecord([{ role: 'user', content: 'x'.repeat(5000) }], 'a');
  assert.equal(long.messages[2].content.length, 2 + CHANNEL_MAX_CHARS);
});

test('channelModel: answers a closed choice with the label under which the text scores highest', async () => {
  const asked: { req: ChatRequest; cands: string[] }[] = [];
  const inner: ChatModel = {
    id: 'fake',
    complete: async () => ({ text: 'free text', usage: { input: 1, output: 1 }, latencyMs: 0, costUsd: 0 }),
    // likes candidates whose text mentions the label's word
    scoreCandidates: async (req, cands) => {
      asked.push({ req, cands });
      return cands.map((c) => {
        const [label, ...rest] = c.split('\n');
        return rest.join('\n').includes(label === 'plant' ? 'tree' : 'dog') ? -1 : -5;
      });
    },
  };
  const m = channelModel(inner);
  const r = await m.complete({
    messages: [
      { role: 'system', content: 's' },
      { role: 'user', content: 'Text:\na tall tree' },
    ],
    choices: ['animal', 'plant'],
  });
  assert.equal(r.text, 'plant');
  assert.deepEqual(asked[0].cands, ['animal\nText:\na tall tree', 'plant\nText:\na tall tree']);
  assert.equal(asked[0].req.messages[0].content, CHANNEL_SYSTEM);
  const r2 = await m.complete({ messages: [{ role: 'user', content: 'a dog barks' }], choices: ['animal', 'plant'] });
  assert.equal(r2.text, 'animal');
  // without choices the request goes to the model as it is
  assert.equal((await m.complete({ messages: [{ role: 'user', content: 'hi' }] })).text, 'free text');
});
