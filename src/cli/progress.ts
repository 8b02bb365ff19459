// Progress output for `tunelab run`: a bar per arm on a TTY (cli-progress), plain lines otherwise.
// Everything goes to stderr so stdout stays for the table or --json.
import { env } from '../core/index.ts';
import type { RunEvent } from '../experiment/index.ts';

export interface ProgressSink {
  (e: RunEvent): void;
  stop(): void;
}

function fmtEta(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  if (sec < 60) return `${Math.ceil(sec)}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m${String(Math.round(sec % 60)).padStart(2, '0')}s`;
  return `${Math.floor(sec / 3600)}h${String(Math.round((sec % 3600) / 60)).padStart(2, '0')}m`;
}

export function fmtCost(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(5)}`;
  return `$${usd.toFixed(usd < 10 ? 3 : 2)}`;
}

export async function createProgress(opts: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Promise<ProgressSink> {
  const out = opts.stream ?? process.stderr;
  const write = (s: string) => void out.write(s + '\n');
  if (opts.quiet) {
    const sink = ((e: RunEvent) => {
      if (e.type === 'warning') write(`tunelab: warning: ${e.message}`);
    }) as ProgressSink;
    sink.stop = () => {};
    return sink;
  }
  const tty = Boolean(out.isTTY) && env('TERM') !== 'dumb' && !env('CI');
  let bar: import('cli-progress').SingleBar | undefined;
  let Bar: typeof import('cli-progress').SingleBar | undefined;
  if (tty) Bar = (await import('cli-progress')).default.SingleBar;
  let lastLine = 0;
  const payload = (e: Extract<RunEvent, { type: 'progress' }>) => {
    const sec = e.elapsedMs / 1000;
    const rate = sec > 0 ? (e.done - e.startDone) / sec : 0;
    const eta = rate > 0 ? (e.total - e.done) / rate : NaN;
    return { arm: e.arm, rate: rate.toFixed(rate < 10 ? 1 : 0), cost: fmtCost(e.costUsd), etaText: fmtEta(eta), errors: e.errors, cached: e.cached };
  };
  const sink = ((e: RunEvent) => {
    switch (e.type) {
      case 'run-start':
        write(`tunelab: ${e.resumed ? 'resuming' : 'starting'} run ${e.runId} (${e.experiment}): ${e.arms.length} arm${e.arms.length === 1 ? '' : 's'}, test split ${e.sizes.test} examples (train ${e.sizes.train}, dev ${e.sizes.dev})`);
        break;
      case 'arm-prepare':
        write(`[${e.arm}] preparing (${e.kind})`);
        break;
      case 'arm-prepared':
        write(`[${e.arm}] ${e.restored ? 'restored prepared arm from the store' : 'prepared'}${e.spent.calls ? ` (${e.spent.calls} calls, ${fmtCost(e.spent.costUsd)})` : ''}`);
        break;
      case 'arm-start':
        if (Bar) {
          bar = new Bar({
            format: `[{arm}] {bar} {value}/{total} | {rate} calls/s | {cost} | ETA {etaText}`,
            barsize: 24,
            hideCursor: true,
            clearOnComplete: false,
            stream: out,
            fps: 8,
          });
          bar.start(e.total, e.done, { arm: e.arm, rate: '0', cost: "$0", etaText: "?", errors: 0, cached: 0 });
        } else if (e.done > 0) {
          write(`[${e.arm}] ${e.done}/${e.total} already stored, continuing`);
        }
        lastLine = Date.now();
        break;
      case 'progress': {
        const p = payload(e);
        if (bar) bar.update(e.done, p);
        else if (Date.now() - lastLine >= 2000) {
          lastLine = Date.now();
          write(`[${e.arm}] ${e.done}/${e.total} ${Math.floor((100 * e.done) / Math.max(1, e.total))}% | ${p.rate} calls/s | ${p.cost} | ETA ${p.etaText}`);
        }
        break;
      }
      case 'arm-end': {
        if (bar) {
          bar.stop();
          bar = undefined;
        }
        const tail = e.status === 'failed' ? `failed: ${e.error}` : `${e.done}/${e.total} done in ${(e.elapsedMs / 1000).toFixed(1)}s, ${e.cached} cached, ${e.errors} errors, ${fmtCost(e.costUsd)}`;
        write(`[${e.arm}] ${tail}`);
        break;
      }
      case 'log':
        if (bar) break; // keep the bar readable; every log line is in the run's run.log too
        write(e.arm ? `[${e.arm}] ${e.message}` : e.message);
        break;
      case 'warning':
        if (bar) bar.stop();
        write(`tunelab: warning: ${e.message}`);
        break;
      case 'run-end':
        break;
    }
  }) as ProgressSink;
  sink.stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return sink;
}
