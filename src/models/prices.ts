import type { Price, Usage } from './types.ts';

/**
 * Built-in list prices, USD per 1M tokens (input / output), as the providers published them in 2025.
 * Prices change: set `price:` on a model in tunelab.yaml to override. Matched by longest prefix of the
 * provider's model name, so dated snapshots (gpt-4o-mini-2024-07-18) match their family.
 */
export const BUILTIN_PRICES: Record<string, Price> = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'claude-3-haiku': { input: 0.25, output: 1.25 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-3-7-sonnet': { input: 3, output: 15 },
  'claude-opus-4': { input: 15, output: 75 },
};

const FREE: Price = { input: 0, output: 0 };
/** Providers that bill per token: without a configured or built-in price their cost is unknown (reported as 0, priceKnown false). */
const HOSTED = new Set(['openai', 'anthropic', 'together', 'groq']);

/**
 * The price for a model: the config's `price` if set, else the built-in table for hosted providers
 * (openai, anthropic, together, groq; the table covers OpenAI and Anthropic models), else 0 (self-hosted and local endpoints cost nothing per token unless priced).
 * `known` is false when a hosted model has no price anywhere (cost is then reported as 0).
 */
export function priceFor(provider: string, model: string, configured?: Price): { price: Price; known: boolean } {
  if (configured) return { price: configured, known: true };
  if (HOSTED.has(provider)) {
    let best: string | undefined;
    for (const k of Object.keys(BUILTIN_PRICES)) {
      if (model.startsWith(k) && (!best || k.length > best.length)) best = k;
    }
    return best ? { price: BUILTIN_PRICES[best], known: true } : { price: FREE, known: false };
  }
  return { price: FREE, known: true };
}

/** USD for one call: tokens × per-1M prices, plus the CPU time's share of an hour × perHour (the latency's when the CPU time is unknown). */
export function costOf(price: Price, usage: Usage, latencyMs: number, cpuMs?: number): number {
  let c = (usage.input * price.input + usage.output * price.output) / 1e6;
  if (price.perHour) c += ((cpuMs ?? latencyMs) / 3_600_000) * price.perHour;
  return c;
}
