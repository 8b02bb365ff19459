// Helpers for CLI tests: temp projects, spawning the built CLI, dumping a store's data.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(ROOT, 'bin', 'tunelab.mjs');

/** A fresh folder with the given files (paths relative to it). */
export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-cli-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawn `node bin/tunelab.mjs ...args`; resolves when it exits. */
export function cli(
  args: string[],
  opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number; onSpawn?: (c: ChildProcess) => void },
): Promise<CliResult> {
  return new Promise((resolveP, reject) => {
    const env: Record<string, string> = { ...(process.env as Record<string, string>), NO_COLOR: '1', ...(opts.env ?? {}) };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tunelab ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveP({ code, signal, stdout, stderr });
    });
    opts.onSpawn?.(child);
  });
}

/** Every row of every table, as JSON text (for before/after comparisons). '' when there is no store. */
export function dumpStore(dbPath: string): string {
  if (!existsSync(dbPath)) return '';
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    const out: Record<string, unknown[]> = {};
    for (const t of tables) out[t] = db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all();
    return JSON.stringify(out);
  } finally {
    db.close();
  }
}

export function query<T = any>(dbPath: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** The 120-email starter data set. */
export const SPAM_JSONL = readFileSync(join(ROOT, 'examples/spam-mini/messages.jsonl'), 'utf8');

/** A config for the spam data against an OpenAI-compatible base URL. */
export function spamConfig(
  baseURL: string,
  extra: { arms?: string; top?: string; model?: string; data?: string; split?: string } = {},
): string {
  return `experiment: spam-test
task:
  data: ${extra.data ?? 'messages.jsonl'}
  input: [subject, text]
  expected: label
  id: id
  metric:
    type: accuracy
split:
${extra.split ?? '  train: 0.4\n  dev: 0.1\n  test: 0.5\n  seed: 3'}
models:
  - id: mock
    provider: openai-compatible
    baseURL: ${baseURL}
    model: mock-model
    retries: 1
${extra.model ?? ''}
arms:
${
  extra.arms ??
  `  - name: zero-shot
    kind: prompt
    model: mock
    messages:
      - { role: system, content: "Is this email spam or ham? Answer spam or ham." }
      - { role: user, content: "Subject: {{subject}}\\n\\n{{text}}" }
  - name: few-shot
    kind: prompt
    model: mock
    shots: 2
    messages:
      - { role: system, content: "Is this email spam or ham? Answer spam or ham." }
      - { role: user, content: "Subject: {{subject}}\\n\\n{{text}}" }`
}
concurrency: 4
${extra.top ?? ''}
`;
}
