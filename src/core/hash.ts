import { createHash } from 'node:crypto';
import { canonicalJson } from './json.ts';

/** sha256 of a string (UTF-8) or bytes, as lowercase hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 (hex) of a value's canonical JSON; `length` keeps that many leading hex digits (default all 64). */
export function hashOf(value: unknown, length?: number): string {
  const h = sha256Hex(canonicalJson(value));
  return length === undefined ? h : h.slice(0, length);
}
