// Must show: an API key planted in the environment appears nowhere in the SQLite store, the reports
// (every format) or the logs (stdout and stderr of every command), on success and on failure paths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startMockOpenAI, type MockServer } from '../helpers/mock-openai-server.ts';
import { cli, cleanup, project, spamConfig, SPAM_JSONL } from './helpers.ts';

const KEY = `sk-planted-${randomBytes(12).toString('hex')}`;
let server: MockServer;
let wrongKeyServer: MockServer;
before(async () => {
  server = await startMockOpenAI({ apiKey: KEY });
  wrongKeyServer = await startMockOpenAI({ apiKey: 'sk-some-other-key-000' });
});
after(async () => {
  await server.close();
  await wrongKeyServer.close();
});

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

test('a planted API key is never written to the store, reports or logs', { timeout: 120_000 }, async () => {
  const keyModel = (url: string) => spamConfig(url).replace('    retries: 1\n', '    retries: 1\n    apiKeyEnv: TUNELAB_TEST_LLM_CRED\n');
  const dir = project({
    'tunelab.yaml': keyModel(server.baseURL),
    'messages.jsonl': SPAM_JSONL,
    'wrong.yaml': keyModel(wrongKeyServer.baseURL).replace('experiment: spam-test', 'experiment: wrong-key'),
  });
  // a variable name the store's own secret scan would not recognise: the config's apiKeyEnv must be enough
  const env = { TUNELAB_TEST_LLM_CRED: KEY };
  const logs: string[] = [];
  try {
    const ok = await cli(['run'], { cwd: dir, env });
    logs.push(ok.stdout, ok.stderr);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(server.requests.length >= 120, 'the key was accepted by the server (it was really used)');

    // failure path: every call is refused with 401 (error messages are stored and printed)
    const bad = await cli(['run', 'wrong.yaml', '--json'], { cwd: dir, env });
    logs.push(bad.stdout, bad.stderr);
    assert.equal(bad.code, 2, 'a refused key stops the run (exit 2)');
    assert.match(bad.stdout + bad.stderr, /401|invalid api key/i);

    for (const fmt of ['table', 'md', 'json', 'html']) {
      const r = await cli(['report', 'latest', '--format', fmt, '--out', `out.${fmt}`], { cwd: dir, env });
      logs.push(r.stdout, r.stderr);
      assert.equal(r.code, 0, r.stderr);
    }
    const r2 = await cli(['report', 'latest', '--format', 'md'], { cwd: dir, env });
    logs.push(r2.stdout, r2.stderr);
    assert.ok(r2.stdout.length > 100);
    const runs = await cli(['runs'], { cwd: dir, env });
    logs.push(runs.stdout, runs.stderr);
    assert.match(runs.stdout, /spam-test/);

    const files = allFiles(dir);
    assert.ok(files.some((f) => f.endsWith('tunelab.db')));
    assert.ok(files.some((f) => f.endsWith('report.html')));
    assert.ok(
      files.some((f) => f.endsWith('run.log')),
      'the run log is checked too',
    );
    // a refused key (401) stops the run before any result: that run is not stored, so only its stderr line is checked (above)
    for (const f of files) {
      const bytes = readFileSync(f);
      assert.equal(bytes.includes(KEY), false, `the key is in ${f}`);
      assert.equal(bytes.includes(Buffer.from(KEY, 'utf16le')), false, `the key (UTF-16) is in ${f}`);
    }
    for (const l of logs) assert.equal(l.includes(KEY), false, 'the key is in the output');
    // and the variable's name is what the store keeps
    assert.ok(
      readFileSync(join(dir, '.tunelab', 'tunelab.db')).includes('TUNELAB_TEST_LLM_CRED') ||
        allFiles(dir).some((f) => readFileSync(f).includes('TUNELAB_TEST_LLM_CRED')),
    );
  } finally {
    cleanup(dir);
  }
});
