// JSON report: the RunReport itself, pretty-printed with keys in a stable (sorted) order so two
// renders of the same run are byte-identical and diffs between runs stay readable.
import { canonicalJson } from '../core/index.ts';
import type { RunReport } from './types.ts';

export function renderJson(report: RunReport): string {
  return `${canonicalJson(report, 2)}\n`;
}
