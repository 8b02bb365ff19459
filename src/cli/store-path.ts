// Finds the SQLite store for `report`, `runs` and `view` without validating the whole config: --store,
// else the config's `output` folder (default .tunelab next to the config), else — when there is no
// config here — the most recent store: one under this folder (a few levels down) or one a run wrote
// elsewhere (remembered in the user's state folder).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { InputError } from '../core/index.ts';

/** Where tunelab remembers the stores runs wrote (TUNELAB_STATE_DIR, else XDG_STATE_HOME/tunelab, else ~/.local/state/tunelab). */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TUNELAB_STATE_DIR) return resolve(env.TUNELAB_STATE_DIR);
  return join(env.XDG_STATE_HOME ? resolve(env.XDG_STATE_HOME) : join(homedir(), '.local', 'state'), 'tunelab');
}

const RECENT_MAX = 20;

/** Remember a store a run wrote, so `tunelab report/runs/view` find it from any folder. Never throws. */
export function rememberStore(path: string, env: NodeJS.ProcessEnv = process.env): void {
  try {
    const dir = stateDir(env);
    const file = join(dir, 'stores.json');
    const list = readRecent(file).filter((p) => p !== resolve(path));
    list.unshift(resolve(path));
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, JSON.stringify(list.slice(0, RECENT_MAX), null, 2) + '\n');
  } catch {
    /* a state folder we cannot write only costs the convenience */
  }
}

function readRecent(file: string): string[] {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8'));
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** When the store was last written (the WAL file changes first). */
function lastWrite(db: string): number {
  let t = 0;
  for (const f of [db, `${db}-wal`]) {
    try {
      t = Math.max(t, statSync(f).mtimeMs);
    } catch {
      /* absent */
    }
  }
  return t;
}

/** tunelab.db files under `dir`, at most `depth` folders down (skips node_modules and dot folders but .tunelab). */
export function storesUnder(dir: string, depth = 3): string[] {
  const out: string[] = [];
  const walk = (d: string, left: number) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isFile() && e.name === 'tunelab.db') out.push(join(d, e.name));
      else if (e.isDirectory() && left > 0 && e.name !== 'node_modules' && (!e.name.startsWith('.') || e.name === '.tunelab'))
        walk(join(d, e.name), left - 1);
    }
  };
  walk(dir, depth);
  return out;
}

/** The most recently written store here or remembered, if any. */
export function mostRecentStore(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = new Set([...storesUnder(cwd), ...readRecent(join(stateDir(env), 'stores.json')).filter((p) => existsSync(p))]);
  let best: { p: string; t: number } | undefined;
  for (const p of candidates) {
    const t = lastWrite(p);
    if (!best || t > best.t) best = { p, t };
  }
  return best?.p;
}

export async function locateStore(opts: { store?: string; config?: string; quiet?: boolean }): Promise<string> {
  if (opts.store) {
    const p = resolve(opts.store);
    if (!existsSync(p)) throw new InputError('--store', `no store at ${opts.store}`);
    return p;
  }
  const cfg = resolve(opts.config ?? 'tunelab.yaml');
  let out = '.tunelab';
  let base = process.cwd();
  const hasConfig = existsSync(cfg);
  if (hasConfig) {
    base = dirname(cfg);
    try {
      const YAML = (await import('yaml')).default;
      const raw = YAML.parse(readFileSync(cfg, 'utf8')) as { output?: unknown } | null;
      if (raw && typeof raw.output === 'string' && raw.output) out = raw.output;
    } catch {
      /* an unreadable config: fall back to the default folder */
    }
  }
  const p = join(resolve(base, out), 'tunelab.db');
  if (existsSync(p)) return p;
  if (!hasConfig) {
    const recent = mostRecentStore();
    if (recent) {
      if (!opts.quiet)
        process.stderr.write(
          `tunelab: no ${opts.config ?? 'tunelab.yaml'} here; using the most recent store ${relative(process.cwd(), recent) || recent} (pass --store or --config to choose)\n`,
        );
      return recent;
    }
  }
  throw new InputError(opts.config ?? 'tunelab.yaml', `no store at ${p} (run \`npx tunelab run\` first, or pass --store)`);
}

/** A stored run by id, unique prefix or suffix, or `latest`; bad input names the store. */
export function findRun<R extends { id: string }>(
  store: { latestRun(): R | undefined; getRun(id: string): R | undefined; listRuns(): R[] },
  runArg: string,
  path: string,
): R {
  let run = runArg === 'latest' ? store.latestRun() : store.getRun(runArg);
  if (!run && runArg !== 'latest') {
    const matches = store.listRuns().filter((r) => r.id.startsWith(runArg) || r.id.endsWith(runArg));
    if (matches.length === 1) run = matches[0];
    else if (matches.length > 1)
      throw new InputError('run', `'${runArg}' matches ${matches.length} runs: ${matches.map((r) => r.id).join(', ')}`);
  }
  if (!run)
    throw new InputError(
      'run',
      runArg === 'latest' ? `the store ${path} holds no runs` : `no run '${runArg}' in ${path} (see \`npx tunelab runs\`)`,
    );
  return run;
}
