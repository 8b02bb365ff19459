// One writer per store: `tunelab run` (and demo) holds <store>.lock while it works on a store. A second
// writer is refused at once with exit 2 and one line naming the store and the holder's pid. A lock
// whose process is gone (killed, crashed) is taken over. Readers (report, runs, view) take no lock:
// SQLite's WAL lets them read while the writer writes.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';

/** Another process is writing this store. Exit code 2 (a usage problem, not a crash). */
export class StoreBusyError extends Error {
  readonly exitCode = 2;
  constructor(
    public store: string,
    public pid: number,
  ) {
    super(`${store} is in use by another tunelab process (pid ${pid}); wait for it to finish or stop it, or use another output folder`);
    this.name = 'StoreBusyError';
  }
}

export interface WriterLock {
  readonly path: string;
  release(): void;
}

interface Holder {
  pid: number;
  host: string;
  since: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Holder;
    return typeof h.pid === 'number' ? h : undefined;
  } catch {
    return undefined;
  }
}

/** Take the store's writer lock or throw StoreBusyError naming the holder. Released on release() or process exit. */
export function acquireWriterLock(storePath: string): WriterLock {
  const store = resolve(storePath);
  const path = `${store}.lock`;
  const me: Holder = { pid: process.pid, host: hostname(), since: Date.now() };
  mkdirSync(dirname(store), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const h = readHolder(path);
      if (h && h.pid === process.pid && h.host === me.host) throw new StoreBusyError(store, h.pid);
      // a holder on this machine that is gone, or a file left half-written: stale
      const stale = !h ? attempt > 0 : h.host === me.host && !alive(h.pid);
      if (!stale) {
        if (!h) {
          // being written by its creator this very moment: look again
          continue;
        }
        throw new StoreBusyError(store, h.pid);
      }
      rmSync(path, { force: true });
      if (attempt > 5) throw new StoreBusyError(store, h?.pid ?? 0);
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true });
  };
  process.on('exit', release);
  return { path, release };
}
