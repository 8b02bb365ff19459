import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradCheck, type GradInputSpec } from '../../src/engine/gradcheck.ts';
import type { Graph, Value } from '../../src/engine/graph.ts';

type Case = [string, (g: Graph, x: Value[]) => Value, GradInputSpec[]];
const s = (...shape: number[]): GradInputSpec => ({ shape });
const pos = (...shape: number[]): GradInputSpec => ({ shape, min: 0.5, max: 2 });

const cases: Case[] = [
  ['Add (broadcast)', (g, [a, b]) => g.add(a, b), [s(2, 3, 4), s(3, 1)]],
  ['Sub (broadcast)', (g, [a, b]) => g.sub(a, b), [s(3, 1), s(2, 3, 4)]],
  ['Mul (broadcast)', (g, [a, b]) => g.mul(a, b), [s(2, 3, 4), s(4)]],
  ['Div', (g, [a, b]) => g.div(a, b), [s(2, 3), pos(2, 1)]],
  ['Neg', (g, [a]) => g.neg(a), [s(5)]],
  ['Exp', (g, [a]) => g.exp(a), [s(2, 3)]],
  ['Log', (g, [a]) => g.log(a), [pos(2, 3)]],
  ['Sqrt', (g, [a]) => g.sqrt(a), [pos(2, 3)]],
  ['Rsqrt', (g, [a]) => g.rsqrt(a), [pos(2, 3)]],
  ['Pow 2', (g, [a]) => g.pow(a, 2), [s(2, 3)]],
  ['Pow 3', (g, [a]) => g.pow(a, 3), [s(2, 3)]],
  ['Sigmoid', (g, [a]) => g.sigmoid(a), [s(2, 3)]],
  ['SiLU', (g, [a]) => g.silu(a), [s(2, 3)]],
  ['Tanh', (g, [a]) => g.tanh(a), [s(2, 3)]],
  ['MatMul 2D', (g, [a, b]) => g.matmul(a, b), [s(3, 4), s(4, 5)]],
  ['MatMul batched x 2D', (g, [a, b]) => g.matmul(a, b), [s(2, 3, 4), s(4, 5)]],
  ['MatMul batched broadcast', (g, [a, b]) => g.matmul(a, b), [s(2, 3, 2, 4), s(2, 1, 4, 5)]],
  ['Gemm', (g, [a, b]) => g.gemm(a, b), [s(3, 4), s(4, 5)]],
  ['Gemm transA', (g, [a, b]) => g.gemm(a, b, true, false), [s(4, 3), s(4, 5)]],
  ['Gemm transB', (g, [a, b]) => g.gemm(a, b, false, true), [s(3, 4), s(5, 4)]],
  ['Gemm transA transB', (g, [a, b]) => g.gemm(a, b, true, true), [s(4, 3), s(5, 4)]],
  ['Linear ND', (g, [a, b]) => g.linear(a, b), [s(2, 3, 4), s(5, 4)]],
  ['ReduceSum', (g, [a]) => g.reduceSum(a, [1], false), [s(2, 3, 4)]],
  ['ReduceSum keepdims', (g, [a]) => g.reduceSum(a, [0, 2], true), [s(2, 3, 4)]],
  ['ReduceMean', (g, [a]) => g.reduceMean(a, [-1], true), [s(2, 3, 4)]],
  ['ReduceMax', (g, [a]) => g.reduceMax(a, [-1], false), [s(2, 3, 4)]],
  ['Reshape', (g, [a]) => g.mul(g.reshape(a, [4, 6]), g.reshape(a, [4, 6])), [s(2, 3, 4)]],
  ['Transpose', (g, [a]) => g.transpose(a, [2, 0, 1]), [s(2, 3, 4)]],
  ['Expand', (g, [a]) => g.expand(a, [2, 3, 4]), [s(3, 1)]],
  ['Concat', (g, [a, b]) => g.concat([a, b, a], 1), [s(2, 3), s(2, 2)]],
  ['Slice', (g, [a]) => g.slice(a, -1, 1, 3), [s(2, 3, 4)]],
  ['RmsNorm (fused, hand-written gradient)', (g, [x, w]) => g.rmsNorm(x, w, 1e-5), [s(2, 3, 8), s(8)]],
  ['SwapHalves', (g, [a]) => g.swapHalves(a), [s(2, 3, 6)]],
  [
    'RoPE (x·cos + swap(x)·sin)',
    (g, [x, c, sn]) => g.add(g.mul(x, c), g.mul(g.swapHalves(x), sn)),
    [s(2, 3, 2, 4), s(1, 3, 1, 4), s(1, 3, 1, 4)],
  ],
  [
    'Gather (embedding, repeated ids)',
    (g, [t, i]) => g.gather(t, i),
    [s(5, 3), { shape: [2, 3], dtype: 'int64', data: [0, 2, 2, 4, 0, 1] }],
  ],
  ['Softmax', (g, [a]) => g.softmax(a, -1), [s(2, 3, 5)]],
  ['Softmax axis 1', (g, [a]) => g.softmax(a, 1), [s(2, 3, 5)]],
  ['LogSoftmax', (g, [a]) => g.logSoftmax(a, -1), [s(3, 7)]],
  [
    'Where',
    (g, [c, a, b]) => g.where(g.cast(c, 'bool'), a, b),
    [{ shape: [2, 3], dtype: 'int64', data: [1, 0, 1, 0, 0, 1] }, s(2, 3), s(3)],
  ],
  ['Cast (float64 -> float32 -> float64)', (g, [a]) => g.cast(g.mul(g.cast(a, 'float32'), g.scalar(1, 'float32')), 'float64'), [s(2, 3)]],
  [
    'TokenLogprobs (fused log-softmax + pick, repeated targets)',
    (g, [logits, tgt]) => g.tokenLogprobs(logits, tgt),
    [s(5, 6), { shape: [5], dtype: 'int64', data: [0, 5, 2, 2, 3] }],
  ],
  [
    'cross-entropy (LogSoftmax + one-hot mask)',
    (g, [logits, tgt]) => {
      const V = logits.shape[1];
      const range = g.constant([...Array(V).keys()], [1, V], 'int64');
      const onehot = g.cast(g.equal(g.reshape(tgt, [-1, 1]), range), logits.dtype);
      return g.neg(g.reduceSum(g.mul(g.logSoftmax(logits, -1), onehot), [1], false));
    },
    [s(4, 6), { shape: [4], dtype: 'int64', data: [0, 5, 2, 2] }],
  ],
];

for (const [name, f, specs] of cases) {
  test(`gradient of ${name} matches finite differences (float64)`, async () => {
    const r = await gradCheck(f, specs, { samples: 16, eps: name.startsWith('Cast') ? 1e-2 : undefined });
    assert.ok(r.checked > 0);
    // Cast through float32 loses precision: allow float32 tolerance there
    const tol = name.startsWith('Cast') ? 1e-3 : 1e-6;
    assert.ok(r.maxRelErr < tol, `${name}: max relative error ${r.maxRelErr} (abs ${r.maxAbsErr})`);
  });
}

test('float32 gradient check of a composite (RMSNorm-like) within float32 tolerance', async () => {
  const r = await gradCheck(
    (g, [x, w]) => g.mul(g.mul(x, g.rsqrt(g.add(g.reduceMean(g.mul(x, x), [-1], true), 1e-5))), w),
    [s(3, 8), s(8)],
    { dtype: 'float32', eps: 1e-2 },
  );
  assert.ok(r.maxRelErr < 2e-2, `rel ${r.maxRelErr}`);
});

test('float32 RmsNorm (onnxruntime fused kernel) gradient within float32 tolerance', async () => {
  const r = await gradCheck((g, [x, w]) => g.rmsNorm(x, w, 1e-5), [s(3, 8), s(8)], { dtype: 'float32', eps: 1e-2 });
  assert.ok(r.maxRelErr < 2e-2, `rel ${r.maxRelErr}`);
});
