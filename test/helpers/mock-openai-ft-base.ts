/**
 * What the fine-tuning provider mocks share (mock-openai-ft.ts, mock-together.ts, mock-fireworks.ts): a
 * node:http server on 127.0.0.1 (port 0) that logs every request (method, path, headers, parsed JSON or
 * multipart body), checks `Authorization: Bearer <apiKey>`, injects faults (`failNext('429', n)`: HTTP
 * 429 with Retry-After: 0 and the provider's error body), and answers OpenAI-shaped chat completions at
 * `<chatPrefix>/chat/completions` (the tuned model's evaluation) with mock-openai-server's default rule.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultRespond } from './mock-openai-server.ts';

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** parsed JSON body, or for multipart { fields, file: { name, text } } */
  body: any;
}

export interface BaseServer {
  url: string;
  requests: LoggedRequest[];
  /** chat completions answered, with the model each named */
  chats: { model: string; messages: any[] }[];
  failNext(kind: '429' | '500', times?: number, match?: RegExp): void;
  close(): Promise<void>;
}

export type Route = (req: LoggedRequest, send: (status: number, body: unknown) => void) => boolean | Promise<boolean>;

function parseMultipart(
  buf: Buffer,
  contentType: string,
): { fields: Record<string, string>; file?: { field: string; name: string; text: string; type?: string } } {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) throw new Error('multipart without boundary');
  const boundary = `--${m[1] ?? m[2]}`;
  const text = buf.toString('latin1');
  const out: { fields: Record<string, string>; file?: { field: string; name: string; text: string; type?: string } } = { fields: {} };
  for (const part of text.split(boundary).slice(1)) {
    if (part.startsWith('--')) break;
    const sep = part.indexOf('\r\n\r\n');
    const head = part.slice(0, sep);
    const body = Buffer.from(part.slice(sep + 4, part.length - 2), 'latin1').toString('utf8');
    const name = /name="([^"]*)"/i.exec(head)?.[1] ?? '';
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1];
    if (filename !== undefined) out.file = { field: name, name: filename, text: body, type };
    else out.fields[name] = body;
  }
  return out;
}

export async function startBase(opts: {
  apiKey: string;
  chatPrefix: string;
  errorBody: (status: number, message: string) => unknown;
  routes: Route;
}): Promise<BaseServer> {
  const requests: LoggedRequest[] = [];
  const chats: BaseServer['chats'] = [];
  const faults: { kind: '429' | '500'; left: number; match?: RegExp }[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '0' } : {}) });
      res.end(JSON.stringify(body));
    };
    try {
      const ct = String(req.headers['content-type'] ?? '');
      let body: any = undefined;
      if (ct.startsWith('multipart/form-data')) body = parseMultipart(raw, ct);
      else if (raw.length) body = JSON.parse(raw.toString('utf8'));
      const logged: LoggedRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
      };
      if (req.headers.authorization !== `Bearer ${opts.apiKey}`) return send(401, opts.errorBody(401, 'Invalid API key'));
      const f = faults.find((x) => x.left > 0 && (!x.match || x.match.test(logged.path)));
      if (f) {
        f.left--;
        requests.push({ ...logged, query: { ...logged.query, __fault: f.kind } });
        return send(
          Number(f.kind),
          opts.errorBody(Number(f.kind), f.kind === '429' ? 'Rate limit reached, retry later' : 'internal error'),
        );
      }
      requests.push(logged);
      if (logged.method === 'POST' && logged.path === `${opts.chatPrefix}/chat/completions`) {
        chats.push({ model: body.model, messages: body.messages });
        const text = defaultRespond({ messages: body.messages });
        const pt = Math.ceil(body.messages.reduce((n: number, m: any) => n + String(m.content).length, 0) / 4);
        return send(200, {
          id: `chatcmpl-${chats.length}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
          usage: { prompt_tokens: pt, completion_tokens: 1, total_tokens: pt + 1 },
        });
      }
      if (await opts.routes(logged, send)) return;
      send(404, opts.errorBody(404, `no route ${logged.method} ${logged.path}`));
    } catch (e) {
      send(500, opts.errorBody(500, (e as Error).message));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    chats,
    failNext(kind, times = 1, match) {
      faults.push({ kind, left: times, match });
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
