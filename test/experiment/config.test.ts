import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, hashOf } from '../../src/experiment/index.ts';

const base = `
experiment: t
task:
  data: data.jsonl
  input: [text]
  expected: label
  metric: { type: accuracy }
models:
  - id: m
    provider: openai-compatible
    baseURL: http://127.0.0.1:9999/v1
arms:
  - name: zero
    kind: prompt
    model: m
  - name: few
    kind: prompt
    model: m
    shots: 2
`;

function err(text: string): string {
  try {
    parseConfig(text, { displayName: 'tunelab.yaml' });
  } catch (e) {
    assert.equal((e as Error).name, 'InputError');
    return (e as Error).message;
  }
  assert.fail('expected an InputError');
}

test('a valid config parses with defaults', () => {
  const c = parseConfig(base, { displayName: 'tunelab.yaml', baseDir: '/tmp' });
  assert.equal(c.config.seed, 42);
  assert.equal(c.config.concurrency, 16);
  assert.equal(c.config.output, '.tunelab');
  assert.equal(c.outputDir, '/tmp/.tunelab');
  // accuracy tasks get the automatic baseline arms after the configured ones
  assert.deepEqual(
    c.config.arms.map((a) => a.name),
    ['zero', 'few', 'majority', 'classical'],
  );
  assert.equal(c.config.arms[1].shots, 2);
  assert.match(c.hash, /^[0-9a-f]{16}$/);
});

test('wrong type names file, line and path', () => {
  const m = err(base.replace('shots: 2', 'shots: 2.5'));
  assert.equal(m, 'tunelab.yaml:19: arms[1].shots: expected a whole number, got 2.5');
});

test('unknown key is an error naming the key', () => {
  assert.equal(err(base + 'bogus: 1\n'), 'tunelab.yaml:20: bogus: unknown key');
  assert.equal(
    err(base.replace('    shots: 2', '    shots: 2\n    shotz: 3')),
    'tunelab.yaml:20: arms[1].shotz: unknown key (did you mean `shots`?)',
  );
  assert.match(err(base.replace('expected: label', 'expected: label\n  labelz: x')), /^tunelab\.yaml:7: task\.labelz: unknown key/);
});

test('missing required key and wrong enum', () => {
  assert.match(err(base.replace(/models:[\s\S]*?arms:/, 'arms:')), /^tunelab\.yaml(:\d+)?: models: required/);
  assert.match(
    err(base.replace('type: accuracy', 'type: acuracy')),
    /^tunelab\.yaml:7: task\.metric\.type: expected one of .*"accuracy".*got "acuracy"/,
  );
});

test('unknown arm kind, unknown model, duplicate names, unknown baseline', () => {
  assert.match(
    err(base.replace('kind: prompt\n    model: m\n  - name: few', 'kind: promt\n    model: m\n  - name: few')),
    /^tunelab\.yaml:14: arms\[0\]\.kind: unknown arm kind 'promt' \(known: .*prompt/,
  );
  assert.match(err(base.replace('    model: m\n    shots', '    model: nope\n    shots')), /arms\[1\]\.model: unknown model 'nope'/);
  assert.match(err(base.replace('name: few', 'name: zero')), /arms\[1\]\.name: duplicate arm name 'zero'/);
  assert.match(err(base + 'baseline: nope\n'), /^tunelab\.yaml:20: baseline: no arm named 'nope'/);
});

test('YAML syntax errors name the line', () => {
  assert.match(err('task: [1,\n  x: y\n'), /^tunelab\.yaml:\d+: invalid YAML/);
  assert.match(err(''), /tunelab\.yaml: the config is empty/);
  assert.match(err('- 1\n- 2\n'), /must be a mapping/);
});

test('assertions validate and reference arms', () => {
  assert.match(err(base + 'assert: { maxErrorRate: 2 }\n'), /assert\.maxErrorRate: must be at most 1, got 2/);
  assert.match(err(base + 'assert: { minMetric: { arm: zz, value: 0.5 } }\n'), /assert\.minMetric\.arm: no arm named 'zz'/);
  const ok = parseConfig(base + 'assert: { minMetric: 0.5, maxErrorRate: 0 }\n', {});
  assert.equal(ok.config.assert?.minMetric, 0.5);
});

test('a secret under model options is refused', () => {
  assert.match(
    err(base.replace('baseURL: http://127.0.0.1:9999/v1', 'baseURL: http://127.0.0.1:9999/v1\n    options: { api_key: sk-123 }')),
    /models\[0\]\.options\.api_key: secrets do not belong in the config/,
  );
});

test('the hash ignores concurrency, output and assertions but not arms', () => {
  const a = parseConfig(base, {}).hash;
  assert.equal(parseConfig(base + 'concurrency: 3\noutput: elsewhere\nassert: { maxErrorRate: 0 }\n', {}).hash, a);
  assert.notEqual(parseConfig(base.replace('shots: 2', 'shots: 3'), {}).hash, a);
  assert.equal(hashOf({ a: 1, b: [1, { c: 2 }] }), hashOf({ b: [1, { c: 2 }], a: 1 }));
});
