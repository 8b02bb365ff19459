// Self-contained HTML report: one file, opens offline, no external URL anywhere.
// Tables are static HTML (readable without scripts); charts are drawn by Chart.js, whose UMD build
// is read from node_modules at render time and inlined. A Content-Security-Policy allows only the
// file's own scripts (by hash) and forbids every network fetch.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CLIENT_JS } from './html-client.ts';
import type { ArmReport, PairedComparison, RunReport } from './types.ts';
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
  fmtMs,
  fmtNum,
  fmtP,
  fmtSeconds,
  fmtSpent,
  fmtTokens,
  fmtUsd,
  inlineValue,
  runDuration,
  shortHash,
  shortModel,
  verdict,
} from './format.ts';
import { EXAMPLES_SHOWN, inputText, notableExamples } from './evidence.ts';
import { decisionHtml } from './decision-html.ts';
import type { LossCurve, SentMessage } from './types.ts';

export interface HtmlOptions {
  /** Chart.js UMD source to inline instead of node_modules/chart.js/dist/chart.umd.js (tests). */
  chartJsSource?: string;
}

const usd = (x: number): string => escapeHtml(fmtUsd(x));

const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#0891b2', '#db2777', '#ca8a04', '#4f46e5', '#65a30d', '#dc2626'];

export function armColor(i: number): string {
  return PALETTE[i % PALETTE.length];
}

export function escapeHtml(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON that is safe inside a <script type="application/json"> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

let chartJsCache: { source: string; version: string } | undefined;

/** Chart.js UMD build, with the URLs in its licence banner reduced to bare host names. */
export function loadChartJs(): { source: string; version: string } {
  if (chartJsCache) return chartJsCache;
  const require = createRequire(import.meta.url);
  const file = join(dirname(require.resolve('chart.js')), 'chart.umd.js');
  const raw = readFileSync(file, 'utf8');
  chartJsCache = { source: sanitizeScript(raw), version: /Chart\.js v([\w.-]+)/.exec(raw)?.[1] ?? 'unknown' };
  return chartJsCache;
}

function sanitizeScript(src: string): string {
  // No "http(s)://" in the file at all (the banner's homepage link), and nothing that could close
  // the <script> element early.
  return src
    .replace(/https?:\/\//g, '')
    .replace(/<\/(script)/gi, '<\\/$1')
    .replace(/<!--/g, '<\\!--');
}

function sha256(s: string): string {
  return `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
}

function isFineTuned(a: ArmReport): boolean {
  return a.training !== undefined || /fine|ft|lora|tun/i.test(a.kind);
}

function swatch(color: string): string {
  return `<span class="sw" style="background:${color}"></span>`;
}

function badge(a: ArmReport): string {
  return `<span class="badge ${isFineTuned(a) ? 'ft' : 'pe'}">${escapeHtml(a.kind)}</span>`;
}

function statusCell(a: ArmReport): string {
  return `<span class="st st-${a.status === 'done' ? 'done' : a.status === 'failed' ? 'failed' : 'partial'}">${escapeHtml(a.status)}</span>`;
}

function metricCell(value: number, ci: [number, number] | undefined): string {
  const i = fmtInterval(ci);
  return `<span class="v">${fmtNum(value)}</span>${i === '-' ? '' : ` <span class="ci">${i}</span>`}`;
}

// ---- generic rendering of notes / training details ----

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function valueHtml(v: unknown, depth = 0): string {
  if (v === null || v === undefined) return '<span class="muted">—</span>';
  if (typeof v !== 'object') return escapeHtml(inlineValue(v));
  if (depth >= 3) return `<code>${escapeHtml(inlineValue(v))}</code>`;
  if (Array.isArray(v)) {
    if (v.length === 0) return '<span class="muted">(none)</span>';
    if (v.every(isPlainObject)) return objectsTable(v as Record<string, unknown>[], depth + 1);
    const shown = v.slice(0, 50).map((x) => valueHtml(x, depth + 1));
    return shown.join(', ') + (v.length > 50 ? ` <span class="muted">… ${fmtInt(v.length - 50)} more</span>` : '');
  }
  return kvTable(v as Record<string, unknown>, depth + 1);
}

function kvTable(obj: Record<string, unknown>, depth = 0): string {
  const keys = Object.keys(obj);
  if (!keys.length) return '<span class="muted">(empty)</span>';
  return `<table class="kv">${keys.map((k) => `<tr><th>${escapeHtml(k)}</th><td>${valueHtml(obj[k], depth)}</td></tr>`).join('')}</table>`;
}

/** An array of records as a table (e.g. prompt variants with their dev scores). */
function objectsTable(rows: Record<string, unknown>[], depth: number): string {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const shown = rows.slice(0, 200);
  // numeric columns in 0..1 get an inline bar, so a column of dev scores reads at a glance
  const unitCols = new Set(
    cols.filter(
      (c) =>
        shown.every((r) => r[c] === undefined || (typeof r[c] === 'number' && (r[c] as number) >= 0 && (r[c] as number) <= 1)) &&
        shown.some((r) => typeof r[c] === 'number'),
    ),
  );
  const cell = (r: Record<string, unknown>, c: string) => {
    const v = r[c];
    if (unitCols.has(c) && typeof v === 'number')
      return `<td class="num"><span class="bar"><span style="width:${(v * 100).toFixed(1)}%"></span></span>${escapeHtml(inlineValue(v))}</td>`;
    return `<td${typeof v === 'number' ? ' class="num"' : ''}>${valueHtml(v, depth)}</td>`;
  };
  return `<table class="grid small"><thead><tr>${cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${shown
    .map((r) => `<tr>${cols.map((c) => cell(r, c)).join('')}</tr>`)
    .join(
      '',
    )}</tbody></table>${rows.length > shown.length ? `<p class="muted">… ${fmtInt(rows.length - shown.length)} more rows</p>` : ''}`;
}

// ---- sections ----

function confusionHtml(a: ArmReport, index: number): string {
  const cm = a.metric.confusion;
  if (!cm || !cm.labels.length) return '';
  const rowSums = cm.labels.map((_, i) => (cm.matrix[i] ?? []).reduce((s, x) => s + (x || 0), 0));
  const head = cm.labels.map((l) => `<th class="rot" title="${escapeHtml(l)}"><span>${escapeHtml(l)}</span></th>`).join('');
  const body = cm.labels
    .map((l, i) => {
      const cells = cm.labels
        .map((_, j) => {
          const n = cm.matrix[i]?.[j] ?? 0;
          const frac = rowSums[i] > 0 ? n / rowSums[i] : 0;
          const rgb = i === j ? '22,163,74' : '220,38,38';
          const alpha = n === 0 ? 0 : 0.08 + 0.82 * frac;
          const fg = alpha > 0.55 ? '#fff' : '#0f172a';
          return `<td style="background:rgba(${rgb},${alpha.toFixed(3)});color:${fg}" title="${escapeHtml(l)} → ${escapeHtml(cm.labels[j])}: ${fmtInt(n)} (${(frac * 100).toFixed(1)}% of row)">${fmtInt(n)}</td>`;
        })
        .join('');
      return `<tr><th>${escapeHtml(l)}</th>${cells}<td class="muted num">${fmtInt(rowSums[i])}</td></tr>`;
    })
    .join('');
  const wide = cm.labels.length > 6;
  return `<figure class="cm${wide ? ' wide' : ''}"><figcaption>${swatch(armColor(index))}<b>${escapeHtml(a.name)}</b> <span class="muted">${escapeHtml(a.metric.name)} ${fmtNum(a.metric.value)}</span></figcaption>
<div class="scroll"><table class="heat${cm.labels.length > 8 ? ' many' : ''}"><thead><tr><th class="corner">expected \\ predicted</th>${head}<th class="muted">n</th></tr></thead><tbody>${body}</tbody></table></div></figure>`;
}

function perClassHtml(a: ArmReport): string {
  const pc = a.metric.perClass;
  if (!pc || !Object.keys(pc).length) return '';
  return `<table class="grid small"><thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead><tbody>${Object.keys(
    pc,
  )
    .map(
      (k) =>
        `<tr><td>${escapeHtml(k)}</td><td class="num">${fmtNum(pc[k].precision)}</td><td class="num">${fmtNum(pc[k].recall)}</td><td class="num">${fmtNum(pc[k].f1)}</td><td class="num">${fmtInt(pc[k].support)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

function messagesHtml(msgs: SentMessage[]): string {
  return `<div class="msgs">${msgs.map((m) => `<div class="msg msg-${escapeHtml(m.role)}"><div class="role">${escapeHtml(m.role)}</div><pre>${escapeHtml(m.content)}</pre></div>`).join('')}</div>`;
}

/** A loss curve as inline SVG (no script): training loss per step, validation loss as points. */
export function lossSvg(c: LossCurve, width = 520, height = 200): string {
  const pad = { l: 40, r: 10, t: 10, b: 26 };
  const steps = Math.max(c.train.length, ...c.val.map((v) => v.step), 1);
  const all = [...c.train, ...c.val.map((v) => v.loss)].filter(Number.isFinite);
  if (!all.length) return '';
  const lo = Math.min(0, ...all);
  const hi = Math.max(...all) || 1;
  const x = (step: number) => pad.l + ((width - pad.l - pad.r) * step) / steps;
  const y = (v: number) => pad.t + (height - pad.t - pad.b) * (1 - (v - lo) / (hi - lo || 1));
  const line = c.train.map((v, i) => `${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const val = c.val
    .map(
      (v) =>
        `<circle cx="${x(v.step).toFixed(1)}" cy="${y(v.loss).toFixed(1)}" r="3.5" fill="#ea580c"><title>step ${v.step}: validation loss ${v.loss.toFixed(3)}</title></circle>`,
    )
    .join('');
  const valLine =
    c.val.length > 1
      ? `<polyline fill="none" stroke="#ea580c" stroke-dasharray="4 3" stroke-width="1.5" points="${c.val.map((v) => `${x(v.step).toFixed(1)},${y(v.loss).toFixed(1)}`).join(' ')}"/>`
      : '';
  const ticks = [lo, (lo + hi) / 2, hi]
    .map(
      (v) =>
        `<text x="${pad.l - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(2)}</text><line x1="${pad.l}" x2="${width - pad.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e2e8f0"/>`,
    )
    .join('');
  return `<svg class="loss" viewBox="0 0 ${width} ${height}" role="img" aria-label="loss curve of ${escapeHtml(c.arm)}">${ticks}<polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="${line}"/>${valLine}${val}<text x="${pad.l}" y="${height - 6}">step 1</text><text x="${width - pad.r}" y="${height - 6}" text-anchor="end">step ${steps}</text></svg><p class="note"><span class="sw" style="background:#2563eb"></span>training loss per step · <span class="sw" style="background:#ea580c"></span>validation loss</p>`;
}

function armDetailsHtml(a: ArmReport, i: number, report?: RunReport): string {
  const rows: [string, string][] = [
    ['kind', badge(a)],
    [
      'model',
      `<b>${escapeHtml(shortModel(a))}</b>${shortModel(a) !== a.modelId ? ` <span class="muted">full id:</span> <code>${escapeHtml(a.modelId)}</code>` : ''}`,
    ],
    [
      'prompt',
      `<code title="content hash ${escapeHtml(a.promptHash)}">${escapeHtml(shortHash(a.promptHash))}</code> <span class="muted">(content hash; the messages are below)</span>`,
    ],
    ['status', statusCell(a) + (a.error ? ` <span class="err">${escapeHtml(a.error)}</span>` : '')],
    ['examples scored', `${fmtInt(a.n)} <span class="muted">(${fmtInt(a.errors)} errors)</span>`],
    [
      'tokens in / out',
      `${fmtInt(a.tokens.input)} / ${fmtInt(a.tokens.output)} <span class="muted">(mean ${fmtTokens(a.tokens.meanInput)} / ${fmtTokens(a.tokens.meanOutput)})</span>`,
    ],
    ['latency', `p50 ${fmtMs(a.latencyMs.p50)} · p95 ${fmtMs(a.latencyMs.p95)} · mean ${fmtMs(a.latencyMs.mean)}`],
    ['cost per 1,000 requests', fmtUsd(a.costPer1k)],
    [
      'engineering cost',
      `${escapeHtml(fmtSpent(a.spent))}${a.spent.tokensIn || a.spent.tokensOut ? ` <span class="muted">(${fmtInt(a.spent.tokensIn)} in / ${fmtInt(a.spent.tokensOut)} out tokens)</span>` : ''}`,
    ],
  ];
  for (const m of a.extraMetrics ?? []) rows.push([escapeHtml(m.name), metricCell(m.value, m.ci)]);
  const kv = `<table class="kv">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>`;
  let training = '';
  if (a.training) {
    const t = a.training;
    training = `<h4>Training</h4><table class="kv"><tr><th>time</th><td>${fmtSeconds(t.seconds)}</td></tr><tr><th>cost</th><td>${usd(t.costUsd)}</td></tr><tr><th>trained model</th><td><code>${escapeHtml(t.modelId)}</code></td></tr>${
      t.details && Object.keys(t.details).length ? `<tr><th>details</th><td>${kvTable(t.details, 1)}</td></tr>` : ''
    }</table>`;
  }
  const notes = a.notes && Object.keys(a.notes).length ? `<h4>Notes</h4>${kvTable(a.notes)}` : '';
  const pc = perClassHtml(a);
  const curve = report?.evidence?.curves.find((c) => c.arm === a.name);
  const prompt = report?.evidence?.prompts.find((p) => p.arm === a.name);
  const sent = prompt?.messages?.length
    ? `<h4>Messages sent${prompt.exampleId ? ` for example <code>${escapeHtml(prompt.exampleId)}</code>` : ''}</h4>${messagesHtml(prompt.messages)}`
    : '';
  return `<details class="arm" id="arm-${i}"><summary>${swatch(armColor(i))}<b>${escapeHtml(a.name)}</b> ${badge(a)} <span class="muted">${escapeHtml(shortModel(a))}</span> <span class="sum-metric">${metricCell(a.metric.value, a.metric.ci)}</span></summary>
<div class="arm-body"><div>${kv}${training}${curve ? `<h4>Loss</h4>${lossSvg(curve)}` : ''}</div><div>${notes}${pc ? `<h4>Per class</h4>${pc}` : ''}${sent}</div></div></details>`;
}

function examplesHtml(report: RunReport): string {
  if (!report.evidence?.examples.length) return '';
  const { shown, total, best } = notableExamples(report, EXAMPLES_SHOWN);
  const all = report.evidence.examples.length;
  if (!total)
    return `<h2>Examples</h2><p class="note">All ${fmtInt(all)} test examples: every arm agrees${best ? ` and ${escapeHtml(best)} is right` : ''}.</p>`;
  const arms = report.arms.map((a) => a.name);
  const rows = shown
    .map((ex) => {
      const cells = arms
        .map((a) => {
          const o = ex.arms[a];
          if (!o) return '<td class="muted">—</td>';
          const text = o.error ? `error: ${o.error}` : (o.extracted ?? o.output);
          return `<td class="${o.pass ? 'ok' : 'bad'}" title="${escapeHtml(o.output)}">${o.pass ? '✓' : '✗'} ${escapeHtml(text.length > 80 ? `${text.slice(0, 79)}…` : text)}</td>`;
        })
        .join('');
      const inp = inputText(ex.input);
      return `<tr><td><code>${escapeHtml(ex.source ? `${ex.source.file}:${ex.source.line}` : ex.id)}</code>${inp ? `<div class="inp">${escapeHtml(inp.length > 300 ? `${inp.slice(0, 299)}…` : inp)}</div>` : ''}</td><td>${escapeHtml(ex.expected)}</td>${cells}</tr>`;
    })
    .join('');
  return `<h2>Examples</h2><p class="note">Where the arms disagree or the best arm (${escapeHtml(best ?? '—')}) is wrong: showing ${fmtInt(shown.length)} of ${fmtInt(total)} (of ${fmtInt(all)} test examples; report.json has every example with each arm's output). ✓ right · ✗ wrong.</p>
<div class="scroll"><table class="grid small examples"><thead><tr><th>example</th><th>expected</th>${arms.map((a) => `<th>${escapeHtml(a)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

function pick<T>(xs: T[], better: (a: T, b: T) => boolean): T | undefined {
  let best: T | undefined;
  for (const x of xs) if (best === undefined || better(x, best)) best = x;
  return best;
}

function summaryCards(report: RunReport): string {
  const done = report.arms.filter((a) => a.status === 'done' && Number.isFinite(a.metric.value));
  const cards: string[] = [];
  const best = pick(done, (a, b) => a.metric.value > b.metric.value);
  if (best)
    cards.push(
      `<div class="card"><div class="k">highest ${escapeHtml(report.task.metric)}</div><div class="big">${escapeHtml(best.name)}</div><div>${metricCell(best.metric.value, best.metric.ci)}</div></div>`,
    );
  const cheap = pick(
    done.filter((a) => Number.isFinite(a.costPer1k)),
    (a, b) => a.costPer1k < b.costPer1k,
  );
  if (cheap)
    cards.push(
      `<div class="card"><div class="k">lowest cost per 1,000 requests</div><div class="big">${escapeHtml(cheap.name)}</div><div>${usd(cheap.costPer1k)}</div></div>`,
    );
  const fast = pick(
    done.filter((a) => Number.isFinite(a.latencyMs.p50)),
    (a, b) => a.latencyMs.p50 < b.latencyMs.p50,
  );
  if (fast)
    cards.push(
      `<div class="card"><div class="k">fastest (latency p50)</div><div class="big">${escapeHtml(fast.name)}</div><div>${fmtMs(fast.latencyMs.p50)}</div></div>`,
    );
  const sig = report.comparisons.filter((c) => verdict(c) === 'better');
  const top = pick(sig, (a, b) => a.diff > b.diff);
  cards.push(
    top
      ? `<div class="card"><div class="k">largest significant gain vs ${escapeHtml(top.baseline)}</div><div class="big">${escapeHtml(top.arm)}</div><div><span class="v">${fmtDiff(top.diff)}</span> <span class="ci">${fmtInterval(top.ci, 3, true)}</span>, p ${escapeHtml(fmtP(top.pValue))}</div></div>`
      : report.comparisons.length
        ? `<div class="card"><div class="k">vs baseline</div><div class="big">no arm clearly better</div><div class="muted">at p &lt; 0.05 with an interval excluding 0</div></div>`
        : '',
  );
  return `<section class="cards">${cards.join('')}</section>`;
}

function comparisonRow(c: PairedComparison): string {
  const v = verdict(c);
  return `<tr><td>${escapeHtml(c.arm)}</td><td>${escapeHtml(c.baseline)}</td><td class="num v">${fmtDiff(c.diff)}</td><td class="num ci">${fmtInterval(c.ci, 3, true)}</td><td class="num">${escapeHtml(fmtP(c.pValue))}</td><td class="num">${fmtInt(c.n)}</td><td class="num">${fmtDiscordant(c)}</td><td><span class="vd vd-${v === 'better' ? 'b' : v === 'worse' ? 'w' : 'u'}">${v}</span></td></tr>`;
}

const CSS = `
:root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;--accent:#2563eb}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#0f172a;color:#e2e8f0;padding:20px 32px}
header h1{margin:0 0 4px;font-size:22px;font-weight:650;color:#fff}
header .meta{color:#94a3b8;font-size:13px}
header .meta b{color:#e2e8f0;font-weight:600}
main{max-width:1280px;margin:0 auto;padding:20px 32px 40px}
header,main{overflow-wrap:anywhere}
h2{font-size:17px;margin:28px 0 10px;font-weight:650}
h4{margin:14px 0 6px;font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.muted{color:var(--muted)}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f1f5f9;padding:1px 4px;border-radius:4px;word-break:break-all}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:12px;margin-top:4px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px}
.card .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.card .big{font-size:18px;font-weight:650;margin:2px 0;overflow-wrap:anywhere}
.warn{background:#fffbeb;border:1px solid #fcd34d;border-radius:10px;padding:10px 16px;margin-top:16px}
.warn b{color:#92400e}.warn ul{margin:4px 0 0;padding-left:20px}
.charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
@media (max-width:900px){.charts{grid-template-columns:1fr}}
.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px}
.panel h3{margin:0 0 8px;font-size:14px;font-weight:600}
.chart{position:relative;width:100%}
.scroll{overflow-x:auto}
table{border-collapse:collapse}
table.grid{width:100%;background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden}
table.grid th,table.grid td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
table.grid thead th{background:#f1f5f9;font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#475569;font-weight:600;white-space:nowrap}
table.grid tbody tr:last-child td{border-bottom:0}
table.grid tbody tr:hover{background:#f8fafc}
table.small th,table.small td{padding:4px 8px;font-size:12.5px}
td.num,th.num,table.grid td.num,table.grid th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.v{font-weight:600;font-variant-numeric:tabular-nums}
.ci{color:var(--muted);font-variant-numeric:tabular-nums;white-space:nowrap}
.sw{display:inline-block;width:10px;height:10px;border-radius:3px;margin-right:6px;vertical-align:baseline}
.badge{display:inline-block;font-size:11px;padding:0 7px;border-radius:999px;border:1px solid;vertical-align:1px;white-space:nowrap}
.badge.pe{color:#1d4ed8;border-color:#bfdbfe;background:#eff6ff}
.badge.ft{color:#7e22ce;border-color:#e9d5ff;background:#faf5ff}
.st{font-size:12px}.st-done{color:#15803d}.st-failed{color:#b91c1c;font-weight:600}.st-partial{color:#b45309;font-weight:600}
.err{color:#b91c1c}
.vd{font-size:12px;padding:1px 8px;border-radius:999px;white-space:nowrap}
.vd-b{background:#dcfce7;color:#166534}.vd-w{background:#fee2e2;color:#991b1b}.vd-u{background:#f1f5f9;color:#475569}
.note{font-size:12px;color:var(--muted);margin:6px 2px 0}
.cms{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(360px,100%),1fr));gap:16px}
figure.cm{min-width:0}
table.heat.many td,table.heat.many th{padding:3px 4px;font-size:11px}
table.heat.many td{min-width:26px}
.msgs{display:flex;flex-direction:column;gap:6px}
.msg{border:1px solid var(--line);border-radius:8px;overflow:hidden}
.msg .role{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);background:#f1f5f9;padding:2px 8px}
.msg pre{margin:0;padding:6px 8px;white-space:pre-wrap;overflow-wrap:anywhere;font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;max-height:260px;overflow-y:auto}
.msg-assistant .role{background:#ecfdf5}
svg.loss{width:100%;height:auto;max-width:560px;font:11px system-ui,sans-serif;fill:#64748b}
table.examples td.ok{color:#166534}table.examples td.bad{color:#991b1b}
table.examples .inp{font-size:12px;color:#475569;max-width:420px;overflow-wrap:anywhere;white-space:pre-wrap}
@media (max-width:600px){header{padding:14px 14px}main{padding:12px 12px 28px}.panel,figure.cm{padding:10px}details.arm summary .sum-metric{float:none;display:block}table.kv th{white-space:normal}}
figure.cm{margin:0;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px}
figure.cm figcaption{margin-bottom:8px}
table.heat td,table.heat th{padding:5px 8px;font-size:12.5px;text-align:center;font-variant-numeric:tabular-nums;border:1px solid #fff}
table.heat tbody th{text-align:right;font-weight:500;color:#475569;white-space:nowrap;max-width:180px;overflow:hidden;text-overflow:ellipsis}
table.heat thead th{font-weight:500;color:#475569;vertical-align:bottom}
table.heat th.rot{height:auto;max-width:90px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
figure.cm.wide{grid-column:1 / -1}
figure.cm.wide th.rot{max-width:none}
figure.cm.wide th.rot span{writing-mode:vertical-rl;transform:rotate(180deg);display:inline-block;max-height:140px;overflow:hidden;text-overflow:ellipsis}
table.heat th.corner{font-size:11px;color:var(--muted);text-align:left}
table.heat td{min-width:42px;border-radius:4px}
details.arm{background:var(--card);border:1px solid var(--line);border-radius:10px;margin-bottom:10px}
details.arm summary{cursor:pointer;padding:10px 16px;list-style-position:inside}
details.arm summary .sum-metric{float:right}
details.arm[open] summary{border-bottom:1px solid var(--line)}
.arm-body{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:24px;padding:8px 16px 16px}
@media (max-width:900px){.arm-body{grid-template-columns:1fr}}
table.kv th{text-align:left;font-weight:500;color:var(--muted);padding:3px 14px 3px 0;vertical-align:top;white-space:nowrap}
table.kv td{padding:3px 0;vertical-align:top;overflow-wrap:anywhere}
table.kv table.kv{font-size:12.5px}
.bar{display:inline-block;width:60px;height:8px;background:#e2e8f0;border-radius:4px;margin-right:8px;vertical-align:middle;overflow:hidden}
.bar span{display:block;height:100%;background:var(--accent)}
footer{color:var(--muted);font-size:12px;text-align:center;padding:16px 0 28px}
@media print{header{background:#fff;color:#000}header h1{color:#000}.panel,.card,table.grid,figure.cm,details.arm{break-inside:avoid}}
`;

export function renderHtml(report: RunReport, options: HtmlOptions = {}): string {
  const chart = options.chartJsSource !== undefined ? { source: sanitizeScript(options.chartJsSource), version: 'custom' } : loadChartJs();
  const baseline = baselineOf(report);
  const t = report.task;
  const extras = extraMetricNames(report);
  const warnings = allWarnings(report);

  const chartData = {
    metric: t.metric,
    baseline: baseline ?? null,
    arms: report.arms.map((a, i) => ({
      name: a.name,
      color: armColor(i),
      finetuned: isFineTuned(a),
      value: Number.isFinite(a.metric.value) ? a.metric.value : null,
      ci: a.metric.ci && a.metric.ci.every(Number.isFinite) ? a.metric.ci : null,
      n: a.n,
      costPer1k: Number.isFinite(a.costPer1k) ? a.costPer1k : null,
      p50: a.latencyMs.p50,
      p95: a.latencyMs.p95,
    })),
    comparisons: report.comparisons.map((c) => {
      const v = verdict(c);
      return { arm: c.arm, diff: c.diff, ci: c.ci, p: c.pValue, verdict: v === 'better' ? 'better' : v === 'worse' ? 'worse' : 'unclear' };
    }),
  };

  const armRows = report.arms
    .map((a, i) => {
      const ex = extras
        .map((name) => {
          const m = extraMetric(a, name);
          return `<td class="num">${m ? metricCell(m.value, m.ci) : '—'}</td>`;
        })
        .join('');
      return `<tr><td>${swatch(armColor(i))}<a href="#arm-${i}">${escapeHtml(a.name)}</a>${a.name === baseline ? ' <span class="muted">(baseline)</span>' : ''}</td><td>${badge(a)}</td><td><code title="${escapeHtml(a.modelId)}">${escapeHtml(shortModel(a))}</code></td><td class="num">${metricCell(a.metric.value, a.metric.ci)}</td>${ex}<td class="num">${fmtInt(a.n)}</td><td class="num">${fmtInt(a.errors)}</td><td>${statusCell(a)}</td></tr>`;
    })
    .join('');
  const costRows = report.arms
    .map(
      (a, i) =>
        // the first four (cost, latency p50 / p95, tokens) are numbers
        `<tr><td>${swatch(armColor(i))}${escapeHtml(a.name)}</td>${costCells(a)
          .map((c, j) => `<td${j < 4 ? ' class="num"' : ''}>${escapeHtml(c)}</td>`)
          .join('')}</tr>`,
    )
    .join('');

  const armsForHeight = Math.max(report.arms.length, 1);
  const barHeight = Math.max(200, 70 + armsForHeight * 44);
  const cms = report.arms.map((a, i) => confusionHtml(a, i)).filter(Boolean);

  const dataJson = scriptJson(chartData);
  const chartSrc = `${chart.source}\n`;
  const appSrc = CLIENT_JS;
  const csp = `default-src 'none'; script-src ${sha256(chartSrc)} ${sha256(appSrc)}; style-src 'unsafe-inline'; img-src data:; font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'`;
  const title = `tunelab report: ${report.experiment}`;
  const took = runDuration(report);
  const duration = took ? ` · took <b>${took}</b>` : '';

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="tunelab">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(report.experiment)}</h1>
<div class="meta">run <b>${escapeHtml(report.runId)}</b> · seed <b>${escapeHtml(report.seed)}</b> · started <b>${escapeHtml(report.createdAt)}</b>${report.finishedAt ? ` · finished <b>${escapeHtml(report.finishedAt)}</b>` : ''}${duration}</div>
<div class="meta">task <b>${escapeHtml(t.data)}</b> · metric <b>${escapeHtml(t.metric)}</b> · train <b>${fmtInt(t.sizes.train)}</b> / dev <b>${fmtInt(t.sizes.dev)}</b> / test <b>${fmtInt(t.sizes.test)}</b> · ${fmtInt(report.arms.length)} arms, all scored on the same test examples</div>
</header>
<main>
${decisionHtml(report)}
${summaryCards(report)}
${warnings.length ? `<section class="warn"><b>Warnings</b><ul>${warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul></section>` : ''}
<h2>Charts</h2>
<section class="charts">
<div class="panel"><h3>${escapeHtml(t.metric)} per arm, with 95% intervals</h3><div class="chart" style="height:${barHeight}px"><canvas id="chart-metric" role="img" aria-label="metric per arm"></canvas></div></div>
<div class="panel"><h3>Cost vs quality</h3><div class="chart" style="height:${barHeight}px"><canvas id="chart-cost" role="img" aria-label="cost versus quality"></canvas></div><p class="note">◆ fine-tuned arms · ● prompt arms · vertical bars: 95% interval. Up and to the left is better.</p></div>
<div class="panel"><h3>Latency per request</h3><div class="chart" style="height:${barHeight}px"><canvas id="chart-latency" role="img" aria-label="latency per arm"></canvas></div></div>
${
  report.comparisons.length
    ? `<div class="panel"><h3>Paired difference vs ${escapeHtml(baseline ?? 'baseline')}</h3><div class="chart" style="height:${Math.max(200, 70 + report.comparisons.length * 44)}px"><canvas id="chart-diff" role="img" aria-label="paired differences"></canvas></div><p class="note">Green: better, red: worse (p &lt; 0.05 and interval excludes 0); grey: no clear difference.</p></div>`
    : ''
}
</section>

<h2>Quality</h2>
<div class="scroll"><table class="grid"><thead><tr><th>arm</th><th>kind</th><th>model</th><th class="num">${escapeHtml(t.metric)} (95% CI)</th>${extras
    .map((e) => `<th class="num">${escapeHtml(e)} (95% CI)</th>`)
    .join('')}<th class="num">n</th><th class="num">errors</th><th>status</th></tr></thead><tbody>${armRows}</tbody></table></div>

<h2>Cost and speed</h2>
<div class="scroll"><table class="grid"><thead><tr><th>arm</th><th class="num">cost / 1k requests</th><th class="num">latency p50</th><th class="num">latency p95</th><th class="num">tokens in / out (mean)</th><th>engineering cost</th><th>training</th></tr></thead><tbody>${costRows}</tbody></table></div>
${
  report.comparisons.length
    ? `<h2>Paired differences${baseline ? ` against ${escapeHtml(baseline)}` : ''}</h2>
<div class="scroll"><table class="grid"><thead><tr><th>arm</th><th>vs</th><th class="num">diff</th><th class="num">95% CI</th><th class="num">p-value</th><th class="num">n</th><th class="num">discordant (arm / base)</th><th>verdict</th></tr></thead><tbody>${report.comparisons
        .map(comparisonRow)
        .join('')}</tbody></table></div>
<p class="note">p-value: exact McNemar test on the examples both arms scored; interval: paired bootstrap of the difference. A verdict needs p &lt; 0.05 and an interval that excludes 0.</p>`
    : ''
}
${examplesHtml(report)}
${cms.length ? `<h2>Confusion matrices</h2><p class="note">Rows: expected label · columns: predicted label · shade: share of the row (green: correct, red: confused).</p><section class="cms">${cms.join('\n')}</section>` : ''}

<h2>Arms</h2>
${report.arms.map((a, i) => armDetailsHtml(a, i, report)).join('\n')}
</main>
<footer>Generated by tunelab from stored run ${escapeHtml(report.runId)}. Opens offline: charts drawn with Chart.js ${escapeHtml(chart.version)} (MIT License), inlined in this file.</footer>
<script type="application/json" id="tunelab-data">${dataJson}</script>
<script>${chartSrc}</script>
<script>${appSrc}</script>
</body>
</html>
`;
}
