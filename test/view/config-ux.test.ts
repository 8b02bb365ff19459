// Config ergonomics: the committed JSON Schema is up to date and accepts the shipped examples;
// ${VAR} interpolation (defaults, escapes, no secrets); "did you mean" for unknown keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseConfig } from '../../src/experiment/index.ts';
import { SCHEMA_FILE, schemaText } from '../../schema/generate.ts';

const ROOT = join(import.meta.dirname, '..', '..');

test('schema/tunelab.schema.json is generated from the zod schemas and up to date', () => {
  assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), schemaText(), 'run `node --import tsx schema/generate.ts` and commit the result');
});

test('the schema accepts the shipped configs and rejects an unknown key', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
  for (const f of ['examples/demo/tunelab.yaml', 'examples/spam-mini/tunelab.yaml']) {
    const cfg = YAML.parse(readFileSync(join(ROOT, f), 'utf8'));
    assert.ok(validate(cfg), `${f}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
  }
  const bad = YAML.parse(readFileSync(join(ROOT, 'examples/spam-mini/tunelab.yaml'), 'utf8'));
  bad.sedd = 1;
  assert.equal(validate(bad), false);
});

const BASE = (extra: string) => `
experiment: \${EXP_NAME:-fallback}
task:
  data: \${DATA_FILE}
  input: [text]
  expected: label
  metric: { type: accuracy }
models:
  - { id: m, provider: openai, model: gpt-4o-mini }
arms:
  - { name: zero, kind: prompt, model: m, messages: [{ role: user, content: "cost $\${ price }: {{text}}" }] }
${extra}`;

test('${VAR} interpolation: values, defaults, $${ escapes; unset and secret-looking names are errors', () => {
  process.env.DATA_FILE = 'data/x.jsonl';
  delete process.env.EXP_NAME;
  try {
    const c = parseConfig(BASE(''), { displayName: 'tunelab.yaml', baseDir: ROOT }).config;
    assert.equal(c.experiment, 'fallback');
    assert.equal((c.task as { data: unknown }).data, 'data/x.jsonl');
    assert.match(JSON.stringify(c.arms[0]), /cost \$\{ price \}/);
    delete process.env.DATA_FILE;
    assert.throws(
      () => parseConfig(BASE(''), { displayName: 'tunelab.yaml', baseDir: ROOT }),
      /tunelab\.yaml:4: task\.data: environment variable DATA_FILE is not set/,
    );
    process.env.DATA_FILE = 'data/x.jsonl';
    assert.throws(
      () => parseConfig(BASE('description: ${OPENAI_API_KEY}'), { displayName: 'tunelab.yaml', baseDir: ROOT }),
      /looks like a secret/,
    );
  } finally {
    delete process.env.DATA_FILE;
  }
});

test('unknown keys get "did you mean"', () => {
  process.env.DATA_FILE = 'data/x.jsonl';
  try {
    assert.throws(
      () => parseConfig(BASE('sede: 3'), { displayName: 'tunelab.yaml', baseDir: ROOT }),
      /tunelab\.yaml:12: sede: unknown key \(did you mean `seed`\?\)/,
    );
    assert.throws(
      () =>
        parseConfig(BASE('').replace('kind: prompt, model: m,', 'kind: prompt, modle: m,'), { displayName: 'tunelab.yaml', baseDir: ROOT }),
      /arms\[0\]\.modle: unknown key \(did you mean `model`\?\)/,
    );
  } finally {
    delete process.env.DATA_FILE;
  }
});
