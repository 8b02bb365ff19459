/**
 * Rematerialisation of cheap forward values in a gradient graph (activation memory).
 *
 * After `g.grad`, every forward value a backward node reads stays alive from the forward pass to its use in the
 * backward pass. For values that are cheap to compute again from values kept anyway (norm outputs from the residual
 * stream, SiLU and the SwiGLU product from gate and up, attention probabilities from q and k), this pass clones their
 * forward nodes into the backward pass, just before their first backward reader, and rewires the backward readers to
 * the clones; the originals then die in the forward pass.
 *
 * A clone would be free to run early (its inputs are forward values), so each clone that reads only forward values
 * also reads a zero derived from a gradient computed just before its first reader: one input `u` becomes
 * `u + 0 * d[0]`, which is `u` bit for bit (for finite d), so recomputed values equal the originals exactly.
 */
import type { Graph, Node, Value } from './graph.ts';

/** ops cloned into the backward pass, and the producers of their inputs that are cloned with them (else kept) */
const RECOMPUTE: Record<string, string[]> = {
  RmsNorm: [],
  Silu: [],
  Mul: ['Silu', 'RmsNorm'],
  Softmax: ['Add'],
  Add: ['MatMul'],
  MatMul: [],
};
/** ops whose outputs may start a recomputation when a backward node reads them */
const ROOTS = new Set(['RmsNorm', 'Silu', 'Mul', 'Softmax']);

const size = (v: Value) => v.shape.reduce((a, b) => a * b, 1);
const isFloat = (v: Value) => v.dtype === 'float32' || v.dtype === 'float64';

/**
 * Rewrite `g` in place: nodes with index < `forwardNodes` are the forward pass, the rest the backward pass.
 * Returns how many forward nodes were cloned.
 */
export function rematerialize(g: Graph, forwardNodes: number): number {
  // float32 only: float64 graphs are gradient checks, and onnxruntime fuses a forward SiLU whose sigmoid is no longer
  // read into QuickGelu, which it implements for float32 only
  if (g.dtype !== 'float32') return 0;
  const forward = g.nodes.slice(0, forwardNodes);
  const backward = g.nodes.slice(forwardNodes);
  const producer = new Map<number, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o.id, n);
  const fwdIds = new Set<number>();
  for (const n of forward) for (const o of n.outputs) fwdIds.add(o.id);
  // forward values some backward node reads (kept alive anyway unless rematerialised)
  const readBack = new Set<number>();
  for (const n of backward) for (const v of n.inputs) if (fwdIds.has(v.id)) readBack.add(v.id);
  const canRoot = (v: Value) => {
    const p = producer.get(v.id);
    return !!p && fwdIds.has(v.id) && ROOTS.has(p.op) && v.dtype === g.dtype;
  };

  g.nodes = forward.slice();
  const clones = new Map<number, Value>(); // forward value id -> its recomputed value
  // the latest value of the gradient flow: computed from the loss's seed (the first backward node) on
  let lastGrad: Value | null = null;
  const seeded = new Set<number>();
  let cloned = 0;
  let dep: Value | null = null; // the zero that orders clones after `lastGrad`, built once per backward node

  const zeroAfter = (): Value => {
    if (dep) return dep;
    const d = lastGrad!;
    const flat = g.reshape(d, [size(d)]);
    dep = g.mul(g.slice(flat, 0, 0, 1), 0);
    return dep;
  };

  const recompute = (v: Value): Value => {
    const hit = clones.get(v.id);
    if (hit) return hit;
    const p = producer.get(v.id)!;
    const allowed = RECOMPUTE[p.op];
    let fromClone = false;
    const ins = p.inputs.map((u) => {
      const q = producer.get(u.id);
      if (q && fwdIds.has(u.id) && allowed.includes(q.op) && u.dtype === g.dtype) {
        fromClone = true;
        return recompute(u);
      }
      return u;
    });
    if (!fromClone) {
      // order this clone after the gradient computed last: add a zero (from that gradient) to its smallest float input
      let k = -1;
      ins.forEach((u, i) => {
        if (isFloat(u) && (k < 0 || size(u) < size(ins[k]))) k = i;
      });
      ins[k] = g.add(ins[k], zeroAfter());
    }
    const outs = g.op(p.op, ins, p.attrs);
    p.outputs.forEach((o, i) => clones.set(o.id, outs[i]));
    cloned++;
    return clones.get(v.id)!;
  };

  // gradients that are graph outputs, not yet ordered before the rest of the backward pass
  const outputIds = new Set(g.outputs.map((o) => o.value.id));
  let pending: Value[] = [];
  backward.forEach((n, i) => {
    dep = null;
    if (lastGrad) n.inputs = n.inputs.map((v) => (readBack.has(v.id) && (clones.has(v.id) || canRoot(v)) ? recompute(v) : v));
    const k = n.inputs.findIndex((v) => seeded.has(v.id));
    if (pending.length && k >= 0) {
      // The gradient flow continues only after the outputs computed so far (a zero from each joins it): onnxruntime
      // orders nodes depth-first from the graph's outputs, and would otherwise compute every layer's weight
      // gradients at the end, keeping each layer's output gradients and inputs alive through the whole pass.
      let z: Value | null = null;
      for (const o of pending) {
        const zo = g.mul(g.slice(g.reshape(o, [size(o)]), 0, 0, 1), 0);
        z = z ? g.add(z, zo) : zo;
      }
      const joined = g.add(n.inputs[k], z!);
      seeded.add(joined.id);
      n.inputs = n.inputs.map((v, j) => (j === k ? joined : v));
      pending = [];
    }
    g.nodes.push(n);
    if (i === 0 || k >= 0)
      for (const o of n.outputs) {
        seeded.add(o.id);
        if (isFloat(o)) lastGrad = o;
      }
    for (const o of n.outputs) if (outputIds.has(o.id) && isFloat(o)) pending.push(o);
  });
  g.nodes.forEach((n, i) => {
    n.id = i;
  });
  return cloned;
}
