import { spawn } from 'node:child_process';
import OpenAI from 'openai';
import { createModel } from '../../src/models/index.ts';
import { nodeFetch } from '../../src/models/providers/node-fetch.ts';
const srv = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/mock-openai-server.ts', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const baseURL: string = await new Promise((r) => srv.stdout.on('data', (d) => { const m = /(http:\S+\/v1)/.exec(String(d)); if (m) r(m[1]); }));
const N = Number(process.env.N ?? 3000), C = 32;
const body = (i: number) => ({ model: 'm', messages: [{ role: 'system' as const, content: 'Classify the message as spam or ham.' }, { role: 'user' as const, content: `hello there ${i}` }], temperature: 0, max_tokens: 5 });
async function run(name: string, one: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 300; i++) await one(i);
  const c0 = process.cpuUsage(); const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: C }, async () => { while (next < N) await one(next++); }));
  const c = process.cpuUsage(c0); const ms = performance.now() - t0;
  console.log(`${name.padEnd(30)} ${((c.user + c.system) / 1000 / N).toFixed(3)} ms CPU/req  (${(N / ms * 1000).toFixed(0)} req/s)`);
}
const sdkNode = new OpenAI({ apiKey: 'x', baseURL, maxRetries: 0, fetch: nodeFetch as any });
const m = createModel({ id: 'm', provider: 'openai-compatible', baseURL, concurrency: 64 });
for (let r = 0; r < 2; r++) {
  await run('SDK + nodeFetch', (i) => sdkNode.chat.completions.create(body(i) as any));
  await run('createModel', (i) => m.complete({ messages: body(i).messages, temperature: 0, maxTokens: 5 }));
}
srv.kill();
