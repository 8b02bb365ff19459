// Linear cost: 20,000 calls through createModel and the evaluation loop, sharing one run signal, add a
// constant number of abort listeners to it (one per signal, not one per call or per queued waiter) and
// never trip MaxListenersExceededWarning. The calls run in a child process (listeners-child.ts) against
// the mock server in another, so the test runner's per-async-resource hooks do not slow them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');

function node(args: string[], onLine?: (line: string) => void): { done: Promise<string>; kill(): void } {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    if (onLine) for (const l of String(d).split('\n')) if (l) onLine(l);
  });
  const done = new Promise<string>((res, rej) => {
    child.on('error', rej);
    child.on('close', (code) => (code === 0 || code === null ? res(out) : rej(new Error(`${args.join(' ')} exited ${code}`))));
  });
  return { done, kill: () => child.kill('SIGTERM') };
}

test('20,000 calls on one run signal: constant abort listeners, no MaxListenersExceededWarning', { timeout: 120_000 }, async () => {
  let url!: (u: string) => void;
  const baseURL = new Promise<string>((r) => (url = r));
  const server = node([join(ROOT, 'test/helpers/mock-openai-server.ts'), '--port', '0'], (l) => {
    const m = /(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(l);
    if (m) url(m[1]);
  });
  try {
    const out = await node([join(HERE, 'listeners-child.ts'), await baseURL, '20000']).done;
    const r = JSON.parse(out.trim().split('\n').pop()!) as { done: number; errors: number; before: number; most: number; after: number; warnings: string[] };
    assert.equal(r.done, 20_000);
    assert.equal(r.errors, 0);
    assert.ok(r.most - r.before <= 2, `abort listeners on the run signal during the run: ${r.most} (before: ${r.before})`);
    assert.ok(r.after - r.before <= 2, `left on the run signal: ${r.after}`);
    assert.deepEqual(r.warnings.filter((w) => /MaxListeners/.test(w)), []);
  } finally {
    server.kill();
    await server.done.catch(() => {});
  }
});
