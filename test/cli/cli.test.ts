// The CLI surface: help on every command, fast start (nothing heavy loaded for --help), init writes a
// starter that validates, report/runs over a stored run, exit code 1 for a crossed assertion.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockOpenAI, type MockServer } from '../helpers/mock-openai-server.ts';
import { parseConfig } from '../../src/experiment/index.ts';
import { BIN, ROOT, cli, cleanup, project, spamConfig, SPAM_JSONL } from './helpers.ts';

let server: MockServer;
before(async () => {
  server = await startMockOpenAI();
});
after(() => server.close());

test('--help on the program and every command; --version', async () => {
  const d = project({});
  try {
    const r = await cli(['--help'], { cwd: d });
    assert.equal(r.code, 0);
    for (const c of ['run', 'report', 'runs', 'init']) assert.match(r.stdout, new RegExp(`\\n  ${c} `));
    assert.match(r.stdout, /Exit codes: 0 ok, 1 .*2 bad input/s);
    for (const [c, want] of [
      ['run', /--no-cache/],
      ['report', /--format <format>/],
      ['runs', /--store/],
      ['init', /\[dir\]/],
    ] as const) {
      const h = await cli([c, '--help'], { cwd: d });
      assert.equal(h.code, 0);
      assert.match(h.stdout, want);
    }
    // commands owned by other modules parse their own arguments, --help included
    for (const c of ['demo', 'serve', 'pretrain']) {
      const h = await cli([c, '--help'], { cwd: d });
      assert.equal(h.code, 0, h.stderr);
      assert.match(h.stdout, new RegExp(`^Usage: tunelab ${c}`));
    }
    const v = await cli(['--version'], { cwd: d });
    assert.equal(v.stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const u = await cli(['frobnicate'], { cwd: d });
    assert.equal(u.code, 2);
  } finally {
    cleanup(d);
  }
});

/** Bare module names a bundle file loads statically, following its static chunk imports. */
function staticImports(file: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(file)) return out;
  seen.add(file);
  const src = readFileSync(file, 'utf8');
  for (const m of src.matchAll(/^\s*import\s+(?:[^'"]*?\s+from\s+)?["']([^"']+)["']/gm)) {
    const spec = m[1];
    if (spec.startsWith('./')) for (const x of staticImports(join(file, '..', spec), seen)) out.add(x);
    else out.add(spec);
  }
  return out;
}

test('start-up loads only commander and node built-ins (no SQLite, SDKs, onnxruntime)', async () => {
  const main = join(ROOT, 'dist', 'main.js');
  assert.ok(existsSync(main), 'npm test builds dist first');
  const mods = [...staticImports(main)].filter((m) => !m.startsWith('node:'));
  assert.deepEqual(mods, ['commander']);
  // and it is quick: median of 5 (generous bound: the test machine is shared)
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = await cli(['--help'], { cwd: ROOT });
    times.push(performance.now() - t0);
    assert.equal(r.code, 0);
  }
  times.sort((a, b) => a - b);
  assert.ok(times[2] < 3000, `tunelab --help took ${times[2].toFixed(0)} ms`);
  void BIN;
});

test('init writes a commented starter that runs as written (offline); refuses to overwrite', { timeout: 180_000 }, async () => {
  const d = project({});
  try {
    const r = await cli(['init', 'exp'], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    const yaml = readFileSync(join(d, 'exp', 'tunelab.yaml'), 'utf8');
    assert.match(yaml, /^# /m);
    const loaded = parseConfig(yaml, { file: join(d, 'exp', 'tunelab.yaml') });
    assert.ok(loaded.config.arms.length >= 2);
    assert.equal(readFileSync(join(d, 'exp', 'messages.jsonl'), 'utf8'), SPAM_JSONL);
    // it runs as written, offline (the prompt arm here; the LoRA arm trains for a minute, which
    // tunelab demo's tests cover)
    const run = await cli(['run', 'exp/tunelab.yaml', '--arm', 'zero-shot', '-q', '--json'], { cwd: d, timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    assert.deepEqual(
      out.arms.map((a: any) => [a.name, a.done, a.errors]),
      [['zero-shot', 36, 0]],
    );
    assert.match(out.report.arms[0].modelId, /builtin/);
    const again = await cli(['init', 'exp'], { cwd: d });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /tunelab\.yaml: already exists \(pass --force to overwrite\)/);
  } finally {
    cleanup(d);
  }
});

test('run → report in every format → runs; --arm; assertion crossed exits 1', { timeout: 120_000 }, async () => {
  const d = project({
    'tunelab.yaml': spamConfig(server.baseURL, { top: 'assert:\n  minMetric: { arm: zero-shot, value: 0.99 }' }),
    'messages.jsonl': SPAM_JSONL,
  });
  try {
    const r = await cli(['run'], { cwd: d });
    assert.equal(r.code, 1, 'the mock is not 99% accurate: the assertion fails');
    assert.match(r.stderr, /assertion failed: arm zero-shot: accuracy 0\.\d+ < 0\.99/);
    assert.match(r.stdout, /zero-shot \(baseline\)/);
    assert.match(r.stdout, /few-shot/);
    assert.match(r.stderr, /\[zero-shot\] 60\/60 done/);
    const runId = /run (\d{8}-\d{6}-[0-9a-f]+)/.exec(r.stdout)![1];
    for (const f of ['report.html', 'report.md', 'report.json']) assert.ok(existsSync(join(d, '.tunelab', 'runs', runId, f)), f);

    const md = await cli(['report', 'latest', '--format', 'md'], { cwd: d });
    assert.equal(md.code, 0);
    assert.match(md.stdout, /\| *zero-shot/);
    const js = await cli(['report', runId.slice(-6), '--format', 'json'], { cwd: d });
    const rep = JSON.parse(js.stdout);
    assert.equal(rep.runId, runId);
    assert.deepEqual(
      rep.arms.filter((a: any) => a.kind !== 'majority' && a.kind !== 'classical').map((a: any) => [a.name, a.n, a.status]),
      [
        ['zero-shot', 60, 'done'],
        ['few-shot', 60, 'done'],
      ],
    );
    assert.equal(rep.comparisons[0].arm, 'few-shot');
    const html = await cli(['report', 'latest', '--format', 'html', '--out', 'r.html'], { cwd: d });
    assert.equal(html.code, 0);
    assert.match(readFileSync(join(d, 'r.html'), 'utf8'), /^<!doctype html>/i);

    const one = await cli(['run', '--arm', 'few-shot', '--json', '--fresh'], { cwd: d });
    assert.equal(one.code, 0, one.stderr);
    const o = JSON.parse(one.stdout);
    assert.deepEqual(
      o.arms.map((a: any) => [a.name, a.cached]),
      [['few-shot', 60]],
    );

    const runs = await cli(['runs', '--json'], { cwd: d });
    const list = JSON.parse(runs.stdout);
    assert.equal(list.length, 2);
    assert.equal(list[1].id, runId);
    assert.equal(list[1].status, 'done');
  } finally {
    cleanup(d);
  }
});
