// The benchmark's preload (bench/harness/block-net.cjs) must refuse every non-loopback socket and
// let loopback through: it is what keeps the promptfoo side of bench/harness offline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PRELOAD = fileURLToPath(new URL('../../bench/harness/block-net.cjs', import.meta.url));

test('bench preload refuses outside sockets (net, http, fetch) and allows loopback', async () => {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-blocknet-'));
  const logFile = join(dir, 'blocked.log');
  const script = `
    const net = require('node:net'), https = require('node:https');
    const out = {};
    const settle = (k, p) => p.then((v) => (out[k] = 'ok:' + v), (e) => (out[k] = 'refused:' + (e.code || e.cause?.code || e.message)));
    Promise.all([
      settle('net', new Promise((res, rej) => { const s = net.connect(443, '93.184.216.34'); s.on('connect', () => { s.destroy(); res('connected'); }); s.on('error', rej); })),
      settle('https', new Promise((res, rej) => https.get('https://10.255.255.1/', (r) => res(r.statusCode)).on('error', rej))),
      settle('fetch', fetch('http://192.0.2.1:8080/').then((r) => r.status)),
      settle('loopback', fetch('http://127.0.0.1:${port}/').then((r) => r.text())),
    ]).then(() => { console.log(JSON.stringify(out)); });
  `;
  // the child runs while this process serves the loopback request, so it must not block the event loop
  const child = spawn(process.execPath, ['--require', PRELOAD, '-e', script], {
    env: { ...process.env, BENCH_BLOCKED_LOG: logFile, NODE_OPTIONS: '' },
  });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const code = await new Promise((r) => child.on('close', r));
  server.close();
  assert.equal(code, 0);
  const out = JSON.parse(stdout);
  assert.match(out.net, /^refused:ECONNREFUSED/);
  assert.match(out.https, /^refused:ECONNREFUSED/);
  assert.match(out.fetch, /^refused:/);
  assert.equal(out.loopback, 'ok:ok');
  const log = readFileSync(logFile, 'utf8');
  assert.match(log, /93\.184\.216\.34:443/);
  assert.match(log, /10\.255\.255\.1:443/);
  assert.match(log, /192\.0\.2\.1:8080/);
  rmSync(dir, { recursive: true, force: true });
});
