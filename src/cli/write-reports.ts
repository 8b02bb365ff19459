import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { render } from '../report/index.ts';
import type { RunReport } from '../report/types.ts';

/** Writes report.json, report.md and report.html into the run's folder; returns the paths by format. */
export function writeRunReports(runDir: string, report: RunReport): Record<'json' | 'md' | 'html', string> {
  mkdirSync(runDir, { recursive: true });
  const files = {} as Record<'json' | 'md' | 'html', string>;
  for (const fmt of ['json', 'md', 'html'] as const) {
    files[fmt] = join(runDir, `report.${fmt}`);
    writeFileSync(files[fmt], render(report, fmt));
  }
  return files;
}
