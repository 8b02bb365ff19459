// The cost model: one-off cost + horizon × (monthly volume × per-request cost + hosting per month),
// and the break-even volume between two arms that trade one-off cost against per-request cost.
import { HOURS_PER_MONTH, type ArmCost, type BreakEven, type DecisionSettings } from './types.ts';
import { fmtCount, fmtUsd } from './format.ts';

const reqs = (n: number) => (n < 1 ? 'less than 1 request' : `${fmtCount(n)} request${Math.round(n) === 1 ? '' : 's'}`);

/** Monthly running cost at `volume` requests per month. */
export function monthlyCost(c: ArmCost, volume: number): number {
  return volume * c.perRequestUsd + c.hostingPerMonthUsd;
}

/** Total cost over `months` at `volume` requests per month: one-off + months × monthly. */
export function totalCost(c: ArmCost, volume: number, months: number): number {
  return c.oneOff.totalUsd + months * monthlyCost(c, volume);
}

/** Hosting per month from a price per hour. */
export function hostingPerMonth(perHour: number): number {
  return perHour * HOURS_PER_MONTH;
}

/** One-off total from its parts. */
export function oneOffTotal(o: Omit<ArmCost['oneOff'], 'totalUsd'>): number {
  return o.searchUsd + o.trainingUsd + o.engineerUsd;
}

/**
 * Break-even between two arms, or undefined when neither trades one-off for per-request cost (one is cheaper on
 * both counts, or they cost the same per request).
 *  - requests: N* = Δone-off / Δper-request, the number of requests after which the arm with the larger one-off cost
 *    (and the smaller per-request cost) has repaid it (hosting ignored);
 *  - monthlyVolume: V* solving one-off_a + H·(V·c_a + h_a) = one-off_b + H·(V·c_b + h_b) at the horizon H, hosting
 *    included; null when no positive volume balances them.
 */
export function breakEven(a: { name: string; cost: ArmCost }, b: { name: string; cost: ArmCost }, months: number): BreakEven | undefined {
  // orient: `hi` has the larger one-off cost
  let hi = a;
  let lo = b;
  if (b.cost.oneOff.totalUsd > a.cost.oneOff.totalUsd) [hi, lo] = [b, a];
  const dOne = hi.cost.oneOff.totalUsd - lo.cost.oneOff.totalUsd;
  const dReq = lo.cost.perRequestUsd - hi.cost.perRequestUsd;
  if (!(dReq > 0)) return undefined; // the one with more one-off cost is not cheaper per request: no trade
  const requests = dOne / dReq;
  const dHost = hi.cost.hostingPerMonthUsd - lo.cost.hostingPerMonthUsd;
  if (dOne === 0 && dHost <= 0) return undefined; // cheaper per request at no extra cost: it dominates, no trade
  const v = (dOne / months + dHost) / dReq;
  const monthlyVolume = v > 0 && Number.isFinite(v) ? v : null;
  const sentence =
    dOne === 0
      ? `${hi.name} costs less per request than ${lo.name} (${fmtUsd(hi.cost.perRequestUsd)} vs ${fmtUsd(lo.cost.perRequestUsd)}) with the same one-off cost: it is cheaper at any volume${dHost > 0 ? ` above ${reqs(monthlyVolume ?? 0)}/month (its hosting costs ${fmtUsd(dHost)}/month more)` : ''}.`
      : `${hi.name}'s ${fmtUsd(dOne)} of extra one-off cost pays back after ${reqs(requests)} against ${lo.name} (${fmtUsd(hi.cost.perRequestUsd)} vs ${fmtUsd(lo.cost.perRequestUsd)} per request)` +
        (monthlyVolume !== null ? `; over ${months} months that is ${reqs(monthlyVolume)}/month${dHost ? ' with hosting' : ''}.` : '.');
  return { arm: hi.name, against: lo.name, oneOffDiffUsd: dOne, perRequestDiffUsd: dReq, requests, monthlyVolume, sentence };
}

/** Break-even for every pair of arms that trade one-off against per-request cost. */
export function breakEvens(arms: readonly { name: string; cost: ArmCost }[], months: number): BreakEven[] {
  const out: BreakEven[] = [];
  for (let i = 0; i < arms.length; i++)
    for (let j = i + 1; j < arms.length; j++) {
      const b = breakEven(arms[i], arms[j], months);
      if (b) out.push(b);
    }
  return out;
}

/** Volumes for the total-cost chart: a log grid around the configured volume and every break-even volume. */
export function chartVolumes(settings: DecisionSettings, bes: readonly BreakEven[]): number[] {
  const vs = new Set<number>();
  const v0 = Math.max(1, settings.requestsPerMonth);
  for (let e = -2; e <= 2; e += 0.25) vs.add(Math.round(v0 * 10 ** e));
  for (const b of bes) if (b.monthlyVolume && b.monthlyVolume < v0 * 1e3 && b.monthlyVolume > v0 / 1e3) vs.add(Math.round(b.monthlyVolume));
  return [...vs].filter((v) => v > 0).sort((a, b) => a - b);
}
