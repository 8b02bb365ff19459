// Before a run spends anything: does each prompt name the labels the data uses? A prompt that lists "spam,
// not-spam" for data labelled spam/ham, or leaves a class out, measures the prompt's mistake, not the model.
import { normalizeLabel } from '../metrics/index.ts';

type ArmLike = { name: string; kind: string; messages?: unknown; format?: unknown; of?: ArmLike };

function mentions(text: string, label: string): boolean {
  const body = label
    .trim()
    .split(/[\s_-]+/)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s_-]+');
  return new RegExp(`(?<![\\p{L}\\p{N}_])${body}(?![\\p{L}\\p{N}_])`, 'iu').test(text);
}

/** One warning per arm whose prompt text or format names a label set different from the data's. */
export function labelSetWarnings(arms: readonly ArmLike[], dataLabels: readonly string[] | undefined): string[] {
  if (!dataLabels?.length) return [];
  const out: string[] = [];
  const norm = new Set(dataLabels.map(normalizeLabel));
  for (const a0 of arms) {
    const a = a0.kind === 'repeat' && a0.of ? { ...a0.of, name: a0.name } : a0;
    const fmt = a.format as { labels?: unknown } | undefined;
    if (fmt && typeof fmt === 'object' && Array.isArray(fmt.labels)) {
      const given = (fmt.labels as unknown[]).map(String);
      const missing = dataLabels.filter((l) => !given.some((g) => normalizeLabel(g) === normalizeLabel(l)));
      const extra = given.filter((g) => !norm.has(normalizeLabel(g)));
      if (missing.length || extra.length)
        out.push(
          `arm ${a.name}: format.labels (${given.join(', ')}) differ from the data's labels (${dataLabels.join(', ')})${missing.length ? `; missing: ${missing.join(', ')}` : ''}${extra.length ? `; not in the data: ${extra.join(', ')}` : ''}`,
        );
      continue;
    }
    if (!Array.isArray(a.messages)) continue;
    const text = (a.messages as { content?: unknown }[]).map((m) => (typeof m?.content === 'string' ? m.content : '')).join('\n');
    const named = dataLabels.filter((l) => mentions(text, l));
    if (named.length && named.length < dataLabels.length) {
      out.push(
        `arm ${a.name}: the prompt names ${named.join(', ')} but never ${dataLabels.filter((l) => !named.includes(l)).join(', ')} (the data's labels: ${dataLabels.join(', ')})`,
      );
    }
  }
  return out;
}
