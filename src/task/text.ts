// Reading data files as text: UTF-8 is checked (an invalid byte is an error naming file and line, never a
// silent U+FFFD) unless the data names another encoding (`task.data.encoding: latin1`).
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '../core/index.ts';

/** Encodings a data file may declare. `latin1` is ISO-8859-1; `windows-1252` is what spreadsheet tools usually write. */
export const DATA_ENCODINGS = ['utf8', 'latin1', 'windows-1252'] as const;
export type DataEncoding = (typeof DATA_ENCODINGS)[number];

/**
 * The first invalid UTF-8 sequence in bytes [start, end): its index, or -1. `incomplete` is the length of a
 * valid-so-far sequence cut by `end` (to carry into the next chunk).
 */
export function checkUtf8(b: Uint8Array, start = 0, end = b.length): { invalid: number; incomplete: number } {
  let i = start;
  while (i < end) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return { invalid: i, incomplete: 0 };
    for (let k = 1; k <= need; k++) {
      if (i + k >= end) return { invalid: -1, incomplete: end - i };
      const x = b[i + k];
      if (k === 1 ? x < lo || x > hi : x < 0x80 || x > 0xbf) return { invalid: i, incomplete: 0 };
    }
    i += need + 1;
  }
  return { invalid: -1, incomplete: 0 };
}

function invalidUtf8(name: string, line: number, byte: number | undefined, column: number): InputError {
  const what =
    byte === undefined
      ? 'a truncated UTF-8 sequence at the end of the file'
      : `byte 0x${byte.toString(16).padStart(2, '0')} at byte ${column} of the line`;
  return new InputError(
    `${name}:${line}`,
    `invalid UTF-8 (${what}); save the file as UTF-8, or declare its encoding in the config (task.data: {path: ..., encoding: latin1})`,
  );
}

/**
 * The file's text in chunks, decoded with `encoding` (default utf8). For UTF-8, an invalid byte throws an
 * InputError naming `name`:line.
 */
export async function* decodeFile(file: string, name: string, encoding: DataEncoding = 'utf8'): AsyncGenerator<string> {
  const stream = createReadStream(file);
  if (encoding === 'latin1') {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk.toString('latin1');
    return;
  }
  if (encoding === 'windows-1252') {
    const dec = new TextDecoder('windows-1252');
    for await (const chunk of stream as AsyncIterable<Buffer>) yield dec.decode(chunk, { stream: true });
    const rest = dec.decode();
    if (rest) yield rest;
    return;
  }
  const dec = new StringDecoder('utf8');
  let line = 1;
  let lineStart = 0; // byte offset (in the whole file) where the current line starts
  let offset = 0; // byte offset of the current chunk
  let carry: Buffer = Buffer.alloc(0);
  for await (const raw of stream as AsyncIterable<Buffer>) {
    const chunk = carry.length ? Buffer.concat([carry, raw]) : raw;
    const base = offset - carry.length;
    const { invalid, incomplete } = checkUtf8(chunk);
    const upto = invalid >= 0 ? invalid : chunk.length;
    for (let i = carry.length; i < upto; i++)
      if (chunk[i] === 10) {
        line++;
        lineStart = base + i + 1;
      }
    if (invalid >= 0) {
      stream.destroy();
      throw invalidUtf8(name, line, chunk[invalid], base + invalid - lineStart + 1);
    }
    offset += raw.length;
    carry = incomplete ? Buffer.from(chunk.subarray(chunk.length - incomplete)) : Buffer.alloc(0);
    yield dec.write(incomplete ? chunk.subarray(0, chunk.length - incomplete) : chunk);
  }
  if (carry.length) throw invalidUtf8(name, line, undefined, 0);
  const rest = dec.end();
  if (rest) yield rest;
}

/** The whole file as text (see decodeFile). */
export async function readText(file: string, name: string, encoding: DataEncoding = 'utf8'): Promise<string> {
  if (encoding !== 'utf8') {
    const buf = await readFile(file);
    return encoding === 'latin1' ? buf.toString('latin1') : new TextDecoder('windows-1252').decode(buf);
  }
  let out = '';
  for await (const s of decodeFile(file, name, encoding)) out += s;
  return out;
}

/** The file's lines (without '\n' or a trailing '\r'), numbered from 1. */
export async function* readLines(
  file: string,
  name: string,
  encoding: DataEncoding = 'utf8',
): AsyncGenerator<{ text: string; line: number }> {
  let pending = '';
  let line = 0;
  for await (const chunk of decodeFile(file, name, encoding)) {
    pending += chunk;
    // one pass over each chunk: lines are cut from it by index, the rest is kept once
    let start = 0;
    let nl: number;
    while ((nl = pending.indexOf('\n', start)) >= 0) {
      const end = nl > start && pending.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      const text = pending.slice(start, end);
      start = nl + 1;
      yield { text, line: ++line };
    }
    pending = start ? pending.slice(start) : pending;
  }
  if (pending) yield { text: pending.endsWith('\r') ? pending.slice(0, -1) : pending, line: ++line };
}

/**
 * The line where the quoted CSV field that breaks the file was opened: the first quoted field that is
 * never closed, or whose closing quote is followed by something other than a delimiter or a line end.
 * undefined when every quoted field is well formed.
 */
export function brokenQuoteLine(text: string, delimiter = ','): number | undefined {
  let line = 1;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (fieldStart && ch === '"') {
      const open = line;
      let j = i + 1;
      for (;;) {
        if (j >= text.length) return open; // never closed
        const c = text[j];
        if (c === '\n') line++;
        if (c === '"') {
          if (text[j + 1] === '"') {
            j += 2;
            continue;
          }
          const after = text[j + 1];
          if (after === undefined || after === delimiter || after === '\n' || after === '\r') break;
          return open; // something after the closing quote
        }
        j++;
      }
      i = j; // the closing quote
      fieldStart = false;
      continue;
    }
    if (ch === '\n') {
      line++;
      fieldStart = true;
    } else if (ch === delimiter) fieldStart = true;
    else if (ch !== '\r' && !(i === 0 && ch === '\uFEFF')) fieldStart = false;
  }
  return undefined;
}
