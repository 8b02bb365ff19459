// A closed-choice request on a local model answers with the candidate of highest log-likelihood,
// and the label format of a prompt program asks for exactly that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalModel } from '../../src/models/local.ts';
import { TemplateProgram } from '../../src/prompting/index.ts';
import { makeTinyModel } from '../finetune/tiny.ts';

test('local model: choices pick the most likely candidate; label format sets choices', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-choice-'));
  try {
    const model = openLocalModel(`local:${makeTinyModel(join(dir, 'm'))}`);
    const messages = [{ role: 'user' as const, content: 'Item: apple' }];
    const choices = ['fruit', 'tool', 'zebra crossing'];
    const scores = await model.scoreCandidates({ messages }, choices);
    const best = choices[scores.indexOf(Math.max(...scores))];
    const r = await model.complete({ messages, choices });
    assert.equal(r.text, best);
    assert.ok(r.usage.input > 0 && r.usage.output >= 2);
    // reversed order must not change the answer: it is the likelihood, not the position
    assert.equal((await model.complete({ messages, choices: [...choices].reverse() })).text, best);

    const program = new TemplateProgram({ messages: [{ role: 'user', content: '{{text}}' }], labels: ['fruit', 'tool'] });
    assert.deepEqual((await program.render({ id: 'a', input: { text: 'apple' }, expected: 'fruit' })).choices, ['fruit', 'tool']);
    const free = new TemplateProgram({ messages: [{ role: 'user', content: '{{text}}' }], labels: ['fruit', 'tool'], format: { type: 'label', choices: false } });
    assert.equal((await free.render({ id: 'a', input: { text: 'apple' }, expected: 'fruit' })).choices, undefined);
    const cot = new TemplateProgram({ messages: [{ role: 'user', content: '{{text}}' }], labels: ['fruit', 'tool'], format: 'cot' as any });
    assert.equal((await cot.render({ id: 'a', input: { text: 'apple' }, expected: 'fruit' })).choices, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
