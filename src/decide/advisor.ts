// The advisor: among the arms that meet the requirements, the cheapest over the horizon of those the test split
// cannot tell apart from the best; or, plainly, that none meets them. Every sentence cites the figure it rests on.
import { holm, normalQuantile } from '../stats/index.ts';
import { breakEvens, chartVolumes, monthlyCost, totalCost } from './cost.ts';
import { fmtCi, fmtCount, fmtDiff, fmtMetric, fmtMs, fmtP, fmtUsd } from './format.ts';
import type { MetricComparison } from '../metrics/index.ts';
import type { ArmEvidence, BreakEven, Comparison, DecisionReport, DecisionSettings, Recommendation } from './types.ts';

/** A paired comparison on the task's metric (metrics' compareOnMetric result). */
export type PairResult = MetricComparison;

export interface AdviseInput {
  metric: string;
  arms: ArmEvidence[];
  settings: DecisionSettings;
  /** paired comparison of arm a against arm b on the task metric (a minus b), over the examples both scored */
  compare(a: string, b: string): PairResult | undefined;
  /** the config's baseline arm (comparisons "vs baseline") */
  baseline?: string;
}

export type AdviseOutput = Pick<
  DecisionReport,
  'best' | 'tiedWithBest' | 'arms' | 'comparisons' | 'breakEven' | 'costChart' | 'recommendation' | 'warnings'
>;

/** Test examples that would detect the observed difference at 5% two-sided with 80% power (SE shrinks as 1/√n). */
export function examplesToSeparate(c: Pick<PairResult, 'diff' | 'ci' | 'n'>, level = 0.95, power = 0.8): number {
  const z = normalQuantile(1 - (1 - level) / 2);
  const se = (c.ci[1] - c.ci[0]) / (2 * z);
  if (!(Math.abs(c.diff) > 0) || !(se > 0)) return Infinity;
  const need = c.n * (((z + normalQuantile(power)) * se) / Math.abs(c.diff)) ** 2;
  return Math.ceil(need);
}

function family(input: AdviseInput, pairs: [string, string][], fam: Comparison['family']): Comparison[] {
  const raw = pairs
    .map(([a, b]) => ({ a, b, r: input.compare(a, b) }))
    .filter((x): x is { a: string; b: string; r: PairResult } => Boolean(x.r));
  const adj = holm(raw.map((x) => x.r.p));
  return raw.map((x, i) => ({
    arm: x.a,
    against: x.b,
    family: fam,
    diff: x.r.diff,
    ci: x.r.ci,
    p: x.r.p,
    pHolm: adj[i],
    test: x.r.test,
    n: x.r.n,
    ...(x.r.discordant ? { discordant: x.r.discordant } : {}),
  }));
}

function constraintFailures(a: ArmEvidence, s: DecisionSettings, metric: string): string[] {
  const f: string[] = [];
  const monthly = monthlyCost(a.cost, s.requestsPerMonth);
  if (s.minMetric !== undefined && !(a.metric.value >= s.minMetric))
    f.push(`${metric} ${fmtMetric(a.metric.value)} ${fmtCi(a.metric.ci)} is below the minimum ${s.minMetric}`);
  if (s.maxP95LatencyMs !== undefined && !(a.p95LatencyMs <= s.maxP95LatencyMs))
    f.push(`p95 latency ${fmtMs(a.p95LatencyMs)} is above the ${fmtMs(s.maxP95LatencyMs)} cap`);
  if (s.budget?.oneOffUsd !== undefined && a.cost.oneOff.totalUsd > s.budget.oneOffUsd)
    f.push(`one-off cost ${fmtUsd(a.cost.oneOff.totalUsd)} is over the ${fmtUsd(s.budget.oneOffUsd)} budget`);
  if (s.budget?.monthlyUsd !== undefined && monthly > s.budget.monthlyUsd)
    f.push(`monthly cost ${fmtUsd(monthly)} at ${fmtCount(s.requestsPerMonth)} requests is over the ${fmtUsd(s.budget.monthlyUsd)} budget`);
  return f;
}

const byMetric = (a: ArmEvidence, b: ArmEvidence) => b.metric.value - a.metric.value || a.name.localeCompare(b.name);

export function advise(input: AdviseInput): AdviseOutput {
  const { settings: s, metric } = input;
  const warnings: string[] = [];
  const H = s.horizonMonths;
  const V = s.requestsPerMonth;
  const arms = input.arms.map((a) => {
    const failures = constraintFailures(a, s, metric);
    return { ...a, meets: failures.length === 0, failures, totalUsd: totalCost(a.cost, V, H), monthlyUsd: monthlyCost(a.cost, V) };
  });
  const valid = arms.filter((a) => Number.isFinite(a.metric.value) && a.metric.n > 0);
  const candidates = valid.filter((a) => a.candidate && a.role !== 'majority');
  const majority = valid.find((a) => a.role === 'majority');
  const classical = valid.find((a) => a.role === 'classical');
  const shown = valid.filter((a) => a.role !== 'majority');

  // comparison families, each Holm-adjusted on its own
  const comparisons: Comparison[] = [];
  const best = [...candidates].sort(byMetric)[0];
  if (input.baseline && valid.some((a) => a.name === input.baseline))
    comparisons.push(
      ...family(
        input,
        shown.filter((a) => a.name !== input.baseline).map((a) => [a.name, input.baseline!]),
        'baseline',
      ),
    );
  if (best)
    comparisons.push(
      ...family(
        input,
        candidates.filter((a) => a.name !== best.name).map((a) => [a.name, best.name]),
        'best',
      ),
    );
  if (classical)
    comparisons.push(
      ...family(
        input,
        shown.filter((a) => a.role === 'arm').map((a) => [a.name, classical.name]),
        'classical',
      ),
    );
  if (majority)
    comparisons.push(
      ...family(
        input,
        shown.map((a) => [a.name, majority.name]),
        'majority',
      ),
    );
  const alpha = s.alpha;
  const tiedWithBest = best ? [best.name, ...comparisons.filter((c) => c.family === 'best' && c.pHolm >= alpha).map((c) => c.arm)] : [];

  const bes: BreakEven[] = breakEvens(candidates, H);
  const volumes = chartVolumes(s, bes);
  const costChart = { volumes, series: candidates.map((a) => ({ arm: a.name, totals: volumes.map((v) => totalCost(a.cost, v, H)) })) };

  const recommendation = recommend(input, arms, candidates, comparisons, bes, majority);
  return { best: best?.name, tiedWithBest, arms, comparisons, breakEven: bes, costChart, recommendation, warnings };
}

type Scored = AdviseOutput['arms'][number];

function recommend(
  input: AdviseInput,
  all: Scored[],
  candidates: Scored[],
  comparisons: Comparison[],
  bes: BreakEven[],
  majority?: Scored,
): Recommendation {
  const { settings: s, metric } = input;
  const H = s.horizonMonths;
  const V = s.requestsPerMonth;
  const alpha = s.alpha;
  const at = `over ${H} months at ${fmtCount(V)} requests/month`;
  const q = (a: Scored) => `${metric} ${fmtMetric(a.metric.value)} ${fmtCi(a.metric.ci)} on ${a.metric.n} test examples`;
  if (!candidates.length)
    return { verdict: 'no-data', sentences: ['No arm has results on the test split yet, so there is nothing to recommend.'] };
  const meeting = candidates.filter((a) => a.meets);
  if (!meeting.length) {
    const sentences = [`No arm meets the requirements ${at}.`];
    for (const a of [...candidates].sort(byMetric)) sentences.push(`${a.name}: ${a.failures.join('; ')}.`);
    return { verdict: 'none', sentences };
  }
  const ref = [...meeting].sort(byMetric)[0];
  // ties with the best arm that meets the requirements, Holm-adjusted over that family
  let vsRef: Comparison[];
  const overallBest = [...candidates].sort(byMetric)[0];
  if (overallBest.name === ref.name) vsRef = comparisons.filter((c) => c.family === 'best');
  else
    vsRef = family(
      input,
      meeting.filter((a) => a.name !== ref.name).map((a) => [a.name, ref.name]),
      'best',
    );
  const tied = [ref, ...meeting.filter((a) => vsRef.some((c) => c.arm === a.name && c.pHolm >= alpha))];
  const pick = [...tied].sort((a, b) => a.totalUsd - b.totalUsd || b.metric.value - a.metric.value || a.name.localeCompare(b.name))[0];
  const sentences: string[] = [];
  const costOf = (a: Scored) =>
    `${fmtUsd(a.totalUsd)} ${at} (one-off ${fmtUsd(a.cost.oneOff.totalUsd)} + ${fmtUsd(a.monthlyUsd)}/month, ${fmtUsd(a.cost.perRequestUsd)} per request)`;
  let verdict: Recommendation['verdict'] = 'recommend';
  let more: number | undefined;
  if (pick.name === ref.name) {
    sentences.push(
      `Recommend ${pick.name}: the best ${metric} among the arms that meet the requirements, ${q(pick)}` +
        (tied.length > 1 ? `, and the cheapest of the ${tied.length} arms tied with it: ${costOf(pick)}.` : `; it costs ${costOf(pick)}.`),
    );
  } else {
    const c = vsRef.find((x) => x.arm === pick.name)!;
    sentences.push(
      `Recommend ${pick.name}: ${q(pick)}, statistically tied with the best, ${ref.name} (${fmtMetric(ref.metric.value)}; difference ${fmtDiff(c.diff)} ${fmtCi(c.ci)}, Holm p ${fmtP(c.pHolm)}), and the cheapest of the ${tied.length} tied arms: ${costOf(pick)} against ${fmtUsd(ref.totalUsd)} for ${ref.name}.`,
    );
    more = examplesToSeparate(c);
    verdict = 'tie';
    sentences.push(
      Number.isFinite(more)
        ? `The test split (${c.n} examples) cannot separate ${pick.name} from ${ref.name}: about ${fmtCount(more)} test examples would detect a ${fmtDiff(c.diff)} difference (80% power, 5% level).`
        : `${pick.name} and ${ref.name} score the same on these ${c.n} test examples; more test examples would not separate them at this difference.`,
    );
  }
  // requirements met, with their figures
  const met: string[] = [];
  if (s.minMetric !== undefined) met.push(`${metric} ${fmtMetric(pick.metric.value)} ≥ ${s.minMetric}`);
  if (s.maxP95LatencyMs !== undefined) met.push(`p95 latency ${fmtMs(pick.p95LatencyMs)} ≤ ${fmtMs(s.maxP95LatencyMs)}`);
  if (s.budget?.oneOffUsd !== undefined) met.push(`one-off ${fmtUsd(pick.cost.oneOff.totalUsd)} ≤ ${fmtUsd(s.budget.oneOffUsd)}`);
  if (s.budget?.monthlyUsd !== undefined) met.push(`monthly ${fmtUsd(pick.monthlyUsd)} ≤ ${fmtUsd(s.budget.monthlyUsd)}`);
  if (met.length) sentences.push(`It meets every requirement: ${met.join('; ')}.`);
  const excluded = candidates.filter((a) => !a.meets && a.metric.value > pick.metric.value);
  for (const a of excluded.slice(0, 3))
    sentences.push(`${a.name} scores higher (${fmtMetric(a.metric.value)}) but ${a.failures.join('; ')}.`);
  if (pick.role === 'classical')
    sentences.push(`${pick.name} is the classical TF-IDF baseline, not a language model: on this task no LLM arm beats it at this cost.`);
  // against the majority answer
  if (majority) {
    const c = comparisons.find((x) => x.family === 'majority' && x.arm === pick.name);
    if (c && !(c.pHolm < alpha && c.diff > 0)) {
      sentences.push(
        `Caution: ${pick.name} is not significantly better than always answering '${majority.majorityLabel ?? majority.name}' (${fmtMetric(majority.metric.value)}; difference ${fmtDiff(c.diff)}, Holm p ${fmtP(c.pHolm)}).`,
      );
    }
  }
  // break-even between the pick and the arms it was weighed against (the best and the others tied with it)
  const rivals = new Set(tied.map((a) => a.name).concat(ref.name));
  for (const b of bes
    .filter((x) => (x.arm === pick.name && rivals.has(x.against)) || (x.against === pick.name && rivals.has(x.arm)))
    .slice(0, 2))
    sentences.push(b.sentence);
  void all;
  return { verdict, arm: pick.name, sentences, ...(more !== undefined ? { moreTestExamples: more } : {}) };
}
