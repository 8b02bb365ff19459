// The "Recommendation" section of the HTML report: sentences, the arms beside the baselines, and three inline SVG
// charts (no script): total cost against monthly volume with the break-even points, learning curves with their
// intervals, and quality against cost.
import { fmtCi, fmtCount, fmtMetric, fmtUsd } from '../decide/format.ts';
import type { DecisionReport } from '../decide/types.ts';
import { decisionRows } from './decision.ts';
import type { RunReport } from './types.ts';

const esc = (s: unknown) =>
  String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const W = 560;
const H = 300;
const M = { l: 64, r: 130, t: 16, b: 40 };

interface Axis {
  min: number;
  max: number;
  log: boolean;
}
function scale(a: Axis, lo: number, hi: number) {
  const f = (v: number) => (a.log ? Math.log10(Math.max(v, 1e-12)) : v);
  const a0 = f(a.min);
  const a1 = f(a.max);
  return (v: number) => lo + ((f(v) - a0) / (a1 - a0 || 1)) * (hi - lo);
}
function ticks(a: Axis, n = 5): number[] {
  if (a.log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(a.min)); e <= Math.ceil(Math.log10(a.max)); e++) {
      const v = 10 ** e;
      if (v >= a.min * 0.999 && v <= a.max * 1.001) out.push(v);
    }
    return out.length >= 2 ? out : [a.min, a.max];
  }
  const step = (a.max - a.min) / n;
  return Array.from({ length: n + 1 }, (_, i) => a.min + i * step);
}
const num = (v: number) =>
  Math.abs(v) >= 1000 ? fmtCount(v) : Math.abs(v) >= 1 ? v.toFixed(Number.isInteger(v) ? 0 : 2) : v.toPrecision(2);

function frame(
  title: string,
  xa: Axis,
  ya: Axis,
  xl: string,
  yl: string,
  body: (x: (v: number) => number, y: (v: number) => number) => string,
  yfmt: (v: number) => string = num,
): string {
  const x = scale(xa, M.l, W - M.r);
  const y = scale(ya, H - M.b, M.t);
  const g: string[] = [];
  for (const t of ticks(xa))
    g.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${M.t}" y2="${H - M.b}" stroke="#eee"/><text x="${x(t)}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${esc(num(t))}</text>`,
    );
  for (const t of ticks(ya))
    g.push(
      `<line x1="${M.l}" x2="${W - M.r}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/><text x="${M.l - 4}" y="${y(t) + 3}" font-size="10" text-anchor="end">${esc(yfmt(t))}</text>`,
    );
  return `<figure class="chart"><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}" font-family="sans-serif">
${g.join('\n')}<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="none" stroke="#999"/>
<text x="${(M.l + W - M.r) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">${esc(xl)}</text><text x="12" y="${(M.t + H - M.b) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(M.t + H - M.b) / 2})">${esc(yl)}</text>
${body(x, y)}</svg></figure>`;
}

function legend(names: string[]): string {
  return names
    .map(
      (n, i) =>
        `<rect x="${W - M.r + 8}" y="${M.t + i * 16}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${W - M.r + 22}" y="${M.t + i * 16 + 9}" font-size="10">${esc(n.slice(0, 18))}</text>`,
    )
    .join('');
}

/** Total cost over the horizon against monthly volume (log–log), one line per arm, break-even points marked. */
export function costChart(d: DecisionReport): string {
  const { volumes, series } = d.costChart;
  if (!volumes.length || !series.length) return '';
  const all = series.flatMap((s) => s.totals).filter((v) => v > 0);
  if (!all.length) return '';
  const xa: Axis = { min: volumes[0], max: volumes[volumes.length - 1], log: true };
  const ya: Axis = { min: Math.min(...all), max: Math.max(...all), log: true };
  if (ya.min === ya.max) ya.max = ya.min * 10;
  return frame(
    `Total cost over ${d.settings.horizonMonths} months against monthly volume (break-even points marked)`,
    xa,
    ya,
    'requests per month',
    'total cost (USD)',
    (x, y) => {
      const lines = series.map(
        (s, i) =>
          `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${volumes.map((v, j) => `${x(v).toFixed(1)},${y(Math.max(s.totals[j], ya.min)).toFixed(1)}`).join(' ')}"><title>${esc(s.arm)}</title></polyline>`,
      );
      const pts = d.breakEven
        .filter((b) => b.monthlyVolume && b.monthlyVolume >= xa.min && b.monthlyVolume <= xa.max)
        .map((b) => {
          const a = d.arms.find((z) => z.name === b.arm)!;
          const v = b.monthlyVolume!;
          const tot = a.cost.oneOff.totalUsd + d.settings.horizonMonths * (v * a.cost.perRequestUsd + a.cost.hostingPerMonthUsd);
          return `<circle cx="${x(v).toFixed(1)}" cy="${y(Math.max(tot, ya.min)).toFixed(1)}" r="4" fill="#000"><title>${esc(b.sentence)}</title></circle>`;
        });
      const now = `<line x1="${x(d.settings.requestsPerMonth)}" x2="${x(d.settings.requestsPerMonth)}" y1="${M.t}" y2="${H - M.b}" stroke="#444" stroke-dasharray="4 3"><title>${esc(`${fmtCount(d.settings.requestsPerMonth)} requests/month (decision.requestsPerMonth)`)}</title></line>`;
      return lines.join('') + pts.join('') + now + legend(series.map((s) => s.arm));
    },
    (v) => fmtUsd(v),
  );
}

/** Learning curves: the metric (with its interval) against training examples or shots; the best prompt arm as a line. */
export function curveChart(d: DecisionReport): string {
  return d.curves
    .filter((c) => c.points.length)
    .map((c) => {
      const xs = c.points.map((p) => p.x).filter(Number.isFinite);
      const lo = Math.min(...c.points.map((p) => p.ci[0]), c.crossover?.againstValue ?? 1);
      const hi = Math.max(...c.points.map((p) => p.ci[1]), c.crossover?.againstValue ?? 0);
      const xa: Axis = {
        min: Math.min(...xs),
        max: Math.max(...xs),
        log: c.axis === 'train' && Math.min(...xs) > 0 && Math.max(...xs) / Math.min(...xs) > 8,
      };
      if (xa.min === xa.max) xa.max = xa.min + 1;
      const ya: Axis = { min: Math.max(0, lo - 0.05), max: Math.min(1, hi + 0.05), log: false };
      return frame(
        `Learning curve: ${c.arm} (${d.metric}, 95% intervals)`,
        xa,
        ya,
        c.axis === 'train' ? 'training examples' : 'shots',
        d.metric,
        (x, y) => {
          const band = `<polygon fill="${COLORS[0]}" fill-opacity="0.15" points="${[...c.points.map((p) => `${x(p.x)},${y(p.ci[1])}`), ...[...c.points].reverse().map((p) => `${x(p.x)},${y(p.ci[0])}`)].join(' ')}"/>`;
          const line = `<polyline fill="none" stroke="${COLORS[0]}" stroke-width="2" points="${c.points.map((p) => `${x(p.x)},${y(p.value)}`).join(' ')}"/>`;
          const dots = c.points
            .map(
              (p) =>
                `<circle cx="${x(p.x)}" cy="${y(p.value)}" r="3" fill="${COLORS[0]}"><title>${esc(`${p.arm}: ${fmtMetric(p.value)} ${fmtCi(p.ci)}`)}</title></circle>`,
            )
            .join('');
          const ref = c.crossover
            ? `<line x1="${M.l}" x2="${W - M.r}" y1="${y(c.crossover.againstValue)}" y2="${y(c.crossover.againstValue)}" stroke="${COLORS[1]}" stroke-dasharray="5 3"><title>${esc(`${c.crossover.against}: ${fmtMetric(c.crossover.againstValue)}`)}</title></line>`
            : '';
          const cross =
            c.crossover?.at !== undefined
              ? `<line x1="${x(c.crossover.at)}" x2="${x(c.crossover.at)}" y1="${M.t}" y2="${H - M.b}" stroke="#000" stroke-dasharray="2 2"><title>${esc(c.crossover.sentence)}</title></line>`
              : '';
          return band + line + dots + ref + cross + legend([c.arm, ...(c.crossover ? [`${c.crossover.against} (best prompt)`] : [])]);
        },
        (v) => v.toFixed(2),
      );
    })
    .join('\n');
}

/** Quality against total cost over the horizon, with the metric's interval as a bar. */
export function qualityCostChart(d: DecisionReport): string {
  const arms = d.arms.filter((a) => a.role !== 'majority' && Number.isFinite(a.metric.value));
  if (arms.length < 2) return '';
  const costs = arms.map((a) => Math.max(a.totalUsd, 1e-6));
  const xa: Axis = { min: Math.min(...costs) / 2, max: Math.max(...costs) * 2, log: true };
  const ya: Axis = {
    min: Math.max(0, Math.min(...arms.map((a) => a.metric.ci[0])) - 0.05),
    max: Math.min(1, Math.max(...arms.map((a) => a.metric.ci[1])) + 0.05),
    log: false,
  };
  const maj = d.arms.find((a) => a.role === 'majority');
  return frame(
    `${d.metric} against total cost over ${d.settings.horizonMonths} months at ${fmtCount(d.settings.requestsPerMonth)} requests/month`,
    xa,
    ya,
    'total cost (USD, log)',
    d.metric,
    (x, y) => {
      const pts = arms.map((a, i) => {
        const cx = x(Math.max(a.totalUsd, 1e-6));
        const c = COLORS[i % COLORS.length];
        return `<line x1="${cx}" x2="${cx}" y1="${y(a.metric.ci[0])}" y2="${y(a.metric.ci[1])}" stroke="${c}"/><circle cx="${cx}" cy="${y(a.metric.value)}" r="${a.name === d.recommendation.arm ? 6 : 4}" fill="${c}"><title>${esc(`${a.name}: ${fmtMetric(a.metric.value)} ${fmtCi(a.metric.ci)}, ${fmtUsd(a.totalUsd)}`)}</title></circle>`;
      });
      const m =
        maj && maj.metric.value >= ya.min
          ? `<line x1="${M.l}" x2="${W - M.r}" y1="${y(maj.metric.value)}" y2="${y(maj.metric.value)}" stroke="#999" stroke-dasharray="3 3"><title>${esc(`always '${maj.majorityLabel ?? ''}': ${fmtMetric(maj.metric.value)}`)}</title></line>`
          : '';
      return m + pts.join('') + legend(arms.map((a) => a.name));
    },
    (v) => v.toFixed(2),
  );
}

/** The whole section, '' when the report has no decision. */
export function decisionHtml(report: RunReport): string {
  const d = report.decision;
  if (!d) return '';
  const rows = decisionRows(d);
  const verdict =
    d.recommendation.verdict === 'recommend'
      ? 'Recommendation'
      : d.recommendation.verdict === 'tie'
        ? 'Recommendation (a statistical tie)'
        : d.recommendation.verdict === 'none'
          ? 'No arm meets the requirements'
          : 'Recommendation';
  const table = `<table class="decision"><thead><tr><th>arm</th><th>kind</th><th>${esc(d.metric)} [95% CI]</th><th>vs majority (Holm p)</th><th>vs best (Holm p)</th><th>p95 latency</th><th>per request</th><th>one-off</th><th>total over ${d.settings.horizonMonths} months</th><th>meets</th><th>flags</th></tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr><td>${esc(r.arm)}</td><td>${esc(r.kind)}</td><td>${esc(r.metric)}</td><td>${esc(r.vsMajority)}</td><td>${esc(r.vsBest)}</td><td>${esc(r.p95)}</td><td>${esc(r.perRequest)}</td><td>${esc(r.oneOff)}</td><td>${esc(r.total)}</td><td>${esc(r.meets)}</td><td>${r.flags.map((f) => `<div class="flag">${esc(f)}</div>`).join('')}</td></tr>`,
    )
    .join('')}</tbody></table>`;
  const parts = [
    `<section id="recommendation" class="recommendation"><h2>${esc(verdict)}</h2>`,
    `<ul>${d.recommendation.sentences.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>`,
    d.metricNote ? `<p class="note">Metric: ${esc(d.metricNote)}</p>` : '',
    table,
    d.breakEven.length ? `<h3>Break-even</h3><ul>${d.breakEven.map((b) => `<li>${esc(b.sentence)}</li>`).join('')}</ul>` : '',
    `<div class="charts">${costChart(d)}${qualityCostChart(d)}${curveChart(d)}</div>`,
    d.curves
      .filter((c) => c.crossover)
      .map((c) => `<p>${esc(c.crossover!.sentence)}</p>`)
      .join(''),
    d.consistency.length
      ? `<h3>Consistency across repeats</h3><ul>${d.consistency.map((c) => `<li>${esc(c.sentence)}</li>`).join('')}</ul>`
      : '',
    d.warnings.length ? `<ul class="warnings">${d.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '',
    `<style>.recommendation .flag{color:#a00}.recommendation table.decision td,.recommendation table.decision th{padding:2px 6px;font-size:13px}.recommendation .charts{display:flex;flex-wrap:wrap;gap:12px}.recommendation figure{margin:0}</style>`,
    `</section>`,
  ];
  return parts.join('\n');
}
