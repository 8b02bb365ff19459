/**
 * A local server that follows OpenAI's documented Batch API (node:http, 127.0.0.1, port 0), for tests.
 *
 *   POST /v1/files                 multipart (purpose, file); purpose must be "batch"; returns a File object
 *   POST /v1/batches               {input_file_id, endpoint, completion_window: "24h", metadata?}; the input
 *                                  file is validated line by line ({custom_id, method: "POST", url, body},
 *                                  custom_id unique, url = endpoint): a bad file gives status "failed" with
 *                                  errors.data [{code, message, line}]
 *   GET  /v1/batches/{id}          the Batch object; each poll moves it one state on:
 *                                  validating → in_progress → finalizing → completed (or expired, see
 *                                  `expireAfter`); `hold()` keeps batches in_progress until `release()`
 *   POST /v1/batches/{id}/cancel   cancelling, then cancelled at the next poll
 *   GET  /v1/files/{id}/content    JSONL. Output file lines: {id, custom_id, response: {status_code: 200,
 *                                  request_id, body: <chat.completion>}, error: null}. Error file lines:
 *                                  {id, custom_id, response: {status_code, request_id, body: {error}}, error:
 *                                  null} for failed requests, {id, custom_id, response: null, error: {code:
 *                                  "batch_expired", message}} for requests the window ran out on.
 *
 * Answers: `respond(body)` (default: the chat mock's spam/ham answer); `fail(body)` returning
 * {status, message} makes that request fail. With `apiKey`, requests need `Authorization: Bearer <key>`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import busboy from 'busboy';
import { defaultRespond } from './mock-openai-server.ts';

export interface MockBatchOptions {
  respond?: (body: any) => string;
  fail?: (body: any) => { status: number; message: string } | undefined;
  /** extra validation of each input line: a message makes the whole batch fail (status "failed", errors.data) */
  validate?: (line: any) => string | undefined;
  /** when set, a batch completes only its first N requests, then expires (the rest get batch_expired) */
  expireAfter?: number;
  apiKey?: string;
}

export interface MockBatchOpenAI {
  baseURL: string;
  stats(): { files: number; batches: number; polls: number; contentReads: number; requests: number };
  /** GET /v1/batches/{id} count per batch id */
  pollsOf(id: string): number;
  batchIds(): string[];
  /** parsed input lines of a batch */
  linesOf(id: string): any[];
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

interface Batch {
  obj: Record<string, any>;
  lines: any[];
  polls: number;
}

const tokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));
const now = () => Math.floor(Date.now() / 1000);

export async function startMockBatchOpenAI(opts: MockBatchOptions = {}): Promise<MockBatchOpenAI> {
  const files = new Map<string, { meta: Record<string, any>; text: string }>();
  const batches = new Map<string, Batch>();
  let held = false;
  let seq = 0;
  let polls = 0;
  let contentReads = 0;
  const sockets = new Set<Socket>();
  const respond = opts.respond ?? ((b: any) => defaultRespond(b));

  const addFile = (text: string, purpose: string, filename: string) => {
    const id = `file-${++seq}`;
    const meta = { id, object: 'file', bytes: Buffer.byteLength(text), created_at: now(), filename, purpose };
    files.set(id, { meta, text });
    return meta;
  };

  const finish = (b: Batch, expire: boolean) => {
    const out: string[] = [];
    const err: string[] = [];
    let completed = 0;
    let failed = 0;
    b.lines.forEach((l, i) => {
      const id = `batch_req_${++seq}`;
      if (expire && i >= (opts.expireAfter ?? 0)) {
        failed++;
        err.push(
          JSON.stringify({
            id,
            custom_id: l.custom_id,
            response: null,
            error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' },
          }),
        );
        return;
      }
      const f = opts.fail?.(l.body);
      if (f) {
        failed++;
        err.push(
          JSON.stringify({
            id,
            custom_id: l.custom_id,
            response: {
              status_code: f.status,
              request_id: `req_${seq}`,
              body: { error: { message: f.message, type: 'invalid_request_error', param: null, code: null } },
            },
            error: null,
          }),
        );
        return;
      }
      completed++;
      const text = respond(l.body);
      const prompt = tokens((l.body.messages ?? []).map((m: any) => String(m.content)).join(''));
      const completion = tokens(text);
      const body = {
        id: `chatcmpl-${seq}`,
        object: 'chat.completion',
        created: now(),
        model: l.body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      };
      out.push(JSON.stringify({ id, custom_id: l.custom_id, response: { status_code: 200, request_id: `req_${seq}`, body }, error: null }));
    });
    const o = b.obj;
    if (out.length) o.output_file_id = addFile(out.join('\n') + '\n', 'batch_output', 'batch_output.jsonl').id;
    if (err.length) o.error_file_id = addFile(err.join('\n') + '\n', 'batch_output', 'batch_error.jsonl').id;
    o.request_counts = { total: b.lines.length, completed, failed };
    if (expire) {
      o.status = 'expired';
      o.expired_at = now();
    } else {
      o.status = 'completed';
      o.completed_at = now();
    }
  };

  const step = (b: Batch) => {
    const o = b.obj;
    switch (o.status) {
      case 'validating':
        o.status = 'in_progress';
        o.in_progress_at = now();
        break;
      case 'in_progress':
        if (held) break;
        if (opts.expireAfter != null) finish(b, true);
        else {
          o.status = 'finalizing';
          o.finalizing_at = now();
        }
        break;
      case 'finalizing':
        finish(b, false);
        break;
      case 'cancelling':
        o.status = 'cancelled';
        o.cancelled_at = now();
        break;
    }
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const error = (res: ServerResponse, status: number, message: string) =>
    send(res, status, { error: { message, type: 'invalid_request_error', param: null, code: null } });
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname;
      if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) return error(res, 401, 'Incorrect API key provided');
      if (req.method === 'POST' && path === '/v1/files') {
        const fields: Record<string, string> = {};
        let fileText: string | undefined;
        let filename = 'file';
        await new Promise<void>((resolve, reject) => {
          const bb = busboy({ headers: req.headers });
          bb.on('field', (k, v) => (fields[k] = v));
          bb.on('file', (_k, stream, info) => {
            filename = info.filename;
            const chunks: Buffer[] = [];
            stream.on('data', (c: Buffer) => chunks.push(c));
            stream.on('end', () => (fileText = Buffer.concat(chunks).toString('utf8')));
          });
          bb.on('close', () => resolve());
          bb.on('error', reject);
          req.pipe(bb);
        });
        if (fields.purpose !== 'batch')
          return error(res, 400, `purpose must be "batch" for this test server, got ${JSON.stringify(fields.purpose)}`);
        if (fileText == null) return error(res, 400, "'file' is a required property");
        return send(res, 200, addFile(fileText, 'batch', filename));
      }
      if (req.method === 'POST' && path === '/v1/batches') {
        const body = JSON.parse(await readBody(req));
        if (body.completion_window !== '24h') return error(res, 400, 'completion_window must be 24h');
        if (!['/v1/chat/completions', '/v1/responses', '/v1/embeddings', '/v1/completions'].includes(body.endpoint))
          return error(res, 400, `unsupported endpoint ${body.endpoint}`);
        const f = files.get(body.input_file_id);
        if (!f) return error(res, 404, `No such File object: ${body.input_file_id}`);
        const id = `batch_${++seq}`;
        const obj: Record<string, any> = {
          id,
          object: 'batch',
          endpoint: body.endpoint,
          errors: null,
          input_file_id: body.input_file_id,
          completion_window: '24h',
          status: 'validating',
          output_file_id: null,
          error_file_id: null,
          created_at: now(),
          in_progress_at: null,
          expires_at: now() + 86400,
          finalizing_at: null,
          completed_at: null,
          failed_at: null,
          expired_at: null,
          cancelling_at: null,
          cancelled_at: null,
          request_counts: { total: 0, completed: 0, failed: 0 },
          metadata: body.metadata ?? null,
        };
        const lines: any[] = [];
        const errors: any[] = [];
        const seen = new Set<string>();
        f.text.split('\n').forEach((t, i) => {
          if (!t.trim()) return;
          let l: any;
          try {
            l = JSON.parse(t);
          } catch {
            return errors.push({
              code: 'invalid_json_line',
              message: 'This line is not parseable as valid JSON.',
              param: null,
              line: i + 1,
            });
          }
          if (typeof l.custom_id !== 'string')
            errors.push({ code: 'missing_required_parameter', message: 'custom_id is required', param: 'custom_id', line: i + 1 });
          else if (seen.has(l.custom_id))
            errors.push({
              code: 'duplicate_custom_id',
              message: 'The custom_id for this request is a duplicate of another request.',
              param: 'custom_id',
              line: i + 1,
            });
          else if (l.method !== 'POST')
            errors.push({ code: 'invalid_method', message: 'method must be POST', param: 'method', line: i + 1 });
          else if (l.url !== body.endpoint)
            errors.push({
              code: 'mismatched_endpoint',
              message: `url ${l.url} does not match the batch endpoint`,
              param: 'url',
              line: i + 1,
            });
          else if (!l.body || typeof l.body.model !== 'string')
            errors.push({ code: 'missing_required_parameter', message: 'body.model is required', param: 'body.model', line: i + 1 });
          else {
            const v = opts.validate?.(l);
            if (v) errors.push({ code: 'invalid_request', message: v, param: null, line: i + 1 });
          }
          seen.add(l.custom_id);
          lines.push(l);
        });
        obj.request_counts.total = lines.length;
        if (errors.length) {
          obj.status = 'failed';
          obj.failed_at = now();
          obj.errors = { object: 'list', data: errors };
        }
        batches.set(id, { obj, lines, polls: 0 });
        return send(res, 200, obj);
      }
      let m = /^\/v1\/batches\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && m) {
        const b = batches.get(m[1]);
        if (!b) return error(res, 404, `No such Batch object: ${m[1]}`);
        polls++;
        b.polls++;
        const snapshot = JSON.parse(JSON.stringify(b.obj));
        step(b);
        return send(res, 200, snapshot);
      }
      m = /^\/v1\/batches\/([^/]+)\/cancel$/.exec(path);
      if (req.method === 'POST' && m) {
        const b = batches.get(m[1]);
        if (!b) return error(res, 404, `No such Batch object: ${m[1]}`);
        b.obj.status = 'cancelling';
        b.obj.cancelling_at = now();
        return send(res, 200, b.obj);
      }
      m = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
      if (req.method === 'GET' && m) {
        const f = files.get(m[1]);
        if (!f) return error(res, 404, `No such File object: ${m[1]}`);
        contentReads++;
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(f.text) });
        return res.end(f.text);
      }
      return error(res, 404, `no route ${req.method} ${path}`);
    } catch (e) {
      return error(res, 500, (e as Error).message);
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    stats: () => ({
      files: [...files.values()].filter((f) => f.meta.purpose === 'batch').length,
      batches: batches.size,
      polls,
      contentReads,
      requests: [...batches.values()].reduce((n, b) => n + b.lines.length, 0),
    }),
    pollsOf: (id) => batches.get(id)?.polls ?? 0,
    batchIds: () => [...batches.keys()],
    linesOf: (id) => batches.get(id)?.lines ?? [],
    hold: () => void (held = true),
    release: () => void (held = false),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
