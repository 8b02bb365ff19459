// tunelab view: the browser side. preact + htm as ES modules served by `tunelab view` from
// node_modules (no build step, nothing fetched from the network). Pages (hash routes):
//   #/                         runs, with live progress (server-sent events)
//   #/run/<id>                 recommendation, arms, charts
//   #/run/<id>/examples?...    example browser (filters, outputs side by side, CSV export)
//   #/run/<id>/example/<ex>    one example: each arm's output and the exact messages it sent
//   #/run/<id>/finetune        fine-tune arms: status, loss curves, hyperparameters, training data
//   #/compare/<a>/<b>          two runs of the same task, example by example
import { h, render } from '/vendor/preact.mjs';
import { useEffect, useState } from '/vendor/hooks.mjs';
import htm from '/vendor/htm.mjs';

const html = htm.bind(h);
const enc = encodeURIComponent;

async function get(path) {
  const r = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body?.error?.message || `${r.status} ${r.statusText}`);
  return body;
}

function useData(path, deps = []) {
  const [state, set] = useState({ loading: true });
  useEffect(() => {
    let live = true;
    set((s) => ({ ...s, loading: true }));
    get(path).then(
      (data) => live && set({ data }),
      (error) => live && set({ error }),
    );
    return () => {
      live = false;
    };
  }, [path, ...deps]);
  return state;
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [p, qs] = raw.split('?');
  return { parts: p.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(qs || '') };
}

const fmt = (x, d = 3) => (typeof x === 'number' && isFinite(x) ? x.toFixed(d) : '—');
const ci = (c) => (c && isFinite(c[0]) ? `[${fmt(c[0])}, ${fmt(c[1])}]` : '');
const usd = (x) => (typeof x !== 'number' || !isFinite(x) ? '—' : x === 0 ? '$0' : x >= 1 ? `$${x.toFixed(2)}` : `$${x.toPrecision(2)}`);
const ms = (x) => (typeof x !== 'number' || !isFinite(x) ? '—' : x < 1000 ? `${Math.round(x)} ms` : `${(x / 1000).toFixed(2)} s`);
const when = (iso) => (iso ? iso.replace('T', ' ').slice(0, 19) : '');
function shortModel(a) {
  const m = /^local:(.+)$/.exec(a.modelId || '');
  if (m && /[\\/]/.test(m[1])) {
    const last =
      m[1]
        .split(/[\\/]+/)
        .filter(Boolean)
        .pop() || m[1];
    if (/^[0-9a-f]{8,}$/i.test(last))
      return `${(a.training && a.training.details && a.training.details.method) || 'ft'}@${last.slice(0, 6)}`;
    return `local:${last}`;
  }
  return a.modelId || '';
}
function inputText(input) {
  if (input === undefined || input === null) return '';
  if (typeof input === 'string') return input;
  const keys = Object.keys(input);
  if (keys.length === 1) return typeof input[keys[0]] === 'string' ? input[keys[0]] : JSON.stringify(input[keys[0]]);
  return keys.map((k) => `${k}: ${typeof input[k] === 'string' ? input[k] : JSON.stringify(input[k])}`).join('\n');
}

// ---- live runs (one EventSource for the page) ----
let runsState = null;
const runsListeners = new Set();
let source = null;
function subscribeRuns(fn) {
  runsListeners.add(fn);
  if (runsState) fn(runsState);
  if (!source) {
    source = new EventSource('/api/events');
    source.addEventListener('runs', (e) => {
      runsState = JSON.parse(e.data);
      for (const l of runsListeners) l(runsState);
    });
  }
  return () => runsListeners.delete(fn);
}
function useRuns() {
  const [runs, set] = useState(runsState);
  useEffect(() => subscribeRuns(set), []);
  return runs;
}

function Status({ s }) {
  return html`<span class=${`pill st-${s}`}>${s}</span>`;
}
function Progress({ done, total }) {
  const pct = total ? Math.min(100, (100 * done) / total) : 0;
  return html`<span class="bar"><span style=${`width:${pct.toFixed(1)}%`}></span></span><span class="progress-text">${done}/${total}</span>`;
}

function Runs() {
  const runs = useRuns();
  const [pick, setPick] = useState([]);
  if (!runs) return html`<p class="muted">Loading runs…</p>`;
  if (!runs.length) return html`<p>No runs in this store yet. Start one with <code>npx tunelab run</code>; it shows here live.</p>`;
  const toggle = (id) => setPick((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id].slice(-2)));
  return html`<h1>Runs</h1>
    <p class="live">Live: progress updates while a run writes the store.</p>
    ${pick.length === 2 ? html`<p><a id="compare-picked" href=${`#/compare/${enc(pick[0])}/${enc(pick[1])}`}>Compare the two selected runs</a></p>` : html`<p class="muted small">Tick two runs of the same task to compare them.</p>`}
    <div class="scroll"><table class="grid" id="runs"><thead><tr><th></th><th>run</th><th>experiment</th><th>status</th><th>progress</th><th>arms</th><th>started (UTC)</th></tr></thead><tbody>
    ${runs.map(
      (r) => html`<tr data-run=${r.id}>
      <td><input type="checkbox" aria-label=${`select ${r.id}`} checked=${pick.includes(r.id)} onChange=${() => toggle(r.id)} /></td>
      <td><a href=${`#/run/${enc(r.id)}`}>${r.id}</a></td><td>${r.experiment}</td><td><${Status} s=${r.status} /></td>
      <td class="progress" data-run=${r.id}><${Progress} done=${r.done} total=${r.total} /></td>
      <td class="small">${r.arms.map((a) => html`<span title=${`${a.done}/${a.total} ${a.status}`}>${a.name}${a.status === 'done' ? ' ✓' : a.status === 'failed' ? ' ✗' : ` ${a.done}/${a.total}`} </span>`)}</td>
      <td class="num">${when(r.createdAt)}</td></tr>`,
    )}
    </tbody></table></div>`;
}

function Tabs({ id, on }) {
  const t = (key, label, href) => html`<a class=${on === key ? 'on' : ''} href=${href}>${label}</a>`;
  return html`<nav class="tabs">${t('run', 'Overview', `#/run/${enc(id)}`)}${t('examples', 'Examples', `#/run/${enc(id)}/examples`)}${t('finetune', 'Fine-tuning', `#/run/${enc(id)}/finetune`)}${t('compare', 'Compare', `#/compare/${enc(id)}`)}</nav>`;
}

function MetricChart({ arms, metric }) {
  const rows = arms.filter((a) => isFinite(a.metric.value));
  if (!rows.length) return null;
  const W = 640,
    rowH = 26,
    left = 150,
    right = 70,
    H = rows.length * rowH + 24;
  const x = (v) => left + (W - left - right) * Math.max(0, Math.min(1, v));
  return html`<svg class="chart" viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${`${metric} per arm`}>
    ${[0, 0.25, 0.5, 0.75, 1].map((t) => html`<line x1=${x(t)} x2=${x(t)} y1="0" y2=${H - 18} stroke="#e2e8f0" /><text x=${x(t)} y=${H - 4} text-anchor="middle" fill="#64748b">${t}</text>`)}
    ${rows.map((a, i) => {
      const y = i * rowH + 6;
      const c = a.metric.ci;
      return html`<g><text x=${left - 6} y=${y + 13} text-anchor="end" fill="#0f172a">${a.name.length > 22 ? a.name.slice(0, 21) + '…' : a.name}</text>
        <rect x=${left} y=${y + 2} width=${x(a.metric.value) - left} height="14" fill="#93c5fd" rx="3" />
        ${c && isFinite(c[0]) ? html`<line x1=${x(c[0])} x2=${x(c[1])} y1=${y + 9} y2=${y + 9} stroke="#1e3a8a" stroke-width="2" />` : null}
        <text x=${W - right + 6} y=${y + 13} fill="#0f172a">${fmt(a.metric.value)}</text></g>`;
    })}</svg>`;
}

function LossChart({ curve }) {
  const W = 560,
    H = 200,
    p = { l: 42, r: 10, t: 10, b: 24 };
  const steps = Math.max(curve.train.length, ...curve.val.map((v) => v.step), 1);
  const all = [...curve.train, ...curve.val.map((v) => v.loss)].filter(isFinite);
  if (!all.length) return null;
  const hi = Math.max(...all) || 1,
    lo = Math.min(0, ...all);
  const x = (s) => p.l + ((W - p.l - p.r) * s) / steps;
  const y = (v) => p.t + (H - p.t - p.b) * (1 - (v - lo) / (hi - lo || 1));
  return html`<svg class="chart loss" viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${`loss curve of ${curve.arm}`}>
    ${[lo, (lo + hi) / 2, hi].map((v) => html`<line x1=${p.l} x2=${W - p.r} y1=${y(v)} y2=${y(v)} stroke="#e2e8f0" /><text x=${p.l - 4} y=${y(v) + 4} text-anchor="end" fill="#64748b">${v.toFixed(2)}</text>`)}
    <polyline fill="none" stroke="#2563eb" stroke-width="1.5" points=${curve.train.map((v, i) => `${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`).join(' ')} />
    ${curve.val.length > 1 ? html`<polyline fill="none" stroke="#ea580c" stroke-dasharray="4 3" points=${curve.val.map((v) => `${x(v.step).toFixed(1)},${y(v.loss).toFixed(1)}`).join(' ')} />` : null}
    ${curve.val.map((v) => html`<circle cx=${x(v.step)} cy=${y(v.loss)} r="3.5" fill="#ea580c"><title>step ${v.step}: validation loss ${v.loss.toFixed(3)}</title></circle>`)}
    <text x=${p.l} y=${H - 6} fill="#64748b">step 1</text><text x=${W - p.r} y=${H - 6} text-anchor="end" fill="#64748b">step ${steps}</text>
  </svg><p class="small muted"><span style="color:#2563eb">━</span> training loss per step · <span style="color:#ea580c">●</span> validation loss</p>`;
}

function Run({ id }) {
  const runs = useRuns();
  const live = runs && runs.find((r) => r.id === id);
  const { data, error } = useData(`/api/runs/${enc(id)}`, [live ? `${live.status}:${live.done}` : '']);
  if (error) return html`<p class="err">${error.message}</p>`;
  if (!data) return html`<p class="muted">Loading…</p>`;
  const rec = data.decision && data.decision.recommendation;
  return html`<h1>${data.experiment} <span class="muted small">${data.runId}</span></h1>
    <p class="muted small">seed ${data.seed} · started ${when(data.createdAt)} UTC${data.finishedAt ? ` · finished ${when(data.finishedAt)}` : ''} · ${data.task.data} · train ${data.task.sizes.train} / dev ${data.task.sizes.dev} / test ${data.task.sizes.test}
      ${live ? html` · <${Status} s=${live.status} /> <${Progress} done=${live.done} total=${live.total} />` : null}</p>
    <${Tabs} id=${id} on="run" />
    ${rec ? html`<section class="card rec" id="recommendation"><h2 style="margin-top:0">Recommendation${rec.arm ? `: ${rec.arm}` : ''}</h2>${rec.sentences.map((s) => html`<p>${s}</p>`)}</section>` : null}
    <h2>Arms</h2>
    <div class="scroll"><table class="grid" id="arms-table"><thead><tr><th>arm</th><th>kind</th><th>model</th><th class="num">${data.task.metric} (95% CI)</th><th class="num">n</th><th class="num">errors</th><th class="num">cost / 1k</th><th class="num">p50</th><th>status</th></tr></thead><tbody>
    ${data.arms.map(
      (
        a,
      ) => html`<tr><td>${a.name}${a.name === data.baseline ? html` <span class="muted small">(baseline)</span>` : null}</td><td>${a.kind}</td><td title=${a.modelId}><code>${shortModel(a)}</code></td>
      <td class="num"><b>${fmt(a.metric.value)}</b> <span class="muted">${ci(a.metric.ci)}</span></td><td class="num">${a.n}</td><td class="num">${a.errors}</td><td class="num">${usd(a.costPer1k)}</td><td class="num">${ms(a.latencyMs.p50)}</td><td>${a.status}</td></tr>`,
    )}
    </tbody></table></div>
    <h2>${data.task.metric} per arm</h2><div class="card"><${MetricChart} arms=${data.arms} metric=${data.task.metric} /></div>
    ${data.evidence ? html`<p><a href=${`#/run/${enc(id)}/examples?disagree=1`}>${data.evidence.disagree} of ${data.evidence.count} examples where the arms disagree →</a></p>` : null}
    ${data.evidence && data.evidence.curves.length ? html`<h2>Training loss</h2><div class="panels">${data.evidence.curves.map((c) => html`<div class="card"><h3>${c.arm}</h3><${LossChart} curve=${c} /></div>`)}</div>` : null}
    ${data.warnings.length ? html`<h2>Warnings</h2><ul>${data.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : null}`;
}

function Examples({ id, query }) {
  const [f, setF] = useState(() => ({
    arm: query.get('arm') || '',
    outcome: query.get('outcome') || '',
    disagree: query.get('disagree') === '1',
    expected: query.get('expected') || '',
    q: query.get('q') || '',
  }));
  const meta = useData(`/api/runs/${enc(id)}`);
  const qs = new URLSearchParams();
  if (f.arm && f.outcome) {
    qs.set('arm', f.arm);
    qs.set('outcome', f.outcome);
  }
  if (f.disagree) qs.set('disagree', '1');
  if (f.expected) qs.set('expected', f.expected);
  if (f.q) qs.set('q', f.q);
  const [limit, setLimit] = useState(100);
  const list = useData(`/api/runs/${enc(id)}/examples?${qs}&limit=${limit}`);
  useEffect(() => {
    history.replaceState(null, '', `#/run/${enc(id)}/examples?${qs}`);
  }, [qs.toString()]);
  const arms = meta.data ? meta.data.arms.map((a) => a.name) : [];
  const set = (k) => (e) => setF({ ...f, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  return html`<h1>Examples <span class="muted small">${id}</span></h1>
    <${Tabs} id=${id} on="examples" />
    <div class="filters">
      <label>arm <select id="f-arm" value=${f.arm} onChange=${set('arm')}><option value="">any</option>${arms.map((a) => html`<option value=${a}>${a}</option>`)}</select></label>
      <label><select id="f-outcome" value=${f.outcome} onChange=${set('outcome')}><option value="">passes or fails</option><option value="pass">passes</option><option value="fail">fails</option></select></label>
      <label><input type="checkbox" id="f-disagree" checked=${f.disagree} onChange=${set('disagree')} /> arms disagree</label>
      <label>expected <select id="f-expected" value=${f.expected} onChange=${set('expected')}><option value="">any</option>${(meta.data ? meta.data.labels : []).map((l) => html`<option value=${l}>${l}</option>`)}</select></label>
      <label><input type="search" id="f-q" placeholder="search input and outputs" value=${f.q} onInput=${set('q')} /></label>
      <a id="csv" href=${`/api/runs/${enc(id)}/examples?${qs}&format=csv`} download>CSV of this view</a>
    </div>
    ${list.error ? html`<p class="err">${list.error.message}</p>` : null}
    ${
      list.data
        ? html`<p id="ex-count" class="muted">${list.data.total} example${list.data.total === 1 ? '' : 's'}${list.data.total > list.data.examples.length ? ` (showing ${list.data.examples.length})` : ''}</p>
    <div class="scroll"><table class="grid" id="examples"><thead><tr><th>example</th><th>expected</th>${arms.map((a) => html`<th>${a}</th>`)}</tr></thead><tbody>
      ${list.data.examples.map(
        (ex) => html`<tr class="ex-row clickable" data-id=${ex.id} onClick=${() => {
          location.hash = `#/run/${enc(id)}/example/${enc(ex.id)}`;
        }}>
        <td><a href=${`#/run/${enc(id)}/example/${enc(ex.id)}`}>${ex.source ? `${ex.source.file}:${ex.source.line}` : ex.id}</a><div class="inp muted small" title=${inputText(ex.input)}>${inputText(ex.input)}</div></td>
        <td>${ex.expected}</td>
        ${arms.map((a) => {
          const o = ex.arms[a];
          return o
            ? html`<td class=${`cell-out ${o.pass ? 'ok' : 'bad'}`} title=${o.output}>${o.pass ? '✓' : '✗'} ${o.error ? 'error' : (o.extracted ?? o.output)}</td>`
            : html`<td class="muted">—</td>`;
        })}
      </tr>`,
      )}
    </tbody></table></div>
    ${list.data.total > list.data.examples.length ? html`<p><button onClick=${() => setLimit(limit + 200)}>Show more</button></p>` : null}`
        : html`<p class="muted">Loading…</p>`
    }`;
}

function Messages({ msgs }) {
  if (!msgs) return html`<p class="muted small">No call was logged for this example (a cached or batched answer).</p>`;
  return html`<div class="messages">${msgs.map((m) => html`<div class=${`msg msg-${m.role}`}><div class="role">${m.role}</div><pre>${m.content}</pre></div>`)}</div>`;
}

function Example({ id, ex }) {
  const { data, error } = useData(`/api/runs/${enc(id)}/examples/${enc(ex)}`);
  if (error) return html`<p class="err">${error.message}</p>`;
  if (!data) return html`<p class="muted">Loading…</p>`;
  const e = data.example;
  const src = data.sourceFile;
  return html`<h1>Example <code>${e.id}</code></h1>
    <${Tabs} id=${id} on="examples" />
    <p><a href=${`#/run/${enc(id)}/examples`}>← all examples</a>${e.disagree ? html` · <b>the arms disagree</b>` : null}</p>
    ${
      e.source
        ? html`<p class="small">Source: ${src && src.path ? html`<a id="source-link" href=${`vscode://file/${src.path}:${e.source.line}`} title="open in your editor">${src.path}:${e.source.line}</a>` : html`<code id="source-link">${e.source.file}:${e.source.line}</code>`}</p>
      ${src && src.lines.length ? html`<pre class="card small">${src.lines.map((l) => `${l.n === e.source.line ? '▶' : ' '} ${String(l.n).padStart(5)}  ${l.text}\n`)}</pre>` : null}`
        : null
    }
    <div class="card input"><b>Input</b><pre>${inputText(e.input)}</pre><b>Expected</b> <code>${e.expected}</code></div>
    <h2>Each arm's answer</h2>
    <div class="panels">${Object.keys(data.messages).map((a) => {
      const o = e.arms[a];
      return html`<div class=${`arm-out ${o ? (o.pass ? 'pass' : 'fail') : ''}`} data-arm=${a}>
        <h3>${a} ${o ? html`<span class=${o.pass ? 'ok' : 'bad'}>${o.pass ? '✓ right' : '✗ wrong'}</span>` : html`<span class="muted">no result</span>`}</h3>
        ${
          o
            ? html`<div class="small muted">answer <code>${o.extracted ?? '—'}</code> · score ${fmt(o.score, 2)} · ${ms(o.latencyMs)} · ${o.tokensIn} / ${o.tokensOut} tokens${o.cached ? ' · cached' : ''}</div>
          <b class="small">Output</b><pre class="output">${o.error ? `error: ${o.error}` : o.output}</pre>`
            : null
        }
        <b class="small">Messages sent</b><${Messages} msgs=${data.messages[a]} /></div>`;
    })}</div>`;
}

function Finetune({ id }) {
  const { data, error } = useData(`/api/runs/${enc(id)}/finetune`);
  const jobs = useData('/api/jobs');
  if (error) return html`<p class="err">${error.message}</p>`;
  return html`<h1>Fine-tuning <span class="muted small">${id}</span></h1><${Tabs} id=${id} on="finetune" />
    ${
      !data
        ? html`<p class="muted">Loading…</p>`
        : !data.length
          ? html`<p>No fine-tune arms in this run.</p>`
          : data.map(
              (f) => html`<section class="card ft-arm" data-arm=${f.arm}>
      <h2 style="margin-top:0">${f.arm} <span class="muted small">${f.kind}</span> <${Status} s=${f.status} /></h2>
      ${f.error ? html`<p class="err">${f.error}</p>` : null}
      <div class="panels"><div>
        <table class="kv"><tr><th>model</th><td><code>${f.modelId}</code></td></tr>
        ${f.training ? html`<tr><th>training time</th><td>${(f.training.seconds / 60).toFixed(1)} min</td></tr><tr><th>training cost</th><td>${usd(f.training.costUsd)}</td></tr>` : null}
        ${Object.entries(f.hyperparameters).map(([k, v]) => html`<tr><th>${k}</th><td>${typeof v === 'object' ? JSON.stringify(v) : String(v)}</td></tr>`)}</table>
      </div><div>${f.curve ? html`<${LossChart} curve=${f.curve} />` : html`<p class="muted">No loss curve stored.</p>`}</div></div>
      <h3>Training data preview</h3>${f.preview.length ? f.preview.map((p) => html`<p class="small muted">${p.source}</p><${Messages} msgs=${p.messages} />`) : html`<p class="muted">Not available.</p>`}
    </section>`,
            )
    }
    ${jobs.data && jobs.data.length ? html`<h2>Fine-tuning jobs in this store</h2><div class="scroll"><table class="grid"><thead><tr><th>job</th><th>backend</th><th>status</th><th>updated</th></tr></thead><tbody>${jobs.data.map((j) => html`<tr><td><code>${j.id}</code></td><td>${j.backend}</td><td>${j.status}</td><td>${new Date(j.updatedAt).toISOString().slice(0, 19)}</td></tr>`)}</tbody></table></div>` : null}`;
}

function Compare({ a, b, query }) {
  const runs = useRuns();
  const [changed, setChanged] = useState(query.get('changed') !== '0');
  const run = runs && runs.find((r) => r.id === a);
  const others = runs ? runs.filter((r) => r.id !== a && (!run || r.experiment === run.experiment)) : [];
  const path = b ? `/api/compare?a=${enc(a)}&b=${enc(b)}${changed ? '&changed=1' : ''}` : null;
  const { data, error } = useData(path || '/api/runs', [path]);
  return html`<h1>Compare runs</h1><${Tabs} id=${a} on="compare" />
    <div class="filters"><label>run A <code>${a}</code></label>
      <label>run B <select id="cmp-b" value=${b || ''} onChange=${(e) => {
        location.hash = `#/compare/${enc(a)}/${enc(e.target.value)}`;
      }}><option value="">choose…</option>${others.map((r) => html`<option value=${r.id}>${r.id} (${r.status})</option>`)}</select></label>
      <label><input type="checkbox" id="cmp-changed" checked=${changed} onChange=${(e) => setChanged(e.target.checked)} /> only examples that changed</label>
      ${b ? html`<a href=${`${path}&format=csv`} download>CSV of this view</a>` : null}</div>
    ${error ? html`<p class="err">${error.message}</p>` : null}
    ${
      b && data && data.arms
        ? html`<p class="muted">${data.common} examples in both runs; ${data.rows.length} shown.</p>
      <div class="scroll"><table class="grid" id="cmp-arms"><thead><tr><th>arm</th><th class="num">A</th><th class="num">B</th><th class="num">B − A</th><th class="num">fixed in B</th><th class="num">broken in B</th></tr></thead><tbody>
      ${data.arms.map((x) => html`<tr><td>${x.name}</td><td class="num">${fmt(x.a)}</td><td class="num">${fmt(x.b)}</td><td class="num">${isFinite(x.a) && isFinite(x.b) ? fmt(x.b - x.a) : '—'}</td><td class="num ok">${x.fixed}</td><td class="num bad">${x.broken}</td></tr>`)}</tbody></table></div>
      <h2>Examples</h2><div class="scroll"><table class="grid" id="cmp-rows"><thead><tr><th>example</th><th>expected</th>${data.arms.map((x) => html`<th>${x.name}</th>`)}</tr></thead><tbody>
      ${data.rows.map(
        (
          r,
        ) => html`<tr class="cmp-row" data-id=${r.id}><td><a href=${`#/run/${enc(b)}/example/${enc(r.id)}`}>${r.id}</a><div class="inp muted small">${inputText(r.input)}</div></td><td>${r.expected}</td>
        ${data.arms.map((x) => {
          const c = r.arms[x.name];
          if (!c) return html`<td class="muted">—</td>`;
          const mark = (p) => (p === undefined ? '·' : p ? '✓' : '✗');
          return html`<td class=${c.a !== c.b && c.a !== undefined && c.b !== undefined ? (c.b ? 'ok' : 'bad') : ''} title=${`A: ${c.aAnswer ?? '—'} · B: ${c.bAnswer ?? '—'}`}>${mark(c.a)} → ${mark(c.b)}</td>`;
        })}</tr>`,
      )}
      </tbody></table></div>`
        : b
          ? html`<p class="muted">Loading…</p>`
          : html`<p>Choose a second run of the same experiment.</p>`
    }`;
}

function App() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const on = () => setRoute(parseHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const { parts, query } = route;
  let page;
  if (parts[0] === 'run' && parts[1] && parts[2] === 'examples') page = html`<${Examples} id=${parts[1]} query=${query} key=${parts[1]} />`;
  else if (parts[0] === 'run' && parts[1] && parts[2] === 'example' && parts[3]) page = html`<${Example} id=${parts[1]} ex=${parts[3]} />`;
  else if (parts[0] === 'run' && parts[1] && parts[2] === 'finetune') page = html`<${Finetune} id=${parts[1]} />`;
  else if (parts[0] === 'run' && parts[1]) page = html`<${Run} id=${parts[1]} />`;
  else if (parts[0] === 'compare' && parts[1]) page = html`<${Compare} a=${parts[1]} b=${parts[2]} query=${query} />`;
  else page = html`<${Runs} />`;
  return html`<header class="top"><a href="#/">tunelab view</a><span class="crumbs">${parts[0] === 'run' || parts[0] === 'compare' ? html`<a href="#/">runs</a> / ${parts[1]}` : 'runs in this store'}</span></header><main>${page}</main>`;
}

render(html`<${App} />`, document.getElementById('app'));
