/** The lines of a JSONL body, read as it streams (a results file can be large). Blank lines are skipped. */
export async function* jsonlLines(body: ReadableStream<Uint8Array> | null | undefined): AsyncIterable<unknown> {
  if (!body) return;
  const decoder = new TextDecoder();
  let rest = '';
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      rest += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (line) yield parseLine(line);
      }
      if (done) break;
    }
    if (rest.trim()) yield parseLine(rest.trim());
  } finally {
    reader.releaseLock();
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined; // a line we cannot read: its request is reported as missing from the results
  }
}

export function short(s: unknown, n = 200): string {
  const t = typeof s === 'string' ? s : s == null ? '' : String(s);
  return t.length > n ? t.slice(0, n) + '…' : t;
}
