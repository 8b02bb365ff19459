/**
 * A small tensor graph IR with static shapes, a builder API and reverse-mode autodiff.
 * Every op keeps its shape rule and its gradient rule together in OPS below.
 * Graphs are emitted to ONNX (onnx.ts) and run by onnxruntime (runtime.ts).
 */

export type DType = 'float32' | 'float64' | 'int64' | 'bool';

export class Value {
  constructor(
    readonly id: number,
    readonly shape: number[],
    readonly dtype: DType,
    readonly node: Node | null,
    public name: string,
  ) {}
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

export interface Node {
  id: number;
  op: string;
  inputs: Value[];
  outputs: Value[];
  attrs: Record<string, unknown>;
}

export interface ConstData {
  value: Value;
  data: Float32Array | Float64Array | BigInt64Array | Uint8Array;
}

type Grads = (Value | null)[];
interface OpDef {
  /** output shapes and dtypes */
  infer(inputs: Value[], attrs: Record<string, any>): { shape: number[]; dtype: DType }[];
  /** gradient of the inputs given gradients of the outputs; needs[i] says whether input i needs one */
  grad?(g: Graph, node: Node, gouts: (Value | null)[], needs: boolean[]): Grads;
}

const isFloat = (d: DType) => d === 'float32' || d === 'float64';

export function broadcastShapes(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1,
      y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

function elementwise(inputs: Value[]): { shape: number[]; dtype: DType }[] {
  let s = inputs[0].shape;
  for (const v of inputs.slice(1)) s = broadcastShapes(s, v.shape);
  for (const v of inputs) if (v.dtype !== inputs[0].dtype) throw new Error(`dtype mismatch ${v.dtype} vs ${inputs[0].dtype}`);
  return [{ shape: s, dtype: inputs[0].dtype }];
}
const unary = (inputs: Value[]) => [{ shape: inputs[0].shape, dtype: inputs[0].dtype }];

function reduceShape(shape: number[], axes: number[], keepdims: boolean): number[] {
  const ax = axes.map((a) => normAxis(a, shape.length));
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (ax.includes(i)) {
      if (keepdims) out.push(1);
    } else out.push(d);
  });
  return out;
}

function matmulShape(a: number[], b: number[]): number[] {
  if (a.length < 2 || b.length < 2) throw new Error('matmul needs rank >= 2');
  const m = a[a.length - 2],
    k = a[a.length - 1],
    k2 = b[b.length - 2],
    n = b[b.length - 1];
  if (k !== k2) throw new Error(`matmul inner dims ${k} vs ${k2} ([${a}] @ [${b}])`);
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
  return [...batch, m, n];
}

/** The op set. Each entry: shape rule and gradient rule. */
export const OPS: Record<string, OpDef> = {
  Add: {
    infer: elementwise,
    grad: (g, n, [go], need) => [need[0] ? g.sumTo(go!, n.inputs[0].shape) : null, need[1] ? g.sumTo(go!, n.inputs[1].shape) : null],
  },
  Sub: {
    infer: elementwise,
    grad: (g, n, [go], need) => [need[0] ? g.sumTo(go!, n.inputs[0].shape) : null, need[1] ? g.sumTo(g.neg(go!), n.inputs[1].shape) : null],
  },
  Mul: {
    infer: elementwise,
    grad: (g, n, [go], need) => {
      const [a, b] = n.inputs;
      return [need[0] ? g.sumTo(g.mul(go!, b), a.shape) : null, need[1] ? g.sumTo(g.mul(go!, a), b.shape) : null];
    },
  },
  Div: {
    infer: elementwise,
    grad: (g, n, [go], need) => {
      const [a, b] = n.inputs;
      const out = n.outputs[0];
      return [need[0] ? g.sumTo(g.div(go!, b), a.shape) : null, need[1] ? g.sumTo(g.neg(g.div(g.mul(go!, out), b)), b.shape) : null];
    },
  },
  Neg: { infer: unary, grad: (g, n, [go]) => [g.neg(go!)] },
  Exp: { infer: unary, grad: (g, n, [go]) => [g.mul(go!, n.outputs[0])] },
  Log: { infer: unary, grad: (g, n, [go]) => [g.div(go!, n.inputs[0])] },
  Sqrt: { infer: unary, grad: (g, n, [go]) => [g.div(go!, g.mul(n.outputs[0], 2))] },
  Reciprocal: {
    infer: unary,
    grad: (g, n, [go]) => {
      const o = n.outputs[0];
      return [g.neg(g.mul(go!, g.mul(o, o)))];
    },
  },
  Sigmoid: {
    infer: unary,
    grad: (g, n, [go]) => {
      const o = n.outputs[0];
      return [g.mul(go!, g.mul(o, g.sub(1, o)))];
    },
  },
  /**
   * RMSNorm over the last axis: y = x · r · w with r = 1/sqrt(mean(x²) + eps). Outputs y, x̂ = x·r, r (saved for the gradient
   * gx = r · (g·w − x̂ · mean(g·w·x̂)), gw = Σ g·x̂).
   */
  RmsNorm: {
    infer: (inputs) => {
      const x = inputs[0];
      return [
        { shape: x.shape, dtype: x.dtype },
        { shape: x.shape, dtype: x.dtype },
        { shape: [...x.shape.slice(0, -1), 1], dtype: x.dtype },
      ];
    },
    grad: (g, n, [go, gxh, gr], need) => {
      if (gxh || gr) throw new Error('RmsNorm: gradient through the saved outputs is not supported');
      const [, w] = n.inputs;
      const [, xhat, r] = n.outputs;
      const gw = need[1] ? g.sumTo(g.mul(go!, xhat), w.shape) : null;
      let gx: Value | null = null;
      if (need[0]) {
        const gh = g.mul(go!, w);
        const m = g.reduceMean(g.mul(gh, xhat), [-1], true);
        gx = g.mul(g.sub(gh, g.mul(xhat, m)), r);
      }
      return [gx, gw];
    },
  },
  /** SiLU x·σ(x); second output σ(x) is kept for the gradient g·(σ·(1 − y) + y) */
  Silu: {
    infer: (inputs) => [
      { shape: inputs[0].shape, dtype: inputs[0].dtype },
      { shape: inputs[0].shape, dtype: inputs[0].dtype },
    ],
    grad: (g, n, [go, gs]) => {
      if (gs) throw new Error('Silu: gradient through the sigmoid output is not supported');
      const [y, sg] = n.outputs;
      return [g.mul(go!, g.add(g.mul(sg, g.sub(1, y)), y))];
    },
  },
  Tanh: {
    infer: unary,
    grad: (g, n, [go]) => {
      const o = n.outputs[0];
      return [g.mul(go!, g.sub(1, g.mul(o, o)))];
    },
  },
  /** x ** p with a constant exponent (second input is a scalar constant) */
  Pow: {
    infer: (inputs) => [{ shape: inputs[0].shape, dtype: inputs[0].dtype }],
    grad: (g, n, [go]) => {
      const p = n.attrs.p as number;
      const x = n.inputs[0];
      const d = p === 2 ? g.mul(x, 2) : g.mul(g.pow(x, p - 1), p);
      return [g.mul(go!, d), null];
    },
  },
  Identity: { infer: unary, grad: (g, n, [go]) => [go] },
  Cast: {
    infer: (inputs, a) => [{ shape: inputs[0].shape, dtype: a.to as DType }],
    grad: (g, n, [go]) => [isFloat(n.inputs[0].dtype) ? g.cast(go!, n.inputs[0].dtype) : null],
  },
  Equal: { infer: (inputs) => [{ shape: broadcastShapes(inputs[0].shape, inputs[1].shape), dtype: 'bool' }] },
  Where: {
    infer: (inputs) => [
      { shape: broadcastShapes(broadcastShapes(inputs[0].shape, inputs[1].shape), inputs[2].shape), dtype: inputs[1].dtype },
    ],
    grad: (g, n, [go], need) => {
      const [c, a, b] = n.inputs;
      const z = g.scalar(0, go!.dtype);
      return [null, need[1] ? g.sumTo(g.where(c, go!, z), a.shape) : null, need[2] ? g.sumTo(g.where(c, z, go!), b.shape) : null];
    },
  },
  MatMul: {
    infer: (inputs) => [{ shape: matmulShape(inputs[0].shape, inputs[1].shape), dtype: inputs[0].dtype }],
    grad: (g, n, [go], need) => {
      const [a, b] = n.inputs;
      let ga: Value | null = null,
        gb: Value | null = null;
      if (need[0]) {
        if (b.rank === 2) ga = g.sumTo(g.gemmND(go!, b, false, true), a.shape);
        else ga = g.sumTo(g.matmul(go!, g.transposeLast2(b)), a.shape);
      }
      if (need[1]) {
        if (b.rank === 2 && a.rank >= 2) {
          // flatten the batch dims of a and g: gb = a2ᵀ g2
          const k = a.shape[a.rank - 1],
            nn = go!.shape[go!.rank - 1];
          const a2 = g.reshape(a, [-1, k]),
            g2 = g.reshape(go!, [-1, nn]);
          gb = g.gemm(a2, g2, true, false);
        } else gb = g.sumTo(g.matmul(g.transposeLast2(a), go!), b.shape);
      }
      return [ga, gb];
    },
  },
  /** 2-D matrix product with optional transposes (ONNX Gemm without C) */
  Gemm: {
    infer: (inputs, a) => {
      const [A, B] = inputs;
      if (A.rank !== 2 || B.rank !== 2) throw new Error('gemm needs 2-D inputs');
      const m = a.transA ? A.shape[1] : A.shape[0],
        k = a.transA ? A.shape[0] : A.shape[1];
      const k2 = a.transB ? B.shape[1] : B.shape[0],
        nn = a.transB ? B.shape[0] : B.shape[1];
      if (k !== k2) throw new Error(`gemm inner dims ${k} vs ${k2}`);
      return [{ shape: [m, nn], dtype: A.dtype }];
    },
    grad: (g, n, [go], need) => {
      const [A, B] = n.inputs;
      const tA = !!n.attrs.transA,
        tB = !!n.attrs.transB;
      const gA = !need[0] ? null : !tA ? g.gemm(go!, B, false, !tB) : g.gemm(B, go!, tB, true);
      const gB = !need[1] ? null : !tB ? g.gemm(A, go!, !tA, false) : g.gemm(go!, A, true, tA);
      return [gA, gB];
    },
  },
  ReduceSum: {
    infer: (inputs, a) => [{ shape: reduceShape(inputs[0].shape, a.axes, a.keepdims), dtype: inputs[0].dtype }],
    grad: (g, n, [go]) => {
      const x = n.inputs[0];
      const kept = reduceShape(x.shape, n.attrs.axes as number[], true);
      return [g.expand(g.reshape(go!, kept), x.shape)];
    },
  },
  ReduceMean: {
    infer: (inputs, a) => [{ shape: reduceShape(inputs[0].shape, a.axes, a.keepdims), dtype: inputs[0].dtype }],
    grad: (g, n, [go]) => {
      const x = n.inputs[0];
      const axes = (n.attrs.axes as number[]).map((a) => normAxis(a, x.rank));
      const count = axes.reduce((p, a) => p * x.shape[a], 1);
      const kept = reduceShape(x.shape, axes, true);
      return [g.expand(g.reshape(g.mul(go!, 1 / count), kept), x.shape)];
    },
  },
  ReduceMax: {
    infer: (inputs, a) => [{ shape: reduceShape(inputs[0].shape, a.axes, a.keepdims), dtype: inputs[0].dtype }],
    grad: (g, n, [go]) => {
      // gradient flows to the arg-max element(s)
      const x = n.inputs[0];
      const kept = reduceShape(x.shape, n.attrs.axes as number[], true);
      const m = g.reshape(n.outputs[0], kept);
      const mask = g.cast(g.equal(x, m), x.dtype);
      return [g.mul(mask, g.reshape(go!, kept))];
    },
  },
  Reshape: {
    infer: (inputs, a) => {
      const x = inputs[0];
      const target = (a.shape as number[]).map((d, i) => (d === 0 ? x.shape[i] : d));
      const known = target.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
      const out = target.map((d) => (d === -1 ? x.size / known : d));
      if (out.reduce((p, d) => p * d, 1) !== x.size) throw new Error(`reshape [${x.shape}] -> [${a.shape}]`);
      return [{ shape: out, dtype: x.dtype }];
    },
    grad: (g, n, [go]) => [g.reshape(go!, n.inputs[0].shape)],
  },
  Transpose: {
    infer: (inputs, a) => [{ shape: (a.perm as number[]).map((p) => inputs[0].shape[p]), dtype: inputs[0].dtype }],
    grad: (g, n, [go]) => {
      const perm = n.attrs.perm as number[];
      const inv = perm.map((_, i) => perm.indexOf(i));
      return [g.transpose(go!, inv)];
    },
  },
  Expand: {
    infer: (inputs, a) => [{ shape: broadcastShapes(inputs[0].shape, a.shape), dtype: inputs[0].dtype }],
    grad: (g, n, [go]) => [g.sumTo(go!, n.inputs[0].shape)],
  },
  Concat: {
    infer: (inputs, a) => {
      const ax = normAxis(a.axis, inputs[0].rank);
      const shape = inputs[0].shape.slice();
      shape[ax] = inputs.reduce((s, v) => s + v.shape[ax], 0);
      return [{ shape, dtype: inputs[0].dtype }];
    },
    grad: (g, n, [go], need) => {
      const ax = normAxis(n.attrs.axis as number, go!.rank);
      let off = 0;
      return n.inputs.map((v, i) => {
        const s = off;
        off += v.shape[ax];
        return need[i] ? g.slice(go!, ax, s, s + v.shape[ax]) : null;
      });
    },
  },
  /** slice of one axis [start, end) */
  Slice: {
    infer: (inputs, a) => {
      const shape = inputs[0].shape.slice();
      shape[normAxis(a.axis, shape.length)] = a.end - a.start;
      return [{ shape, dtype: inputs[0].dtype }];
    },
    grad: (g, n, [go]) => {
      const x = n.inputs[0];
      const ax = normAxis(n.attrs.axis as number, x.rank);
      return [g.pad(go!, ax, n.attrs.start as number, x.shape[ax] - (n.attrs.end as number))];
    },
  },
  /** swap the two halves of the last axis (rotary embeddings); a permutation that is its own inverse */
  SwapHalves: {
    infer: unary,
    grad: (g, n, [go]) => [g.swapHalves(go!)],
  },
  /** zero padding of one axis (before, after) */
  Pad: {
    infer: (inputs, a) => {
      const shape = inputs[0].shape.slice();
      shape[a.axis] += a.before + a.after;
      return [{ shape, dtype: inputs[0].dtype }];
    },
    grad: (g, n, [go]) => {
      const ax = n.attrs.axis as number;
      const s = n.attrs.before as number;
      return [g.slice(go!, ax, s, s + n.inputs[0].shape[ax])];
    },
  },
  /** rows of a table: table [V, ...], indices int64 [...] */
  Gather: {
    infer: (inputs) => [{ shape: [...inputs[1].shape, ...inputs[0].shape.slice(1)], dtype: inputs[0].dtype }],
    grad: (g, n, [go]) => {
      const [table, idx] = n.inputs;
      const rowShape = table.shape.slice(1);
      const nIdx = idx.size;
      const upd = g.reshape(go!, [nIdx, ...rowShape]);
      const ind = g.reshape(idx, [nIdx, 1]);
      return [g.scatterAdd(table.shape, table.dtype, ind, upd), null];
    },
  },
  /** zeros of a shape with rows added at indices: ScatterND(reduction=add) over ConstantOfShape */
  ScatterAdd: {
    infer: (inputs, a) => [{ shape: a.shape as number[], dtype: inputs[1].dtype }],
  },
  /**
   * log p(targets) per row: logits [N, V], targets [N] int64 -> outputs [N] log-probs and [N, V] log-softmax.
   * Gradient: (onehot(targets) - softmax) * g, built from the saved log-softmax (no one-hot tensor).
   */
  TokenLogprobs: {
    infer: (inputs) => [
      { shape: [inputs[0].shape[0]], dtype: inputs[0].dtype },
      { shape: inputs[0].shape, dtype: inputs[0].dtype },
    ],
    grad: (g, n, [go, glp]) => {
      if (glp) throw new Error('TokenLogprobs: gradient through the log-softmax output is not supported');
      return [g.op('TokenLogprobsGrad', [n.outputs[1], n.inputs[1], go!])[0], null];
    },
  },
  /** internal: (onehot(targets) - exp(logp)) * g[:, None] */
  TokenLogprobsGrad: { infer: (inputs) => [{ shape: inputs[0].shape, dtype: inputs[0].dtype }] },
  Softmax: {
    infer: unary,
    grad: (g, n, [go]) => {
      const y = n.outputs[0];
      const ax = n.attrs.axis as number;
      const gy = g.mul(go!, y);
      return [g.sub(gy, g.mul(y, g.reduceSum(gy, [ax], true)))];
    },
  },
  LogSoftmax: {
    infer: unary,
    grad: (g, n, [go]) => {
      const y = n.outputs[0];
      const ax = n.attrs.axis as number;
      return [g.sub(go!, g.mul(g.exp(y), g.reduceSum(go!, [ax], true)))];
    },
  },
};

export interface GraphOutput {
  name: string;
  value: Value;
}

/** Graph builder. Values are created by the op methods; inputs, constants and outputs are named. */
export class Graph {
  nodes: Node[] = [];
  inputs: Value[] = [];
  consts: ConstData[] = [];
  outputs: GraphOutput[] = [];
  private nextId = 0;
  private scalarCache = new Map<string, Value>();
  constructor(readonly dtype: DType = 'float32') {}

  private newValue(shape: number[], dtype: DType, node: Node | null, name?: string): Value {
    const id = this.nextId++;
    return new Value(id, shape, dtype, node, name ?? `v${id}`);
  }

  input(name: string, shape: number[], dtype: DType = this.dtype): Value {
    if (this.inputs.some((v) => v.name === name)) throw new Error(`duplicate input ${name}`);
    const v = this.newValue(shape, dtype, null, name);
    this.inputs.push(v);
    return v;
  }

  constant(data: ArrayLike<number> | BigInt64Array, shape: number[], dtype: DType = this.dtype): Value {
    const v = this.newValue(shape, dtype, null, `c${this.nextId}`);
    let arr: ConstData['data'];
    if (dtype === 'float32') arr = Float32Array.from(data as ArrayLike<number>);
    else if (dtype === 'float64') arr = Float64Array.from(data as ArrayLike<number>);
    else if (dtype === 'int64')
      arr = data instanceof BigInt64Array ? data : BigInt64Array.from(Array.from(data as ArrayLike<number>, (x) => BigInt(x)));
    else arr = Uint8Array.from(data as ArrayLike<number>);
    if (arr.length !== shape.reduce((a, b) => a * b, 1)) throw new Error('constant size does not match shape');
    this.consts.push({ value: v, data: arr });
    return v;
  }

  scalar(x: number, dtype: DType = this.dtype): Value {
    const key = `${dtype}:${x}`;
    let v = this.scalarCache.get(key);
    if (!v) {
      v = this.constant([x], [], dtype);
      this.scalarCache.set(key, v);
    }
    return v;
  }

  output(name: string, value: Value): void {
    this.outputs.push({ name, value });
  }

  op(op: string, inputs: Value[], attrs: Record<string, unknown> = {}): Value[] {
    const def = OPS[op];
    if (!def) throw new Error(`unknown op ${op}`);
    const node: Node = { id: this.nodes.length, op, inputs, outputs: [], attrs };
    const outs = def.infer(inputs, attrs as Record<string, any>);
    node.outputs = outs.map((o) => this.newValue(o.shape, o.dtype, node));
    this.nodes.push(node);
    return node.outputs;
  }

  private lift(x: Value | number, like: Value): Value {
    return typeof x === 'number' ? this.scalar(x, like.dtype) : x;
  }
  private bin(op: string, a: Value | number, b: Value | number): Value {
    const like = typeof a === 'number' ? (b as Value) : a;
    return this.op(op, [this.lift(a, like), this.lift(b, like)])[0];
  }

  add(a: Value | number, b: Value | number) {
    return this.bin('Add', a, b);
  }
  sub(a: Value | number, b: Value | number) {
    return this.bin('Sub', a, b);
  }
  mul(a: Value | number, b: Value | number) {
    return this.bin('Mul', a, b);
  }
  div(a: Value | number, b: Value | number) {
    return this.bin('Div', a, b);
  }
  neg(x: Value) {
    return this.op('Neg', [x])[0];
  }
  exp(x: Value) {
    return this.op('Exp', [x])[0];
  }
  log(x: Value) {
    return this.op('Log', [x])[0];
  }
  sqrt(x: Value) {
    return this.op('Sqrt', [x])[0];
  }
  reciprocal(x: Value) {
    return this.op('Reciprocal', [x])[0];
  }
  rsqrt(x: Value) {
    return this.reciprocal(this.sqrt(x));
  }
  sigmoid(x: Value) {
    return this.op('Sigmoid', [x])[0];
  }
  tanh(x: Value) {
    return this.op('Tanh', [x])[0];
  }
  silu(x: Value) {
    return this.op('Silu', [x])[0];
  }
  rmsNorm(x: Value, w: Value, eps: number) {
    return this.op('RmsNorm', [x, w], { eps })[0];
  }
  pow(x: Value, p: number) {
    return this.op('Pow', [x, this.scalar(p, x.dtype)], { p })[0];
  }
  identity(x: Value) {
    return this.op('Identity', [x])[0];
  }
  cast(x: Value, to: DType) {
    return x.dtype === to ? x : this.op('Cast', [x], { to })[0];
  }
  equal(a: Value, b: Value) {
    return this.op('Equal', [a, b])[0];
  }
  where(c: Value, a: Value | number, b: Value | number) {
    const like = typeof a === 'number' ? (b as Value) : a;
    return this.op('Where', [c, this.lift(a, like), this.lift(b, like)])[0];
  }
  matmul(a: Value, b: Value) {
    return this.op('MatMul', [a, b])[0];
  }
  gemm(a: Value, b: Value, transA = false, transB = false) {
    return this.op('Gemm', [a, b], { transA: transA ? 1 : 0, transB: transB ? 1 : 0 })[0];
  }
  /** x [..., K] times W ([N, K] if transB else [K, N]) through a 2-D Gemm, keeping the leading dims */
  gemmND(x: Value, w: Value, transA: boolean, transB: boolean): Value {
    if (x.rank === 2) return this.gemm(x, w, transA, transB);
    const lead = x.shape.slice(0, -1);
    const y = this.gemm(this.reshape(x, [-1, x.shape[x.rank - 1]]), w, transA, transB);
    return this.reshape(y, [...lead, y.shape[1]]);
  }
  /** nn.Linear without bias: x [..., in] · Wᵀ with W [out, in] */
  linear(x: Value, w: Value) {
    return this.gemmND(x, w, false, true);
  }
  reduceSum(x: Value, axes: number[], keepdims = false) {
    return this.op('ReduceSum', [x], { axes: axes.map((a) => normAxis(a, x.rank)), keepdims })[0];
  }
  reduceMean(x: Value, axes: number[], keepdims = false) {
    return this.op('ReduceMean', [x], { axes: axes.map((a) => normAxis(a, x.rank)), keepdims })[0];
  }
  reduceMax(x: Value, axes: number[], keepdims = false) {
    return this.op('ReduceMax', [x], { axes: axes.map((a) => normAxis(a, x.rank)), keepdims })[0];
  }
  reshape(x: Value, shape: number[]) {
    const out = OPS.Reshape.infer([x], { shape })[0].shape;
    if (sameShape(out, x.shape)) return x;
    return this.op('Reshape', [x], { shape: out })[0];
  }
  transpose(x: Value, perm: number[]) {
    if (perm.every((p, i) => p === i)) return x;
    return this.op('Transpose', [x], { perm })[0];
  }
  transposeLast2(x: Value) {
    const perm = x.shape.map((_, i) => i);
    const r = x.rank;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return this.transpose(x, perm);
  }
  expand(x: Value, shape: number[]) {
    if (sameShape(x.shape, shape)) return x;
    return this.op('Expand', [x], { shape })[0];
  }
  concat(xs: Value[], axis: number) {
    return xs.length === 1 ? xs[0] : this.op('Concat', xs, { axis: normAxis(axis, xs[0].rank) })[0];
  }
  slice(x: Value, axis: number, start: number, end: number) {
    const ax = normAxis(axis, x.rank);
    if (start === 0 && end === x.shape[ax]) return x;
    return this.op('Slice', [x], { axis: ax, start, end })[0];
  }
  swapHalves(x: Value) {
    if (x.shape[x.rank - 1] % 2) throw new Error('swapHalves needs an even last dimension');
    return this.op('SwapHalves', [x])[0];
  }
  pad(x: Value, axis: number, before: number, after: number) {
    if (before === 0 && after === 0) return x;
    return this.op('Pad', [x], { axis: normAxis(axis, x.rank), before, after })[0];
  }
  gather(table: Value, idx: Value) {
    return this.op('Gather', [table, idx])[0];
  }
  scatterAdd(shape: number[], dtype: DType, indices: Value, updates: Value) {
    return this.op('ScatterAdd', [indices, updates], { shape, dtype })[0];
  }
  /** log p(targets[i]) under softmax(logits[i]) for logits [N, V], targets [N] */
  tokenLogprobs(logits: Value, targets: Value): Value {
    return this.op('TokenLogprobs', [logits, targets])[0];
  }
  softmax(x: Value, axis = -1) {
    return this.op('Softmax', [x], { axis: normAxis(axis, x.rank) })[0];
  }
  logSoftmax(x: Value, axis = -1) {
    return this.op('LogSoftmax', [x], { axis: normAxis(axis, x.rank) })[0];
  }

  /** reduce a broadcast gradient back to `shape` */
  sumTo(x: Value, shape: number[]): Value {
    if (sameShape(x.shape, shape)) return x;
    const r = x.rank - shape.length;
    const axes: number[] = [];
    for (let i = 0; i < x.rank; i++) if (i < r || (shape[i - r] === 1 && x.shape[i] !== 1)) axes.push(i);
    const s = axes.length ? this.reduceSum(x, axes, true) : x;
    return this.reshape(s, shape);
  }

  /** zeros of a shape (via Expand of a scalar) */
  zeros(shape: number[], dtype: DType = this.dtype): Value {
    return this.expand(this.scalar(0, dtype), shape);
  }

  /**
   * Reverse-mode autodiff: gradients of `loss` (seeded with ones, or `seed`) with respect to `wrt`.
   * Only nodes on a path from a `wrt` value to `loss` are differentiated.
   */
  grad(loss: Value, wrt: Value[], seed?: Value): Value[] {
    const dep = new Set<number>(wrt.map((v) => v.id));
    for (const n of this.nodes) if (n.inputs.some((v) => dep.has(v.id))) for (const o of n.outputs) dep.add(o.id);
    if (!dep.has(loss.id)) throw new Error('loss does not depend on the requested values');
    const onPath = new Set<number>([loss.id]);
    const nodesRev = this.nodes.slice().reverse();
    for (const n of nodesRev) if (n.outputs.some((o) => onPath.has(o.id))) for (const v of n.inputs) onPath.add(v.id);
    const grads = new Map<number, Value>();
    grads.set(loss.id, seed ?? this.expand(this.scalar(1, loss.dtype), loss.shape));
    const limit = this.nodes.length;
    for (let i = limit - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (!n.outputs.some((o) => dep.has(o.id) && grads.has(o.id))) continue;
      const def = OPS[n.op];
      const needs = n.inputs.map((v) => dep.has(v.id) && onPath.has(v.id) && isFloat(v.dtype));
      if (!needs.some(Boolean)) continue;
      if (!def.grad) throw new Error(`op ${n.op} has no gradient`);
      const gouts = n.outputs.map((o) => grads.get(o.id) ?? null);
      const gins = def.grad(this, n, gouts, needs);
      n.inputs.forEach((v, j) => {
        const gi = gins[j];
        if (!needs[j] || !gi) return;
        const prev = grads.get(v.id);
        grads.set(v.id, prev ? this.add(prev, gi) : gi);
      });
    }
    return wrt.map((w) => grads.get(w.id) ?? this.zeros(w.shape, w.dtype));
  }
}

/** Multiply-add FLOPs (2·M·N·K per product) of the Gemm and MatMul nodes of a graph. */
export function matmulFlops(g: Graph): number {
  let f = 0;
  for (const n of g.nodes) {
    if (n.op === 'Gemm') {
      const [A] = n.inputs,
        out = n.outputs[0].shape;
      const k = n.attrs.transA ? A.shape[0] : A.shape[1];
      f += 2 * out[0] * out[1] * k;
    } else if (n.op === 'MatMul') {
      const out = n.outputs[0];
      f += 2 * out.size * n.inputs[0].shape[n.inputs[0].rank - 1];
    }
  }
  return f;
}
