// Builds the DecisionReport of a stored run from what the store holds (the run's meta and config, its arms and
// per-example results, and the per-arm summaries the report already computed): costs, comparisons, flags,
// learning curves, consistency across repeats, and the advisor's recommendation. No model is called.
import { bootstrapCI, consistency as consistencyOf } from '../stats/index.ts';
import { columnsOfRows, compareColumns, NO_LABEL, StringTable, type ResultColumns } from '../metrics/index.ts';
import { advise, type PairResult } from './advisor.ts';
import { hostingPerMonth, oneOffTotal } from './cost.ts';
import { fmtCi, fmtDiff, fmtMetric, fmtP, fmtUsd } from './format.ts';
import { perArmValue, resolveDecision, type DecisionConfig } from './settings.ts';
import type { ResultRecord } from '../experiment/index.ts';
import type { ArmCost, ArmDiagnostics, ArmEvidence, Consistency, Curve, DecisionReport, DecisionSettings } from './types.ts';

/** What the builder reads of one stored result row: the store's result record without its bookkeeping. */
export type DecisionRow = Omit<ResultRecord, 'idx' | 'cached'>;

export interface DecisionArmInput {
  name: string;
  kind: string;
  status: string;
  spent?: { calls: number; tokensIn: number; tokensOut: number; costUsd: number; ms: number };
  training?: { seconds: number; costUsd: number; modelId: string; details?: Record<string, unknown> };
  notes?: Record<string, unknown>;
  /** the per-arm summary the report computed */
  metric: { value: number; ci: [number, number]; n: number };
  latencyP95: number;
}

type ModelCfg = { id: string; provider?: string; path?: string; price?: { input?: number; output?: number; perHour?: number } };
type ArmCfg = { name: string; kind: string; model?: string; of?: { model?: string; kind?: string } };

export interface DecisionInput {
  metric: { name: string; labels?: string[]; type?: string };
  /** the validated config stored with the run */
  config: {
    models?: ModelCfg[];
    arms?: ArmCfg[];
    baseline?: string;
    decision?: DecisionConfig;
    expansion?: {
      curves: { arm: string; axis: 'train' | 'shots'; points: { arm: string; x: number | null }[] }[];
      repeats: { arm: string; members: string[] }[];
      baselines: string[];
    };
  };
  trainSize?: number;
  testIds?: string[];
  baseline?: string;
  arms: DecisionArmInput[];
  /** per-arm result rows, or their columns (metrics/columns.ts; built with labels exactly when the metric has labels) */
  results: ReadonlyMap<string, readonly DecisionRow[] | ResultColumns>;
  seed?: number;
  /** CLI overrides of the decision settings (tunelab advise --volume ...) */
  overrides?: Partial<DecisionSettings>;
}

export const MACRO_F1_NOTE =
  "macro-F1 is the unweighted mean of per-label F1 over the labels that occur among the test set's expected answers or the arm's parsed answers — scikit-learn's f1_score(average='macro', labels=<those labels>, zero_division=0). An output in which no label is found counts as wrong for its expected label and is not a label of its own.";

const roleOf = (kind: string): ArmEvidence['role'] => (kind === 'majority' ? 'majority' : kind === 'classical' ? 'classical' : 'arm');
const PROMPT_KINDS = new Set(['prompt', 'fewshot', 'variants', 'optimize']);
const FT_KINDS = new Set(['finetune', 'finetune+prompt', 'external', 'distill']);

function modelOf(input: DecisionInput, arm: string): { cfg?: ModelCfg; local: boolean; kind: string } {
  const a = input.config.arms?.find((x) => x.name === arm);
  const kind = a?.kind === 'repeat' ? (a.of?.kind ?? 'repeat') : (a?.kind ?? '');
  const id = a?.kind === 'repeat' ? a.of?.model : a?.model;
  const cfg = id ? input.config.models?.find((m) => m.id === id) : undefined;
  const local = Boolean((id && id.startsWith('local:')) || cfg?.provider === 'local' || kind === 'majority' || kind === 'classical');
  return { cfg, local, kind };
}

function armCost(
  input: DecisionInput,
  s: DecisionSettings,
  a: DecisionArmInput,
  rows: ResultColumns,
  seed: number,
): { cost: ArmCost; warning?: string } {
  const { cfg, local } = modelOf(input, a.name);
  const price = { input: cfg?.price?.input ?? 0, output: cfg?.price?.output ?? 0, perHour: cfg?.price?.perHour };
  const perHour = price.perHour ?? s.computePerHour;
  let basis: ArmCost['basis'] = 'none';
  let warning: string | undefined;
  let wallRows = 0;
  const baselineKind = a.kind === 'majority' || a.kind === 'classical';
  let okCount = 0;
  for (let i = 0; i < rows.n; i++) if (!rows.error[i]) okCount++;
  const per = new Float64Array(okCount);
  for (let i = 0, j = 0; i < rows.n; i++) {
    if (rows.error[i]) continue;
    const cpuMs = rows.cpuMs ? rows.cpuMs[i] : NaN;
    const costUsd = rows.costUsd[i];
    const hasCpu = !Number.isNaN(cpuMs);
    let v: number;
    const tokens = (rows.tokensIn[i] * price.input + rows.tokensOut[i] * price.output) / 1e6;
    if (baselineKind && !hasCpu && costUsd > 0) {
      // in-process baselines store CPU time × $0.05/h (experiment/arms/baseline.ts): rescale to the configured rate
      basis = 'cpu';
      v = (costUsd / 0.05) * s.computePerHour;
    } else if (hasCpu && local) {
      basis = 'cpu';
      v = tokens + (cpuMs / 3_600_000) * perHour;
    } else if (local) {
      // the stored cost: priced on CPU time by the model layer (since ChatResponse.cpuMs), unless it equals the
      // wall-time price exactly (runs stored before that), or the model had no price per hour
      const wall = tokens + (rows.latencyMs[i] / 3_600_000) * perHour;
      if (price.perHour !== undefined && costUsd > 0 && Math.abs(costUsd - wall) > 1e-9 * Math.max(wall, 1e-12)) {
        basis = 'cpu';
        v = costUsd;
      } else {
        wallRows++;
        v = wall;
      }
    } else {
      basis = 'tokens';
      v = costUsd;
    }
    per[j++] = v;
  }
  if (local && wallRows > 0) {
    warning = a.name;
    basis = 'wall';
  }
  const ci = per.length ? bootstrapCI(per, { seed, iterations: 1000 }) : { estimate: 0, ci: [0, 0] as [number, number] };
  const spent = a.spent ?? { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, ms: 0 };
  const searchUsd = spent.costUsd || (local && spent.calls > 0 ? (spent.ms / 3_600_000) * perHour : 0);
  const trainingSeconds = a.training?.seconds ?? 0;
  const trainingUsd = a.training ? a.training.costUsd || (local ? (trainingSeconds / 3600) * perHour : 0) : 0;
  const kind = modelOf(input, a.name).kind;
  const engineerHours = s.engineer ? perArmValue(s.engineer.hours, a.name, kind) : 0;
  const engineerUsd = s.engineer ? engineerHours * s.engineer.ratePerHour : 0;
  const parts = { searchUsd, searchCalls: spent.calls, searchMs: spent.ms, trainingUsd, trainingSeconds, engineerUsd, engineerHours };
  return {
    cost: {
      perRequestUsd: Number.isFinite(ci.estimate) ? ci.estimate : 0,
      perRequestCi: ci.ci,
      basis,
      oneOff: { ...parts, totalUsd: oneOffTotal(parts) },
      hostingPerMonthUsd: hostingPerMonth(perArmValue(s.hostingPerHour, a.name, kind)),
    },
    warning,
  };
}

/** Per-arm columns of the input's results (rows held as arrays are turned into columns over one string table). */
function columnsOf(input: DecisionInput, labelled: boolean): Map<string, ResultColumns> {
  const table = new StringTable();
  const out = new Map<string, ResultColumns>();
  for (const [arm, v] of input.results) out.set(arm, isColumns(v) ? v : columnsOfRows(v, { labelled, table }));
  return out;
}

function isColumns(v: readonly DecisionRow[] | ResultColumns): v is ResultColumns {
  return !Array.isArray(v);
}

export function buildDecision(input: DecisionInput): DecisionReport {
  const s = resolveDecision(input.config.decision, input.overrides);
  const seed = input.seed ?? 0;
  const metric = input.metric.name;
  const scorer = { name: metric, labels: input.metric.labels };
  const exp = input.config.expansion ?? { curves: [], repeats: [], baselines: [] };
  const warnings: string[] = [];
  const notCandidate = new Set<string>();
  for (const r of exp.repeats) for (const m of r.members.slice(1)) notCandidate.add(m);
  for (const c of exp.curves) for (const p of c.points) if (p.arm !== c.arm) notCandidate.add(p.arm);

  const labelled = Boolean(input.metric.labels?.length);
  const cols = columnsOf(input, labelled);
  // example id → row, per arm: read (from the store, for a stored run) only when two arms are paired
  const idIndex = new Map<string, Map<string, number>>();
  const byId = (arm: string): Map<string, number> | undefined => {
    const c = cols.get(arm);
    if (!c) return undefined;
    let m = idIndex.get(arm);
    if (!m) idIndex.set(arm, (m = new Map(c.ids().map((id, i) => [id, i]))));
    return m;
  };
  const present = input.arms.filter((a) => (cols.get(a.name)?.n ?? 0) > 0 && Number.isFinite(a.metric.value));

  const wallArms: string[] = [];
  const evidence: ArmEvidence[] = present.map((a) => {
    const { cost, warning } = armCost(input, s, a, cols.get(a.name)!, seed);
    if (warning) wallArms.push(warning);
    const role = roleOf(a.kind);
    const ev: ArmEvidence = {
      name: a.name,
      kind: a.kind,
      role,
      candidate: !notCandidate.has(a.name) && role !== 'majority',
      metric: a.metric,
      p95LatencyMs: a.latencyP95,
      cost,
    };
    if (role === 'majority') ev.majorityLabel = typeof a.notes?.label === 'string' ? a.notes.label : undefined;
    return ev;
  });

  if (wallArms.length)
    warnings.push(
      `local cost of ${wallArms.join(', ')} estimated from wall-clock latency (this run stored no CPU time), so machine load changes it`,
    );
  const memo = new Map<string, PairResult | undefined>();
  const compare = (x: string, y: string): PairResult | undefined => {
    const key = `${x}\u0000${y}`;
    if (memo.has(key)) return memo.get(key);
    const A = byId(x);
    const B = byId(y);
    let out: PairResult | undefined;
    if (A && B) {
      const ids = (input.testIds ?? [...A.keys()]).filter((id) => A.has(id) && B.has(id));
      if (ids.length)
        out = compareColumns(
          scorer,
          cols.get(x)!,
          Int32Array.from(ids, (id) => A.get(id)!),
          cols.get(y)!,
          Int32Array.from(ids, (id) => B.get(id)!),
          { seed },
        );
    }
    memo.set(key, out);
    return out;
  };

  const adv = advise({ metric, arms: evidence, settings: s, compare, baseline: input.baseline ?? input.config.baseline });
  warnings.push(...adv.warnings);

  // prediction distributions and flags
  const majority = evidence.find((e) => e.role === 'majority');
  const classical = evidence.find((e) => e.role === 'classical');
  const diagnostics: ArmDiagnostics[] = [];
  for (const e of evidence) {
    const c = cols.get(e.name)!;
    const distribution: Record<string, number> = {};
    if (labelled) {
      for (let i = 0; i < c.n; i++) {
        const k = c.extracted[i] < 0 ? NO_LABEL : c.table.strings[c.extracted[i]];
        distribution[k] = (distribution[k] ?? 0) + 1;
      }
    } else {
      for (const answer of c.answers()) {
        const k = answer.trim().slice(0, 40);
        distribution[k] = (distribution[k] ?? 0) + 1;
      }
    }
    const top = Object.entries(distribution).sort((x, y) => y[1] - x[1])[0];
    const d: ArmDiagnostics = { arm: e.name, distribution, flags: [] };
    if (top && c.n) {
      d.topLabel = top[0];
      d.topShare = top[1] / c.n;
      if (labelled && e.role !== 'majority' && d.topShare >= 0.9)
        d.flags.push(`answers '${top[0]}' for ${(d.topShare * 100).toFixed(0)}% of test examples (${top[1]} of ${c.n})`);
    }
    if (majority && e.role !== 'majority') {
      const c = adv.comparisons.find((x) => x.family === 'majority' && x.arm === e.name);
      if (c && !(c.diff > 0 && c.pHolm < s.alpha))
        d.flags.push(
          `no better than always answering '${majority.majorityLabel ?? majority.name}' (${metric} ${fmtMetric(e.metric.value)} vs ${fmtMetric(majority.metric.value)}, difference ${fmtDiff(c.diff)} ${fmtCi(c.ci)}, Holm p ${fmtP(c.pHolm)})`,
        );
    }
    if (classical && e.role === 'arm') {
      const c = adv.comparisons.find((x) => x.family === 'classical' && x.arm === e.name);
      if (c && c.diff < 0 && c.pHolm < s.alpha)
        d.flags.push(
          `significantly below the classical TF-IDF baseline (${fmtMetric(e.metric.value)} vs ${fmtMetric(classical.metric.value)}, Holm p ${fmtP(c.pHolm)})`,
        );
    }
    diagnostics.push(d);
  }

  // learning curves
  const curves: Curve[] = [];
  const promptArms = evidence.filter((e) => e.role === 'arm' && PROMPT_KINDS.has(modelOf(input, e.name).kind));
  const bestPrompt = [...promptArms].sort((x, y) => y.metric.value - x.metric.value)[0];
  for (const c of exp.curves) {
    const pts = c.points
      .map((p) => {
        const a = present.find((x) => x.name === p.arm);
        if (!a) return undefined;
        const trained = Number(a.training?.details?.trainExamples);
        const x = p.x ?? (Number.isFinite(trained) && trained > 0 ? trained : (input.trainSize ?? NaN));
        const point: Curve['points'][number] = { arm: p.arm, x, value: a.metric.value, ci: a.metric.ci };
        if (c.axis === 'train' && bestPrompt) {
          const d = compare(p.arm, bestPrompt.name);
          if (d) {
            point.diff = d.diff;
            point.diffCi = d.ci;
          }
        }
        return point;
      })
      .filter((p): p is Curve['points'][number] => Boolean(p))
      .sort((x, y) => x.x - y.x);
    const curve: Curve = { arm: c.arm, axis: c.axis, points: pts };
    if (c.axis === 'train' && bestPrompt && pts.length && FT_KINDS.has(modelOf(input, c.arm).kind)) {
      // where it overtakes: the first point from which every larger training set stays above the best prompt arm
      const at = pts.find((p, i) => pts.slice(i).every((q) => (q.diff ?? -1) > 0));
      const sig = pts.find((p, i) => p.diffCi && p.diffCi[0] > 0 && pts.slice(i).every((q) => (q.diff ?? -1) > 0));
      const last = pts[pts.length - 1];
      const bp = `${bestPrompt.name} (${metric} ${fmtMetric(bestPrompt.metric.value)})`;
      let sentence: string;
      if (!at)
        sentence = `${c.arm} does not overtake the best prompt arm ${bp} within the data: at ${last.x} training examples it scores ${fmtMetric(last.value)} ${fmtCi(last.ci)} (difference ${fmtDiff(last.diff ?? NaN)} ${last.diffCi ? fmtCi(last.diffCi) : ''}).`;
      else {
        sentence = `${c.arm} overtakes the best prompt arm ${bp} at ${at.x} training examples (${fmtMetric(at.value)}, difference ${fmtDiff(at.diff!)} ${fmtCi(at.diffCi!)})`;
        // the curve is measured at its points only: the crossover lies between the last point not above and this one
        const before = pts[pts.indexOf(at) - 1];
        if (before)
          sentence += `, and not at ${before.x} (${fmtMetric(before.value)}, difference ${fmtDiff(before.diff ?? NaN)}${before.diffCi ? ` ${fmtCi(before.diffCi)}` : ''}): the crossover lies between ${before.x} and ${at.x} examples`;
        sentence += sig
          ? `; the lead is significant from ${sig.x} examples (difference ${fmtDiff(sig.diff!)} ${fmtCi(sig.diffCi!)}).`
          : `; the test split does not make the lead significant at any point (largest lower bound ${fmtMetric(Math.max(...pts.map((p) => p.diffCi?.[0] ?? -Infinity)))}).`;
      }
      curve.crossover = {
        against: bestPrompt.name,
        againstValue: bestPrompt.metric.value,
        ...(at ? { at: at.x } : {}),
        ...(sig ? { significantAt: sig.x } : {}),
        sentence,
      };
    }
    curves.push(curve);
  }

  // consistency across repeats
  const consistency: Consistency[] = [];
  for (const r of exp.repeats) {
    const members = r.members.filter((m) => cols.has(m) && present.some((p) => p.name === m));
    if (members.length < 2) continue;
    const index = members.map((m) => byId(m)!);
    const answers = members.map((m) => cols.get(m)!.answers());
    const ids = (input.testIds ?? [...index[0].keys()]).filter((id) => index.every((ix) => ix.has(id)));
    const outs = ids.map((id) => members.map((_, k) => answers[k][index[k].get(id)!]));
    const c = consistencyOf(outs);
    const vals = members.map((m) => present.find((p) => p.name === m)!.metric.value);
    const mean = vals.reduce((x, y) => x + y, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((x, y) => x + (y - mean) ** 2, 0) / Math.max(1, vals.length - 1));
    const metricSpread = { min: Math.min(...vals), max: Math.max(...vals), mean, sd };
    consistency.push({
      arm: r.arm,
      members,
      agreement: c.allAgree,
      meanPairwise: c.meanPairwise,
      metric: metricSpread,
      sentence: `${r.arm} over ${members.length} repeats: the same answer on ${(c.allAgree * 100).toFixed(1)}% of ${c.n} test examples; ${metric} ranges ${fmtMetric(metricSpread.min)}–${fmtMetric(metricSpread.max)} (mean ${fmtMetric(mean)}, sd ${sd.toFixed(3)}).`,
    });
  }
  for (const a of adv.arms)
    if (a.cost.basis === 'none' && a.role === 'arm') warnings.push(`${a.name}: no per-request cost could be measured`);
  void fmtUsd;
  return {
    settings: s,
    metric,
    ...(metric === 'macro-f1' ? { metricNote: MACRO_F1_NOTE } : {}),
    best: adv.best,
    tiedWithBest: adv.tiedWithBest,
    arms: adv.arms,
    diagnostics,
    comparisons: adv.comparisons,
    breakEven: adv.breakEven,
    curves,
    consistency,
    costChart: adv.costChart,
    recommendation: adv.recommendation,
    warnings,
  };
}

/**
 * The decision of a stored run, from the same inputs the report builder has: the run record (meta holds the config,
 * metric, sizes and test ids), its arm records, per-arm result rows and the report's per-arm summaries.
 */
export function decisionOfRun(
  run: {
    meta: {
      seed?: number;
      sizes?: { train: number };
      metric?: { name: string; labels?: string[]; type?: string };
      baseline?: string;
      testIds?: string[];
      config?: unknown;
    };
  },
  armRecs: readonly {
    name: string;
    kind: string;
    status: string;
    spent?: DecisionArmInput['spent'];
    training?: DecisionArmInput['training'];
    notes?: Record<string, unknown>;
  }[],
  results: ReadonlyMap<string, readonly DecisionRow[] | ResultColumns>,
  summaries: readonly { name: string; metric: { value: number; ci: [number, number]; n: number }; latencyMs: { p95: number } }[],
  overrides?: Partial<DecisionSettings>,
): DecisionReport {
  const meta = run.meta;
  const arms: DecisionArmInput[] = summaries.map((s) => {
    const rec = armRecs.find((a) => a.name === s.name);
    return {
      name: s.name,
      kind: rec?.kind ?? '',
      status: rec?.status ?? '',
      spent: rec?.spent,
      training: rec?.training,
      notes: rec?.notes,
      metric: s.metric,
      latencyP95: s.latencyMs.p95,
    };
  });
  return buildDecision({
    metric: meta.metric ?? { name: 'score' },
    config: (meta.config ?? {}) as DecisionInput['config'],
    trainSize: meta.sizes?.train,
    testIds: meta.testIds,
    baseline: meta.baseline,
    arms,
    results,
    seed: meta.seed,
    overrides,
  });
}
