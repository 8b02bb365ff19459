// `tunelab report <run|latest>`: re-render a stored run in any format, with every example's outcome.
import { writeFileSync } from 'node:fs';
import { render, type ReportFormat } from '../../report/index.ts';
import { openForReading, reportWithEvidence } from '../../view/data.ts';
import { findRun, locateStore } from '../store-path.ts';

export default async function report(
  runArg: string,
  opts: { format: ReportFormat; out?: string; config?: string; store?: string },
): Promise<number> {
  const path = await locateStore(opts);
  const store = openForReading(path);
  try {
    const run = findRun(store, runArg, path);
    const text = render(reportWithEvidence(store, run.id), opts.format, { color: !opts.out && Boolean(process.stdout.isTTY) });
    if (opts.out) writeFileSync(opts.out, text);
    else process.stdout.write(text);
    return 0;
  } finally {
    store.close();
  }
}
