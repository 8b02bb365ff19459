/**
 * A real OpenAI-compatible HTTP server for tests and benchmarks (node:http, 127.0.0.1, port 0 by default).
 *
 * Endpoints
 *   POST /v1/chat/completions   OpenAI's documented chat completion shape, with `usage`
 *                               (prompt_tokens = ceil(chars of all message contents / 4),
 *                                completion_tokens = ceil(chars of the answer / 4), at least 1).
 *   POST /v1/messages           Anthropic's documented Messages API shape (same default answers), so an
 *                               Anthropic adapter can be tested against the same server.
 *   POST /v1/embeddings         deterministic 64-dim embeddings (hashed bag of words, L2-normalized;
 *                               see embedText). Not counted by count().
 *   GET  /v1/models             a model list (`mock-model` plus every model name seen so far).
 *   GET  /__mock/stats          {count, completed, inFlight, maxInFlight}: for tests that run the server
 *                               as a separate process (CLI mode).
 *   POST /__mock/fail           body {kind, times?, retryAfterSec?}: failNext() over HTTP.
 *
 * Default answer (deterministic): "spam" when the LAST user message matches
 *   /\b(free|win|winner|won|prize|cash|money|offer|click|urgent)\b|\$/i
 * and "ham" otherwise. Pass `respond` to answer anything else.
 *
 * Faults (failNext, applied in order to the next chat requests, `times` each, default 1):
 *   '429'       HTTP 429 with a Retry-After header (opts.retryAfterSec, default 0) and an OpenAI error body
 *   '500'       HTTP 500 with an OpenAI error body
 *   'timeout'   never answers (the socket stays open until the client gives up or close() is called)
 *   'malformed' HTTP 200, content-type application/json, body that is not valid JSON
 *   'drop'      destroys the socket without any response
 *
 * If `apiKey` is set, requests without `Authorization: Bearer <apiKey>` (or `x-api-key: <apiKey>` for
 * /v1/messages) get 401.
 *
 * CLI: `node --import tsx test/helpers/mock-openai-server.ts --port N [--latency MS] [--api-key K]`
 * prints the base URL (http://127.0.0.1:PORT/v1) on one line of stdout and serves until SIGTERM/SIGINT.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface MockServerOptions {
  /** the answer text; may throw (the server then answers HTTP 500 with the error's message). `headers` are the request's. */
  respond?: (req: {
    model: string;
    messages: { role: string; content: string }[];
    body: any;
    headers?: Record<string, string | string[] | undefined>;
  }) => string | Promise<string>;
  latencyMs?: number;
  apiKey?: string;
  /** default 0 (any free port); the CLI entry passes --port */
  port?: number;
}

export type FaultKind = '429' | '500' | 'timeout' | 'malformed' | 'drop';

export interface MockServer {
  /** http://127.0.0.1:PORT/v1 */
  baseURL: string;
  port: number;
  /** parsed bodies of completed (successfully answered) chat requests, in completion order */
  requests: any[];
  /** chat requests received, including failed ones */
  count(): number;
  failNext(kind: FaultKind, times?: number, opts?: { retryAfterSec?: number }): void;
  /** chat requests being handled right now (received, not yet answered) */
  inFlight(): number;
  /** the most chat requests that were in flight at once */
  maxInFlight(): number;
  close(): Promise<void>;
}

const SPAM_RE = /\b(free|win|winner|won|prize|cash|money|offer|click|urgent)\b|\$/i;

/** The default deterministic answer: see the module comment. */
export function defaultRespond(req: { messages: { role: string; content: string }[] }): string {
  const users = req.messages.filter((m) => m.role === 'user');
  const last = users[users.length - 1];
  return last && SPAM_RE.test(contentText(last.content)) ? 'spam' : 'ham';
}

function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (p && typeof p === 'object' && 'text' in p ? String((p as any).text) : '')).join('');
  return c == null ? '' : String(c);
}

const tokens = (chars: number) => Math.ceil(chars / 4);

/** Deterministic 64-dimensional embedding: hashed bag of lower-cased words, L2-normalized. */
export function embedText(text: string, dim = 64): number[] {
  const v = new Array<number>(dim).fill(0);
  for (const w of text.toLowerCase().match(/[a-z0-9$]+/g) ?? []) {
    let h = 2166136261;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
    v[(h >>> 0) % dim] += 1;
  }
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

export async function startMockOpenAI(opts: MockServerOptions = {}): Promise<MockServer> {
  const respond = opts.respond ?? defaultRespond;
  const faults: { kind: FaultKind; retryAfterSec?: number }[] = [];
  const requests: any[] = [];
  const sockets = new Set<Socket>();
  const modelsSeen = new Set<string>();
  let received = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let seq = 0;

  function failNext(kind: FaultKind, times = 1, o?: { retryAfterSec?: number }) {
    if (!['429', '500', 'timeout', 'malformed', 'drop'].includes(kind)) throw new Error(`unknown fault kind ${kind}`);
    for (let i = 0; i < times; i++) faults.push({ kind, retryAfterSec: o?.retryAfterSec });
  }

  function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const s = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s), ...headers });
    res.end(s);
  }

  function readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  async function handleChat(req: IncomingMessage, res: ServerResponse, flavour: 'openai' | 'anthropic') {
    received++;
    inFlight++;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    res.on('close', finish);
    try {
      const raw = await readBody(req);
      if (opts.apiKey) {
        const auth = req.headers['authorization'];
        const xkey = req.headers['x-api-key'];
        if (auth !== `Bearer ${opts.apiKey}` && xkey !== opts.apiKey) {
          return json(res, 401, errorBody(flavour, 'invalid api key', 'authentication_error'));
        }
      }
      const fault = faults.shift();
      if (fault) {
        switch (fault.kind) {
          case '429':
            return json(res, 429, errorBody(flavour, 'rate limited (mock)', 'rate_limit_error'), {
              'retry-after': String(fault.retryAfterSec ?? 0),
            });
          case '500':
            return json(res, 500, errorBody(flavour, 'internal error (mock)', 'server_error'));
          case 'timeout':
            return; // never answer; close() or the client's abort ends it
          case 'malformed':
            res.writeHead(200, { 'content-type': 'application/json' });
            return res.end('{"id": "chatcmpl-broken", "choices": [ {"message": ');
          case 'drop':
            req.socket.destroy();
            return;
        }
      }
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        return json(res, 400, errorBody(flavour, 'request body is not JSON', 'invalid_request_error'));
      }
      if (!body || typeof body !== 'object' || !Array.isArray(body.messages)) {
        return json(res, 400, errorBody(flavour, 'messages: expected an array', 'invalid_request_error'));
      }
      const model = String(body.model ?? 'mock-model');
      modelsSeen.add(model);
      let messages: { role: string; content: string }[] = body.messages.map((m: any) => ({
        role: String(m?.role ?? ''),
        content: contentText(m?.content),
      }));
      let promptChars = messages.reduce((n, m) => n + m.content.length, 0);
      if (flavour === 'anthropic' && body.system != null) {
        const sys = contentText(body.system);
        messages = [{ role: 'system', content: sys }, ...messages];
        promptChars += sys.length;
      }
      if (opts.latencyMs && opts.latencyMs > 0) await new Promise((r) => setTimeout(r, opts.latencyMs));
      const text = await respond({ model, messages, body, headers: req.headers });
      if (res.destroyed) return;
      const usage = { in: tokens(promptChars), out: Math.max(1, tokens(text.length)) };
      const id = ++seq;
      requests.push(body);
      if (flavour === 'openai') {
        json(res, 200, {
          id: `chatcmpl-mock-${id}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
          usage: { prompt_tokens: usage.in, completion_tokens: usage.out, total_tokens: usage.in + usage.out },
          system_fingerprint: 'fp_mock',
        });
      } else {
        json(res, 200, {
          id: `msg_mock_${id}`,
          type: 'message',
          role: 'assistant',
          model,
          content: [{ type: 'text', text }],
          stop_reason: 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: usage.in, output_tokens: usage.out },
        });
      }
    } catch (e) {
      if (!res.headersSent && !res.destroyed) json(res, 500, errorBody(flavour, String((e as Error)?.message ?? e), 'server_error'));
    }
  }

  function errorBody(flavour: 'openai' | 'anthropic', message: string, type: string) {
    return flavour === 'openai' ? { error: { message, type, param: null, code: null } } : { type: 'error', error: { type, message } };
  }

  const server = createServer((req, res) => {
    const url = (req.url ?? '').split('?')[0];
    if (req.method === 'POST' && url === '/v1/chat/completions') return void handleChat(req, res, 'openai');
    if (req.method === 'POST' && url === '/v1/messages') return void handleChat(req, res, 'anthropic');
    if (req.method === 'POST' && url === '/v1/embeddings') {
      return void readBody(req).then((raw) => {
        let b: any;
        try {
          b = JSON.parse(raw);
        } catch {
          return json(res, 400, errorBody('openai', 'request body is not JSON', 'invalid_request_error'));
        }
        const inputs: string[] = Array.isArray(b?.input) ? b.input.map(String) : [String(b?.input ?? '')];
        json(res, 200, {
          object: 'list',
          model: String(b?.model ?? 'mock-embedding'),
          data: inputs.map((t, index) => ({
            object: 'embedding',
            index,
            embedding:
              b?.encoding_format === 'base64' ? Buffer.from(new Float32Array(embedText(t)).buffer).toString('base64') : embedText(t),
          })),
          usage: { prompt_tokens: tokens(inputs.join('').length), total_tokens: tokens(inputs.join('').length) },
        });
      });
    }
    if (req.method === 'GET' && url === '/v1/models') {
      const ids = ['mock-model', ...[...modelsSeen].filter((m) => m !== 'mock-model')];
      return json(res, 200, { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: 'tunelab-mock' })) });
    }
    if (req.method === 'GET' && url === '/__mock/stats') {
      return json(res, 200, { count: received, completed: requests.length, inFlight, maxInFlight });
    }
    if (req.method === 'POST' && url === '/__mock/fail') {
      return void readBody(req).then((raw) => {
        try {
          const b = JSON.parse(raw);
          failNext(b.kind, b.times ?? 1, { retryAfterSec: b.retryAfterSec });
          json(res, 200, { ok: true, queued: faults.length });
        } catch (e) {
          json(res, 400, { error: { message: String((e as Error).message) } });
        }
      });
    }
    json(res, 404, { error: { message: `no route ${req.method} ${url}`, type: 'invalid_request_error' } });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const port: number = await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });

  let closed: Promise<void> | undefined;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    count: () => received,
    failNext,
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections?.();
      });
      return closed;
    },
  };
}

function isMain(): boolean {
  try {
    return !!process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const port = Number(arg('--port') ?? 0);
  const latencyMs = Number(arg('--latency') ?? 0);
  const apiKey = arg('--api-key');
  startMockOpenAI({ port, latencyMs, apiKey }).then((s) => {
    process.stdout.write(s.baseURL + '\n');
    const stop = () => void s.close().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
