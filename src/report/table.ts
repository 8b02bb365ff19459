// Terminal report: one table for quality, one for cost and speed, one for paired differences, then the
// examples where arms disagree. Every line fits `width` columns (default 100): long names are cut in
// the middle, fine-tuned models show as `lora@3d0fdd` (full ids are in the Markdown/HTML/JSON reports).
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
  middleEllipsis,
  oneLine,
  runDuration,
  shortModel,
  verdict,
  wrapText,
} from './format.ts';
import { inputText, notableExamples } from './evidence.ts';
import { decisionTable } from './decision.ts';

export interface TableOptions {
  /** ANSI colours for headers and verdicts (the CLI passes stdout.isTTY). Default false. */
  color?: boolean;
  /** the widest a line may be (default 100) */
  width?: number;
  /** how many disagreeing / failing examples to list (default 5; 0 for none) */
  examples?: number;
}

const ansi = (code: string, on: boolean) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

type Paint = (row: number, col: number, text: string) => string;

/**
 * A table that fits `max` columns: the widest of the `shrink` columns loses a character at a time
 * (never below 6) until the table fits; cut cells end in "…". Colours are applied after cutting.
 */
export function fittedTable(
  head: string[],
  rows: string[][],
  opts: {
    max: number;
    shrink: number[];
    right?: number[];
    paint?: Paint;
    bold?: (s: string) => string;
    /** columns cut at the end (default: in the middle) */ cutEnd?: number[];
  },
): string {
  const clean = (x: string) => oneLine(x, 400);
  rows = rows.map((r) => r.map((c) => clean(c ?? '')));
  head = head.map(clean);
  const n = head.length;
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const total = () => widths.reduce((s, w) => s + w + 2, 0) + n + 1;
  while (total() > opts.max) {
    let pick = -1;
    for (const j of opts.shrink) if (widths[j] > 6 && (pick < 0 || widths[j] > widths[pick])) pick = j;
    if (pick < 0) break;
    widths[pick]--;
  }
  const cut = (s: string, j: number) =>
    opts.cutEnd?.includes(j) ? (s.length > widths[j] ? `${s.slice(0, widths[j] - 1)}…` : s) : middleEllipsis(s, widths[j]);
  const t = new Table({
    head: head.map((h, j) => (opts.bold ?? ((x: string) => x))(cut(h, j))),
    style: { head: [], border: [], compact: true },
    colAligns: head.map((_, j) => (opts.right?.includes(j) ? 'right' : 'left')),
    wordWrap: false,
  });
  rows.forEach((r, i) => t.push(r.map((c, j) => (opts.paint ? opts.paint(i, j, cut(c ?? '', j)) : cut(c ?? '', j)))));
  return t.toString();
}

export function renderTable(report: RunReport, options: TableOptions = {}): string {
  const color = options.color ?? false;
  const width = options.width ?? 100;
  const bold = ansi('1', color);
  const dim = ansi('2', color);
  const green = ansi('32', color);
  const red = ansi('31', color);
  const yellow = ansi('33', color);
  const s = (x: string) => oneLine(x, 80);
  const clip = (x: string) => middleEllipsis(oneLine(x, 400), width);
  const out: string[] = [];

  const t = report.task;
  const took = runDuration(report);
  out.push(bold(clip(`Run ${report.runId} · ${report.experiment}`)));
  out.push(
    dim(clip(`seed ${report.seed} · started ${report.createdAt}${took ? ` · took ${took}` : report.finishedAt ? '' : ' · not finished'}`)),
  );
  out.push(
    dim(
      clip(
        `task: ${t.data} · metric ${t.metric} · train ${fmtInt(t.sizes.train)} / dev ${fmtInt(t.sizes.dev)} / test ${fmtInt(t.sizes.test)}`,
      ),
    ),
  );
  out.push('');
  const decision = decisionTable(report, { color });
  if (decision) out.push(decision);

  const baseline = baselineOf(report);
  const extras = extraMetricNames(report);
  const status = (st: string) => (st === 'done' ? st : st === 'failed' ? red(st) : yellow(st));

  // Quality: arm, kind, model, metric, extra metrics, n, errors, status. When that is too wide the kind
  // column goes (the arm details say it), then the extra metrics move to a table of their own.
  const metricCells = (a: RunReport['arms'][number]) =>
    extras.map((name) => {
      const m = extraMetric(a, name);
      return m ? fmtMetric(m.value, m.ci) : '-';
    });
  const armCell = (name: string) => name + (name === baseline ? ' (baseline)' : '');
  const wide = (head: string[], rows: string[][]) =>
    head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length))).reduce((a, b) => a + b + 3, 1);
  const build = (withKind: boolean, withExtras: boolean) => {
    const head = [
      'arm',
      ...(withKind ? ['kind'] : []),
      'model',
      `${s(t.metric)} (95% CI)`,
      ...(withExtras ? extras.map((e) => `${s(e)} (95% CI)`) : []),
      'n',
      'errors',
      'status',
    ];
    const rows = report.arms.map((a) => [
      armCell(a.name),
      ...(withKind ? [a.kind] : []),
      shortModel(a),
      fmtMetric(a.metric.value, a.metric.ci),
      ...(withExtras ? metricCells(a) : []),
      fmtInt(a.n),
      fmtInt(a.errors),
      a.status,
    ]);
    return { head, rows };
  };
  let q = build(true, true);
  let splitExtras = false;
  if (wide(q.head, q.rows) > width) q = build(false, true);
  if (wide(q.head, q.rows) > width && extras.length) {
    q = build(false, false);
    splitExtras = true;
  }
  const hasKind = q.head[1] === 'kind';
  const modelCol = hasKind ? 2 : 1;
  const statusCol = q.head.length - 1;
  const paintQ: Paint = (i, j, x) =>
    j === statusCol ? status(report.arms[i].status) : j === statusCol - 1 && report.arms[i].errors > 0 ? yellow(x) : x;
  let qTable = fittedTable(q.head, q.rows, {
    max: width,
    shrink: [modelCol, 0, ...(hasKind ? [1] : [])],
    right: [statusCol - 2, statusCol - 1],
    paint: paintQ,
    bold,
  });
  if (splitExtras) {
    const head = ['arm', ...extras.map((e) => `${s(e)} (95% CI)`)];
    qTable +=
      '\n' +
      fittedTable(
        head,
        report.arms.map((a) => [a.name, ...metricCells(a)]),
        { max: width, shrink: [0], bold },
      );
  }
  out.push(bold('Quality'), qTable, '');

  // Cost and speed; training gets its own table when the row would not fit.
  let cHead = ['arm', 'cost/1k', 'p50', 'p95', 'tokens in/out', 'engineering', 'training'];
  let cRows = report.arms.map((a) => [a.name, ...costCells(a)]);
  let training: string | undefined;
  if (wide(cHead, cRows) > width) {
    cHead = cHead.slice(0, -1);
    const trained = report.arms.filter((a) => a.training);
    cRows = cRows.map((r) => r.slice(0, -1));
    if (trained.length)
      training = fittedTable(
        ['arm', 'training (time, cost)'],
        trained.map((a) => [a.name, costCells(a)[5]]),
        { max: width, shrink: [0, 1], bold },
      );
  }
  out.push(
    bold('Cost and speed') + dim(' (cost per 1,000 requests; latency per request; mean tokens)'),
    fittedTable(cHead, cRows, { max: width, shrink: [0, 5, 6, 4], right: [1, 2, 3, 4], bold }),
    ...(training ? [training] : []),
    '',
  );

  if (report.comparisons.length) {
    const head = ['arm', 'diff', '95% CI', 'p-value', 'n', 'wins arm/base', 'verdict'];
    const rows = report.comparisons.map((c) => [
      c.arm,
      fmtDiff(c.diff),
      fmtInterval(c.ci, 3, true),
      fmtP(c.pValue),
      fmtInt(c.n),
      fmtDiscordant(c),
      verdict(c),
    ]);
    const paint: Paint = (i, j, x) => {
      if (j !== 6) return x;
      const v = verdict(report.comparisons[i]);
      return v === 'better' ? green(x) : v === 'worse' ? red(x) : dim(x);
    };
    out.push(
      bold(clip(`Paired differences${baseline ? ` against ${baseline}` : ''}`)),
      fittedTable(head, rows, { max: width, shrink: [0], right: [1, 3, 4, 5], paint, bold }),
    );
    for (const l of wrapText(
      'p-value: exact McNemar test; CI: paired bootstrap; a verdict needs p < 0.05 and a CI that excludes 0.',
      width,
    ))
      out.push(dim(l));
    out.push('');
  }

  const cap = options.examples ?? 5;
  if (cap > 0 && report.evidence?.examples.length) {
    const { shown, total, best } = notableExamples(report, cap);
    if (total) {
      out.push(bold(clip(`Examples where arms disagree or ${best ?? 'the best arm'} fails: ${fmtInt(shown.length)} of ${fmtInt(total)}`)));
      const armNames = report.arms.map((a) => a.name);
      const head = ['example', 'expected', ...armNames];
      const rows = shown.map((ex) => [
        oneLine(ex.source ? `line ${ex.source.line}` : ex.id, 30) + (ex.input !== undefined ? `: ${oneLine(inputText(ex.input), 60)}` : ''),
        oneLine(ex.expected, 30),
        ...armNames.map((a) => {
          const o = ex.arms[a];
          if (!o) return '-';
          return `${o.pass ? '✓' : '✗'} ${oneLine(o.error ? 'error' : (o.extracted ?? o.output), 30)}`;
        }),
      ]);
      const paint: Paint = (i, j, x) => (j < 2 ? x : x.startsWith('✓') ? green(x) : x.startsWith('✗') ? red(x) : x);
      out.push(fittedTable(head, rows, { max: width, shrink: head.map((_, j) => j), paint, bold, cutEnd: [0] }));
      out.push(dim(clip("All examples with every arm's output and messages: report.json, report.html, or `tunelab view`.")), '');
    }
  }

  const warnings = [...new Set(allWarnings(report))];
  if (warnings.length) {
    out.push(yellow(bold('Warnings')));
    for (const w of warnings) for (const l of wrapText(`! ${oneLine(w, 400)}`, width - 2, '    ')) out.push(yellow(`  ${l}`));
    out.push('');
  }
  return out.join('\n');
}
