// Progress output for `tunelab run` and `tunelab demo`: one bar at a time on a TTY (cli-progress),
// plain lines at most every 2 s otherwise. Everything goes to stderr so stdout stays for the table or
// --json. Training shows as one bar with loss and ETA (from the engine's training events, or the
// fine-tune arm's "training step i/n loss x ... eta s" log lines); each line says "arm k of n" and,
// once an arm has been evaluated, the whole run's ETA. Each warning prints once. The last line says
// when the run started and how long all of it took (preparing and training included).
import type { RunEvent } from '../experiment/index.ts';

export interface ProgressSink {
  (e: RunEvent): void;
  stop(): void;
}

export function fmtEta(sec: number): string {
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

/** A training step, from an engine event or the fine-tune arm's log line. */
export interface TrainTick {
  arm?: string;
  step: number;
  total: number;
  loss?: number;
  valLoss?: number;
  etaSec?: number;
}

const TRAIN_LINE = /training step (\d+)\/(\d+) loss ([\d.]+|NaN|undefined)(?: val ([\d.]+))?.*?(?:eta (\d+)s)?$/;

/** Reads a training step from an event: a `train*` event with step/totalSteps, or a log line. */
export function trainTick(e: RunEvent): TrainTick | undefined {
  const any = e as unknown as Record<string, unknown>;
  if (typeof any.type === 'string' && /train/i.test(any.type) && typeof any.step === 'number') {
    const total = Number(any.totalSteps ?? any.total);
    const num = (k: string) => (typeof any[k] === 'number' && Number.isFinite(any[k]) ? (any[k] as number) : undefined);
    return {
      arm: typeof any.arm === 'string' ? any.arm : undefined,
      step: any.step,
      total: Number.isFinite(total) ? total : 0,
      loss: num('trainLoss') ?? num('loss'),
      valLoss: num('validLoss') ?? num('valLoss'),
      etaSec: num('etaSec'),
    };
  }
  if (e.type === 'log') {
    const m = TRAIN_LINE.exec(e.message);
    if (!m) return undefined;
    const loss = Number(m[3]);
    return {
      arm: e.arm,
      step: Number(m[1]),
      total: Number(m[2]),
      loss: Number.isFinite(loss) ? loss : undefined,
      valLoss: m[4] ? Number(m[4]) : undefined,
      etaSec: m[5] ? Number(m[5]) : undefined,
    };
  }
  return undefined;
}

export async function createProgress(
  opts: { quiet?: boolean; stream?: NodeJS.WriteStream; now?: () => number } = {},
): Promise<ProgressSink> {
  const out = opts.stream ?? process.stderr;
  const now = opts.now ?? Date.now;
  const write = (s: string) => void out.write(s + '\n');
  const warned = new Set<string>();
  const warnOnce = (msg: string, pause?: () => void) => {
    if (warned.has(msg)) return;
    warned.add(msg);
    pause?.();
    write(`tunelab: warning: ${msg}`);
  };
  if (opts.quiet) {
    const sink = ((e: RunEvent) => {
      if (e.type === 'warning') warnOnce(e.message);
    }) as ProgressSink;
    sink.stop = () => {};
    return sink;
  }
  const tty = Boolean(out.isTTY) && process.env.TERM !== 'dumb' && !process.env.CI;
  let Bar: typeof import('cli-progress').SingleBar | undefined;
  if (tty) Bar = (await import('cli-progress')).default.SingleBar;
  let bar: import('cli-progress').SingleBar | undefined;
  let barKind: 'eval' | 'train' | undefined;
  // with arms running at once (armConcurrency), the bar belongs to one arm until it stops
  let barArm: string | undefined;
  const otherArmsBar = (arm: string) => Boolean(bar && barArm !== undefined && barArm !== arm);
  let lastLine = 0;

  // the run as a whole
  let arms: string[] = [];
  let runStart = 0;
  let prepMs = 0;
  let evalMs = 0;
  let prepStart = 0;
  const evalDone: number[] = []; // ms per evaluated arm
  const evaluated = new Set<string>();
  const position = (arm?: string) => {
    const i = arm ? arms.indexOf(arm) : -1;
    return i >= 0 ? `arm ${i + 1} of ${arms.length}` : '';
  };
  /** the run's remaining time: this arm's ETA plus the arms not yet evaluated at the mean time so far */
  const totalEta = (arm: string, armEta: number) => {
    if (!evalDone.length || !Number.isFinite(armEta)) return '';
    const left = arms.filter((a) => a !== arm && !evaluated.has(a)).length;
    const mean = evalDone.reduce((s, x) => s + x, 0) / evalDone.length / 1000;
    return ` | total ETA ${fmtEta(armEta + left * mean)}`;
  };
  const stopBar = () => {
    bar?.stop();
    bar = undefined;
    barKind = undefined;
    barArm = undefined;
  };
  const startBar = (kind: 'eval' | 'train', total: number, value: number, payload: Record<string, unknown>) => {
    if (!Bar) return;
    stopBar();
    const format =
      kind === 'train'
        ? `[{arm}] training {bar} step {value}/{total} | loss {loss} | ETA {etaText} | {pos}`
        : `[{arm}] {bar} {value}/{total} | {rate} calls/s | {cost} | ETA {etaText}{total_eta} | {pos}`;
    bar = new Bar({ format, barsize: 20, hideCursor: true, clearOnComplete: false, stream: out, fps: 8 });
    bar.start(total, value, payload);
    barKind = kind;
    barArm = typeof payload.arm === 'string' ? payload.arm : undefined;
  };
  const throttled = (line: string, everyMs = 2000) => {
    if (now() - lastLine < everyMs) return;
    lastLine = now();
    write(line);
  };

  const sink = ((e: RunEvent) => {
    const tick = trainTick(e);
    if (tick) {
      const arm = tick.arm ?? '?';
      const loss =
        tick.loss !== undefined ? tick.loss.toFixed(3) + (tick.valLoss !== undefined ? ` (val ${tick.valLoss.toFixed(3)})` : '') : '?';
      const eta = fmtEta(tick.etaSec ?? NaN);
      if (Bar && otherArmsBar(arm)) return;
      if (Bar) {
        if (barKind !== 'train' || !bar) startBar('train', tick.total || 1, tick.step, { arm, loss, etaText: eta, pos: position(arm) });
        else {
          bar.setTotal(tick.total || 1);
          bar.update(tick.step, { arm, loss, etaText: eta, pos: position(arm) });
        }
      } else
        throttled(
          `[${arm}] training step ${tick.step}/${tick.total} | loss ${loss} | ETA ${eta}${position(arm) ? ` | ${position(arm)}` : ''}`,
          10_000,
        );
      return;
    }
    switch (e.type) {
      case 'run-start':
        arms = e.arms;
        runStart = now();
        write(
          `tunelab: ${e.resumed ? 'resuming' : 'starting'} run ${e.runId} (${e.experiment}): ${e.arms.length} arm${e.arms.length === 1 ? '' : 's'}, test split ${e.sizes.test} examples (train ${e.sizes.train}, dev ${e.sizes.dev})`,
        );
        break;
      case 'arm-prepare':
        stopBar();
        prepStart = now();
        write(`[${e.arm}] preparing (${e.kind}) · ${position(e.arm)}`);
        break;
      case 'arm-prepared':
        stopBar();
        if (prepStart) prepMs += now() - prepStart;
        prepStart = 0;
        write(
          `[${e.arm}] ${e.restored ? 'restored prepared arm from the store' : 'prepared'}${e.spent.calls ? ` (${e.spent.calls} calls, ${fmtCost(e.spent.costUsd)})` : ''}`,
        );
        break;
      case 'arm-start':
        if (Bar)
          startBar('eval', e.total, e.done, { arm: e.arm, rate: '0', cost: '$0', etaText: '?', total_eta: '', pos: position(e.arm) });
        else if (e.done > 0) write(`[${e.arm}] ${e.done}/${e.total} already stored, continuing · ${position(e.arm)}`);
        lastLine = now();
        break;
      case 'progress': {
        const sec = e.elapsedMs / 1000;
        const rate = sec > 0 ? (e.done - e.startDone) / sec : 0;
        const etaSec = rate > 0 ? (e.total - e.done) / rate : NaN;
        const payload = {
          arm: e.arm,
          rate: rate.toFixed(rate < 10 ? 1 : 0),
          cost: fmtCost(e.costUsd),
          etaText: fmtEta(etaSec),
          total_eta: totalEta(e.arm, etaSec),
          pos: position(e.arm),
        };
        if (otherArmsBar(e.arm)) break;
        if (bar && barKind === 'eval') bar.update(e.done, payload);
        else if (Bar) startBar('eval', e.total, e.done, payload);
        else
          throttled(
            `[${e.arm}] ${e.done}/${e.total} ${Math.floor((100 * e.done) / Math.max(1, e.total))}% | ${payload.rate} calls/s | ${payload.cost} | ETA ${payload.etaText}${payload.total_eta} | ${payload.pos}`,
          );
        break;
      }
      case 'arm-end': {
        stopBar();
        if (prepStart) {
          prepMs += now() - prepStart;
          prepStart = 0;
        }
        evaluated.add(e.arm);
        if (e.status === 'done' && e.elapsedMs > 0) {
          evalDone.push(e.elapsedMs);
          evalMs += e.elapsedMs;
        }
        const tail =
          e.status === 'failed'
            ? `failed: ${e.error}`
            : `${e.done}/${e.total} done in ${(e.elapsedMs / 1000).toFixed(1)}s, ${e.cached} cached, ${e.errors} errors, ${fmtCost(e.costUsd)}`;
        write(`[${e.arm}] ${tail}`);
        break;
      }
      case 'log':
        if (bar) break; // keep the bar readable; every log line is in the run's run.log too
        write(e.arm ? `[${e.arm}] ${e.message}` : e.message);
        break;
      case 'warning':
        warnOnce(e.message, stopBar);
        break;
      case 'run-end': {
        stopBar();
        if (runStart) {
          const took = (now() - runStart) / 1000;
          write(
            `tunelab: run ${e.runId} started ${new Date(runStart).toISOString().slice(11, 19)} UTC, took ${fmtEta(took)} (preparing and training ${fmtEta(prepMs / 1000)}, evaluating ${fmtEta(evalMs / 1000)})`,
          );
        }
        break;
      }
    }
  }) as ProgressSink;
  sink.stop = stopBar;
  return sink;
}
