import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { render } from '../report/index.ts';
import type { RunReport } from '../report/types.ts';
import { rememberStore } from './store-path.ts';
import { envNumber } from '../core/index.ts';
import { openForReading, reportWithEvidence } from '../view/data.ts';

/** Stored results above which report files hold no per-example evidence (TUNELAB_EVIDENCE_MAX overrides). */
const EVIDENCE_MAX = 50_000;

/** The report with its per-example evidence read from the store (the report as given when it cannot be read). */
export function withEvidence(report: RunReport, storePath: string): RunReport {
  if (report.evidence || !existsSync(storePath)) return report;
  // a big run's evidence would be most of the memory and a report file of hundreds of MB: left in the store
  const results = report.arms.reduce((s, a) => s + a.n, 0);
  const max = envNumber('TUNELAB_EVIDENCE_MAX', EVIDENCE_MAX);
  if (results > max)
    return {
      ...report,
      warnings: [
        ...report.warnings,
        `per-example evidence left out of the report files: ${results} results, more than ${max} (TUNELAB_EVIDENCE_MAX); the store holds every result (tunelab view)`,
      ],
    };
  try {
    const s = openForReading(storePath);
    try {
      return { ...report, evidence: reportWithEvidence(s, report.runId).evidence };
    } finally {
      s.close();
    }
  } catch {
    return report;
  }
}

/**
 * Writes report.json, report.md and report.html into the run's folder (with every example's outcome,
 * read from the store); returns the paths by format. The store defaults to <output>/tunelab.db, two
 * folders above <output>/runs/<id>.
 */
export function writeRunReports(runDir: string, report: RunReport, opts: { store?: string } = {}): Record<'json' | 'md' | 'html', string> {
  const storePath = opts.store ?? resolve(runDir, '..', '..', 'tunelab.db');
  const full = withEvidence(report, storePath);
  mkdirSync(runDir, { recursive: true });
  const files = {} as Record<'json' | 'md' | 'html', string>;
  for (const fmt of ['json', 'md', 'html'] as const) {
    files[fmt] = join(runDir, `report.${fmt}`);
    writeFileSync(files[fmt], render(full, fmt));
  }
  if (existsSync(storePath)) rememberStore(storePath);
  return files;
}
