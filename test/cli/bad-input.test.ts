// Must show: bad input gets a one-line error naming the place, exit code 2, and changes nothing stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockOpenAI, type MockServer } from '../helpers/mock-openai-server.ts';
import { cli, cleanup, dumpStore, project, spamConfig, SPAM_JSONL } from './helpers.ts';

let server: MockServer;
let dir: string;
let db: string;
let good: string;
before(async () => {
  server = await startMockOpenAI();
  good = spamConfig(server.baseURL);
  dir = project({ 'tunelab.yaml': good, 'messages.jsonl': SPAM_JSONL });
  db = join(dir, '.tunelab', 'tunelab.db');
  // a stored run first, so "nothing changed" means something
  const r = await cli(['run', '-q'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await server.close();
  cleanup(dir);
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const lines = SPAM_JSONL.trimEnd().split('\n');
const withLine = (i: number, text: string) => lines.map((l, j) => (j === i ? text : l)).join('\n') + '\n';
const csv =
  'id,subject,text\n' +
  lines
    .slice(0, 40)
    .map((l) => {
      const o = JSON.parse(l);
      return [o.id, o.subject, o.text].map((v: string) => `"${v.replace(/"/g, '""')}"`).join(',');
    })
    .join('\n') +
  '\n';

// `args`: extra run arguments (-q where progress lines would print before an error found while preparing)
const cases: { name: string; files: () => Promise<Record<string, string>> | Record<string, string>; expect: RegExp; args?: string[] }[] = [
  {
    name: 'malformed JSONL line',
    files: () => ({ 'messages.jsonl': withLine(6, '{"id": "x", "subject": "broken", "text": "no closing brace"') }),
    expect: /messages\.jsonl:7\b/,
  },
  {
    name: 'CSV missing a column',
    files: () => ({ 'emails.csv': csv, 'tunelab.yaml': spamConfig(server.baseURL, { data: 'emails.csv' }) }),
    expect: /emails\.csv(:\d+)?\b.*label/,
  },
  {
    name: 'config with an unknown key',
    files: () => ({ 'tunelab.yaml': good.replace('concurrency: 4', 'concurrency: 4\nconcurency: 8') }),
    expect: /^tunelab: tunelab\.yaml:\d+: concurency: unknown key( \(did you mean .*\))?$/,
  },
  {
    name: 'config with a wrong type',
    files: () => ({ 'tunelab.yaml': good.replace('shots: 2', 'shots: 1.5') }),
    expect: /^tunelab: tunelab\.yaml:\d+: arms\[1\]\.shots: expected a whole number, got 1\.5$/,
  },
  {
    name: 'an empty test split',
    files: () => ({ 'tunelab.yaml': spamConfig(server.baseURL, { split: '  train: 0.8\n  dev: 0.2\n  test: 0' }) }),
    expect: /split\.test\b.*empty|test split.*empty/i,
  },
  {
    name: 'an example without a label',
    files: () => ({ 'messages.jsonl': withLine(11, JSON.stringify({ id: 'nolabel', subject: 'hi', text: 'there', label: '' })) }),
    expect: /messages\.jsonl:12\b.*label/,
  },
  {
    name: 'an unknown built-in data set',
    files: () => ({ 'tunelab.yaml': spamConfig(server.baseURL, { data: '{ builtin: spam-assassin-x }' }) }),
    expect: /tunelab\.yaml:\d+: task\.data.*unknown built-in data set "spam-assassin-x"/,
  },
  {
    name: 'a few-shot demonstration id that is not in train (found while preparing the arm)',
    files: () => ({
      'tunelab.yaml': spamConfig(server.baseURL, {
        arms: '  - { name: zero-shot, kind: prompt, model: mock }\n  - { name: fixed, kind: fewshot, model: mock, strategy: fixed, ids: [no-such-email] }',
      }),
    }),
    expect: /ids\[0\].*no-such-email/,
    args: ['-q'],
  },
  {
    name: 'an unreachable base URL',
    files: async () => ({ 'tunelab.yaml': spamConfig(`http://127.0.0.1:${await closedPort()}/v1`) }),
    expect: /models\[0\]\.baseURL: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
  },
];

for (const c of cases) {
  test(`bad input: ${c.name} → one line naming the place, exit 2, store unchanged`, async () => {
    const before = dumpStore(db);
    const runsBefore = readdirSync(join(dir, '.tunelab', 'runs')).sort();
    const files = await c.files();
    const saved: Record<string, string> = {};
    const { readFileSync } = await import('node:fs');
    for (const [p, text] of Object.entries(files)) {
      if (existsSync(join(dir, p))) saved[p] = readFileSync(join(dir, p), 'utf8');
      writeFileSync(join(dir, p), text);
    }
    const count = server.count();
    try {
      const r = await cli(['run', ...(c.args ?? [])], { cwd: dir });
      assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
      const errLines = r.stderr.trimEnd().split('\n');
      assert.equal(errLines.length, 1, `one line, got: ${r.stderr}`);
      assert.match(errLines[0], /^tunelab: /);
      assert.match(errLines[0], c.expect);
      if (process.env.TUNELAB_TEST_VERBOSE) console.log(errLines[0]);
      assert.equal(r.stdout, '');
      assert.equal(server.count(), count, 'no call was made');
      assert.equal(dumpStore(db), before, 'the store is unchanged');
      assert.deepEqual(readdirSync(join(dir, '.tunelab', 'runs')).sort(), runsBefore);
    } finally {
      for (const p of Object.keys(files)) writeFileSync(join(dir, p), saved[p] ?? '');
    }
  });
}

test('bad input with no store yet creates no store', async () => {
  const d = project({ 'tunelab.yaml': good.replace('shots: 2', 'shots: -1'), 'messages.jsonl': SPAM_JSONL });
  try {
    const r = await cli(['run'], { cwd: d });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /arms\[1\]\.shots: must be at least 0, got -1/);
    assert.equal(existsSync(join(d, '.tunelab')), false);
  } finally {
    cleanup(d);
  }
});

test('usage errors exit 2 too: unknown option, missing config, unknown arm', async () => {
  const r1 = await cli(['run', '--frobnicate'], { cwd: dir });
  assert.equal(r1.code, 2);
  assert.match(r1.stderr, /unknown option '--frobnicate'/);
  const r2 = await cli(['run', 'nope.yaml'], { cwd: dir });
  assert.equal(r2.code, 2);
  assert.equal(r2.stderr, 'tunelab: nope.yaml: config file not found (create one with `tunelab init`)\n');
  const r3 = await cli(['run', '--arm', 'nope'], { cwd: dir });
  assert.equal(r3.code, 2);
  assert.match(r3.stderr, /--arm: no arm named 'nope'/);
  const r4 = await cli(['report', 'no-such-run'], { cwd: dir });
  assert.equal(r4.code, 2);
  assert.match(r4.stderr, /run: no run 'no-such-run'/);
});
