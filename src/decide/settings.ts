// The `decision:` block of tunelab.yaml: what the advisor weighs. All keys optional.
import { z } from 'zod';
import { DEFAULT_DECISION, type DecisionSettings } from './types.ts';

const perArm = z.union([z.number().nonnegative(), z.record(z.string(), z.number().nonnegative())]);

export const decisionSchema = z.strictObject({
  /** production requests per month (default 10000) */
  requestsPerMonth: z.number().nonnegative().optional(),
  /** months the choice is costed over (default 12) */
  horizonMonths: z.number().positive().optional(),
  /** the task metric an arm must reach */
  minMetric: z.number().optional(),
  /** the largest acceptable p95 latency, ms */
  maxP95LatencyMs: z.number().positive().optional(),
  budget: z.strictObject({ oneOffUsd: z.number().nonnegative().optional(), monthlyUsd: z.number().nonnegative().optional() }).optional(),
  /** engineer hours (one number for every arm, or per arm name / arm kind) at ratePerHour */
  engineer: z.strictObject({ ratePerHour: z.number().nonnegative(), hours: perArm }).optional(),
  /** USD per CPU-hour for local models without price.perHour (default 0.05) */
  computePerHour: z.number().nonnegative().optional(),
  /** fixed hosting USD per hour (one number for every arm, or per arm name / kind) */
  hostingPerHour: perArm.optional(),
  /** significance level for ties and flags (default 0.05) */
  alpha: z.number().gt(0).lt(1).optional(),
});

export type DecisionConfig = z.output<typeof decisionSchema>;

const asRecord = (v: number | Record<string, number> | undefined): Record<string, number> | undefined =>
  v === undefined ? undefined : typeof v === 'number' ? { '*': v } : v;

/** Defaults applied, then `overrides` (CLI flags) on top. */
export function resolveDecision(cfg: DecisionConfig | undefined, overrides: Partial<DecisionSettings> = {}): DecisionSettings {
  const c = cfg ?? {};
  const s: DecisionSettings = {
    requestsPerMonth: c.requestsPerMonth ?? DEFAULT_DECISION.requestsPerMonth,
    horizonMonths: c.horizonMonths ?? DEFAULT_DECISION.horizonMonths,
    computePerHour: c.computePerHour ?? DEFAULT_DECISION.computePerHour,
    alpha: c.alpha ?? DEFAULT_DECISION.alpha,
  };
  if (c.minMetric !== undefined) s.minMetric = c.minMetric;
  if (c.maxP95LatencyMs !== undefined) s.maxP95LatencyMs = c.maxP95LatencyMs;
  if (c.budget) s.budget = { ...c.budget };
  if (c.engineer) s.engineer = { ratePerHour: c.engineer.ratePerHour, hours: asRecord(c.engineer.hours)! };
  if (c.hostingPerHour !== undefined) s.hostingPerHour = asRecord(c.hostingPerHour);
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (s as unknown as Record<string, unknown>)[k] = v;
  return s;
}

/** A per-arm setting: by arm name, else by kind, else the '*' default, else 0. */
export function perArmValue(map: Record<string, number> | undefined, name: string, kind: string): number {
  if (!map) return 0;
  return map[name] ?? map[kind] ?? map['*'] ?? 0;
}
