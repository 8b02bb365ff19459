// Markdown report (GitHub-flavoured tables).
import type { ArmReport, RunReport } from './types.ts';
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
  fmtMs,
  fmtNum,
  fmtP,
  fmtSeconds,
  fmtSpent,
  fmtUsd,
  inlineValue,
  oneLine,
  runDuration,
  shortHash,
  shortModel,
  verdict,
} from './format.ts';
import { EXAMPLES_SHOWN, inputText, notableExamples } from './evidence.ts';
import { decisionMarkdown } from './decision.ts';

/** Escape a user string for a Markdown table cell or line: no pipes, no raw HTML, no line breaks. */
export function mdEscape(s: string): string {
  return oneLine(String(s), 300)
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([`*_[\]])/g, '\\$1');
}

function mdTable(head: string[], rows: string[][], right: number[] = []): string {
  const align = head.map((_, i) => (right.includes(i) ? '---:' : '---'));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(align), ...rows.map(line)].join('\n');
}

function kvRows(obj: Record<string, unknown>): string[][] {
  return Object.keys(obj).map((k) => [mdEscape(k), mdEscape(inlineValue(obj[k]))]);
}

function armDetails(a: ArmReport): string[] {
  const out: string[] = [];
  out.push(`### ${mdEscape(a.name)}`, '');
  const rows: string[][] = [
    ['kind', mdEscape(a.kind)],
    ['model', mdEscape(a.modelId)],
    ['prompt', `\`${shortHash(a.promptHash)}\` (content hash)`],
    ['status', mdEscape(a.status)],
  ];
  if (a.error) rows.push(['error', mdEscape(a.error)]);
  rows.push(
    ['tokens in / out (total)', `${fmtInt(a.tokens.input)} / ${fmtInt(a.tokens.output)}`],
    ['latency mean', fmtMs(a.latencyMs.mean)],
    ['engineering cost', fmtSpent(a.spent)],
  );
  if (a.spent.tokensIn || a.spent.tokensOut)
    rows.push(['engineering tokens in / out', `${fmtInt(a.spent.tokensIn)} / ${fmtInt(a.spent.tokensOut)}`]);
  if (a.training) {
    rows.push(
      ['training time', fmtSeconds(a.training.seconds)],
      ['training cost', fmtUsd(a.training.costUsd)],
      ['trained model', mdEscape(a.training.modelId)],
    );
    for (const [k, v] of kvRows(a.training.details ?? {})) rows.push([`training: ${k}`, v]);
  }
  out.push(mdTable(['field', 'value'], rows), '');
  if (a.notes && Object.keys(a.notes).length) {
    out.push('Notes:', '', mdTable(['key', 'value'], kvRows(a.notes)), '');
  }
  const pc = a.metric.perClass;
  if (pc && Object.keys(pc).length) {
    out.push(
      mdTable(
        ['class', 'precision', 'recall', 'F1', 'support'],
        Object.keys(pc).map((k) => [mdEscape(k), fmtNum(pc[k].precision), fmtNum(pc[k].recall), fmtNum(pc[k].f1), fmtInt(pc[k].support)]),
        [1, 2, 3, 4],
      ),
      '',
    );
  }
  const cm = a.metric.confusion;
  if (cm && cm.labels.length) {
    out.push(
      'Confusion matrix (rows: expected, columns: predicted):',
      '',
      mdTable(
        ['expected \\ predicted', ...cm.labels.map(mdEscape)],
        cm.labels.map((l, i) => [mdEscape(l), ...cm.labels.map((_, j) => fmtInt(cm.matrix[i]?.[j] ?? 0))]),
        cm.labels.map((_, j) => j + 1),
      ),
      '',
    );
  }
  return out;
}

export function renderMarkdown(report: RunReport): string {
  const out: string[] = [];
  const t = report.task;
  const baseline = baselineOf(report);
  out.push(`# tunelab report: ${mdEscape(report.experiment)}`, '');
  out.push(
    `Run \`${oneLine(report.runId).replace(/`/g, "'")}\` · seed ${report.seed} · started ${mdEscape(report.createdAt)}` +
      (report.finishedAt ? ` · finished ${mdEscape(report.finishedAt)}` : '') +
      (runDuration(report) ? ` · took ${runDuration(report)}` : ''),
    '',
  );
  out.push(
    `Task: ${mdEscape(t.data)} · metric **${mdEscape(t.metric)}** · train ${fmtInt(t.sizes.train)} / dev ${fmtInt(t.sizes.dev)} / test ${fmtInt(t.sizes.test)}`,
    '',
  );

  const decision = decisionMarkdown(report);
  if (decision) out.push(decision, '');

  const warnings = allWarnings(report);
  if (warnings.length) {
    out.push('> **Warnings**', '>');
    for (const w of warnings) out.push(`> - ${mdEscape(w)}`);
    out.push('');
  }

  const extras = extraMetricNames(report);
  out.push('## Quality', '');
  out.push(
    mdTable(
      ['arm', 'kind', 'model', `${mdEscape(t.metric)} (95% CI)`, ...extras.map((e) => `${mdEscape(e)} (95% CI)`), 'n', 'errors', 'status'],
      report.arms.map((a) => [
        mdEscape(a.name) + (a.name === baseline ? ' (baseline)' : ''),
        mdEscape(a.kind),
        mdEscape(shortModel(a)),
        fmtMetric(a.metric.value, a.metric.ci),
        ...extras.map((name) => {
          const m = extraMetric(a, name);
          return m ? fmtMetric(m.value, m.ci) : '-';
        }),
        fmtInt(a.n),
        fmtInt(a.errors),
        mdEscape(a.status),
      ]),
      [4 + extras.length, 5 + extras.length],
    ),
    '',
  );

  out.push('## Cost and speed', '');
  out.push(
    mdTable(
      ['arm', 'cost / 1k requests', 'latency p50', 'latency p95', 'tokens in / out (mean)', 'engineering cost', 'training'],
      report.arms.map((a) => [mdEscape(a.name), ...costCells(a)]),
      [1, 2, 3, 4],
    ),
    '',
  );

  if (report.comparisons.length) {
    out.push(`## Paired differences${baseline ? ` against ${mdEscape(baseline)}` : ''}`, '');
    out.push(
      mdTable(
        ['arm', 'vs', 'diff', '95% CI', 'p-value', 'n', 'discordant (arm / baseline)', 'verdict'],
        report.comparisons.map((c) => [
          mdEscape(c.arm),
          mdEscape(c.baseline),
          fmtDiff(c.diff),
          fmtInterval(c.ci, 3, true),
          fmtP(c.pValue),
          fmtInt(c.n),
          fmtDiscordant(c),
          verdict(c),
        ]),
        [2, 4, 5],
      ),
      '',
      'p-value: exact McNemar test on the examples both arms scored; CI: paired bootstrap of the difference. A verdict needs p < 0.05 and an interval that excludes 0.',
      '',
    );
  }

  out.push(...examplesSection(report));
  out.push('## Arms', '');
  for (const a of report.arms) out.push(...armDetails(a));
  out.push(...promptsSection(report));
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}

function examplesSection(report: RunReport): string[] {
  if (!report.evidence?.examples.length) return [];
  const { shown, total, best } = notableExamples(report, EXAMPLES_SHOWN);
  const all = report.evidence.examples.length;
  const out = ['## Examples', ''];
  if (!total) return [...out, `All ${fmtInt(all)} test examples: every arm agrees${best ? ` and ${mdEscape(best)} is right` : ''}.`, ''];
  out.push(
    `Examples where the arms disagree or ${best ? `the best arm (${mdEscape(best)})` : 'the best arm'} is wrong: showing ${fmtInt(shown.length)} of ${fmtInt(total)} (of ${fmtInt(all)} test examples; report.json has every example). ✓ right, ✗ wrong.`,
    '',
  );
  const arms = report.arms.map((a) => a.name);
  out.push(
    mdTable(
      ['example', 'input', 'expected', ...arms.map(mdEscape)],
      shown.map((ex) => [
        mdEscape(ex.source ? `${ex.source.file}:${ex.source.line}` : ex.id),
        mdEscape(oneLine(inputText(ex.input), 120)),
        mdEscape(ex.expected),
        ...arms.map((a) => {
          const o = ex.arms[a];
          return o ? `${o.pass ? '✓' : '✗'} ${mdEscape(oneLine(o.error ? `error: ${o.error}` : (o.extracted ?? o.output), 60))}` : '-';
        }),
      ]),
    ),
    '',
  );
  return out;
}

function fence(text: string): string {
  const ticks = '`'.repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return `${ticks}\n${text}\n${ticks}`;
}

function promptsSection(report: RunReport): string[] {
  const prompts = report.evidence?.prompts.filter((p) => p.messages?.length) ?? [];
  if (!prompts.length) return [];
  const out = ['## Prompts', '', 'The messages each arm sent for one test example (the same example for every arm where it could).', ''];
  for (const p of prompts) {
    out.push(`### ${mdEscape(p.arm)}${p.exampleId ? ` · example ${mdEscape(p.exampleId)}` : ''}`, '');
    for (const m of p.messages ?? []) out.push(`**${mdEscape(m.role)}**`, '', fence(m.content), '');
  }
  return out;
}
