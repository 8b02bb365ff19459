import type { ChatModel } from '../models/types.ts';
import type { Example } from '../task/types.ts';
import type { Evaluator } from './evaluate.ts';
import type { TemplateProgram } from './program.ts';
import { deriveSeed, Rng } from '../core/index.ts';

export interface SearchCandidate {
  id: string;
  /** human-readable description of what this candidate changes */
  label: string;
  program: TemplateProgram;
  /** model to run it with (default: the evaluator's); embedding few-shot wraps the model */
  model?: ChatModel;
  info?: Record<string, unknown>;
}

export interface CandidateScore {
  id: string;
  label: string;
  hash: string;
  /** mean dev score on the examples it was run on */
  devScore: number;
  /** dev examples it was scored on */
  n: number;
  /** last rung it reached (0-based); -1 when the budget left it unscored */
  rung: number;
  info?: Record<string, unknown>;
}

export interface HalvingResult {
  best: SearchCandidate;
  bestScore: number;
  bestN: number;
  table: CandidateScore[];
  rungs: { examples: number; candidates: number }[];
  /** calls the plan expected to need at most */
  plannedCalls: number;
}

export interface HalvingOptions {
  /** keep 1/eta of the candidates at each rung (default 2) */
  eta?: number;
  /** most calls the search may make (default: unlimited, i.e. the full schedule) */
  budgetCalls?: number;
  /** smallest rung, in dev examples (default 8): fewer candidates are tried rather than scoring on too few */
  minExamples?: number;
  seed: number;
}

interface Plan {
  n: number[];
  m: number[];
  cost: number;
}

function plan(N: number, D: number, eta: number, s: number, minM = 1): Plan {
  const R = N > 1 ? Math.ceil(Math.log(N) / Math.log(eta) - 1e-9) : 0;
  const n: number[] = [],
    m: number[] = [];
  let cost = 0,
    prev = 0;
  for (let r = 0; r <= R; r++) {
    n.push(Math.max(1, Math.ceil(N / eta ** r - 1e-9)));
    const mr = Math.max(prev, Math.min(D, Math.max(minM, Math.round((D * s) / eta ** (R - r)))));
    m.push(mr);
    cost += n[r] * (mr - prev);
    prev = mr;
  }
  return { n, m, cost };
}

/**
 * The rung schedule for N candidates on D dev examples within `budget` calls: the final rung uses as
 * much of dev as the budget allows (all of it when it suffices); each earlier rung uses 1/eta as many
 * examples with eta times as many candidates. Returns how many candidates fit (at least one call each).
 */
export function planHalving(N: number, D: number, eta: number, budget = Infinity, minExamples = 8): Plan & { candidates: number } {
  const minM = Math.max(1, Math.min(D, minExamples, Number.isFinite(budget) ? Math.floor(budget) : D));
  const fit = Number.isFinite(budget) ? Math.floor(budget / minM) : N;
  const Nf = Math.max(1, Math.min(N, fit));
  if (D === 0 || budget < 1) return { n: [Nf], m: [0], cost: 0, candidates: Nf };
  let p = plan(Nf, D, eta, 1, minM);
  if (p.cost <= budget) return { ...p, candidates: Nf };
  let lo = 0,
    hi = 1;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (plan(Nf, D, eta, mid, minM).cost <= budget) lo = mid;
    else hi = mid;
  }
  p = plan(Nf, D, eta, lo, minM);
  return { ...p, candidates: Nf };
}

/**
 * Successive halving on dev: every candidate is scored on a small seeded sample of dev, the best
 * 1/eta go on to a larger sample, until one is left; scores are memoized by the evaluator, so a
 * survivor only runs on the new examples of each rung. Ties go to the earlier candidate.
 */
export async function successiveHalving(
  cands: SearchCandidate[],
  dev: readonly Example[],
  ev: Evaluator,
  opts: HalvingOptions,
): Promise<HalvingResult> {
  if (!cands.length) throw new Error('successiveHalving: no candidates');
  const eta = Math.max(2, opts.eta ?? 2);
  const order = new Rng(deriveSeed(opts.seed, 'halving:dev')).shuffle(dev);
  const budget = opts.budgetCalls ?? Infinity;
  const p = planHalving(cands.length, order.length, eta, budget, opts.minExamples ?? 8);
  const used = cands.slice(0, p.candidates);
  const scores = new Map<string, CandidateScore>();
  for (const c of cands) scores.set(c.id, { id: c.id, label: c.label, hash: c.program.hash, devScore: 0, n: 0, rung: -1, info: c.info });
  let alive = used.map((c, i) => ({ c, i }));
  const rungs: { examples: number; candidates: number }[] = [];
  for (let r = 0; r < p.m.length && alive.length; r++) {
    const exs = order.slice(0, p.m[r]);
    rungs.push({ examples: exs.length, candidates: alive.length });
    const ranked: { c: SearchCandidate; i: number; s: number; n: number }[] = [];
    for (const a of alive) {
      const res = await ev.score(a.c.program, exs, a.c.model);
      const row = scores.get(a.c.id)!;
      if (res.n > 0) Object.assign(row, { devScore: res.score, n: res.n, rung: r });
      ranked.push({ ...a, s: res.n ? res.score : -1, n: res.n });
    }
    ranked.sort((x, y) => y.s - x.s || x.i - y.i);
    const keep = r + 1 < p.n.length ? p.n[r + 1] : 1;
    alive = ranked
      .slice(0, Math.max(1, keep))
      .filter((x) => x.n > 0 || x === ranked[0])
      .map(({ c, i }) => ({ c, i }));
    if (ev.meter && ev.meter.callsLeft() === 0) {
      alive = alive.slice(0, 1);
      break;
    }
  }
  const best = alive[0]?.c ?? used[0];
  const row = scores.get(best.id)!;
  return { best, bestScore: row.devScore, bestN: row.n, table: cands.map((c) => scores.get(c.id)!), rungs, plannedCalls: p.cost };
}
