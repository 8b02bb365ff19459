// `tunelab view`: a local web app over the store (see src/view).
import { spawn } from 'node:child_process';
import { InputError } from '../../core/index.ts';
import { locateStore } from '../store-path.ts';

export interface ViewCommandOptions {
  config?: string;
  store?: string;
  port?: string;
  host?: string;
  open?: boolean;
  apiKeyEnv?: string;
}

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => process.stderr.write(`tunelab view: could not open a browser; open ${url}\n`));
    child.unref();
  } catch {
    process.stderr.write(`tunelab view: could not open a browser; open ${url}\n`);
  }
}

export default async function view(opts: ViewCommandOptions): Promise<number> {
  const port = opts.port === undefined ? 4173 : Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError('--port', `expected a port number, got "${opts.port}"`);
  const keyEnv = opts.apiKeyEnv ?? 'TUNELAB_API_KEY';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(keyEnv)) throw new InputError('--api-key-env', 'expected an environment variable name');
  const apiKey = process.env[keyEnv] || undefined;
  if (opts.apiKeyEnv && !apiKey) throw new InputError('--api-key-env', `environment variable ${keyEnv} is not set`);
  const storePath = await locateStore(opts);
  const { startViewServer } = await import('../../view/index.ts');
  const srv = await startViewServer({
    storePath,
    port,
    host: opts.host ?? '127.0.0.1',
    apiKey,
    log: (m) => process.stderr.write(`tunelab view: ${m}\n`),
  });
  process.stderr.write(
    `tunelab view: ${srv.url}  (store ${storePath}${apiKey ? `; key required (${keyEnv}): open ${srv.url}?key=<key> once` : ''}; Ctrl-C to stop)\n`,
  );
  if (opts.open) openBrowser(apiKey ? `${srv.url}?key=${encodeURIComponent(apiKey)}` : srv.url);
  await new Promise<void>((res) => {
    const stop = () => void srv.close().then(res);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
