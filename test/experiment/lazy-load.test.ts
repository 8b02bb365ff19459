// `tunelab report`, `runs` and a hosted-only `run` load no onnxruntime module and no engine file: each
// case runs in a child process whose module resolutions are recorded by a loader hook, and whose mapped
// shared libraries (/proc/self/maps) are checked for onnxruntime's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HEAVY = /onnxruntime|\/src\/engine\/|\/src\/finetune\/train-job\.ts|\/arms\/finetune\.ts/;

/** Runs `code` (an ES module body) under tsx; returns every module URL it resolved and whether onnxruntime's library is mapped. */
function loaded(code: string): { urls: string[]; mapped: boolean; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-lazy-'));
  try {
    const log = join(dir, 'resolved.txt');
    const hook = join(dir, 'hook.mjs');
    writeFileSync(
      hook,
      `import { register } from 'node:module';
import { appendFileSync } from 'node:fs';
const { port1, port2 } = new MessageChannel();
port1.on('message', (u) => appendFileSync(${JSON.stringify(log)}, u + '\\n'));
port1.unref();
register('data:text/javascript,' + encodeURIComponent(\`
let port;
export function initialize(d) { port = d.port; }
export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }
\`), { data: { port: port2 }, transferList: [port2] });
`,
    );
    const body = `${code}
const { readFileSync } = await import('node:fs');
let maps = ''; try { maps = readFileSync('/proc/self/maps', 'utf8'); } catch {}
console.log(JSON.stringify({ mapped: /onnxruntime/.test(maps) }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', hook, '--input-type=module', '-e', body], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    return { urls, mapped: out.mapped, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the check sees a heavy module when one is loaded (control)', () => {
  const r = loaded(`await import('./src/finetune/train-job.ts');`);
  assert.ok(
    r.urls.some((u) => /\/src\/engine\//.test(u)),
    'engine files resolved',
  );
  assert.ok(
    r.urls.some((u) => /onnxruntime/.test(u)),
    'onnxruntime resolved',
  );
});

test('report, runs and a hosted-only run load no onnxruntime module, no engine file, no fine-tune arm module', () => {
  const r = loaded(`
const { mkdtempSync, writeFileSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
await import('./src/cli/commands/report.ts');
await import('./src/cli/commands/runs.ts');
const { parseConfig, prepareExperiment } = await import('./src/experiment/index.ts');
// a hosted-only experiment: prompt arms on an OpenAI-compatible endpoint, prepared up to the first call
const dir = mkdtempSync(join(tmpdir(), 'tunelab-lazy-cfg-'));
const rows = Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: 'message ' + i, label: i % 2 ? 'spam' : 'ham' })).join('\\n');
writeFileSync(join(dir, 'data.jsonl'), rows);
const yaml = [
  'experiment: hosted-only',
  'task:', '  data: data.jsonl', '  input: [text]', '  expected: label', '  metric: { type: accuracy }',
  'models:', '  - { id: m, provider: openai-compatible, model: mock-model, baseURL: "http://127.0.0.1:9/v1" }',
  'arms:', '  - { name: zero, kind: prompt, model: m, messages: [{ role: user, content: "{{text}}" }] }', '  - { name: shots, kind: fewshot, model: m, strategy: random, k: 2, messages: [{ role: user, content: "{{text}}" }] }',
].join('\\n');
const loaded = parseConfig(yaml, { file: join(dir, 'tunelab.yaml') });
await prepareExperiment(loaded);
`);
  const heavy = r.urls.filter((u) => HEAVY.test(u));
  assert.deepEqual(heavy, [], `heavy modules loaded:\n${heavy.join('\n')}`);
  assert.ok(
    r.urls.some((u) => /src\/experiment\/runner\.ts/.test(u)),
    'the runner itself was loaded (the check saw the imports)',
  );
  assert.equal(r.mapped, false, 'onnxruntime shared library mapped');
});
