// Finds the SQLite store for `report` and `runs` without validating the whole config: --store, else the
// config's `output` folder (default .tunelab next to the config), else ./.tunelab.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../core/index.ts';

export async function locateStore(opts: { store?: string; config?: string }): Promise<string> {
  if (opts.store) {
    const p = resolve(opts.store);
    if (!existsSync(p)) throw new InputError('--store', `no store at ${opts.store}`);
    return p;
  }
  const cfg = resolve(opts.config ?? 'tunelab.yaml');
  let out = '.tunelab';
  let base = process.cwd();
  if (existsSync(cfg)) {
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
  if (!existsSync(p)) throw new InputError(opts.config ?? 'tunelab.yaml', `no store at ${p} (run \`tunelab run\` first, or pass --store)`);
  return p;
}
