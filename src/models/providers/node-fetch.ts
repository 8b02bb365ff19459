import http from 'node:http';
import https from 'node:https';

/**
 * A `fetch` for the provider SDKs over node:http(s) with keep-alive agents, answering with a small
 * buffered Response look-alike (LiteResponse) rather than a WHATWG Response. Measured against a local
 * instant server here, undici's global fetch costs several times more CPU per request than node:http
 * (see README, performance), and an evaluation is thousands of small requests. Anything this cannot
 * send as is (streamed or form bodies) goes to the global fetch.
 */
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity, keepAliveMsecs: 10_000 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: Infinity, keepAliveMsecs: 10_000 });

function abortError(signal: AbortSignal): Error {
  const r = signal.reason;
  if (r instanceof Error && r.name === 'AbortError') return r;
  const e = new Error('This operation was aborted');
  e.name = 'AbortError';
  return e;
}

export function nodeFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const body = init.body;
  const plain = body == null || typeof body === 'string' || body instanceof Uint8Array;
  const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
  if (!url || !plain || (url.protocol !== 'http:' && url.protocol !== 'https:')) return fetch(input, init);
  const signal = init.signal ?? undefined;
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const headers: Record<string, string> = {};
    const ih = init.headers;
    if (ih instanceof Headers) ih.forEach((v, k) => (headers[k.toLowerCase()] = v));
    else if (ih && !Array.isArray(ih) && typeof (ih as { forEach?: unknown }).forEach === 'function') (ih as unknown as Headers).forEach((v, k) => (headers[k.toLowerCase()] = v));
    else if (Array.isArray(ih)) for (const [k, v] of ih) headers[String(k).toLowerCase()] = String(v);
    else if (ih) for (const [k, v] of Object.entries(ih as Record<string, string | undefined>)) if (v != null) headers[k.toLowerCase()] = String(v);
    const payload = body == null ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    if (payload) headers['content-length'] = String(payload.byteLength);
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, { method: init.method ?? 'GET', headers, agent: url.protocol === 'https:' ? httpsAgent : httpAgent });
    const onAbort = () => {
      req.destroy(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    req.on('error', (e) => {
      done();
      reject(signal?.aborted ? abortError(signal) : e);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => {
        done();
        reject(e);
      });
      res.on('aborted', () => {
        done();
        reject(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' }));
      });
      res.on('end', () => {
        done();
        const status = res.statusCode ?? 0;
        const nullBody = status === 204 || status === 205 || status === 304 || (init.method ?? 'GET').toUpperCase() === 'HEAD';
        const h = new LiteHeaders(res.headers);
        resolve(new LiteResponse(nullBody ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), status, res.statusMessage ?? '', h, url.href) as unknown as Response);
      });
    });
    req.end(payload);
  });
}

/**
 * Read-only response headers with the Headers methods the SDKs call (get, has, entries, forEach,
 * iteration): building WHATWG Headers for every response cost measurable CPU.
 */
class LiteHeaders {
  #m: Map<string, string>;
  constructor(h: http.IncomingHttpHeaders) {
    this.#m = new Map();
    for (const k of Object.keys(h)) {
      const v = h[k];
      if (v != null) this.#m.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
  }
  get(name: string): string | null {
    return this.#m.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.#m.has(name.toLowerCase());
  }
  entries() {
    return this.#m.entries();
  }
  keys() {
    return this.#m.keys();
  }
  values() {
    return this.#m.values();
  }
  forEach(fn: (value: string, key: string, parent: LiteHeaders) => void) {
    for (const [k, v] of this.#m) fn(v, k, this);
  }
  [Symbol.iterator]() {
    return this.#m.entries();
  }
  getSetCookie(): string[] {
    const v = this.#m.get('set-cookie');
    return v ? [v] : [];
  }
}

/** A buffered response with the Response members the SDKs use; `body` becomes a web stream only if asked for. */
class LiteResponse {
  readonly ok: boolean;
  readonly redirected = false;
  readonly type = 'basic';
  #buf: Buffer | null;
  #used = false;
  constructor(buf: Buffer | null, readonly status: number, readonly statusText: string, readonly headers: LiteHeaders, readonly url: string) {
    this.#buf = buf;
    this.ok = status >= 200 && status < 300;
  }
  get bodyUsed(): boolean {
    return this.#used;
  }
  get body(): ReadableStream<Uint8Array> | null {
    if (this.#buf == null) return null;
    return new Response(this.#buf as unknown as BodyInit).body;
  }
  #take(): Buffer {
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    return this.#buf ?? Buffer.alloc(0);
  }
  async text(): Promise<string> {
    return this.#take().toString('utf8');
  }
  async json(): Promise<unknown> {
    return JSON.parse(this.#take().toString('utf8'));
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.#take();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(this.#take());
  }
  async blob(): Promise<Blob> {
    return new Blob([this.#take() as unknown as BlobPart], { type: this.headers.get('content-type') ?? '' });
  }
  clone(): LiteResponse {
    return new LiteResponse(this.#buf, this.status, this.statusText, this.headers, this.url);
  }
}
