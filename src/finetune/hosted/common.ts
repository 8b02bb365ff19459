// What the hosted backends share: the training price table (overridable), token estimates, validation
// against a provider's documented limits, and the budget check made before anything is spent.
import { InputError } from '../../core/index.ts';
import type { Problem, TrainingRecord } from '../types.ts';
import { approxTokens, validateRecords } from '../validate.ts';
import type { HostedEstimate, HostedFineTuneOptions, PreferenceRecord } from './types.ts';

/**
 * List prices for training, USD per 1M trained tokens (tokens in the file × epochs), as the providers
 * published them in late 2026. Prices change: override with `trainingPrice:` (one number) or `prices:`
 * (by model name) in the arm config. Keys are matched as exact model names first, then by pattern.
 */
export const OPENAI_TRAINING_PRICES: { match: RegExp; usdPerMTok: number; note: string }[] = [
  { match: /^gpt-4\.1-nano/, usdPerMTok: 1.5, note: 'gpt-4.1-nano' },
  { match: /^gpt-4\.1-mini/, usdPerMTok: 5, note: 'gpt-4.1-mini' },
  { match: /^gpt-4\.1/, usdPerMTok: 25, note: 'gpt-4.1' },
  { match: /^gpt-4o-mini/, usdPerMTok: 3, note: 'gpt-4o-mini' },
  { match: /^gpt-4o/, usdPerMTok: 25, note: 'gpt-4o' },
  { match: /^gpt-3\.5-turbo/, usdPerMTok: 8, note: 'gpt-3.5-turbo' },
  // tunelab serve and other self-hosted servers of the same shape charge nothing
  { match: /^local:/, usdPerMTok: 0, note: 'tunelab serve (local engine)' },
];
// Together (by size and method, LoRA / full, DPO 2.5×) and Fireworks (by size) follow below.

/** Billions of parameters read from a model name ("Llama-3.1-8B", "qwen2p5-72b", "Mixtral-8x7B"). */
export function paramsFromName(name: string): number | undefined {
  const moe = /(\d+)x(\d+(?:\.\d+)?)b/i.exec(name);
  if (moe) return Number(moe[1]) * Number(moe[2]);
  const m = /(\d+(?:[.p]\d+)?)\s*b(?![a-z])/i.exec(name.replace(/-/g, ' '));
  if (!m) return undefined;
  return Number(m[1].replace('p', '.'));
}

function togetherPrice(model: string, method: 'lora' | 'full', dpo: boolean): number | undefined {
  const b = paramsFromName(model);
  if (b === undefined) return undefined;
  const lora = [
    [16, 0.48],
    [69, 1.5],
    [100, 2.9],
  ] as const;
  const full = [
    [16, 0.54],
    [69, 1.65],
    [100, 3.2],
  ] as const;
  const row = (method === 'full' ? full : lora).find(([max]) => b <= max);
  if (!row) return undefined;
  return dpo ? row[1] * 2.5 : row[1];
}

function fireworksPrice(model: string): number | undefined {
  const b = paramsFromName(model);
  if (b === undefined) return undefined;
  if (b <= 16) return 0.5;
  if (b <= 80) return 3;
  if (b <= 300) return 6;
  return 10;
}

/** USD per 1M trained tokens for a job, and where the figure came from. */
export function trainingPriceFor(
  provider: 'openai' | 'together' | 'fireworks',
  model: string,
  opts: { method?: 'lora' | 'full'; dpo?: boolean; trainingPrice?: number; prices?: Record<string, number> },
): { usdPerMTok?: number; source: HostedEstimate['priceSource'] } {
  if (opts.trainingPrice !== undefined) return { usdPerMTok: opts.trainingPrice, source: 'config' };
  if (opts.prices && model in opts.prices) return { usdPerMTok: opts.prices[model], source: 'config' };
  let p: number | undefined;
  if (provider === 'together') p = togetherPrice(model, opts.method ?? 'lora', Boolean(opts.dpo));
  else if (provider === 'fireworks') p = fireworksPrice(model);
  else p = OPENAI_TRAINING_PRICES.find((r) => r.match.test(model))?.usdPerMTok;
  return p === undefined ? { source: 'unknown' } : { usdPerMTok: p, source: 'table' };
}

/** Tokens of a record the way the providers bill them (about 4 characters per token plus a few per message). */
export function recordTokens(r: TrainingRecord): number {
  return approxTokens(r);
}

export function preferenceTokens(p: PreferenceRecord): number {
  return approxTokens({ messages: [...p.input.messages, ...p.preferred_output, ...p.non_preferred_output] });
}

/** Trained tokens (file tokens × epochs) and cost from the price table; time is not known before the job runs. */
export function hostedEstimate(
  provider: 'openai' | 'together' | 'fireworks',
  data: TrainingRecord[],
  opts: HostedFineTuneOptions,
  prices: { trainingPrice?: number; prices?: Record<string, number> },
): HostedEstimate {
  const dpo = Boolean(opts.preferences?.length);
  let perEpoch = 0;
  if (dpo) for (const p of opts.preferences!) perEpoch += preferenceTokens(p);
  else for (const r of data) perEpoch += Math.min(opts.maxSeqLen ?? Infinity, recordTokens(r));
  const epochs = Math.max(1, opts.epochs);
  const tokens = perEpoch * epochs;
  const n = dpo ? opts.preferences!.length : data.length;
  const batch = Math.max(1, opts.batchSize ?? 8);
  const steps = Math.ceil(n / batch) * epochs;
  const price = trainingPriceFor(provider, opts.baseModel, { method: opts.method, dpo, ...prices });
  const costUsd = price.usdPerMTok === undefined ? NaN : (tokens / 1e6) * price.usdPerMTok;
  const note =
    price.source === 'unknown'
      ? `no training price known for ${opts.baseModel}: set trainingPrice (USD per 1M trained tokens) in the arm config`
      : `${tokens.toLocaleString('en-US')} trained tokens (≈4 characters per token, × ${epochs} epochs) at $${price.usdPerMTok}/1M (${price.source === 'config' ? 'price from config' : 'list price table'})`;
  return { tokens, steps, costUsd, seconds: NaN, note, pricePerMTok: price.usdPerMTok, priceSource: price.source };
}

/** Refuses a job whose estimated cost is over the budget (or unknown while a budget is set). */
export function checkBudget(est: HostedEstimate, budgetUsd: number | undefined, where: string): void {
  if (budgetUsd === undefined) return;
  if (!Number.isFinite(est.costUsd))
    throw new InputError(where, `a budget of $${budgetUsd} is set but the job's cost cannot be estimated (${est.note})`);
  if (est.costUsd > budgetUsd) {
    throw new InputError(
      where,
      `estimated training cost $${est.costUsd.toFixed(2)} is over the budget of $${budgetUsd} (${est.note}); nothing was uploaded or started`,
    );
  }
}

export interface ProviderLimits {
  minRecords: number;
  maxRecords?: number;
  /** tokens per record */
  maxTokensPerRecord?: number;
  maxFileBytes?: number;
  methods: ('lora' | 'full')[];
  maxRank?: number;
  epochs?: [number, number];
}

/** Checks the data and settings against a provider's documented limits, plus the shared record checks. */
export function validateForProvider(
  provider: string,
  data: TrainingRecord[],
  opts: HostedFineTuneOptions,
  limits: ProviderLimits,
): Problem[] {
  const problems = validateRecords(data, {
    contextLength: opts.maxSeqLen ?? limits.maxTokensPerRecord,
    countTokens: recordTokens,
    validation: opts.validation,
    minRecords: limits.minRecords,
  });
  // a record over the provider's per-example limit is refused by the provider, not cut: an error here
  for (const p of problems)
    if (p.level === 'warning' && /exceed \d+ tokens/.test(p.message) && limits.maxTokensPerRecord && !opts.maxSeqLen) p.level = 'error';
  const n = opts.preferences?.length || data.length;
  if (n < limits.minRecords)
    problems.push({ level: 'error', message: `${provider} needs at least ${limits.minRecords} training examples (got ${n})` });
  if (limits.maxRecords && n > limits.maxRecords)
    problems.push({ level: 'error', message: `${provider} accepts at most ${limits.maxRecords} training examples (got ${n})` });
  if (limits.maxFileBytes) {
    const bytes = data.reduce((s, r) => s + JSON.stringify({ messages: r.messages }).length + 1, 0);
    if (bytes > limits.maxFileBytes)
      problems.push({ level: 'error', message: `training file is ${bytes} bytes; ${provider} accepts at most ${limits.maxFileBytes}` });
  }
  if (!limits.methods.includes(opts.method))
    problems.push({
      level: 'error',
      message: `${provider} does not offer ${opts.method} fine-tuning (offers: ${limits.methods.join(', ')})`,
    });
  if (opts.method === 'lora' && limits.maxRank && (opts.rank ?? 8) > limits.maxRank)
    problems.push({ level: 'error', message: `${provider} LoRA rank is at most ${limits.maxRank} (got ${opts.rank})` });
  if (limits.epochs && (opts.epochs < limits.epochs[0] || opts.epochs > limits.epochs[1]))
    problems.push({
      level: 'error',
      message: `${provider} epochs must be in [${limits.epochs[0]}, ${limits.epochs[1]}] (got ${opts.epochs})`,
    });
  if (!(opts.learningRate > 0)) problems.push({ level: 'error', message: 'learning rate must be positive' });
  for (const [i, p] of (opts.preferences ?? []).entries()) {
    if (!p?.input?.messages?.length || !p.preferred_output?.length || !p.non_preferred_output?.length) {
      problems.push({
        level: 'error',
        message: 'preference record needs input.messages, preferred_output and non_preferred_output',
        index: i,
      });
      break;
    }
  }
  return problems;
}

export function toJsonlLines(rows: unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}
