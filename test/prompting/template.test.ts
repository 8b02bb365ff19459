import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  createFormat,
  extractAnswer,
  findLabel,
  loadPromptFile,
  renderText,
  TemplateProgram,
  freezeProgram,
  programFromFrozen,
  selectStatic,
} from '../../src/prompting/index.ts';
import { InputError } from '../../src/task/types.ts';
import { toyTask } from './fakes.ts';

test('renderText: no HTML escaping, nested fields, objects as JSON', () => {
  const out = renderText('{{a}} | {{email.subject}} | {{obj}} | {{n}}', {
    a: '<b>&"x"</b>',
    email: { subject: 'Hi & bye' },
    obj: { k: [1, 2] },
    n: 3,
  });
  assert.equal(out, '<b>&"x"</b> | Hi & bye | {"k":[1,2]} | 3');
});

test('prompt files: markdown with front matter, roles, includes; YAML; hashes name the content', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-prompt-'));
  writeFileSync(join(dir, 'rules.md'), 'Spam offers prizes.\n');
  writeFileSync(
    join(dir, 'p.md'),
    '---\nformat: label\n---\n# system\nYou sort mail. {{> rules.md}}\n\n# user\nSubject: {{email.subject}}\n',
  );
  const f = loadPromptFile(join(dir, 'p.md'));
  assert.deepEqual(f.messages, [
    { role: 'system', content: 'You sort mail. Spam offers prizes.' },
    { role: 'user', content: 'Subject: {{email.subject}}' },
  ]);
  assert.deepEqual(f.format, { type: 'label' });
  writeFileSync(
    join(dir, 'p.yaml'),
    'messages:\n  - role: system\n    content: "You sort mail. {{> rules.md}}"\n  - role: user\n    content: "Subject: {{email.subject}}"\nformat: label\n',
  );
  const y = loadPromptFile(join(dir, 'p.yaml'));
  assert.equal(y.hash, f.hash, 'same content, same hash, whatever the file syntax');
  writeFileSync(join(dir, 'rules.md'), 'Spam offers cash.\n');
  assert.notEqual(loadPromptFile(join(dir, 'p.md')).hash, f.hash, 'an include change changes the hash');
  writeFileSync(join(dir, 'bad.yaml'), 'messages:\n  - role: robot\n    content: x\n');
  assert.throws(
    () => loadPromptFile(join(dir, 'bad.yaml')),
    (e: unknown) => e instanceof InputError && /bad\.yaml: messages\[0\]\.role/.test(e.message),
  );
  writeFileSync(join(dir, 'inc.md'), '# user\n{{> missing.md}}\n');
  assert.throws(() => loadPromptFile(join(dir, 'inc.md')), /missing\.md/);
});

test('TemplateProgram renders format instruction, demos as user/assistant pairs before the final user turn', async () => {
  const p = new TemplateProgram({
    messages: [
      { role: 'system', content: 'Classify.' },
      { role: 'user', content: 'Text: {{text}}' },
    ],
    demos: [{ id: 'd1', input: { text: 'win cash' }, expected: 'spam' }],
    labels: ['spam', 'ham'],
  });
  const req = await p.render({ id: 'q', input: { text: 'lunch?' }, expected: 'ham' });
  assert.deepEqual(req.messages, [
    { role: 'system', content: 'Classify.\n\nAnswer with exactly one of these labels and nothing else: spam, ham.' },
    { role: 'user', content: 'Text: win cash' },
    { role: 'assistant', content: 'spam' },
    { role: 'user', content: 'Text: lunch?' },
  ]);
  assert.equal(p.parse('I think this is Spam.'), 'spam');
  const q = p.with({ demos: [] });
  assert.notEqual(q.hash, p.hash);
  assert.equal(
    new TemplateProgram({ messages: p.messages, demos: p.demos, labels: ['spam', 'ham'] }).hash,
    p.hash,
    'hash is deterministic',
  );
  // frozen round trip keeps the hash and the rendering
  const fp = freezeProgram(p, { devScore: 0.5 });
  const back = programFromFrozen(JSON.parse(JSON.stringify(fp)));
  assert.equal(back.hash, p.hash);
  assert.deepEqual(back.render({ id: 'q', input: { text: 'x' }, expected: '' }), p.render({ id: 'q', input: { text: 'x' }, expected: '' }));
});

test('output formats: label, json with schema and field, regex, reasoning then answer', () => {
  assert.equal(findLabel('The answer: ham, not spam', ['spam', 'ham']), 'ham');
  assert.equal(findLabel('hamster', ['spam', 'ham']), undefined);
  assert.equal(findLabel('spam!', ['spam', 'ham'], true), 'spam');
  assert.equal(findLabel('it is spam', ['spam', 'ham'], true), undefined);
  const json = createFormat({
    type: 'json',
    schema: { type: 'object', required: ['label'], properties: { label: { enum: ['a', 'b'] } } },
    field: 'label',
  });
  assert.equal(json.parse('Sure:\n```json\n{"label": "b"}\n```'), 'b');
  assert.equal(json.parse('{"label": "c"}'), '{"label": "c"}', 'schema-invalid output stays unparsed (the metric fails it)');
  const whole = createFormat({ type: 'json' });
  assert.equal(whole.parse('x {"b":1, "a":2} y'), '{"b":1,"a":2}');
  const re = createFormat({ type: 'regex', pattern: 'score=(?<n>\\d+)', group: 'n' });
  assert.equal(re.parse('final score=42 ok'), '42');
  const cot = createFormat({ type: 'label', labels: ['spam', 'ham'], reasoning: true });
  assert.match(cot.instruction(), /step by step/);
  assert.equal(cot.parse('It mentions spam filters, but it is a work note.\nAnswer: ham'), 'ham');
  assert.equal(cot.demoAnswer('spam'), 'Answer: spam');
  assert.equal(extractAnswer('no marker here'), 'no marker here');
});

test('static selection: seeded random, stratified, fixed ids, token budget', () => {
  const pool = toyTask(40);
  const a = selectStatic(pool, { strategy: 'random', k: 5 }, 1).map((d) => d.id);
  assert.deepEqual(
    selectStatic(pool, { strategy: 'random', k: 5 }, 1).map((d) => d.id),
    a,
  );
  assert.notDeepEqual(
    selectStatic(pool, { strategy: 'random', k: 5 }, 2).map((d) => d.id),
    a,
  );
  const s = selectStatic(pool, { strategy: 'stratified', k: 6 }, 3);
  assert.equal(s.filter((d) => d.expected === 'spam').length, 3);
  assert.deepEqual(
    selectStatic(pool, { strategy: 'fixed', ids: ['ex3', 'ex1'] }, 0).map((d) => d.id),
    ['ex3', 'ex1'],
  );
  assert.throws(() => selectStatic(pool, { strategy: 'fixed', ids: ['nope'] }, 0), InputError);
  const p = new TemplateProgram({ messages: [{ role: 'user', content: '{{text}}' }], labels: ['spam', 'ham'] });
  const budgeted = selectStatic(pool, { strategy: 'random', k: 10, tokenBudget: 40 }, 1, { program: p });
  const used = budgeted.reduce((n, d) => n + p.renderDemo(d).reduce((m, x) => m + Math.ceil(x.content.length / 4), 0), 0);
  assert.ok(budgeted.length > 0 && budgeted.length < 10 && used <= 40, `${budgeted.length} demos, ${used} tokens`);
});
