/**
 * Holm–Bonferroni step-down adjustment of a family of p-values (Holm 1979), the same values as
 * statsmodels' `multipletests(p, method='holm')[1]`: sort ascending, p'(i) = max_{j ≤ i} min(1, (m - j + 1) · p(j)).
 * Returned in the input order. NaN entries are left NaN and do not count in the family size.
 */
export function holm(pValues: readonly number[]): number[] {
  const idx: number[] = [];
  for (let i = 0; i < pValues.length; i++) if (!Number.isNaN(pValues[i])) idx.push(i);
  idx.sort((a, b) => pValues[a] - pValues[b]);
  const m = idx.length;
  const out = pValues.map(() => NaN);
  let running = 0;
  idx.forEach((i, rank) => {
    const adj = Math.min(1, (m - rank) * pValues[i]);
    running = Math.max(running, adj);
    out[i] = running;
  });
  return out;
}
