// JSON report: the RunReport itself, pretty-printed with keys in a stable (sorted) order so two
// renders of the same run are byte-identical and diffs between runs stay readable.
import type { RunReport } from './types.ts';

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object' && (v as object).constructor === Object) {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) if (o[k] !== undefined) out[k] = sortKeys(o[k]);
    return out;
  }
  return v;
}

export function renderJson(report: RunReport): string {
  return `${JSON.stringify(sortKeys(report), null, 2)}\n`;
}
