/**
 * safetensors read/write (own code): 8-byte little-endian header length N, N bytes of JSON header
 * ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}), padded with
 * spaces to a multiple of 8 as the reference implementation does, then the raw little-endian data.
 * Tensors are returned as Float32Array (F32, F16, BF16, F64 and integer types converted).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostTensor } from '../types.ts';
import { EngineIoError } from './errors.ts';
import { decodeBf16, decodeF16, encodeBf16, encodeF16 } from './half.ts';

export type FloatDtype = 'F32' | 'F16' | 'BF16';

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}
export interface SafetensorsHeader {
  tensors: Map<string, SafetensorsEntry>;
  metadata?: Record<string, string>;
  dataStart: number;
}

export interface SafetensorsContents {
  tensors: Map<string, HostTensor>;
  /** dtype each tensor had in the file */
  dtypes: Map<string, string>;
  metadata?: Record<string, string>;
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function parseHeader(json: string, headerLen: number, fileSize: number, where: string): SafetensorsHeader {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new EngineIoError(where, `bad safetensors header JSON: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new EngineIoError(where, 'safetensors header is not an object');
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> | undefined;
  for (const [name, v] of Object.entries(raw)) {
    if (name === '__metadata__') {
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as SafetensorsEntry;
    if (!e || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets))
      throw new EngineIoError(where, `tensor ${name}: bad header entry`);
    const size = BYTES[e.dtype];
    if (!size) throw new EngineIoError(where, `tensor ${name}: unsupported dtype ${e.dtype}`);
    const n = e.shape.reduce((a, b) => a * b, 1);
    const [b0, b1] = e.data_offsets;
    if (b1 - b0 !== n * size)
      throw new EngineIoError(where, `tensor ${name}: data_offsets [${b0}, ${b1}] do not match shape [${e.shape}] of ${e.dtype}`);
    if (dataStart + b1 > fileSize) throw new EngineIoError(where, `tensor ${name}: data runs past the end of the file`);
    tensors.set(name, e);
  }
  return { tensors, metadata, dataStart };
}

function toFloat32(dtype: string, bytes: Uint8Array): Float32Array {
  // copy into a fresh, aligned buffer first
  const buf = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buf).set(bytes);
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf);
    case 'F16':
      return decodeF16(new Uint16Array(buf));
    case 'BF16':
      return decodeBf16(new Uint16Array(buf));
    case 'F64':
      return Float32Array.from(new Float64Array(buf));
    case 'I64':
      return Float32Array.from(new BigInt64Array(buf), (x) => Number(x));
    case 'I32':
      return Float32Array.from(new Int32Array(buf));
    case 'I16':
      return Float32Array.from(new Int16Array(buf));
    case 'I8':
      return Float32Array.from(new Int8Array(buf));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(new Uint8Array(buf));
  }
  throw new Error(`unsupported dtype ${dtype}`);
}

/** Parse a whole safetensors file held in memory. */
export function parseSafetensors(bytes: Uint8Array, where = 'safetensors'): SafetensorsContents {
  if (bytes.byteLength < 8) throw new EngineIoError(where, 'file too short for a safetensors header');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > bytes.byteLength - 8) throw new EngineIoError(where, `header length ${n} exceeds the file`);
  const json = Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8');
  const h = parseHeader(json, n, bytes.byteLength, where);
  const tensors = new Map<string, HostTensor>();
  const dtypes = new Map<string, string>();
  for (const [name, e] of h.tensors) {
    const sub = bytes.subarray(h.dataStart + e.data_offsets[0], h.dataStart + e.data_offsets[1]);
    tensors.set(name, { shape: e.shape.slice(), data: toFloat32(e.dtype, sub) });
    dtypes.set(name, e.dtype);
  }
  return { tensors, dtypes, metadata: h.metadata };
}

/** Read only the header of a safetensors file (names, dtypes, shapes, metadata). */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const fd = openOrThrow(file);
  try {
    const size = fs.fstatSync(fd).size;
    const lenBuf = Buffer.alloc(8);
    if (size < 8 || fs.readSync(fd, lenBuf, 0, 8, 0) !== 8) throw new EngineIoError(file, 'file too short for a safetensors header');
    const n = Number(lenBuf.readBigUInt64LE(0));
    if (n > size - 8) throw new EngineIoError(file, `header length ${n} exceeds the file`);
    const hb = Buffer.alloc(n);
    fs.readSync(fd, hb, 0, n, 8);
    return parseHeader(hb.toString('utf8'), n, size, file);
  } finally {
    fs.closeSync(fd);
  }
}

function openOrThrow(file: string): number {
  try {
    return fs.openSync(file, 'r');
  } catch (e) {
    throw new EngineIoError(file, `cannot open: ${(e as Error).message}`);
  }
}

/** Read a safetensors file tensor by tensor (works for files larger than one Buffer). */
export function readSafetensors(file: string, options: { only?: (name: string) => boolean } = {}): SafetensorsContents {
  const h = readSafetensorsHeader(file);
  const fd = openOrThrow(file);
  const tensors = new Map<string, HostTensor>();
  const dtypes = new Map<string, string>();
  try {
    for (const [name, e] of h.tensors) {
      if (options.only && !options.only(name)) continue;
      const len = e.data_offsets[1] - e.data_offsets[0];
      const b = Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const r = fs.readSync(fd, b, got, len - got, h.dataStart + e.data_offsets[0] + got);
        if (r <= 0) throw new EngineIoError(file, `tensor ${name}: short read`);
        got += r;
      }
      tensors.set(name, { shape: e.shape.slice(), data: toFloat32(e.dtype, b) });
      dtypes.set(name, e.dtype);
    }
  } finally {
    fs.closeSync(fd);
  }
  return { tensors, dtypes, metadata: h.metadata };
}

export interface WriteSafetensorsOptions {
  /** dtype to store (default F32); a function chooses per tensor */
  dtype?: FloatDtype | ((name: string) => FloatDtype);
  metadata?: Record<string, string>;
}

function encode(dtype: FloatDtype, data: Float32Array): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const u16 = dtype === 'F16' ? encodeF16(data) : encodeBf16(data);
  return new Uint8Array(u16.buffer, u16.byteOffset, u16.byteLength);
}

function plan(tensors: Map<string, HostTensor>, options: WriteSafetensorsOptions) {
  const names = [...tensors.keys()].sort();
  const dt = (n: string): FloatDtype => (typeof options.dtype === 'function' ? options.dtype(n) : (options.dtype ?? 'F32'));
  // the reference writer orders by dtype alignment (larger first), then name
  names.sort((a, b) => BYTES[dt(b)] - BYTES[dt(a)] || (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (options.metadata) header.__metadata__ = options.metadata;
  let off = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new EngineIoError(`tensor ${name}`, `shape [${t.shape}] has ${n} elements but data has ${t.data.length}`);
    const bytes = n * BYTES[dt(name)];
    header[name] = { dtype: dt(name), shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  const len = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (len % 8)) % 8);
  const head = Buffer.alloc(8 + Buffer.byteLength(json, 'utf8'));
  head.writeBigUInt64LE(BigInt(head.length - 8), 0);
  head.write(json, 8, 'utf8');
  return { names, dt, head, total: head.length + off };
}

/** Serialize tensors to safetensors bytes in memory. */
export function serializeSafetensors(tensors: Map<string, HostTensor>, options: WriteSafetensorsOptions = {}): Uint8Array {
  const p = plan(tensors, options);
  const out = new Uint8Array(p.total);
  out.set(p.head, 0);
  let off = p.head.length;
  for (const name of p.names) {
    const b = encode(p.dt(name), tensors.get(name)!.data);
    out.set(b, off);
    off += b.byteLength;
  }
  return out;
}

/** Write a safetensors file atomically (temporary file, then rename), tensor by tensor. */
export function writeSafetensors(file: string, tensors: Map<string, HostTensor>, options: WriteSafetensorsOptions = {}): void {
  const p = plan(tensors, options);
  writeAtomic(file, (fd) => {
    fs.writeSync(fd, p.head);
    for (const name of p.names) fs.writeSync(fd, encode(p.dt(name), tensors.get(name)!.data));
  });
}

/** Write a file through a temporary sibling and a rename, so readers never see a half-written file. */
export function writeAtomic(file: string, write: (fd: number) => void): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    write(fd);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  writeAtomic(file, (fd) => {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  });
}
