import http from 'node:http';
import https from 'node:https';

/**
 * A `fetch` for the provider SDKs over node:http(s) with keep-alive agents. Measured against a local
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
  if (!url || !plain || (url.protocol !== 'http:' && url.protocol !== 'https:')) return fetch(input as any, init);
  const signal = init.signal ?? undefined;
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const headers: Record<string, string> = {};
    new Headers(init.headers as HeadersInit | undefined).forEach((v, k) => {
      headers[k] = v;
    });
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
        const h = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        const status = res.statusCode ?? 0;
        const nullBody = status === 204 || status === 205 || status === 304 || (init.method ?? 'GET').toUpperCase() === 'HEAD';
        try {
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: h }));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.end(payload);
  });
}
