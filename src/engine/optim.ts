/** AdamW (PyTorch semantics), global-norm clipping and learning-rate schedules over Float32Arrays. */

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/**
 * One fused AdamW update of `p` from gradient `g` (scaled by `gscale`), moments m and v, at step t (1-based).
 * Matches torch.optim.AdamW: p *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps).
 */
export function adamwUpdate(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  t: number,
  o: AdamWOptions,
  decay: boolean,
  gscale = 1,
): void {
  const b1 = o.beta1,
    b2 = o.beta2,
    c1 = 1 - b1,
    c2 = 1 - b2;
  const bc1 = 1 - Math.pow(b1, t),
    bc2 = 1 - Math.pow(b2, t);
  const stepSize = o.lr / bc1;
  const invSqrtBc2 = 1 / Math.sqrt(bc2);
  const eps = o.eps;
  const keep = decay ? 1 - o.lr * o.weightDecay : 1;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i] * gscale;
    const mi = b1 * m[i] + c1 * gi;
    const vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * keep - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
  }
}

export function sumSquares(g: Float32Array): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  const n = g.length,
    n4 = n - (n % 4);
  for (let i = 0; i < n4; i += 4) {
    s0 += g[i] * g[i];
    s1 += g[i + 1] * g[i + 1];
    s2 += g[i + 2] * g[i + 2];
    s3 += g[i + 3] * g[i + 3];
  }
  for (let i = n4; i < n; i++) s0 += g[i] * g[i];
  return s0 + s1 + s2 + s3;
}

export type ScheduleKind = 'cosine' | 'linear' | 'constant';

/** Learning rate at optimizer step `step` (0-based): linear warmup, then cosine/linear decay to minRatio*lr at totalSteps. */
export function scheduleLr(
  step: number,
  o: { lr: number; warmupSteps: number; totalSteps: number; schedule: ScheduleKind; minLrRatio: number },
): number {
  if (o.warmupSteps > 0 && step < o.warmupSteps) return (o.lr * (step + 1)) / (o.warmupSteps + 1);
  if (o.schedule === 'constant' || o.totalSteps <= o.warmupSteps) return o.lr;
  const progress = Math.min(1, (step - o.warmupSteps) / Math.max(1, o.totalSteps - o.warmupSteps));
  const f = o.schedule === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return o.lr * (o.minLrRatio + (1 - o.minLrRatio) * f);
}
