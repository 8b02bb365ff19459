/** float32 <-> float16 / bfloat16 conversion, round-to-nearest-even, NaN and infinities kept. */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of a number (round to nearest, ties to even; overflow gives ±Infinity). */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const e32 = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (e32 === 0xff) return mant ? sign | 0x7e00 | (mant >>> 13) : sign | 0x7c00;
  const e = e32 - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++; // a carry rolls into the exponent (up to Infinity)
  return sign | r;
}

let f16Table: Float32Array | undefined;
function table(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = sign * m * 2 ** -24;
    else if (e === 0x1f) t[h] = m ? NaN : sign * Infinity;
    else t[h] = sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (f16Table = t);
}

export function f16BitsToF32(h: number): number {
  return table()[h & 0xffff];
}

/** bfloat16 bits of a number (round to nearest, ties to even). */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return (b >>> 16) | 0x40; // quiet NaN
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16BitsToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

export function encodeF16(src: Float32Array, dst = new Uint16Array(src.length)): Uint16Array {
  for (let i = 0; i < src.length; i++) dst[i] = f32ToF16Bits(src[i]);
  return dst;
}

export function decodeF16(src: Uint16Array, dst = new Float32Array(src.length)): Float32Array {
  const t = table();
  for (let i = 0; i < src.length; i++) dst[i] = t[src[i]];
  return dst;
}

export function encodeBf16(src: Float32Array, dst = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) {
    const b = bits[i];
    dst[i] = (b & 0x7f800000) === 0x7f800000 && b & 0x7fffff ? (b >>> 16) | 0x40 : ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return dst;
}

export function decodeBf16(src: Uint16Array, dst = new Float32Array(src.length)): Float32Array {
  const bits = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return dst;
}

/** Round each value to the nearest float16 / bfloat16 and back (what a save in that dtype keeps). */
export function roundTo(dtype: 'F32' | 'F16' | 'BF16', src: Float32Array): Float32Array {
  if (dtype === 'F32') return src.slice();
  return dtype === 'F16' ? decodeF16(encodeF16(src)) : decodeBf16(encodeBf16(src));
}
