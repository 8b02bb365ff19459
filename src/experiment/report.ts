// Builds a RunReport from what the store holds (so any run can be re-rendered without its config or
// data): per-arm metric with bootstrap interval, cost, latency, tokens, engineering cost, and paired
// comparisons against the baseline (paired bootstrap of the difference, exact McNemar p-value).
import { summarize } from '../metrics/index.ts';
import { compareOnMetric } from '../metrics/index.ts';
import { decisionOfRun } from '../decide/index.ts';
import type { ArmReport, PairedComparison, RunReport } from '../report/types.ts';
import type { ArmRecord, ResultRecord, RunRecord, Store } from '../store/index.ts';

const ZERO = { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: 0 };

export function buildRunReport(store: Pick<Store, 'getRun' | 'listArms' | 'results'>, runId: string): RunReport {
  const run = store.getRun(runId);
  if (!run) throw new Error(`no run ${runId}`);
  const arms = store.listArms(runId);
  const results = new Map<string, ResultRecord[]>();
  for (const a of arms) results.set(a.name, store.results(runId, a.name));
  return reportFrom(run, arms, results);
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function reportFrom(run: RunRecord, armRecs: ArmRecord[], results: Map<string, ResultRecord[]>): RunReport {
  const meta = run.meta;
  const seed = meta.seed ?? 0;
  const order = meta.arms ?? [];
  const sorted = [...armRecs].sort((a, b) => rank(order, a.name) - rank(order, b.name));
  const scorer = { name: meta.metric?.name ?? 'score', labels: meta.metric?.labels };
  const total = meta.sizes?.test ?? 0;
  const warnings = [...(meta.warnings ?? [])];

  const arms: ArmReport[] = sorted.map((a) => {
    const rows = results.get(a.name) ?? [];
    const ok = rows.filter((r) => !r.error);
    const lat = ok.map((r) => r.latencyMs).sort((x, y) => x - y);
    const tin = ok.reduce((s, r) => s + r.tokensIn, 0);
    const tout = ok.reduce((s, r) => s + r.tokensOut, 0);
    const cost = rows.reduce((s, r) => s + r.costUsd, 0);
    const errors = rows.length - ok.length;
    const metric = rows.length
      ? summarize(
          scorer,
          rows.map((r) => ({ score: r.score, pass: r.pass, extracted: r.extracted, expected: r.expected })),
          { seed },
        )
      : { name: scorer.name, value: NaN, ci: [NaN, NaN] as [number, number], n: 0 };
    let status: ArmReport['status'] = a.status === 'failed' ? 'failed' : rows.length >= total && a.status === 'done' ? 'done' : 'partial';
    if (a.status === 'failed' && rows.length >= total && total > 0) status = 'failed';
    if (errors) warnings.push(`${a.name}: ${errors} of ${rows.length} calls failed (scored as wrong)`);
    const r: ArmReport = {
      name: a.name,
      kind: a.kind,
      modelId: a.modelId ?? '',
      promptHash: a.promptHash ?? '',
      status,
      metric,
      n: rows.length,
      errors,
      costPer1k: rows.length ? (cost / rows.length) * 1000 : 0,
      latencyMs: { p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), mean: lat.length ? lat.reduce((s, x) => s + x, 0) / lat.length : 0 },
      tokens: { input: tin, output: tout, meanInput: ok.length ? tin / ok.length : 0, meanOutput: ok.length ? tout / ok.length : 0 },
      spent: { ...ZERO, ...(a.spent ?? {}) },
    };
    if (a.error) r.error = a.error;
    if (a.training) r.training = a.training;
    if (a.notes) r.notes = a.notes;
    return r;
  });

  const baseline = meta.baseline && arms.some((a) => a.name === meta.baseline) ? meta.baseline : arms[0]?.name;
  const comparisons: PairedComparison[] = [];
  if (baseline) {
    const base = new Map((results.get(baseline) ?? []).map((r) => [r.exampleId, r]));
    for (const a of arms) {
      if (a.name === baseline) continue;
      // on the task's own metric: macro-F1 differences for macro-F1 (decide/metrics), so minDiff follows it
      const xs: ResultRecord[] = [];
      const ys: ResultRecord[] = [];
      for (const r of results.get(a.name) ?? []) {
        const b = base.get(r.exampleId);
        if (!b) continue;
        xs.push(r);
        ys.push(b);
      }
      if (!xs.length) continue;
      const c = compareOnMetric(scorer, xs, ys, { seed });
      comparisons.push({
        arm: a.name,
        baseline,
        diff: c.diff,
        ci: c.ci,
        n: c.n,
        pValue: c.p,
        ...(c.discordant ? { discordant: { armOnly: c.discordant.aOnly, baselineOnly: c.discordant.bOnly } } : {}),
      });
    }
  }
  const d = meta.sizes ?? { train: 0, dev: 0, test: 0 };
  const report: RunReport = {
    runId: run.id,
    experiment: run.experiment,
    createdAt: new Date(run.createdAt).toISOString(),
    seed,
    task: { metric: meta.metric?.name ?? '', data: meta.data ?? '', sizes: { train: d.train, dev: d.dev, test: d.test } },
    arms,
    comparisons,
    warnings,
  };
  if (run.finishedAt) report.finishedAt = new Date(run.finishedAt).toISOString();
  if (baseline) report.baseline = baseline;
  if (arms.some((a) => a.n > 0)) report.decision = decisionOfRun(run, armRecs, results, arms);
  return report;
}

function rank(order: string[], name: string): number {
  const i = order.indexOf(name);
  return i < 0 ? order.length : i;
}
