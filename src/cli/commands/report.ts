// `tunelab report <run|latest>`: re-render a stored run in any format, with every example's outcome.
import { writeFileSync } from 'node:fs';
import { render, type ReportFormat } from '../../report/index.ts';
import { InputError } from '../../core/index.ts';
import { openForReading, reportWithEvidence } from '../../view/data.ts';
import { locateStore } from '../store-path.ts';

export default async function report(runArg: string, opts: { format: ReportFormat; out?: string; config?: string; store?: string }): Promise<number> {
  const path = await locateStore(opts);
  const store = openForReading(path);
  try {
    let run = runArg === 'latest' ? store.latestRun() : store.getRun(runArg);
    if (!run && runArg !== 'latest') {
      const matches = store.listRuns().filter((r) => r.id.startsWith(runArg) || r.id.endsWith(runArg));
      if (matches.length === 1) run = matches[0];
      else if (matches.length > 1) throw new InputError('run', `'${runArg}' matches ${matches.length} runs: ${matches.map((r) => r.id).join(', ')}`);
    }
    if (!run) throw new InputError('run', runArg === 'latest' ? `the store ${path} holds no runs` : `no run '${runArg}' in ${path} (see \`npx tunelab runs\`)`);
    const text = render(reportWithEvidence(store, run.id), opts.format, { color: !opts.out && Boolean(process.stdout.isTTY) });
    if (opts.out) writeFileSync(opts.out, text);
    else process.stdout.write(text);
    return 0;
  } finally {
    store.close();
  }
}
