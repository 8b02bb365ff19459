import type { Estimate, FineTuneOptions, TrainingRecord } from './types.ts';
import { approxTokens } from './validate.ts';

export interface EstimateInput {
  records: TrainingRecord[];
  opts: FineTuneOptions;
  countTokens?: (r: TrainingRecord) => number;
  contextLength?: number;
  /** measured seconds per training token from a short probe (forward+backward+update) */
  secondsPerToken?: number;
  /** how the probe was measured, for the note */
  probeNote?: string;
  /** compute price per hour, USD (0 for a local machine by default) */
  pricePerHour?: number;
}

/** Tokens, steps, time and cost of a fine-tuning run. Time comes from a probe when given, else it is marked unknown. */
export function estimateRun(inp: EstimateInput): Estimate {
  const count = inp.countTokens ?? approxTokens;
  const ctx = inp.contextLength ?? Infinity;
  let perEpoch = 0;
  for (const r of inp.records) perEpoch += Math.min(ctx, count(r));
  const batch = Math.max(1, inp.opts.batchSize ?? 8);
  const stepsPerEpoch = Math.ceil(inp.records.length / batch);
  let steps = stepsPerEpoch * Math.max(1, inp.opts.epochs);
  if (inp.opts.maxSteps) steps = Math.min(steps, inp.opts.maxSteps);
  const tokens = Math.round(perEpoch * (steps / stepsPerEpoch));
  const seconds = inp.secondsPerToken ? tokens * inp.secondsPerToken : NaN;
  const costUsd = inp.pricePerHour && Number.isFinite(seconds) ? (seconds / 3600) * inp.pricePerHour : 0;
  const note = inp.secondsPerToken
    ? `time measured from a short probe${inp.probeNote ? ` (${inp.probeNote})` : ''}`
    : 'time not measured (no probe)';
  return { tokens, steps, costUsd, seconds, note };
}
