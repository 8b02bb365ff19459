// Terminal report: one table for quality, one for cost and speed, one for paired differences.
import Table from 'cli-table3';
import type { RunReport } from './types.ts';
import {
  allWarnings,
  baselineOf,
  costCells,
  extraMetric,
  extraMetricNames,
  fmtDiff,
  fmtDiscordant,
  fmtInt,
  fmtInterval,
  fmtMetric,
  fmtP,
  oneLine,
  verdict,
} from './format.ts';

export interface TableOptions {
  /** ANSI colours for headers and verdicts (the CLI passes stdout.isTTY). Default false. */
  color?: boolean;
}

const ansi = (code: string, on: boolean) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

function table(head: string[], color: boolean, rightAlign: number[] = []): Table.Table {
  const t = new Table({
    head: head.map((h) => ansi('1', color)(h)),
    style: { head: [], border: [], compact: true },
    colAligns: head.map((_, i) => (rightAlign.includes(i) ? 'right' : 'left')),
    wordWrap: false,
  });
  return t;
}

export function renderTable(report: RunReport, options: TableOptions = {}): string {
  const color = options.color ?? false;
  const bold = ansi('1', color);
  const dim = ansi('2', color);
  const green = ansi('32', color);
  const red = ansi('31', color);
  const yellow = ansi('33', color);
  const s = (x: string) => oneLine(x, 80);
  const out: string[] = [];

  const t = report.task;
  out.push(
    `${bold(`Run ${s(report.runId)}`)}  ${dim(`experiment ${s(report.experiment)} · seed ${report.seed} · ${s(report.createdAt)}`)}`,
  );
  out.push(
    dim(
      `task: ${s(t.data)} · metric ${s(t.metric)} · train ${fmtInt(t.sizes.train)} / dev ${fmtInt(t.sizes.dev)} / test ${fmtInt(t.sizes.test)}`,
    ),
  );
  out.push('');

  const baseline = baselineOf(report);
  const extras = extraMetricNames(report);
  const q = table(
    ['arm', 'kind', 'model', `${s(t.metric)} (95% CI)`, ...extras.map((e) => `${s(e)} (95% CI)`), 'n', 'errors', 'status'],
    color,
    [4 + extras.length, 5 + extras.length],
  );
  for (const a of report.arms) {
    const extraCells = extras.map((name) => {
      const m = extraMetric(a, name);
      return m ? fmtMetric(m.value, m.ci) : '-';
    });
    const status = a.status === 'done' ? a.status : a.status === 'failed' ? red(a.status) : yellow(a.status);
    q.push([
      s(a.name) + (a.name === baseline ? dim(' (baseline)') : ''),
      s(a.kind),
      s(a.modelId),
      fmtMetric(a.metric.value, a.metric.ci),
      ...extraCells,
      fmtInt(a.n),
      a.errors > 0 ? yellow(fmtInt(a.errors)) : fmtInt(a.errors),
      status,
    ]);
  }
  out.push(bold('Quality'), q.toString(), '');

  const c = table(
    ['arm', 'cost / 1k req', 'latency p50', 'latency p95', 'tokens in/out (mean)', 'engineering cost', 'training'],
    color,
    [1, 2, 3, 4],
  );
  for (const a of report.arms) {
    c.push([s(a.name), ...costCells(a)]);
  }
  out.push(bold('Cost and speed'), c.toString(), '');

  if (report.comparisons.length) {
    const p = table(['arm', 'vs', 'diff', '95% CI', 'p-value', 'n', 'discordant (arm/base)', 'verdict'], color, [2, 4, 5]);
    for (const cmp of report.comparisons) {
      const v = verdict(cmp);
      p.push([
        s(cmp.arm),
        s(cmp.baseline),
        fmtDiff(cmp.diff),
        fmtInterval(cmp.ci, 3, true),
        fmtP(cmp.pValue),
        fmtInt(cmp.n),
        fmtDiscordant(cmp),
        v === 'better' ? green(v) : v === 'worse' ? red(v) : dim(v),
      ]);
    }
    out.push(bold(`Paired differences${baseline ? ` against ${s(baseline)}` : ''}`), p.toString());
    out.push(dim('p-value: exact McNemar test; CI: paired bootstrap; verdict needs p < 0.05 and a CI that excludes 0.'), '');
  }

  const warnings = allWarnings(report);
  if (warnings.length) {
    out.push(yellow(bold('Warnings')));
    for (const w of warnings) out.push(yellow(`  ! ${oneLine(w, 400)}`));
    out.push('');
  }
  return out.join('\n');
}
