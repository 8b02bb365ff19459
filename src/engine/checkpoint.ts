/**
 * Training checkpoints: float32 tensors plus a JSON state, in safetensors layout
 * (8-byte little-endian header length, JSON header, raw data), written atomically (temp file, fsync, rename).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, existsSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';

export interface CheckpointData {
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  state: unknown;
}

export function writeCheckpoint(path: string, ck: CheckpointData): void {
  mkdirSync(dirname(path), { recursive: true });
  const header: Record<string, unknown> = { __metadata__: { format: 'tunelab-checkpoint', state: JSON.stringify(ck.state) } };
  let off = 0;
  const order = [...ck.tensors.keys()];
  for (const name of order) {
    const t = ck.tensors.get(name)!;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8;
  json += ' '.repeat(pad);
  const hbuf = Buffer.from(json);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hbuf.length));
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, hbuf);
    for (const name of order) {
      const d = ck.tensors.get(name)!.data;
      writeSync(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* ignore */
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export function readCheckpoint(path: string): CheckpointData {
  const buf = readFileSync(path);
  const hlen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8')) as Record<string, any>;
  const base = 8 + hlen;
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (info.dtype !== 'F32') throw new Error(`${path}: tensor ${name} has dtype ${info.dtype}, want F32`);
    const [a, b] = info.data_offsets as [number, number];
    const data = new Float32Array((b - a) / 4);
    new Uint8Array(data.buffer).set(buf.subarray(base + a, base + b));
    tensors.set(name, { shape: info.shape, data });
  }
  const meta = header.__metadata__ ?? {};
  return { tensors, state: meta.state ? JSON.parse(meta.state) : null };
}

export function checkpointExists(path: string): boolean {
  return existsSync(path);
}
