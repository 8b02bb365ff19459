/**
 * Canonical JSON: JSON.stringify's output with object keys sorted at every depth, so equal values give
 * equal strings (and equal hashes). Everything else is JSON.stringify's rule: `toJSON` is honoured
 * (a Date becomes its ISO string), undefined, functions and symbols are omitted from objects and become
 * null in arrays, non-finite numbers become null. A top-level value JSON cannot represent gives 'null'.
 */
export function canonicalJson(value: unknown, indent?: number): string {
  return JSON.stringify(sortKeys(value, ''), null, indent) ?? 'null';
}

/** The value with its object keys sorted at every depth (a plain-data copy; see canonicalJson). */
export function sortKeys(value: unknown, key = ''): unknown {
  let v = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function')
    v = (v as { toJSON(k: string): unknown }).toJSON(key);
  if (Array.isArray(v)) return v.map((x, i) => (omitted(x) ? null : sortKeys(x, String(i))));
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) if (!omitted(o[k])) out[k] = sortKeys(o[k], k);
    return out;
  }
  return v;
}

function omitted(x: unknown): boolean {
  return x === undefined || typeof x === 'function' || typeof x === 'symbol';
}
