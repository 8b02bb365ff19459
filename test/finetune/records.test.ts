import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  toTrainingRecords,
  plainPrompt,
  parseJsonl,
  toJsonl,
  validateRecords,
  estimateRun,
  promptHash,
  formatProblems,
} from '../../src/finetune/index.ts';
import { InputError } from '../../src/task/types.ts';

const ex = (id: string, text: string, expected: string) => ({ id, input: { text }, expected });

test('examples become chat records: the prompt as system/user turns, the expected output as the assistant turn', () => {
  const recs = toTrainingRecords(
    [ex('a', 'buy now', 'spam'), ex('b', 'meeting at 3', 'ham')],
    plainPrompt(['text'], 'Classify: spam or ham.'),
  );
  assert.deepEqual(recs[0].messages, [
    { role: 'system', content: 'Classify: spam or ham.' },
    { role: 'user', content: 'buy now' },
    { role: 'assistant', content: 'spam' },
  ]);
  assert.equal(recs[1].messages[2].content, 'ham');
  const multi = toTrainingRecords([{ id: 'c', input: { subject: 'hi', body: 'yo' }, expected: 'x' }], plainPrompt(['subject', 'body']));
  assert.equal(multi[0].messages[0].content, 'subject: hi\nbody: yo');
});

test('JSONL round trip and errors naming file:line', () => {
  const recs = [
    {
      messages: [
        { role: 'user' as const, content: 'q' },
        { role: 'assistant' as const, content: 'a' },
      ],
    },
  ];
  assert.deepEqual(parseJsonl(toJsonl(recs)), recs);
  assert.deepEqual(
    parseJsonl('{"prompt":"p","completion":"c"}\n')[0].messages.map((m) => m.role),
    ['user', 'assistant'],
  );
  assert.throws(
    () => parseJsonl('{"messages":[]}\n{bad', 'train.jsonl'),
    (e: unknown) => e instanceof InputError && /train\.jsonl:2/.test((e as Error).message),
  );
  assert.throws(() => parseJsonl('{"messages":[{"role":"robot","content":"x"}]}', 'f.jsonl'), /f\.jsonl:1.*role/);
});

test('validation: length against context, label balance, duplicates, conflicts, dev and held-out overlap', () => {
  const mk = (u: string, a: string) => ({
    messages: [
      { role: 'user' as const, content: u },
      { role: 'assistant' as const, content: a },
    ],
  });
  const recs = [
    ...Array.from({ length: 20 }, (_, i) => mk(`ham text ${i}`, 'ham')),
    mk('spam 1', 'spam'),
    mk('spam 1', 'spam'),
    mk('spam 1', 'ham'),
    mk('x'.repeat(4000), 'ham'),
  ];
  const probs = validateRecords(recs, {
    contextLength: 512,
    validation: [mk('ham text 3', 'ham')],
    holdoutPromptHashes: [promptHash(mk('ham text 5', '?'))],
  });
  const text = formatProblems(probs);
  assert.match(text, /exceed 512 tokens/);
  assert.match(text, /imbalanced: "ham" 22 vs "spam" 2/);
  assert.match(text, /duplicate of record 20/);
  assert.match(text, /same prompt as record 20 with a different answer/);
  assert.match(text, /validation records also appear in the training data/);
  const leak = probs.find((p) => /held-out test data/.test(p.message))!;
  assert.equal(leak.level, 'error');
  assert.equal(leak.index, 5);
  const bad = validateRecords([{ messages: [{ role: 'user', content: 'q' }] }, { messages: [{ role: 'assistant', content: '' }] }]);
  assert.ok(bad.some((p) => p.level === 'error' && /does not end with an assistant turn/.test(p.message)));
  assert.ok(bad.some((p) => p.level === 'error' && /no user turn/.test(p.message)));
  assert.ok(bad.some((p) => /only 2 training records/.test(p.message)));
  assert.deepEqual(validateRecords(Array.from({ length: 12 }, (_, i) => mk(`q${i}`, i % 2 ? 'a' : 'b'))), []);
});

test('estimate: tokens, steps and time from a probe rate', () => {
  const recs = Array.from({ length: 20 }, () => ({
    messages: [
      { role: 'user' as const, content: 'x'.repeat(392) },
      { role: 'assistant' as const, content: 'y' },
    ],
  }));
  const e = estimateRun({
    records: recs,
    opts: { baseModel: 'm', method: 'lora', epochs: 3, learningRate: 1e-3, batchSize: 8, seed: 1, outputDir: '' },
    secondsPerToken: 0.001,
    pricePerHour: 3.6,
    countTokens: () => 100,
  });
  assert.equal(e.steps, 9);
  assert.equal(e.tokens, 6000);
  assert.equal(e.seconds, 6);
  assert.ok(Math.abs(e.costUsd - 0.006) < 1e-9);
  assert.match(e.note!, /probe/);
  const capped = estimateRun({
    records: recs,
    opts: { baseModel: 'm', method: 'lora', epochs: 3, learningRate: 1e-3, batchSize: 8, seed: 1, outputDir: '', maxSteps: 3 },
    countTokens: () => 100,
  });
  assert.equal(capped.steps, 3);
  assert.ok(Number.isNaN(capped.seconds));
});
