// Number formatting for the sentences the advisor writes (every figure cited the same way everywhere).

export function fmtUsd(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  if (a === 0) return '$0';
  if (a >= 100) return `$${x.toLocaleString('en-US', { maximumFractionDigits: 0 })}`;
  if (a >= 1) return `$${x.toFixed(2)}`;
  if (a >= 0.01) return `$${x.toFixed(3)}`;
  return `$${x.toPrecision(2)}`;
}

export function fmtCount(x: number): string {
  if (!Number.isFinite(x)) return '∞';
  return Math.round(x).toLocaleString('en-US');
}

export function fmtMetric(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : 'n/a';
}

export function fmtCi(ci: readonly [number, number]): string {
  return `[${fmtMetric(ci[0])}, ${fmtMetric(ci[1])}]`;
}

export function fmtP(p: number): string {
  if (!Number.isFinite(p)) return 'n/a';
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

export function fmtMs(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x).toLocaleString('en-US')} ms` : 'n/a';
}

export function fmtDiff(x: number): string {
  return Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(3)}` : 'n/a';
}
