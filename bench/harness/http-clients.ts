// Micro-benchmark behind the README figures: CPU per chat request for HTTP client variants against the
// mock server (its own process), and SQLite insert cost per row. Run: node --import tsx bench/harness/http-clients.ts
import { spawn } from 'node:child_process';
import http from 'node:http';
import OpenAI from 'openai';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFetch } from '../../src/models/providers/node-fetch.ts';
const srv = spawn(
  process.execPath,
  ['--import', 'tsx', new URL('../../test/helpers/mock-openai-server.ts', import.meta.url).pathname, '--port', '0'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const baseURL: string = await new Promise((r) =>
  srv.stdout.on('data', (d) => {
    const m = /(http:\S+\/v1)/.exec(String(d));
    if (m) r(m[1]);
  }),
);
const N = 2000,
  C = 32;
const body = (i: number) => ({
  model: 'm',
  messages: [
    { role: 'system', content: 'Classify the message as spam or ham.' },
    { role: 'user', content: `hello there ${i}` },
  ],
  temperature: 0,
  max_tokens: 5,
});
async function run(name: string, one: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 200; i++) await one(i); // warm
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) await one(next++);
    }),
  );
  const c = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  console.log(`${name.padEnd(34)} ${((c.user + c.system) / 1000 / N).toFixed(3)} ms CPU/req  (${((N / ms) * 1000).toFixed(0)} req/s wall)`);
}
const sdkDefault = new OpenAI({ apiKey: 'x', baseURL, maxRetries: 0 });
const sdkNode = new OpenAI({ apiKey: 'x', baseURL, maxRetries: 0, fetch: nodeFetch as any });
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const u = new URL(baseURL + '/chat/completions');
const raw = (i: number) =>
  new Promise((res, rej) => {
    const p = Buffer.from(JSON.stringify(body(i)));
    const rq = http.request(
      u,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': p.length } },
      (r) => {
        const ch: Buffer[] = [];
        r.on('data', (c) => ch.push(c));
        r.on('end', () => res(JSON.parse(Buffer.concat(ch).toString())));
      },
    );
    rq.on('error', rej);
    rq.end(p);
  });
await run('openai SDK + global fetch (undici)', (i) => sdkDefault.chat.completions.create(body(i) as any));
await run('openai SDK + node:http fetch', (i) => sdkNode.chat.completions.create(body(i) as any));
await run('global fetch, no SDK', (i) =>
  fetch(u, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(i)) }).then((r) => r.json()),
);
await run('node:http keep-alive, no SDK', raw);
srv.kill();
const db = new Database(join(mkdtempSync(join(tmpdir(), 'tunelab-micro-')), 'micro.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('DROP TABLE IF EXISTS t; CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT, at INTEGER)');
const ins = db.prepare('INSERT OR REPLACE INTO t VALUES (?, ?, ?)');
const v = JSON.stringify({ text: 'ham', usage: { input: 20, output: 1 }, latencyMs: 3.2, costUsd: 0 });
let c0 = process.cpuUsage();
let t0 = performance.now();
for (let i = 0; i < N; i++) ins.run('a' + i, v, Date.now());
console.log(
  `sqlite insert, one transaction each  ${((performance.now() - t0) / N).toFixed(3)} ms wall/row, ${((process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1000 / N).toFixed(3)} ms CPU/row`,
);
c0 = process.cpuUsage();
t0 = performance.now();
const tx = db.transaction((lo: number) => {
  for (let i = lo; i < lo + 100; i++) ins.run('b' + i, v, Date.now());
});
for (let i = 0; i < N; i += 100) tx(i);
console.log(`sqlite insert, 100 per transaction   ${((performance.now() - t0) / N).toFixed(3)} ms wall/row`);
