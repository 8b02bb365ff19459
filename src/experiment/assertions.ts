// Failure thresholds and assertions over a finished run's report: any failed one makes `tunelab run`
// exit 1 (the run itself finished and is stored).
import type { RunReport } from '../report/types.ts';
import type { AssertConfig } from './config.ts';

export interface AssertionResult {
  name: string;
  ok: boolean;
  message: string;
}

/** Default share of failed calls an arm may have before the run counts as failed. */
export const DEFAULT_MAX_ERROR_RATE = 0.1;

export function checkAssertions(report: RunReport, cfg: AssertConfig | undefined, opts: { arms?: string[] } = {}): AssertionResult[] {
  const out: AssertionResult[] = [];
  const arms = report.arms.filter((a) => !opts.arms || opts.arms.includes(a.name));
  const maxErr = cfg?.maxErrorRate ?? DEFAULT_MAX_ERROR_RATE;
  for (const a of arms) {
    if (a.status === 'failed') {
      out.push({ name: `arm ${a.name}`, ok: false, message: `arm ${a.name} failed: ${a.error ?? 'unknown error'}` });
      continue;
    }
    const rate = a.n ? a.errors / a.n : 0;
    out.push({
      name: `maxErrorRate ${a.name}`,
      ok: rate <= maxErr,
      message: `arm ${a.name}: ${a.errors} of ${a.n} calls failed (${(rate * 100).toFixed(1)}%, threshold ${(maxErr * 100).toFixed(1)}%)`,
    });
  }
  const mm = cfg?.minMetric;
  const mins = mm === undefined ? [] : typeof mm === 'number' ? [{ value: mm }] : Array.isArray(mm) ? mm : [mm];
  for (const m of mins) {
    const targets = m.arm ? arms.filter((a) => a.name === m.arm) : arms;
    for (const a of targets) {
      const v = a.metric.value;
      out.push({
        name: `minMetric ${a.name}`,
        ok: Number.isFinite(v) && v >= m.value,
        message: `arm ${a.name}: ${a.metric.name} ${Number.isFinite(v) ? v.toFixed(4) : 'n/a'} ${v >= m.value ? '>=' : '<'} ${m.value}`,
      });
    }
  }
  if (cfg?.minDiff) {
    const c = report.comparisons.find((x) => x.arm === cfg.minDiff!.arm);
    out.push({
      name: `minDiff ${cfg.minDiff.arm}`,
      ok: Boolean(c && c.diff >= cfg.minDiff.value),
      message: c
        ? `arm ${c.arm} vs ${c.baseline}: difference ${c.diff.toFixed(4)} ${c.diff >= cfg.minDiff.value ? '>=' : '<'} ${cfg.minDiff.value}`
        : `arm ${cfg.minDiff.arm}: no comparison with the baseline`,
    });
  }
  return out;
}
