/** Emission of a Graph as an ONNX model (opset 17, IR 8) with onnx-proto. */
import onnxPkg from 'onnx-proto';
import { env } from '../core/index.ts';
import type { DType, Graph, Value } from './graph.ts';

const { onnx } = onnxPkg;
type INode = InstanceType<typeof onnx.NodeProto>;
type ITensor = InstanceType<typeof onnx.TensorProto>;

export const OPSET = 17;

const DT: Record<DType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

function rawBytes(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

function tensorProto(name: string, dtype: DType, dims: number[], data: ArrayBufferView): ITensor {
  return onnx.TensorProto.create({ name, dataType: DT[dtype], dims, rawData: rawBytes(data) });
}

function valueInfo(name: string, v: Value) {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: DT[v.dtype], shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
  });
}

const A = onnx.AttributeProto.AttributeType;
function attrInt(name: string, i: number) {
  return onnx.AttributeProto.create({ name, type: A.INT, i });
}
function attrInts(name: string, ints: number[]) {
  return onnx.AttributeProto.create({ name, type: A.INTS, ints });
}
function attrStr(name: string, s: string) {
  return onnx.AttributeProto.create({ name, type: A.STRING, s: new TextEncoder().encode(s) });
}
function attrTensor(name: string, t: ITensor) {
  return onnx.AttributeProto.create({ name, type: A.TENSOR, t });
}

/** Serialize the graph to ONNX bytes. */
export function emitOnnx(g: Graph, graphName = 'tunelab'): Uint8Array {
  const names = new Map<number, string>();
  const nameOf = (v: Value) => names.get(v.id) ?? v.name;
  const nodes: INode[] = [];
  const inits: ITensor[] = [];
  let aux = 0;
  const auxConst = (dtype: DType, dims: number[], data: ArrayBufferView) => {
    const name = `k${aux++}`;
    inits.push(tensorProto(name, dtype, dims, data));
    return name;
  };
  const i64 = (xs: number[]) => auxConst('int64', [xs.length], BigInt64Array.from(xs.map((x) => BigInt(x))));

  // graph outputs take the names of their values where possible
  const extraIdentities: [string, string][] = [];
  const used = new Set<number>();
  const inputIds = new Set(g.inputs.map((v) => v.id));
  const constIds = new Set(g.consts.map((c) => c.value.id));
  for (const o of g.outputs) {
    if (!inputIds.has(o.value.id) && !constIds.has(o.value.id) && !used.has(o.value.id)) {
      names.set(o.value.id, o.name);
      used.add(o.value.id);
    } else extraIdentities.push([o.value.name, o.name]);
  }

  for (const c of g.consts) inits.push(tensorProto(nameOf(c.value), c.value.dtype, c.value.shape, c.data));
  const consumed = new Set<number>(g.outputs.map((o) => o.value.id));
  for (const n of g.nodes) for (const v of n.inputs) consumed.add(v.id);

  for (const n of g.nodes) {
    const ins = n.inputs.map(nameOf);
    const outs = n.outputs.map(nameOf);
    const a = n.attrs as Record<string, any>;
    const node = (opType: string, inputs: string[], outputs: string[], attribute: any[] = []) =>
      nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: outputs, attribute, name: `n${nodes.length}` }));
    switch (n.op) {
      case 'Pow':
        node('Pow', ins, outs);
        break;
      case 'SwapHalves': {
        const h = n.inputs[0].shape[n.inputs[0].rank - 1] / 2;
        const a = `t${aux++}`,
          b = `t${aux++}`;
        node('Split', [ins[0], i64([h, h])], [a, b], [attrInt('axis', -1)]);
        node('Concat', [b, a], outs, [attrInt('axis', -1)]);
        break;
      }
      case 'RmsNorm': {
        const dt = n.inputs[0].dtype;
        if (dt === 'float32' && env('TUNELAB_NO_FUSED_RMSNORM') !== '1') {
          // onnxruntime's fused kernel (also outputs 1/rms); x̂ is recomputed for the gradient (dropped when unused)
          node(
            'SimplifiedLayerNormalization',
            [ins[0], ins[1]],
            [outs[0], outs[2]],
            [attrInt('axis', -1), onnx.AttributeProto.create({ name: 'epsilon', type: A.FLOAT, f: a.eps })],
          );
          if (consumed.has(n.outputs[1].id)) node('Mul', [ins[0], outs[2]], [outs[1]]);
          break;
        }
        const sq = `t${aux++}`,
          ms = `t${aux++}`,
          ve = `t${aux++}`,
          sd = `t${aux++}`;
        const eps = auxConst(dt, [], dt === 'float64' ? Float64Array.of(a.eps) : Float32Array.of(a.eps));
        node('Mul', [ins[0], ins[0]], [sq]);
        node('ReduceMean', [sq], [ms], [attrInts('axes', [-1]), attrInt('keepdims', 1)]);
        node('Add', [ms, eps], [ve]);
        node('Sqrt', [ve], [sd]);
        node('Reciprocal', [sd], [outs[2]]);
        node('Mul', [ins[0], outs[2]], [outs[1]]);
        node('Mul', [outs[1], ins[1]], [outs[0]]);
        break;
      }
      case 'Silu':
        node('Sigmoid', ins, [outs[1]]);
        node('Mul', [ins[0], outs[1]], [outs[0]]);
        break;
      case 'Cast':
        node('Cast', ins, outs, [attrInt('to', DT[a.to as DType])]);
        break;
      case 'Gemm':
        node('Gemm', ins, outs, [attrInt('transA', a.transA), attrInt('transB', a.transB)]);
        break;
      case 'ReduceSum':
        node('ReduceSum', [ins[0], i64(a.axes)], outs, [attrInt('keepdims', a.keepdims ? 1 : 0)]);
        break;
      case 'ReduceMean':
      case 'ReduceMax':
        node(n.op, ins, outs, [attrInts('axes', a.axes), attrInt('keepdims', a.keepdims ? 1 : 0)]);
        break;
      case 'Reshape':
        node('Reshape', [ins[0], i64(a.shape)], outs);
        break;
      case 'Transpose':
        node('Transpose', ins, outs, [attrInts('perm', a.perm)]);
        break;
      case 'Expand':
        node('Expand', [ins[0], i64(a.shape)], outs);
        break;
      case 'Concat':
        node('Concat', ins, outs, [attrInt('axis', a.axis)]);
        break;
      case 'Slice':
        node('Slice', [ins[0], i64([a.start]), i64([a.end]), i64([a.axis])], outs);
        break;
      case 'Pad': {
        const r = n.inputs[0].rank;
        const pads = new Array(2 * r).fill(0);
        pads[a.axis] = a.before;
        pads[r + a.axis] = a.after;
        node('Pad', [ins[0], i64(pads)], outs);
        break;
      }
      case 'Gather':
        node('Gather', ins, outs, [attrInt('axis', 0)]);
        break;
      case 'ScatterAdd': {
        const dtype = a.dtype as DType;
        const zero = dtype === 'float64' ? new Float64Array(1) : new Float32Array(1);
        const zname = `z${aux++}`;
        node('ConstantOfShape', [i64(a.shape)], [zname], [attrTensor('value', tensorProto('', dtype, [1], zero))]);
        node('ScatterND', [zname, ins[0], ins[1]], outs, [attrStr('reduction', 'add')]);
        break;
      }
      case 'TokenLogprobs': {
        const N = n.inputs[0].shape[0];
        const idx = `t${aux++}`,
          picked = `t${aux++}`;
        node('LogSoftmax', [ins[0]], [outs[1]], [attrInt('axis', 1)]);
        node('Reshape', [ins[1], i64([N, 1])], [idx]);
        node('GatherElements', [outs[1], idx], [picked], [attrInt('axis', 1)]);
        node('Reshape', [picked, i64([N])], [outs[0]]);
        break;
      }
      case 'TokenLogprobsGrad': {
        const N = n.inputs[0].shape[0];
        const [logp, tgt, gin] = ins;
        const p = `t${aux++}`,
          g2 = `t${aux++}`,
          ng = `t${aux++}`,
          scaled = `t${aux++}`,
          idx = `t${aux++}`;
        node('Exp', [logp], [p]);
        node('Reshape', [gin, i64([N, 1])], [g2]);
        node('Neg', [g2], [ng]);
        node('Mul', [p, ng], [scaled]);
        node('Reshape', [tgt, i64([N, 1])], [idx]);
        node('ScatterElements', [scaled, idx, g2], outs, [attrInt('axis', 1), attrStr('reduction', 'add')]);
        break;
      }
      case 'Softmax':
      case 'LogSoftmax':
        node(n.op, ins, outs, [attrInt('axis', a.axis)]);
        break;
      default:
        node(n.op, ins, outs);
    }
  }
  for (const [from, to] of extraIdentities)
    nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [from], output: [to], name: `n${nodes.length}` }));

  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'tunelab',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: graphName,
      node: nodes,
      initializer: inits,
      input: g.inputs.map((v) => valueInfo(v.name, v)),
      output: g.outputs.map((o) => valueInfo(o.name, o.value)),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
