// Number and text formatting shared by every report format. Locale-independent on purpose:
// a report renders the same bytes on every machine.
import type { ArmReport, PairedComparison, RunReport } from './types.ts';

export const DASH = '-';

function finite(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** 1234567 → "1,234,567" */
export function fmtInt(n: number): string {
  if (!finite(n)) return DASH;
  const s = Math.round(Math.abs(n))
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${s}` : s;
}

export function fmtNum(x: number, digits = 3): string {
  return finite(x) ? x.toFixed(digits) : DASH;
}

function signed(x: number, digits: number): string {
  if (!finite(x)) return DASH;
  const s = x.toFixed(digits);
  // "-0.000" and "0.000" both read as no change
  if (Number(s) === 0) return (0).toFixed(digits);
  return x > 0 ? `+${s}` : s;
}

export function fmtInterval(ci: [number, number] | undefined, digits = 3, sign = false): string {
  if (!ci || !finite(ci[0]) || !finite(ci[1])) return DASH;
  const f = sign ? (x: number) => signed(x, digits) : (x: number) => x.toFixed(digits);
  return `[${f(ci[0])}, ${f(ci[1])}]`;
}

/** "0.842 [0.801, 0.879]" */
export function fmtMetric(value: number, ci: [number, number] | undefined, digits = 3): string {
  if (!finite(value)) return DASH;
  const i = fmtInterval(ci, digits);
  return i === DASH ? value.toFixed(digits) : `${value.toFixed(digits)} ${i}`;
}

export function fmtDiff(d: number, digits = 3): string {
  return signed(d, digits);
}

export function fmtP(p: number): string {
  if (!finite(p)) return DASH;
  if (p < 0.001) return '<0.001';
  if (p > 1) p = 1;
  return p.toFixed(3);
}

export function fmtUsd(x: number): string {
  if (!finite(x)) return DASH;
  if (x === 0) return '$0';
  const a = Math.abs(x);
  const sign = x < 0 ? '-' : '';
  if (a < 0.0001) return `${sign}<$0.0001`;
  if (a >= 100) return `${sign}$${fmtInt(a)}`;
  if (a >= 1) return `${sign}$${a.toFixed(2)}`;
  // two significant digits for small amounts: $0.42, $0.0031
  const digits = Math.min(4, Math.max(2, 1 - Math.floor(Math.log10(a))));
  return `${sign}$${a.toFixed(digits)}`;
}

export function fmtMs(ms: number): string {
  if (!finite(ms)) return DASH;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return fmtSeconds(ms / 1000);
}

export function fmtSeconds(s: number): string {
  if (!finite(s)) return DASH;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(sec).padStart(2, '0')}s`;
}

export function fmtTokens(x: number): string {
  if (!finite(x)) return DASH;
  if (Number.isInteger(x)) return fmtInt(x);
  return x < 100 ? x.toFixed(1) : fmtInt(x);
}

/** Engineering cost of preparing an arm: "$1.20, 340 calls, 2m 10s"; "-" when nothing was spent. */
export function fmtSpent(spent: ArmReport['spent'] | undefined): string {
  if (!spent) return DASH;
  const parts: string[] = [];
  if (finite(spent.costUsd) && spent.costUsd > 0) parts.push(fmtUsd(spent.costUsd));
  if (finite(spent.calls) && spent.calls > 0) parts.push(`${fmtInt(spent.calls)} call${spent.calls === 1 ? '' : 's'}`);
  if (finite(spent.ms) && spent.ms > 0) parts.push(fmtMs(spent.ms));
  return parts.length ? parts.join(', ') : DASH;
}

export function fmtTraining(t: ArmReport['training'] | undefined): string {
  if (!t) return DASH;
  const parts = [fmtSeconds(t.seconds)];
  if (finite(t.costUsd) && t.costUsd > 0) parts.push(fmtUsd(t.costUsd));
  return parts.join(', ');
}

/** The "Cost and speed" cells after the arm's name: cost per 1,000 requests, latency p50 and p95, mean tokens in / out, engineering cost, training. */
export function costCells(a: ArmReport): string[] {
  return [
    fmtUsd(a.costPer1k),
    fmtMs(a.latencyMs.p50),
    fmtMs(a.latencyMs.p95),
    `${fmtTokens(a.tokens.meanInput)} / ${fmtTokens(a.tokens.meanOutput)}`,
    fmtSpent(a.spent),
    fmtTraining(a.training),
  ];
}

/** An arm's extra metric by name, if it has it. */
export function extraMetric(a: ArmReport, name: string): NonNullable<ArmReport['extraMetrics']>[number] | undefined {
  return a.extraMetrics?.find((x) => x.name === name);
}

export function baselineOf(report: RunReport): string | undefined {
  return report.baseline ?? report.comparisons[0]?.baseline;
}

export type Verdict = 'better' | 'worse' | 'no clear difference';

/** Better/worse only when both the McNemar test (p < 0.05) and the bootstrap interval agree. */
export function verdict(c: PairedComparison, alpha = 0.05): Verdict {
  const sig = finite(c.pValue) && c.pValue < alpha && finite(c.ci[0]) && finite(c.ci[1]) && (c.ci[0] > 0 || c.ci[1] < 0);
  if (!sig) return 'no clear difference';
  return c.diff > 0 ? 'better' : 'worse';
}

export function fmtDiscordant(c: PairedComparison): string {
  return c.discordant ? `${fmtInt(c.discordant.armOnly)} / ${fmtInt(c.discordant.baselineOnly)}` : DASH;
}

/** Names of extra metrics, in first-seen order across arms. */
export function extraMetricNames(report: RunReport): string[] {
  const names: string[] = [];
  for (const a of report.arms) for (const m of a.extraMetrics ?? []) if (!names.includes(m.name)) names.push(m.name);
  return names;
}

/** Per-arm problems worth a line next to the report's own warnings. */
export function armWarnings(report: RunReport): string[] {
  const out: string[] = [];
  for (const a of report.arms) {
    if (a.status !== 'done') out.push(`arm ${a.name}: ${a.status}${a.error ? `: ${a.error}` : ''}`);
    else if (a.error) out.push(`arm ${a.name}: ${a.error}`);
  }
  return out;
}

export function allWarnings(report: RunReport): string[] {
  return [...armWarnings(report), ...report.warnings];
}

/** Flatten a value for a one-line cell. */
export function inlineValue(v: unknown): string {
  if (v === null || v === undefined) return DASH;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : finite(v) ? String(Number(v.toPrecision(4))) : DASH;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** One line, no control characters (terminal/markdown cells). */
export function oneLine(s: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** "abc…xyz": keeps both ends of a long id readable. */
export function middleEllipsis(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 1) return '…';
  const head = Math.ceil((max - 1) / 2);
  const tail = max - 1 - head;
  return `${s.slice(0, head)}…${tail ? s.slice(s.length - tail) : ''}`;
}

/**
 * A model id short enough for a table cell: a fine-tuned model as `<method>@<6 hex>` (`lora@3d0fdd`),
 * another local folder by its last path part, anything long cut in the middle. Reports keep the full id
 * in the arm details.
 */
export function shortModel(a: Pick<ArmReport, 'modelId' | 'training'>, max = 24): string {
  const id = a.modelId ?? '';
  const local = /^local:(.+)$/.exec(id);
  if (local && /[\\/]/.test(local[1])) {
    const parts = local[1].split(/[\\/]+/).filter(Boolean);
    const last = parts.at(-1) ?? local[1];
    if (/^[0-9a-f]{8,}$/i.test(last)) {
      const method = typeof a.training?.details?.method === 'string' ? a.training.details.method : 'ft';
      return `${method}@${last.slice(0, 6)}`;
    }
    return middleEllipsis(`local:${last}`, max);
  }
  return middleEllipsis(id, max);
}

/** A content hash shown short: "sha256:3d0fdd2a…" → "3d0fdd2a". */
export function shortHash(h: string | undefined, n = 8): string {
  if (!h) return DASH;
  return h.replace(/^[a-z0-9]+:/i, '').slice(0, n);
}

/** Greedy word wrap to `width` columns; continuation lines get `indent`. */
export function wrapText(s: string, width: number, indent = ''): string[] {
  const words = s.split(/\s+/).filter(Boolean);
  const out: string[] = [];
  let line = '';
  for (let w of words) {
    const room = width - (out.length ? indent.length : 0);
    while (w.length > room) {
      if (line) {
        out.push(line);
        line = '';
      }
      out.push(w.slice(0, room));
      w = w.slice(room);
    }
    if (!line) line = w;
    else if (line.length + 1 + w.length <= width - (out.length ? indent.length : 0)) line += ` ${w}`;
    else {
      out.push(line);
      line = w;
    }
  }
  if (line) out.push(line);
  return out.map((l, i) => (i ? indent + l : l));
}

/** Run duration as text, when the run finished. */
export function runDuration(report: RunReport): string | undefined {
  const a = Date.parse(report.createdAt);
  const b = report.finishedAt ? Date.parse(report.finishedAt) : NaN;
  return Number.isFinite(a) && Number.isFinite(b) && b >= a ? fmtSeconds((b - a) / 1000) : undefined;
}
