// `tunelab view`: a local web app over a store. node:http, bound to 127.0.0.1 by default, optional
// bearer key (header, or ?key= once, which sets a same-site cookie). The UI (web/) is preact + htm
// served as ES modules straight from node_modules: no build step, no CDN. The store is read through a
// read-only connection; live progress is pushed as server-sent events.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Store } from '../store/index.ts';
import type { RunReport } from '../report/types.ts';
import {
  compareRuns,
  exampleDetail,
  examplesCsv,
  filterExamples,
  finetuneArms,
  listRunSummaries,
  openForReading,
  reportWithEvidence,
  type ExampleFilter,
} from './data.ts';

export interface ViewServerOptions {
  storePath: string;
  host?: string;
  /** 0 picks a free port */
  port?: number;
  /** when set, every request needs it (Authorization: Bearer, or the cookie set by ?key=) */
  apiKey?: string;
  /** how often live progress is checked (ms, default 500) */
  pollMs?: number;
  log?: (msg: string) => void;
}

export interface ViewServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The folder holding web/index.html (the package root's web/). */
export function webDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'web', 'index.html'))) return join(dir, 'web');
    dir = dirname(dir);
  }
  throw new Error('cannot find the viewer UI (web/index.html) in this installation');
}

function vendorFiles(): Record<string, { file: string; rewrite?: (s: string) => string }> {
  const require = createRequire(import.meta.url);
  // the main entry sits in <package>/dist/ for both (their exports hide package.json)
  const pkg = (name: string) => dirname(dirname(require.resolve(name)));
  const fix = (s: string) => s.replace(/from\s*["']preact["']/g, 'from"/vendor/preact.mjs"');
  return {
    'preact.mjs': { file: join(pkg('preact'), 'dist', 'preact.module.js') },
    'hooks.mjs': { file: join(pkg('preact'), 'hooks', 'dist', 'hooks.module.js'), rewrite: fix },
    'htm.mjs': { file: join(pkg('htm'), 'dist', 'htm.module.js') },
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

class HttpError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

const KEY_COOKIE = 'tunelab_view_key';

/** Reads `<line>` of the example's data file, with a few lines around it, when the file is found. */
function sourceSnippet(store: Store, runId: string, file: string, line: number): { path?: string; lines: { n: number; text: string }[] } {
  const run = store.getRun(runId);
  const output = (run?.meta.config as { output?: unknown } | undefined)?.output;
  const storeDir = dirname(store.path);
  const bases: string[] = [];
  if (typeof output === 'string' && !isAbsolute(output)) {
    const up = output.split(/[\\/]+/).filter((p) => p && p !== '.');
    if (!up.includes('..')) bases.push(resolve(storeDir, ...up.map(() => '..')));
  }
  bases.push(dirname(storeDir), storeDir, process.cwd());
  for (const b of bases) {
    const p = isAbsolute(file) ? file : resolve(b, file);
    if (!existsSync(p) || !statSync(p).isFile() || statSync(p).size > 256 << 20) continue;
    const all = readFileSync(p, 'utf8').split('\n');
    const from = Math.max(1, line - 2);
    const to = Math.min(all.length, line + 2);
    const lines = [];
    for (let n = from; n <= to; n++) lines.push({ n, text: all[n - 1].length > 2000 ? `${all[n - 1].slice(0, 2000)}…` : all[n - 1] });
    return { path: p, lines };
  }
  return { lines: [] };
}

export async function startViewServer(opts: ViewServerOptions): Promise<ViewServer> {
  const store = openForReading(opts.storePath);
  const web = webDir();
  const vendor = vendorFiles();
  const pollMs = opts.pollMs ?? 500;

  // a run's report is rebuilt only when its results or status change
  const reports = new Map<string, { sig: string; report: RunReport }>();
  const signature = (runId: string) => {
    const r = store.getRun(runId);
    if (!r) return undefined;
    const arms = store
      .listArms(runId)
      .map((a) => `${a.name}:${a.status}`)
      .join(',');
    return `${r.status}|${store.countResults(runId)}|${arms}`;
  };
  const reportOf = (runId: string): RunReport => {
    const sig = signature(runId);
    if (sig === undefined) throw new HttpError(404, `no run ${runId}`);
    const hit = reports.get(runId);
    if (hit && hit.sig === sig) return hit.report;
    const report = reportWithEvidence(store, runId);
    reports.set(runId, { sig, report });
    return report;
  };

  // live progress: one poll for every listener
  const listeners = new Set<ServerResponse>();
  let lastRuns = '';
  const poll = () => {
    if (!listeners.size) return;
    let text: string;
    try {
      text = JSON.stringify(listRunSummaries(store));
    } catch {
      return;
    }
    if (text === lastRuns) return;
    lastRuns = text;
    for (const res of listeners) res.write(`event: runs\ndata: ${text}\n\n`);
  };
  const timer = setInterval(poll, pollMs);
  timer.unref();
  const heartbeat = setInterval(() => {
    for (const res of listeners) res.write(': keep-alive\n\n');
  }, 15_000);
  heartbeat.unref();

  const json = (res: ServerResponse, body: unknown, status = 200) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(text);
  };
  const csv = (res: ServerResponse, name: string, body: string) => {
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${name.replace(/[^\w.-]+/g, '_')}"`,
      'cache-control': 'no-store',
    });
    res.end(body);
  };
  const file = (res: ServerResponse, path: string, rewrite?: (s: string) => string) => {
    const ext = path.slice(path.lastIndexOf('.'));
    let body: string | Buffer = readFileSync(path);
    if (rewrite) body = rewrite(body.toString('utf8'));
    res.writeHead(200, {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache',
      'referrer-policy': 'no-referrer',
    });
    res.end(body);
  };

  const filterOf = (q: URLSearchParams): ExampleFilter => {
    const f: ExampleFilter = {};
    if (q.get('arm')) f.arm = q.get('arm')!;
    const o = q.get('outcome');
    if (o === 'pass' || o === 'fail') f.outcome = o;
    if (q.get('disagree') === '1' || q.get('disagree') === 'true') f.disagree = true;
    if (q.get('expected')) f.expected = q.get('expected')!;
    if (q.get('q')) f.q = q.get('q')!;
    return f;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (opts.apiKey) {
      const qKey = url.searchParams.get('key');
      if (qKey !== null && sameKey(qKey, opts.apiKey)) {
        url.searchParams.delete('key');
        res.writeHead(303, {
          location: url.pathname + (url.search || '') + (url.hash || ''),
          'set-cookie': `${KEY_COOKIE}=${encodeURIComponent(qKey)}; HttpOnly; SameSite=Strict; Path=/`,
        });
        res.end();
        return;
      }
      const auth = req.headers.authorization ?? '';
      const given = auth.startsWith('Bearer ') ? auth.slice(7) : cookie(req, KEY_COOKIE);
      if (!given || !sameKey(given, opts.apiKey)) {
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' });
        res.end('tunelab view: a key is required (Authorization: Bearer <key>, or open the page once with ?key=<key>)\n');
        return;
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'only GET');
    const path = url.pathname;
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);

    if (path === '/' || path === '/index.html') return file(res, join(web, 'index.html'));
    if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (parts[0] === 'web' && parts.length === 2 && /^[\w.-]+\.(js|css|svg)$/.test(parts[1])) {
      const p = join(web, parts[1]);
      if (!existsSync(p)) throw new HttpError(404, 'not found');
      return file(res, p);
    }
    if (parts[0] === 'vendor' && parts.length === 2 && vendor[parts[1]]) return file(res, vendor[parts[1]].file, vendor[parts[1]].rewrite);
    if (parts[0] !== 'api') throw new HttpError(404, 'not found');

    // ---- API ----
    if (parts[1] === 'events' && parts.length === 2) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      const text = JSON.stringify(listRunSummaries(store));
      res.write(`retry: 2000\nevent: runs\ndata: ${text}\n\n`);
      listeners.add(res);
      req.on('close', () => listeners.delete(res));
      return;
    }
    if (parts[1] === 'runs' && parts.length === 2) return json(res, listRunSummaries(store));
    if (parts[1] === 'jobs' && parts.length === 2) return json(res, store.listJobs({ limit: 200 }));
    if (parts[1] === 'compare' && parts.length === 2) {
      const a = url.searchParams.get('a');
      const b = url.searchParams.get('b');
      if (!a || !b) throw new HttpError(400, 'compare needs ?a=<run>&b=<run>');
      const c = compareRuns(reportOf(a), reportOf(b));
      if (url.searchParams.get('changed') === '1') c.rows = c.rows.filter((r) => r.changed);
      if (url.searchParams.get('format') === 'csv') {
        const arms = c.arms.map((x) => x.name);
        const head = [
          'id',
          'expected',
          'changed',
          ...arms.flatMap((x) => [`${x}.a_pass`, `${x}.b_pass`, `${x}.a_answer`, `${x}.b_answer`]),
        ];
        const cell = (v: unknown) => {
          const s = v === undefined ? '' : String(v);
          return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
        };
        const rows = c.rows.map((r) => [
          r.id,
          r.expected,
          r.changed,
          ...arms.flatMap((x) => [r.arms[x]?.a, r.arms[x]?.b, r.arms[x]?.aAnswer, r.arms[x]?.bAnswer]),
        ]);
        return csv(res, `compare-${a}-${b}.csv`, [head, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n');
      }
      return json(res, c);
    }
    if (parts[1] === 'runs' && parts.length >= 3) {
      const runId = parts[2];
      const report = reportOf(runId);
      if (parts.length === 3) {
        const { evidence, ...rest } = report;
        const labels = [...new Set((evidence?.examples ?? []).map((e) => e.expected))].sort();
        const disagree = (evidence?.examples ?? []).filter((e) => e.disagree).length;
        return json(res, {
          ...rest,
          evidence: evidence
            ? { prompts: evidence.prompts, curves: evidence.curves, count: evidence.examples.length, disagree }
            : undefined,
          labels,
          run: listRunSummaries(store).find((r) => r.id === runId),
        });
      }
      if (parts[3] === 'examples' && parts.length === 4) {
        const all = filterExamples(report.evidence?.examples ?? [], filterOf(url.searchParams));
        if (url.searchParams.get('format') === 'csv')
          return csv(
            res,
            `${runId}-examples.csv`,
            examplesCsv(
              all,
              report.arms.map((a) => a.name),
            ),
          );
        const offset = Math.max(0, Number(url.searchParams.get('offset') ?? 0) || 0);
        const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 100) || 100));
        return json(res, { total: all.length, offset, examples: all.slice(offset, offset + limit) });
      }
      if (parts[3] === 'examples' && parts.length === 5) {
        const d = exampleDetail(store, report, parts[4]);
        if (!d) throw new HttpError(404, `no example ${parts[4]} in run ${runId}`);
        const src = d.example.source ? sourceSnippet(store, runId, d.example.source.file, d.example.source.line) : undefined;
        return json(res, { ...d, sourceFile: src });
      }
      if (parts[3] === 'finetune' && parts.length === 4) return json(res, finetuneArms(store, report));
    }
    throw new HttpError(404, 'not found');
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) opts.log?.(`error: ${(err as Error).message}`);
      if (!res.headersSent) json(res, { error: { message: (err as Error).message } }, status);
      else res.end();
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => ok());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}/`,
    port: addr.port,
    async close() {
      clearInterval(timer);
      clearInterval(heartbeat);
      for (const res of listeners) res.end();
      listeners.clear();
      await new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections?.();
      store.close();
    },
  };
}
