import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTable, renderMarkdown, renderJson, renderHtml, render, escapeHtml } from '../../src/report/index.ts';
import { fixtureReport, evilReport, EVIL } from './fixture.ts';

test('table: per-arm metric with interval, n, errors, cost, latency, tokens, engineering cost and training', () => {
  const out = renderTable(fixtureReport());
  assert.match(out, /zero-shot \(baseline\)/);
  assert.match(out, /0\.830 \[0\.780, 0\.861\]/, 'metric with its 95% interval');
  assert.match(out, /macro-F1 \(95% CI\)/, 'extra metrics get their own column');
  assert.match(out, /\$0\.0040/, 'cost per 1k for the fine-tuned arm');
  assert.match(out, /\$0\.62/);
  assert.match(out, /1\.24 s/, 'p95 latency');
  assert.match(out, /820 \/ 3/, 'mean tokens in/out');
  assert.match(out, /\$0\.045, 412 calls, 1m 36s/, 'engineering cost of the optimized arm');
  assert.match(out, /30m 34s/, 'training time of the fine-tuned arm');
  assert.doesNotMatch(out, /\u001b\[/, 'no colour codes unless asked');
});

test('table: paired differences with CI, p-values, verdicts and warnings', () => {
  const r = fixtureReport();
  r.comparisons.push({ arm: 'optimized', baseline: 'few-shot-8', diff: -0.004, ci: [-0.03, 0.021], n: 300, pValue: 0.81 });
  const out = renderTable(r);
  assert.match(out, /Paired differences against zero-shot/);
  assert.match(out, /\+0\.127 .*\[\+0\.087, \+0\.167\] .*<0\.001/);
  assert.match(out, /-0\.004 .*\[-0\.030, \+0\.021\] .*0\.810 .*no clear difference/);
  assert.match(out, /31 \/ 10/, 'discordant pairs');
  assert.match(out, /better/);
  assert.match(out, /! test split has 300 examples/);
});

test('table: failed and partial arms show their status and error; colour on request', () => {
  const r = fixtureReport();
  r.arms[2].status = 'failed';
  r.arms[2].error = 'HTTP 401 from https://api.example (check OPENAI_API_KEY)';
  r.arms[3].status = 'partial';
  const out = renderTable(r, { color: true });
  assert.match(out, /\u001b\[31mfailed/);
  assert.match(out, /arm optimized: failed: HTTP 401/);
  assert.match(out, /arm lora-ft: partial/);
});

test('table: strips control characters from user strings (no terminal escapes injected)', () => {
  const out = renderTable(evilReport());
  assert.doesNotMatch(out, /\u001b/);
  assert.match(out, /model \[31mred/);
});

test('markdown: valid GFM tables (header, delimiter row, equal cell counts)', () => {
  const md = renderMarkdown(fixtureReport());
  const lines = md.split('\n');
  let tables = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('|') || (i > 0 && lines[i - 1].startsWith('|'))) continue;
    tables++;
    const cells = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    const width = cells(lines[i]);
    assert.match(lines[i + 1], /^\|( ---:? \|)+$/, `delimiter row after: ${lines[i]}`);
    assert.equal(cells(lines[i + 1]), width);
    for (let j = i + 2; j < lines.length && lines[j].startsWith('|'); j++) assert.equal(cells(lines[j]), width, `row ${j}: ${lines[j]}`);
    assert.equal(lines[i - 1], '', 'a blank line before every table');
  }
  assert.ok(tables >= 10, `expected the summary, comparison and per-arm tables, got ${tables}`);
  assert.match(md, /^# tunelab report: ticket-routing/);
  assert.match(md, /\| lora-ft \| zero-shot \| \+0\.127 \| \[\+0\.087, \+0\.167\] \| <0\.001 \|/);
  assert.match(md, /\| training: rank \| 8 \|/);
  assert.match(md, /variants/);
});

test('markdown: escapes pipes and HTML in user strings', () => {
  const md = renderMarkdown(evilReport());
  assert.ok(!md.includes('<img'), 'raw HTML would render in Markdown viewers');
  assert.ok(!md.includes('<script'));
  assert.match(md, /&lt;img src=x onerror="alert\(1\)"&gt;/);
  assert.match(md, /\\\|pipe/);
});

test('json: stable, pretty, parses back equal', () => {
  const r = fixtureReport();
  const a = renderJson(r);
  assert.deepEqual(JSON.parse(a), r);
  assert.ok(a.startsWith('{\n  "arms": ['), 'pretty, keys sorted');
  // same content, different key insertion order → same bytes
  const shuffled = Object.fromEntries(Object.entries(r).reverse()) as typeof r;
  assert.equal(renderJson(shuffled), a);
  assert.equal(render(r, 'json'), a);
});

test('html: self-contained, no external URLs, Chart.js inlined, CSP forbids network', () => {
  const html = renderHtml(fixtureReport());
  assert.ok(html.startsWith('<!doctype html>'));
  assert.doesNotMatch(html, /https?:\/\//, 'no http(s) URL anywhere in the file');
  assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?(?!#)[^"'\s>]*:/i, 'no src/href to any scheme');
  assert.doesNotMatch(html, /<link\b/i);
  assert.match(html, /Chart\.js v4\.6\.1/, 'Chart.js banner present: the library is inlined');
  assert.ok(html.length > 200_000, 'the UMD build (about 200 kB) is in the file');
  assert.match(html, /Content-Security-Policy" content="default-src 'none'; script-src 'sha256-/);
  assert.match(html, /connect-src 'none'/);
  for (const id of ['chart-metric', 'chart-cost', 'chart-latency', 'chart-diff']) assert.match(html, new RegExp(`<canvas id="${id}"`));
  // static tables: readable without scripts
  assert.match(html, /0\.950<\/span> <span class="ci">\[0\.917, 0\.967\]<\/span>/);
  assert.match(html, /&lt;0\.001/);
  assert.match(html, /sha256:/, 'prompt hash shown');
  assert.match(html, /<th>devScore<\/th>/, 'variant dev scores from notes rendered as a table');
  assert.match(html, /<th>learningRate<\/th><td>0\.0002<\/td>/, 'training details');
  assert.match(html, /class="heat"/, 'confusion matrix heat map');
});

test('html: escapes a malicious arm name, notes, experiment and warning', () => {
  const html = renderHtml(evilReport());
  assert.ok(!html.includes(EVIL), 'the raw string never appears');
  assert.doesNotMatch(html, /<img/i);
  const scripts = html.match(/<script\b[^>]*>/gi) ?? [];
  assert.equal(scripts.length, 3, 'only the data block, Chart.js and the report script');
  const closes = html.match(/<\/script>/gi) ?? [];
  assert.equal(closes.length, 3, 'no early </script> from data');
  assert.ok(html.includes(escapeHtml(EVIL)));
  // the chart data block carries the name, JSON-escaped so it cannot close the element
  const data = /<script type="application\/json" id="tunelab-data">(.*?)<\/script>/s.exec(html)![1];
  assert.equal(JSON.parse(data).arms[1].name, EVIL);
});

test('html: renders without comparisons, confusion matrices or intervals', () => {
  const r = fixtureReport();
  r.comparisons = [];
  r.baseline = undefined;
  for (const a of r.arms) {
    delete a.metric.confusion;
    delete a.metric.perClass;
    a.metric.ci = [Number.NaN, Number.NaN];
  }
  const html = renderHtml(r);
  assert.doesNotMatch(html, /<canvas id="chart-diff"/);
  assert.doesNotMatch(html, /Confusion matrices/);
  assert.match(renderTable(r), /0\.830 /);
  assert.match(renderMarkdown(r), /\| 0\.830 \|/);
});
