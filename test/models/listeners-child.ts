// Child process of listeners.test.ts (run outside the test runner, whose async hooks would double the
// CPU per call): 20,000 calls through createModel and evaluate() on one run signal against the base URL
// given as argv[2]; prints {done, errors, before, most, after, warnings} as JSON on stdout.
import { getEventListeners } from 'node:events';
import { createModel, registerProvider } from '../../src/models/index.ts';
import { nodeFetch } from '../../src/models/providers/node-fetch.ts';
import { evaluate } from '../../src/prompting/index.ts';
import type { Scorer } from '../../src/metrics/types.ts';
import type { Example } from '../../src/task/types.ts';

const baseURL = process.argv[2];
const N = Number(process.argv[3] ?? 20_000);

// A thin HTTP adapter that, like the openai SDK, adds an abort listener to the signal it is given and
// never removes it: the layers must hand it a per-attempt signal, not the run's.
registerProvider('test-leaky-http', (cfg) => ({
  id: cfg.id,
  endpoint: cfg.baseURL,
  handlesTimeout: true,
  async complete(req, o) {
    o?.signal?.addEventListener('abort', () => {}, { once: true });
    const res = await nodeFetch(`${cfg.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: cfg.model, messages: req.messages }),
      signal: o?.signal,
    });
    const j = (await res.json()) as { choices: { message: { content: string } }[]; usage: { prompt_tokens: number; completion_tokens: number } };
    return { text: j.choices[0].message.content, usage: { input: j.usage.prompt_tokens, output: j.usage.completion_tokens }, latencyMs: 0, costUsd: 0 };
  },
}));

function* cases(): Generator<Example> {
  for (let i = 0; i < N; i++) yield { id: `e${i}`, input: { text: i % 5 ? `notes ${i}` : `win cash ${i}` }, expected: i % 5 ? 'ham' : 'spam' };
}
const exact = { name: 'exact', score: (answer: string, ex: Example) => ({ score: answer === ex.expected ? 1 : 0, pass: answer === ex.expected }) } as unknown as Scorer;

const warnings: string[] = [];
process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));
const run = new AbortController();
// the loop runs 64 calls at once, the model's limiter 8: waiters queue on the run signal
const model = createModel({ id: 'listeners', provider: 'test-leaky-http', baseURL, model: 'mock-model', concurrency: 8, retries: 0 });
const program = { hash: 'p', render: (ex: Example) => ({ messages: [{ role: 'user' as const, content: String(ex.input.text) }] }) };
const count = () => getEventListeners(run.signal, 'abort').length;
const before = count();
let most = before;
let seen = 0;
const out = await evaluate(program, model, exact, cases(), {
  concurrency: 64,
  signal: run.signal,
  onResult: () => {
    if (++seen % 250 === 0) most = Math.max(most, count());
  },
});
await new Promise((r) => setImmediate(r));
process.stdout.write(JSON.stringify({ done: out.done, errors: out.errors, before, most, after: count(), warnings }) + '\n');
