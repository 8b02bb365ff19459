// OpenAI-compatible HTTP server over tunelab's local engine (node:http, busboy for multipart).
// Routes: /v1/models, /v1/chat/completions (SSE streaming), /v1/files, /v1/fine_tuning/jobs
// (create, list, retrieve, cancel, events, checkpoints). Errors use OpenAI's error shape.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import busboy from 'busboy';
import type { ChatMessage, ChatModel, ChatRequest, ChatResponse } from '../models/index.ts';
import { ApiError, badRequest, notFound } from './errors.ts';
import type { FileRecord, ServerStore } from './store.ts';
import { JobManager, type JobManagerOptions } from './jobs.ts';

/** A ChatModel that streams text deltas (the local model does); kept as a name for ChatModel's `stream` capability. */
export type StreamingChatModel = ChatModel & Required<Pick<ChatModel, 'stream'>>;

export interface ServerOptions extends Omit<JobManagerOptions, 'store'> {
  store: ServerStore;
  /** base models offered at /v1/models (fine-tuned models are added from succeeded jobs) */
  models: string[];
  /**
   * resolve a model id to a ChatModel. Called only for ids this server serves: one of `models`, a
   * succeeded job's result id, or an id `allowModel` accepts.
   */
  resolveModel(id: string): ChatModel | Promise<ChatModel>;
  /** more ids to serve beyond `models` and trained jobs (e.g. local:<folder> under an allowed root); default none */
  allowModel?(id: string): boolean;
  /** called when a model leaves the cache of loaded models (free its weights) */
  releaseModel?(id: string): void;
  /** most models kept loaded at once (least recently used leave first; default 4) */
  maxLoadedModels?: number;
  /** when set, every request needs `Authorization: Bearer <apiKey>` */
  apiKey?: string;
  host?: string;
  port?: number;
  /** limit for JSON request bodies (default 1 MiB) */
  maxJsonBytes?: number;
  /** limit for uploaded files (default 64 MiB) */
  maxUploadBytes?: number;
  log?(message: string): void;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  server: Server;
  jobs: JobManager;
  close(): Promise<void>;
}

const nowSec = () => Math.floor(Date.now() / 1000);
export const newId = (prefix: string) => `${prefix}-${randomBytes(12).toString('hex')}`;

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length });
  res.end(data);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) {
      reject(
        new ApiError(
          413,
          `request body of ${declared} bytes exceeds the limit of ${limit} bytes`,
          'invalid_request_error',
          'request_too_large',
        ),
      );
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let n = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      n += c.length;
      if (n > limit) {
        failed = true;
        reject(new ApiError(413, `request body exceeds the limit of ${limit} bytes`, 'invalid_request_error', 'request_too_large'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
    });
  });
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  if (!body.length) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw badRequest(`could not parse the JSON body of your request (${(e as Error).message})`);
  }
}

function readMultipart(
  req: IncomingMessage,
  limit: number,
): Promise<{ fields: Record<string, string>; file?: { name: string; data: Buffer; field: string } }> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limit + 64 * 1024) {
      req.resume();
      reject(
        new ApiError(413, `upload of ${declared} bytes exceeds the limit of ${limit} bytes`, 'invalid_request_error', 'request_too_large'),
      );
      return;
    }
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { fileSize: limit, files: 1, fields: 20, fieldSize: 64 * 1024 } });
    } catch (e) {
      reject(badRequest(`expected a multipart/form-data body (${(e as Error).message})`));
      return;
    }
    const fields: Record<string, string> = {};
    let file: { name: string; data: Buffer; field: string } | undefined;
    let failed = false;
    const fail = (e: ApiError) => {
      if (!failed) {
        failed = true;
        reject(e);
        req.unpipe(bb);
        req.resume();
      }
    };
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () =>
        fail(new ApiError(413, `uploaded file exceeds the limit of ${limit} bytes`, 'invalid_request_error', 'file_too_large')),
      );
      stream.on('end', () => {
        if (!failed) file = { name: info.filename || 'upload', data: Buffer.concat(chunks), field };
      });
    });
    bb.on('error', (e) => fail(badRequest(`malformed multipart body (${(e as Error).message})`)));
    bb.on('close', () => {
      if (!failed) resolve({ fields, file });
    });
    req.pipe(bb);
  });
}

function fileObject(f: FileRecord) {
  return {
    id: f.id,
    object: 'file',
    bytes: f.bytes,
    created_at: f.createdAt,
    filename: f.filename,
    purpose: f.purpose,
    status: 'processed',
    status_details: null,
    expires_at: null,
  };
}

/** A property of a value of unknown shape (a parsed JSON body); undefined when it is not an object. */
const prop = (v: unknown, k: string): unknown => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined);

function parseChatRequest(body: unknown): { model: string; req: ChatRequest; stream: boolean; includeUsage: boolean; n: number } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('request body must be a JSON object');
  const model = prop(body, 'model');
  if (typeof model !== 'string' || !model) throw badRequest('you must provide a model parameter', 'model', 'missing_required_parameter');
  const rawMessages = prop(body, 'messages');
  if (!Array.isArray(rawMessages) || rawMessages.length === 0) throw badRequest("'messages' must be a non-empty array", 'messages');
  const messages: ChatMessage[] = rawMessages.map((m: unknown, i: number) => {
    let role = prop(m, 'role');
    if (role === 'developer') role = 'system';
    if (role !== 'system' && role !== 'user' && role !== 'assistant')
      throw badRequest(`messages[${i}].role must be system, developer, user or assistant`, `messages[${i}].role`);
    let content = prop(m, 'content');
    if (Array.isArray(content))
      content = content.map((p: unknown) => (prop(p, 'type') === 'text' ? String(prop(p, 'text') ?? '') : '')).join('');
    if (typeof content !== 'string') throw badRequest(`messages[${i}].content must be a string or text parts`, `messages[${i}].content`);
    return { role, content };
  });
  const num = (v: unknown, name: string, lo: number, hi: number): number | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi)
      throw badRequest(`${name} must be a number between ${lo} and ${hi}`, name);
    return v;
  };
  const maxTokens = num(prop(body, 'max_completion_tokens') ?? prop(body, 'max_tokens'), 'max_tokens', 1, 1 << 20);
  let stop: string[] | undefined;
  const rawStop = prop(body, 'stop');
  if (typeof rawStop === 'string') stop = [rawStop];
  else if (Array.isArray(rawStop)) stop = rawStop.filter((s: unknown): s is string => typeof s === 'string');
  const n = num(prop(body, 'n'), 'n', 1, 1) ?? 1;
  return {
    model,
    req: {
      messages,
      temperature: num(prop(body, 'temperature'), 'temperature', 0, 2),
      topP: num(prop(body, 'top_p'), 'top_p', 0, 1),
      maxTokens: maxTokens === undefined ? undefined : Math.floor(maxTokens),
      seed: num(prop(body, 'seed'), 'seed', -(2 ** 53), 2 ** 53),
      stop,
    },
    stream: prop(body, 'stream') === true,
    includeUsage: prop(prop(body, 'stream_options'), 'include_usage') === true,
    n,
  };
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const store = opts.store;
  const log = opts.log ?? (() => {});
  const maxJson = opts.maxJsonBytes ?? 1 << 20;
  const maxUpload = opts.maxUploadBytes ?? 64 << 20;
  const jobs = new JobManager({ ...opts, store });
  jobs.recover();
  const keyHash = opts.apiKey ? createHash('sha256').update(opts.apiKey).digest() : undefined;
  const modelCreated = nowSec();

  function checkAuth(req: IncomingMessage): void {
    if (!keyHash) return;
    const h = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    const given = m ? createHash('sha256').update(m[1].trim()).digest() : undefined;
    if (!given || !timingSafeEqual(given, keyHash)) {
      throw new ApiError(
        401,
        m ? 'Incorrect API key provided.' : "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
        'invalid_request_error',
        'invalid_api_key',
      );
    }
  }

  function modelList() {
    const data = opts.models.map((id) => ({ id, object: 'model', created: modelCreated, owned_by: 'tunelab' }));
    for (const j of store.listJobs()) {
      if (j.status === 'succeeded' && j.fineTunedModel)
        data.push({ id: j.fineTunedModel, object: 'model', created: j.finishedAt ?? j.createdAt, owned_by: 'user' });
    }
    return data;
  }

  // Loaded models, least recently used first: a bounded cache (each entry may hold a model's weights).
  const loadedModels = new Map<string, Promise<ChatModel>>();
  const maxLoaded = Math.max(1, opts.maxLoadedModels ?? 4);

  /** Only what this server serves: its models, the jobs it trained, and what allowModel accepts. Nothing else is loaded. */
  async function resolve(id: string): Promise<ChatModel> {
    const job = store.listJobs().find((j) => j.fineTunedModel === id && j.status === 'succeeded' && j.resultModelId);
    const target = job?.resultModelId ?? (opts.models.includes(id) || opts.allowModel?.(id) ? id : undefined);
    if (!target) throw modelNotFound(id);
    let p = loadedModels.get(target);
    if (p) {
      loadedModels.delete(target); // most recently used goes last
    } else {
      p = Promise.resolve(opts.resolveModel(target));
      p.catch(() => loadedModels.delete(target));
    }
    loadedModels.set(target, p);
    while (loadedModels.size > maxLoaded) {
      const oldest = loadedModels.keys().next().value as string;
      loadedModels.delete(oldest);
      opts.releaseModel?.(oldest);
    }
    return p;
  }

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req, maxJson);
    const { model: modelName, req: chatReq, stream, includeUsage } = parseChatRequest(body);
    const model = await resolve(modelName);
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const created = nowSec();
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    if (!stream) {
      const r = await model.complete(chatReq, { signal: ac.signal });
      const finish = r.finishReason ?? 'stop';
      send(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: modelName,
        system_fingerprint: null,
        choices: [{ index: 0, message: { role: 'assistant', content: r.text, refusal: null }, logprobs: null, finish_reason: finish }],
        usage: { prompt_tokens: r.usage.input, completion_tokens: r.usage.output, total_tokens: r.usage.input + r.usage.output },
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (delta: Record<string, unknown>, finish: string | null, usage: unknown = undefined) => {
      const o: Record<string, unknown> = {
        id,
        object: 'chat.completion.chunk',
        created,
        model: modelName,
        system_fingerprint: null,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      };
      if (includeUsage) o.usage = usage ?? null;
      res.write(`data: ${JSON.stringify(o)}\n\n`);
    };
    chunk({ role: 'assistant', content: '' }, null);
    try {
      let r: ChatResponse;
      if (model.stream) {
        r = await model.stream(
          chatReq,
          (t) => {
            if (t) chunk({ content: t }, null);
          },
          { signal: ac.signal },
        );
      } else {
        r = await model.complete(chatReq, { signal: ac.signal });
        if (r.text) chunk({ content: r.text }, null);
      }
      chunk({}, r.finishReason ?? 'stop');
      if (includeUsage) {
        res.write(
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: modelName, system_fingerprint: null, choices: [], usage: { prompt_tokens: r.usage.input, completion_tokens: r.usage.output, total_tokens: r.usage.input + r.usage.output } })}\n\n`,
        );
      }
      res.write('data: [DONE]\n\n');
    } catch (e) {
      const err = e instanceof ApiError ? e : internalError(e, log);
      res.write(`data: ${JSON.stringify(err.body())}\n\n`);
    }
    res.end();
  }

  async function uploadFile(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ct = req.headers['content-type'] ?? '';
    if (!ct.startsWith('multipart/form-data')) throw badRequest('expected a multipart/form-data body with fields "file" and "purpose"');
    const { fields, file } = await readMultipart(req, maxUpload);
    if (!file) throw badRequest("missing the 'file' field", 'file', 'missing_required_parameter');
    const purpose = fields.purpose;
    if (!purpose) throw badRequest("missing the 'purpose' field", 'purpose', 'missing_required_parameter');
    const allowed = ['fine-tune', 'assistants', 'batch', 'user_data', 'evals', 'vision'];
    if (!allowed.includes(purpose)) throw badRequest(`'purpose' must be one of ${allowed.join(', ')}`, 'purpose');
    if (purpose === 'fine-tune') jobs.checkTrainingFile(file.data, file.name);
    const rec: FileRecord = { id: newId('file'), filename: file.name, purpose, bytes: file.data.length, createdAt: nowSec() };
    store.putFile(rec, file.data);
    log(`file ${rec.id} ${rec.filename} (${rec.bytes} bytes)`);
    send(res, 200, fileObject(rec));
  }

  function page<T extends { id: string }, U extends { id: string }>(items: T[], url: URL, map: (t: T) => U) {
    const limitRaw = url.searchParams.get('limit');
    const limit = limitRaw ? Math.max(1, Math.min(100, Number(limitRaw) || 20)) : 20;
    const after = url.searchParams.get('after');
    let start = 0;
    if (after) {
      const i = items.findIndex((x) => x.id === after);
      start = i < 0 ? items.length : i + 1;
    }
    const slice = items.slice(start, start + limit);
    const data = slice.map(map);
    return {
      object: 'list',
      data,
      has_more: start + limit < items.length,
      first_id: data[0]?.id ?? null,
      last_id: data[data.length - 1]?.id ?? null,
    };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    if (method === 'GET' && (path === '' || path === '/health' || path === '/v1/health')) return send(res, 200, { status: 'ok' });
    checkAuth(req);
    const seg = path.split('/').filter(Boolean);
    if (seg[0] !== 'v1') throw notFound(`Unknown request URL: ${method} ${url.pathname}`);
    const [, a, b, c, d] = seg;

    if (a === 'models') {
      if (method !== 'GET') throw methodNotAllowed(method, url);
      const list = modelList();
      if (!b) return send(res, 200, { object: 'list', data: list });
      const id = decodeURIComponent(seg.slice(2).join('/'));
      const m = list.find((x) => x.id === id);
      if (!m) throw modelNotFound(id);
      return send(res, 200, m);
    }
    if (a === 'chat' && b === 'completions' && !c) {
      if (method !== 'POST') throw methodNotAllowed(method, url);
      return chat(req, res);
    }
    if (a === 'files') {
      if (!b) {
        if (method === 'POST') return uploadFile(req, res);
        if (method === 'GET') {
          let files = store.listFiles();
          const purpose = url.searchParams.get('purpose');
          if (purpose) files = files.filter((f) => f.purpose === purpose);
          return send(res, 200, page(files, url, fileObject));
        }
        throw methodNotAllowed(method, url);
      }
      const f = store.getFile(b);
      if (!f) throw notFound(`No such File object: ${b}`, 'id');
      if (!c) {
        if (method === 'GET') return send(res, 200, fileObject(f));
        if (method === 'DELETE') {
          store.deleteFile(b);
          return send(res, 200, { id: b, object: 'file', deleted: true });
        }
        throw methodNotAllowed(method, url);
      }
      if (c === 'content' && method === 'GET') {
        const data = store.fileContent(b) ?? Buffer.alloc(0);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
        res.end(data);
        return;
      }
      throw notFound(`Unknown request URL: ${method} ${url.pathname}`);
    }
    if (a === 'fine_tuning' && b === 'jobs') {
      if (!c) {
        if (method === 'POST') return send(res, 200, jobs.toApi(await jobs.create(await readJson(req, maxJson))));
        if (method === 'GET')
          return send(
            res,
            200,
            page(store.listJobs(), url, (j) => jobs.toApi(j)),
          );
        throw methodNotAllowed(method, url);
      }
      const job = store.getJob(c);
      if (!job) throw notFound(`Could not find fine-tuning job ${c}`, 'fine_tuning_job_id');
      if (!d) {
        if (method !== 'GET') throw methodNotAllowed(method, url);
        return send(res, 200, jobs.toApi(job));
      }
      if (d === 'cancel') {
        if (method !== 'POST') throw methodNotAllowed(method, url);
        return send(res, 200, jobs.toApi(await jobs.cancel(c)));
      }
      if (d === 'events' && method === 'GET') {
        const evs = [...job.events].reverse();
        return send(
          res,
          200,
          page(evs, url, (e) => ({
            object: 'fine_tuning.job.event',
            id: e.id,
            created_at: e.createdAt,
            level: e.level,
            message: e.message,
            data: e.data,
            type: e.type,
          })),
        );
      }
      if (d === 'checkpoints' && method === 'GET') {
        const cps = [...job.checkpoints].reverse();
        return send(
          res,
          200,
          page(cps, url, (cp) => ({
            object: 'fine_tuning.job.checkpoint',
            id: cp.id,
            created_at: cp.createdAt,
            fine_tuned_model_checkpoint: cp.modelId,
            fine_tuning_job_id: job.id,
            step_number: cp.step,
            metrics: cp.metrics,
          })),
        );
      }
      throw notFound(`Unknown request URL: ${method} ${url.pathname}`);
    }
    throw notFound(`Unknown request URL: ${method} ${url.pathname}. Please check the URL for typos.`);
  }

  const server = createHttpServer((req, res) => {
    route(req, res).catch((e) => {
      const err = e instanceof ApiError ? e : internalError(e, log);
      if (res.headersSent) {
        res.end();
        return;
      }
      if (err.status === 413) res.setHeader('connection', 'close');
      send(res, err.status, err.body());
    });
  });
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/v1`,
    port,
    host,
    server,
    jobs,
    async close() {
      await jobs.shutdown();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      store.close?.();
    },
  };
}

/**
 * 404 for a model this server does not serve. An id that looks like a path is not echoed: the answer
 * is the same whether or not such a folder exists, so it reveals nothing about the filesystem.
 */
function modelNotFound(id: string): ApiError {
  const pathLike = id.startsWith('local:') || id.includes('/') || id.includes('\\');
  const message = pathLike
    ? 'The requested model is not served here. GET /v1/models lists the models this server serves.'
    : `The model '${id}' does not exist`;
  return new ApiError(404, message, 'invalid_request_error', 'model_not_found', 'model');
}

/** A 500 whose text names no file or folder (the full error goes to the server's log only). */
function internalError(e: unknown, log: (m: string) => void): ApiError {
  log(`error: ${(e instanceof Error ? e.stack : undefined) ?? String(e)}`);
  const msg = e instanceof Error ? e.message : String(e);
  return new ApiError(500, `internal error: ${redactPaths(msg).slice(0, 300)}`, 'server_error');
}

/** Replaces absolute and relative file paths (and file: URLs) in a message with <path>. */
export function redactPaths(msg: string): string {
  return msg
    .replace(/file:\/\/\S+/g, '<path>')
    .replace(/(^|[\s'"`(=:,])(?:[A-Za-z]:)?(?:~|\.{1,2})?(?:[\\/][^\s'"`),:;]+)+/g, '$1<path>')
    .replace(/local:<path>/g, '<path>');
}

function methodNotAllowed(method: string, url: URL) {
  return new ApiError(405, `Method ${method} not allowed on ${url.pathname}`, 'invalid_request_error', 'method_not_allowed');
}
