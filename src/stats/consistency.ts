export interface ConsistencyResult {
  /** examples with at least two outputs (the others are ignored) */
  n: number;
  /** fraction of examples whose outputs all agree */
  allAgree: number;
  /** mean over examples of the fraction of output pairs that agree */
  meanPairwise: number;
  /** mean over examples of the share of outputs equal to the most common one */
  modalShare: number;
  perExample: { allAgree: boolean; pairwise: number; modalShare: number }[];
}

/**
 * Run-to-run consistency: `outputs[i]` holds the outputs of repeated runs on example i.
 * Outputs are compared after `normalize` (default: trim and collapse whitespace).
 */
export function consistency(
  outputs: readonly (readonly string[])[],
  normalize: (s: string) => string = (s) => s.trim().replace(/\s+/g, ' '),
): ConsistencyResult {
  const perExample: ConsistencyResult['perExample'] = [];
  for (const outs of outputs) {
    const m = outs.length;
    if (m < 2) continue;
    const counts = new Map<string, number>();
    for (const o of outs) {
      const k = normalize(o);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    let agreeing = 0;
    let top = 0;
    for (const c of counts.values()) {
      agreeing += (c * (c - 1)) / 2;
      if (c > top) top = c;
    }
    perExample.push({ allAgree: counts.size === 1, pairwise: agreeing / ((m * (m - 1)) / 2), modalShare: top / m });
  }
  const n = perExample.length;
  const avg = (f: (e: ConsistencyResult['perExample'][number]) => number) => (n ? perExample.reduce((s, e) => s + f(e), 0) / n : NaN);
  return {
    n,
    allAgree: avg((e) => (e.allAgree ? 1 : 0)),
    meanPairwise: avg((e) => e.pairwise),
    modalShare: avg((e) => e.modalShare),
    perExample,
  };
}
