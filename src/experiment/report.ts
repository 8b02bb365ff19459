// Builds a RunReport from what the store holds (so any run can be re-rendered without its config or
// data): per-arm metric with bootstrap interval, cost, latency, tokens, engineering cost, and paired
// comparisons against the baseline (paired bootstrap of the difference, exact McNemar p-value).
// The rows are read from the store one at a time into per-arm columns (typed arrays, metrics/columns.ts):
// memory per result is a few tens of bytes, not an object per row, and the numbers are those the same
// rows held as objects give (reportFrom builds the same columns from arrays).
import { columnsOfRows, compareColumns, resultColumns, StringTable, summarizeColumns, type ResultColumns } from '../metrics/index.ts';
import { decisionOfRun } from '../decide/index.ts';
import type { ArmReport, PairedComparison, RunReport } from '../report/types.ts';
import type { ArmRecord, ResultRecord, RunRecord, Store } from '../store/index.ts';

const ZERO = { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: 0 };

export function buildRunReport(
  store: Pick<Store, 'getRun' | 'listArms' | 'results'> & Partial<Pick<Store, 'iterateResults' | 'countResults'>>,
  runId: string,
): RunReport {
  const run = store.getRun(runId);
  if (!run) throw new Error(`no run ${runId}`);
  const arms = store.listArms(runId);
  const labelled = Boolean(run.meta.metric?.labels?.length);
  const table = new StringTable();
  const columns = new Map<string, ResultColumns>();
  for (const a of arms) {
    const source = store.iterateResults ? () => store.iterateResults!(runId, a.name) : () => store.results(runId, a.name);
    columns.set(a.name, resultColumns(source, { labelled, table, size: store.countResults?.(runId, a.name) }));
  }
  return reportFromColumns(run, arms, columns);
}

/** Per-arm columns of result rows held in memory, over one string table (so arms compare by code). */
export function columnsOfResults(results: ReadonlyMap<string, readonly ResultRecord[]>, labelled: boolean): Map<string, ResultColumns> {
  const table = new StringTable();
  return new Map([...results].map(([arm, rows]) => [arm, columnsOfRows(rows, { labelled, table })]));
}

function quantile(sorted: ArrayLike<number>, q: number): number {
  if (!sorted.length) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function reportFrom(run: RunRecord, armRecs: ArmRecord[], results: Map<string, ResultRecord[]>): RunReport {
  return reportFromColumns(run, armRecs, columnsOfResults(results, Boolean(run.meta.metric?.labels?.length)));
}

const EMPTY = columnsOfRows([], { labelled: true });

/** The report from per-arm result columns (built with labels exactly when the run's metric has labels). */
export function reportFromColumns(run: RunRecord, armRecs: ArmRecord[], results: ReadonlyMap<string, ResultColumns>): RunReport {
  const meta = run.meta;
  const seed = meta.seed ?? 0;
  const order = meta.arms ?? [];
  const sorted = [...armRecs].sort((a, b) => rank(order, a.name) - rank(order, b.name));
  const scorer = { name: meta.metric?.name ?? 'score', labels: meta.metric?.labels };
  const total = meta.sizes?.test ?? 0;
  const warnings = [...(meta.warnings ?? [])];

  const arms: ArmReport[] = sorted.map((a) => {
    const c = results.get(a.name) ?? EMPTY;
    const rowsLength = c.n;
    let okCount = 0;
    let tin = 0;
    let tout = 0;
    let cost = 0;
    for (let i = 0; i < c.n; i++) {
      cost += c.costUsd[i];
      if (c.error[i]) continue;
      okCount++;
      tin += c.tokensIn[i];
      tout += c.tokensOut[i];
    }
    const lat = new Float64Array(okCount);
    for (let i = 0, j = 0; i < c.n; i++) if (!c.error[i]) lat[j++] = c.latencyMs[i];
    lat.sort();
    let latSum = 0;
    for (let i = 0; i < lat.length; i++) latSum += lat[i];
    const errors = rowsLength - okCount;
    const metric = rowsLength
      ? summarizeColumns(scorer, c, { seed })
      : { name: scorer.name, value: NaN, ci: [NaN, NaN] as [number, number], n: 0 };
    let status: ArmReport['status'] = a.status === 'failed' ? 'failed' : rowsLength >= total && a.status === 'done' ? 'done' : 'partial';
    if (a.status === 'failed' && rowsLength >= total && total > 0) status = 'failed';
    if (errors) warnings.push(`${a.name}: ${errors} of ${rowsLength} calls failed (scored as wrong)`);
    const r: ArmReport = {
      name: a.name,
      kind: a.kind,
      modelId: a.modelId ?? '',
      promptHash: a.promptHash ?? '',
      status,
      metric,
      n: rowsLength,
      errors,
      costPer1k: rowsLength ? (cost / rowsLength) * 1000 : 0,
      latencyMs: { p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), mean: lat.length ? latSum / lat.length : 0 },
      tokens: { input: tin, output: tout, meanInput: okCount ? tin / okCount : 0, meanOutput: okCount ? tout / okCount : 0 },
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
    const baseCols = results.get(baseline) ?? EMPTY;
    // example id → row of the baseline, read only when there is another arm to compare
    let base: Map<string, number> | undefined;
    for (const a of arms) {
      if (a.name === baseline) continue;
      const cols = results.get(a.name);
      if (!cols || !cols.n) continue;
      base ??= new Map(baseCols.ids().map((id, i) => [id, i]));
      // on the task's own metric: macro-F1 differences for macro-F1 (decide/metrics), so minDiff follows it
      const xs: number[] = [];
      const ys: number[] = [];
      const ids = cols.ids();
      for (let i = 0; i < ids.length; i++) {
        const b = base.get(ids[i]);
        if (b === undefined) continue;
        xs.push(i);
        ys.push(b);
      }
      if (!xs.length) continue;
      const c = compareColumns(scorer, cols, Int32Array.from(xs), baseCols, Int32Array.from(ys), { seed });
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
