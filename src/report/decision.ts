// The "Recommendation" section (src/decide's DecisionReport) as terminal text and Markdown. Each renderer calls
// these first, so the answer comes before the tables; '' when the report carries no decision.
import { fmtCi, fmtCount, fmtDiff, fmtMetric, fmtMs, fmtP, fmtUsd } from '../decide/format.ts';
import type { DecisionReport } from '../decide/types.ts';
import type { RunReport } from './types.ts';

type Scored = DecisionReport['arms'][number];

function settingsLine(d: DecisionReport): string {
  const s = d.settings;
  const parts = [`${fmtCount(s.requestsPerMonth)} requests/month over ${s.horizonMonths} months`];
  if (s.minMetric !== undefined) parts.push(`minimum ${d.metric} ${s.minMetric}`);
  if (s.maxP95LatencyMs !== undefined) parts.push(`p95 latency ≤ ${fmtMs(s.maxP95LatencyMs)}`);
  if (s.budget?.oneOffUsd !== undefined) parts.push(`one-off budget ${fmtUsd(s.budget.oneOffUsd)}`);
  if (s.budget?.monthlyUsd !== undefined) parts.push(`monthly budget ${fmtUsd(s.budget.monthlyUsd)}`);
  if (s.engineer) parts.push(`engineer time at ${fmtUsd(s.engineer.ratePerHour)}/hour`);
  parts.push(`local compute ${fmtUsd(s.computePerHour)}/CPU-hour`);
  parts.push(`ties at Holm-adjusted p ≥ ${s.alpha}`);
  return parts.join('; ');
}

const BASIS: Record<string, string> = {
  tokens: 'tokens × price',
  cpu: 'calibrated compute × $/h',
  wall: 'wall time × $/h (estimate)',
  none: '—',
};

export interface DecisionRow {
  arm: string;
  kind: string;
  metric: string;
  vsMajority: string;
  vsBest: string;
  p95: string;
  perRequest: string;
  oneOff: string;
  total: string;
  meets: string;
  flags: string[];
}

/** One row per arm: quality, comparisons (Holm p), latency, costs, whether it meets the requirements, flags. */
export function decisionRows(d: DecisionReport): DecisionRow[] {
  const cmp = (arm: string, fam: string) => d.comparisons.find((c) => c.arm === arm && c.family === fam);
  const order = [...d.arms].sort((a, b) => b.metric.value - a.metric.value);
  return order.map((a: Scored) => {
    const vm = cmp(a.name, 'majority');
    const vb = cmp(a.name, 'best');
    const diag = d.diagnostics.find((x) => x.arm === a.name);
    return {
      arm: a.name + (a.name === d.recommendation.arm ? ' ◀' : ''),
      kind: a.role === 'arm' ? a.kind : `${a.kind} (baseline)`,
      metric: `${fmtMetric(a.metric.value)} ${fmtCi(a.metric.ci)}`,
      vsMajority: vm ? `${fmtDiff(vm.diff)} (p ${fmtP(vm.pHolm)})` : a.role === 'majority' ? '—' : '',
      vsBest:
        a.name === d.best ? 'best' : vb ? `${fmtDiff(vb.diff)} (p ${fmtP(vb.pHolm)})${d.tiedWithBest.includes(a.name) ? ' tied' : ''}` : '',
      p95: fmtMs(a.p95LatencyMs),
      perRequest: `${fmtUsd(a.cost.perRequestUsd)} (${BASIS[a.cost.basis]})`,
      oneOff: fmtUsd(a.cost.oneOff.totalUsd),
      total: fmtUsd(a.totalUsd),
      meets: a.role === 'majority' || !a.candidate ? '' : a.meets ? 'yes' : 'no',
      flags: [...(diag?.flags ?? []), ...(a.meets || a.role === 'majority' || !a.candidate ? [] : a.failures)],
    };
  });
}

function distributionLine(d: DecisionReport, arm: string): string {
  const g = d.diagnostics.find((x) => x.arm === arm);
  if (!g) return '';
  const n = Object.values(g.distribution).reduce((x, y) => x + y, 0);
  return Object.entries(g.distribution)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 8)
    .map(([k, v]) => `${k} ${((v / n) * 100).toFixed(0)}%`)
    .join(', ');
}

function wrap(text: string, width: number, indent: string): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

function pad(s: string, n: number): string {
  const len = [...s].length;
  return len >= n ? s : s + ' '.repeat(n - len);
}

/** Terminal text: the recommendation first, then the arms beside the baselines, break-even, curves, consistency. */
export function decisionTable(report: RunReport, opts: { color?: boolean } = {}): string {
  const d = report.decision;
  if (!d) return '';
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const out: string[] = [bold('Recommendation'), ''];
  for (const s of d.recommendation.sentences) out.push(wrap(s, 96, '  '));
  out.push('', wrap(`Assumptions: ${settingsLine(d)}.`, 96, '  '));
  if (d.metricNote) out.push(wrap(`Metric: ${d.metricNote}`, 96, '  '));
  out.push('');
  const rows = decisionRows(d);
  // compact columns so the section fits 100 columns; the Markdown / HTML / JSON reports carry the full table
  const short = (x: number) => (Number.isFinite(x) ? x.toFixed(3).replace(/^(-?)0\./, '$1.') : 'n/a');
  const cmpBest = (name: string) => {
    if (name === d.best) return 'best';
    const c = d.comparisons.find((x) => x.arm === name && x.family === 'best');
    return c ? `${c.diff >= 0 ? '+' : ''}${c.diff.toFixed(2)} p=${short(c.pHolm)}${d.tiedWithBest.includes(name) ? ' tie' : ''}` : '';
  };
  const money = (x: number) => (x > 0 && x < 0.01 ? `$${x.toExponential(1)}` : fmtUsd(x));
  const head = ['arm', `${d.metric} [95% CI]`, 'vs best', 'p95', '$/request', 'one-off', `${d.settings.horizonMonths} months`, 'ok'];
  const cells = [...d.arms]
    .sort((a, b) => b.metric.value - a.metric.value)
    .map((a) => [
      (a.name === d.recommendation.arm ? '▶ ' : '') +
        (a.name.length > 16 ? a.name.slice(0, 15) + '…' : a.name) +
        (a.role !== 'arm' ? '*' : ''),
      `${a.metric.value.toFixed(3)} [${short(a.metric.ci[0])},${short(a.metric.ci[1])}]`,
      cmpBest(a.name),
      fmtMs(a.p95LatencyMs).replace(' ms', 'ms'),
      money(a.cost.perRequestUsd),
      money(a.cost.oneOff.totalUsd),
      money(a.totalUsd),
      a.role === 'majority' || !a.candidate ? '' : a.meets ? 'yes' : 'no',
    ]);
  const widths = head.map((h, i) => Math.max([...h].length, ...cells.map((c) => [...c[i]].length)));
  out.push(
    '  ' +
      head
        .map((h, i) => pad(h, widths[i]))
        .join('  ')
        .trimEnd(),
  );
  for (const c of cells) out.push(('  ' + c.map((x, i) => pad(x, widths[i])).join('  ')).trimEnd());
  const bases = [...new Set(d.arms.map((a) => a.cost.basis))].map((b) => BASIS[b]).join('; ');
  out.push(
    wrap(
      `* baseline. vs best: difference, Holm-adjusted p (tie: p ≥ ${d.settings.alpha}). Cost per request from ${bases}; total = one-off + ${d.settings.horizonMonths} × monthly at ${fmtCount(d.settings.requestsPerMonth)} requests/month.`,
      96,
      '  ',
    ),
  );
  const flagged = rows.filter((r) => r.flags.length);
  if (flagged.length) {
    out.push('', bold('Flags'));
    for (const r of flagged) for (const f of r.flags) out.push(wrap(`${r.arm.replace(' ◀', '')}: ${f}`, 96, '  '));
  }
  const dists = d.diagnostics.filter((g) => Object.keys(g.distribution).length);
  if (dists.length && dists.some((g) => (g.topShare ?? 0) < 1 || Object.keys(g.distribution).length < 20)) {
    out.push('', bold('Answers per label'));
    for (const g of dists) out.push(`  ${g.arm}: ${distributionLine(d, g.arm)}`);
  }
  if (d.breakEven.length) {
    out.push('', bold('Break-even'));
    for (const b of d.breakEven) out.push(wrap(b.sentence, 96, '  '));
  }
  for (const c of d.curves) {
    out.push('', bold(`Learning curve: ${c.arm} (${c.axis === 'train' ? 'training examples' : 'shots'})`));
    for (const p of c.points)
      out.push(
        `  ${pad(String(p.x), 6)} ${fmtMetric(p.value)} ${fmtCi(p.ci)}${p.diff !== undefined ? `  vs ${c.crossover?.against ?? 'best prompt'} ${fmtDiff(p.diff)} ${fmtCi(p.diffCi!)}` : ''}`,
      );
    if (c.crossover) out.push(wrap(c.crossover.sentence, 96, '  '));
  }
  if (d.consistency.length) {
    out.push('', bold('Consistency across repeats'));
    for (const c of d.consistency) out.push(wrap(c.sentence, 96, '  '));
  }
  for (const w of d.warnings) out.push(wrap(`warning: ${w}`, 96, '  '));
  return out.join('\n') + '\n\n';
}

function md(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Markdown: "## Recommendation" and its tables. */
export function decisionMarkdown(report: RunReport): string {
  const d = report.decision;
  if (!d) return '';
  const out: string[] = ['## Recommendation', ''];
  for (const s of d.recommendation.sentences) out.push(`- ${md(s)}`);
  out.push('', `Assumptions: ${md(settingsLine(d))}.`);
  if (d.metricNote) out.push('', `Metric: ${md(d.metricNote)}`);
  out.push('', `### Arms beside the baselines`, '');
  const rows = decisionRows(d);
  out.push(
    `| arm | kind | ${d.metric} [95% CI] | vs majority (Holm p) | vs best (Holm p) | p95 latency | per request | one-off | total over ${d.settings.horizonMonths} months | meets requirements | answers per label |`,
  );
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|');
  for (const r of rows)
    out.push(
      `| ${md(r.arm)} | ${md(r.kind)} | ${r.metric} | ${r.vsMajority} | ${r.vsBest} | ${r.p95} | ${md(r.perRequest)} | ${r.oneOff} | ${r.total} | ${r.meets} | ${md(distributionLine(d, r.arm.replace(' ◀', '')))} |`,
    );
  const flagged = rows.filter((r) => r.flags.length);
  if (flagged.length) {
    out.push('', '### Flags', '');
    for (const r of flagged) for (const f of r.flags) out.push(`- **${md(r.arm.replace(' ◀', ''))}**: ${md(f)}`);
  }
  if (d.comparisons.length) {
    out.push('', '### Comparisons (task metric; Holm-adjusted within each family, raw p beside)', '');
    out.push('| arm | against | family | difference [95% CI] | p | Holm p | test | n |', '|---|---|---|---:|---:|---:|---|---:|');
    for (const c of d.comparisons)
      out.push(
        `| ${md(c.arm)} | ${md(c.against)} | ${c.family} | ${fmtDiff(c.diff)} ${fmtCi(c.ci)} | ${fmtP(c.p)} | ${fmtP(c.pHolm)} | ${c.test} | ${c.n} |`,
      );
  }
  if (d.breakEven.length) {
    out.push('', '### Break-even', '');
    for (const b of d.breakEven) out.push(`- ${md(b.sentence)}`);
  }
  for (const c of d.curves) {
    out.push(
      '',
      `### Learning curve: ${md(c.arm)}`,
      '',
      `| ${c.axis === 'train' ? 'training examples' : 'shots'} | arm | ${d.metric} [95% CI] | vs best prompt [95% CI] |`,
      '|---:|---|---:|---:|',
    );
    for (const p of c.points)
      out.push(
        `| ${p.x} | ${md(p.arm)} | ${fmtMetric(p.value)} ${fmtCi(p.ci)} | ${p.diff !== undefined ? `${fmtDiff(p.diff)} ${fmtCi(p.diffCi!)}` : ''} |`,
      );
    if (c.crossover) out.push('', md(c.crossover.sentence));
  }
  if (d.consistency.length) {
    out.push('', '### Consistency across repeats', '');
    for (const c of d.consistency) out.push(`- ${md(c.sentence)}`);
  }
  if (d.warnings.length) {
    out.push('');
    for (const w of d.warnings) out.push(`> warning: ${md(w)}`);
  }
  return out.join('\n') + '\n\n';
}
