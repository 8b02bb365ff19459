import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  bf16BitsToF32,
  decodeBf16,
  decodeF16,
  encodeBf16,
  encodeF16,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  roundTo,
  serializeSafetensors,
  writeSafetensors,
  EngineIoError,
} from '../../../src/engine/io/index.ts';
import { rng, sameBits, tmpDir } from './util.ts';

test('f16: every non-NaN half survives half -> f32 -> half; NaN stays NaN', () => {
  for (let h = 0; h < 65536; h++) {
    const v = f16BitsToF32(h);
    if (Number.isNaN(v)) {
      assert.ok(Number.isNaN(f16BitsToF32(f32ToF16Bits(v))));
      continue;
    }
    assert.equal(f32ToF16Bits(v), h, `half 0x${h.toString(16)}`);
  }
});

test('f16: round to nearest, ties to even, overflow to infinity, underflow to zero', () => {
  // midpoints between consecutive positive finite halves (normal and subnormal)
  for (let h = 0; h < 0x7bff; h += 7) {
    const lo = f16BitsToF32(h),
      hi = f16BitsToF32(h + 1);
    const mid = (lo + hi) / 2;
    assert.equal(Math.fround(mid), mid);
    assert.equal(f32ToF16Bits(mid), h % 2 === 0 ? h : h + 1, `tie at 0x${h.toString(16)}`);
    const above = mid + (hi - lo) / 8,
      below = mid - (hi - lo) / 8;
    assert.equal(f32ToF16Bits(above), h + 1);
    assert.equal(f32ToF16Bits(below), h);
    assert.equal(f32ToF16Bits(-above), 0x8000 | (h + 1));
  }
  assert.equal(f32ToF16Bits(65504), 0x7bff);
  assert.equal(f32ToF16Bits(65519.99), 0x7bff);
  assert.equal(f32ToF16Bits(65520), 0x7c00); // tie between 65504 and 65536 goes to even: infinity
  assert.equal(f32ToF16Bits(1e10), 0x7c00);
  assert.equal(f32ToF16Bits(-Infinity), 0xfc00);
  assert.equal(f32ToF16Bits(2 ** -25), 0); // half of the smallest subnormal: tie to even (0)
  assert.equal(f32ToF16Bits(2 ** -25 * 1.0001), 1);
  assert.equal(f32ToF16Bits(-0), 0x8000);
  assert.equal(f32ToF16Bits(1 / 3), 0x3555);
});

test('bf16: round trip of every pattern, ties to even', () => {
  for (let h = 0; h < 65536; h++) {
    const v = bf16BitsToF32(h);
    if (Number.isNaN(v)) {
      assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(v))));
      continue;
    }
    assert.equal(f32ToBf16Bits(v), h);
  }
  const u = new Uint32Array(1),
    f = new Float32Array(u.buffer);
  for (const h of [0x3f80, 0x3f81, 0x4049, 0x0001, 0x7f7e, 0xbf80]) {
    u[0] = (h << 16) | 0x8000; // exact midpoint
    assert.equal(f32ToBf16Bits(f[0]), h % 2 === 0 ? h : h + 1);
    u[0] = (h << 16) | 0x8001;
    assert.equal(f32ToBf16Bits(f[0]), h + 1);
    u[0] = (h << 16) | 0x7fff;
    assert.equal(f32ToBf16Bits(f[0]), h);
  }
  assert.equal(f32ToBf16Bits(3.4028234663852886e38), 0x7f80); // max float rounds up to infinity
  const r = rng(3),
    a = Float32Array.from({ length: 1000 }, () => (r() - 0.5) * 100);
  assert.ok(
    sameBits(
      decodeBf16(encodeBf16(a)),
      Float32Array.from(a, (x) => bf16BitsToF32(f32ToBf16Bits(x))),
    ),
  );
  assert.ok(
    sameBits(
      decodeF16(encodeF16(a)),
      Float32Array.from(a, (x) => f16BitsToF32(f32ToF16Bits(x))),
    ),
  );
});

test('safetensors layout: 8-byte LE length, space-padded JSON header, raw LE data', () => {
  const bytes = serializeSafetensors(new Map([['a', { shape: [2], data: Float32Array.of(1, 2) }]]));
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const header = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
  assert.equal(header, '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  '); // 54 bytes padded with spaces to 56, as the reference writer does
  assert.deepEqual([...bytes.subarray(8 + n)], [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
  assert.equal(bytes.length, 8 + n + 8);
});

test('safetensors F32 round trip is bit-exact (NaN payloads, -0, infinities, subnormals), metadata kept', () => {
  const r = rng(7);
  const u = Uint32Array.from({ length: 4096 }, () => Math.floor(r() * 2 ** 32));
  u[0] = 0x7fc00123;
  u[1] = 0x80000000;
  u[2] = 0x7f800000;
  u[3] = 0x00000001;
  const a = new Float32Array(u.buffer);
  const tensors = new Map([
    ['model.layers.0.mlp.up_proj.weight', { shape: [64, 64], data: a }],
    ['scalar', { shape: [], data: Float32Array.of(3.5) }],
    ['empty', { shape: [0, 4], data: new Float32Array(0) }],
  ]);
  const dir = tmpDir('st');
  const file = path.join(dir, 'x.safetensors');
  writeSafetensors(file, tensors, { metadata: { format: 'pt', note: 'é' } });
  const back = readSafetensors(file);
  assert.deepEqual(back.metadata, { format: 'pt', note: 'é' });
  for (const [k, t] of tensors) {
    assert.deepEqual(back.tensors.get(k)!.shape, t.shape);
    assert.ok(sameBits(back.tensors.get(k)!.data, t.data), k);
    assert.equal(back.dtypes.get(k), 'F32');
  }
  const mem = parseSafetensors(fs.readFileSync(file));
  assert.ok(sameBits(mem.tensors.get('model.layers.0.mlp.up_proj.weight')!.data, a));
  const h = readSafetensorsHeader(file);
  assert.equal((h.dataStart - 8) % 8, 0);
  assert.deepEqual(fs.readdirSync(dir), ['x.safetensors']); // no temporary left behind
});

test('safetensors F16 / BF16: stored values are the nearest representable ones', () => {
  const r = rng(11);
  const a = Float32Array.from({ length: 5000 }, () => (r() - 0.5) * 8);
  for (const dtype of ['F16', 'BF16'] as const) {
    const back = parseSafetensors(serializeSafetensors(new Map([['w', { shape: [50, 100], data: a }]]), { dtype }));
    assert.equal(back.dtypes.get('w'), dtype);
    assert.ok(sameBits(back.tensors.get('w')!.data, roundTo(dtype, a)));
    let maxRel = 0;
    for (let i = 0; i < a.length; i++)
      if (Math.abs(a[i]) > 1e-3) maxRel = Math.max(maxRel, Math.abs(back.tensors.get('w')!.data[i] - a[i]) / Math.abs(a[i]));
    assert.ok(maxRel <= (dtype === 'F16' ? 2 ** -11 : 2 ** -8) * 1.0001, `${dtype} max rel error ${maxRel}`);
    // saving the rounded values again is exact
    const again = parseSafetensors(serializeSafetensors(back.tensors, { dtype }));
    assert.ok(sameBits(again.tensors.get('w')!.data, back.tensors.get('w')!.data));
  }
});

test('safetensors: bad files raise EngineIoError naming the problem', () => {
  assert.throws(() => parseSafetensors(new Uint8Array(4)), EngineIoError);
  const good = serializeSafetensors(new Map([['a', { shape: [4], data: new Float32Array(4) }]]));
  assert.throws(() => parseSafetensors(good.subarray(0, good.length - 4)), /past the end/);
  const bad = Buffer.from(good);
  bad.write('{', 8);
  bad.write('X', 9);
  assert.throws(() => parseSafetensors(bad), /header/);
  assert.throws(() => serializeSafetensors(new Map([['a', { shape: [3], data: new Float32Array(4) }]])), /3 elements/);
});
