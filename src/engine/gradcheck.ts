/** Gradient checks of graph functions against central finite differences. */
import { Graph, type DType, type Value } from './graph.ts';
import { compileGraph, type HostArray } from './runtime.ts';
import { Rng } from '../core/index.ts';

export interface GradInputSpec {
  shape: number[];
  dtype?: DType;
  /** fixed data (default: uniform in [-1, 1]) */
  data?: ArrayLike<number> | BigInt64Array;
  /** lower bound of the random data (e.g. positive inputs for log/sqrt) */
  min?: number;
  max?: number;
}

export interface GradCheckResult {
  maxAbsErr: number;
  maxRelErr: number;
  checked: number;
}

/**
 * Build `f` over fresh inputs, form loss = sum(f(x) * R) with a fixed random R, and compare the
 * autodiff gradient of every float input with central differences on up to `samples` elements each.
 */
export async function gradCheck(
  build: (g: Graph, xs: Value[]) => Value,
  specs: GradInputSpec[],
  opts: { dtype?: DType; eps?: number; samples?: number; seed?: number } = {},
): Promise<GradCheckResult> {
  const dtype = opts.dtype ?? 'float64';
  const eps = opts.eps ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const rng = new Rng(opts.seed ?? 1);
  const g = new Graph(dtype);
  const xs = specs.map((s, i) => g.input(`x${i}`, s.shape, s.dtype ?? dtype));
  const y = build(g, xs);
  const R = new Float64Array(y.size).map(() => rng.uniform(-1, 1));
  const loss = g.reduceSum(
    g.mul(y, g.constant(R, y.shape, y.dtype)),
    y.shape.map((_, i) => i),
    false,
  );
  const floatIdx = xs.map((x, i) => i).filter((i) => xs[i].dtype === dtype);
  const grads = g.grad(
    loss,
    floatIdx.map((i) => xs[i]),
  );
  g.output('loss', loss);
  grads.forEach((gr, j) => g.output(`g${j}`, gr));
  const c = await compileGraph(g);
  const Arr = dtype === 'float64' ? Float64Array : Float32Array;
  const feeds: Record<string, HostArray> = {};
  specs.forEach((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const dt = s.dtype ?? dtype;
    if (dt === 'int64')
      feeds[`x${i}`] =
        s.data instanceof BigInt64Array ? s.data : BigInt64Array.from(Array.from(s.data as ArrayLike<number>, (v) => BigInt(v)));
    else if (dt === 'bool') feeds[`x${i}`] = Uint8Array.from(s.data as ArrayLike<number>);
    else feeds[`x${i}`] = s.data ? Arr.from(s.data as ArrayLike<number>) : new Arr(n).map(() => rng.uniform(s.min ?? -1, s.max ?? 1));
  });
  const base = await c.run(feeds);
  let maxAbsErr = 0,
    maxRelErr = 0,
    checked = 0;
  const lossAt = async () => Number((await c.run(feeds, ['loss'])).loss[0]);
  for (let j = 0; j < floatIdx.length; j++) {
    const x = feeds[`x${floatIdx[j]}`] as Float64Array | Float32Array;
    const gAuto = base[`g${j}`] as Float64Array | Float32Array;
    const n = x.length;
    const picks = n <= (opts.samples ?? 24) ? [...Array(n).keys()] : Array.from({ length: opts.samples ?? 24 }, () => rng.int(n));
    for (const k of picks) {
      const orig = x[k];
      x[k] = orig + eps;
      const lp = await lossAt();
      x[k] = orig - eps;
      const lm = await lossAt();
      x[k] = orig;
      const num = (lp - lm) / (2 * eps);
      const abs = Math.abs(num - gAuto[k]);
      const rel = abs / Math.max(1e-3, Math.abs(num), Math.abs(gAuto[k]));
      maxAbsErr = Math.max(maxAbsErr, abs);
      maxRelErr = Math.max(maxRelErr, rel);
      checked++;
    }
  }
  await c.session.release();
  return { maxAbsErr, maxRelErr, checked };
}
