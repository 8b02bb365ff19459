// Word dropout for local fine-tuning (issue 12 goal 1): each epoch sees a fresh copy of the train split in which every
// word of the input fields is dropped with probability p, so a small model cannot learn its train split by heart.
// The trainer is given the epochs' copies one after another as a single pass (the engine trains on fixed records).
import { Rng } from '../../core/index.ts';
import type { Example } from '../../task/types.ts';

/** The text with each whitespace-separated word dropped with probability p (at least one word is kept). */
export function dropWords(text: string, p: number, rng: Rng): string {
  if (p <= 0) return text;
  const words = text.split(/\s+/).filter(Boolean);
  if (words.length <= 1) return text;
  const kept = words.filter(() => rng.next() >= p);
  return kept.length ? kept.join(' ') : words[rng.int(words.length)];
}

/**
 * `epochs` copies of `train`, copy e with its input fields' words dropped (seeded by seed and e); ids get a `#e`
 * suffix. Deterministic: the same arguments give the same copies.
 */
export function wordDropoutEpochs(
  train: readonly Example[],
  fields: readonly string[],
  p: number,
  epochs: number,
  seed: number,
): Example[] {
  const out: Example[] = [];
  for (let e = 0; e < epochs; e++) {
    const rng = new Rng(((seed ^ 0x6d2b79f5) + e * 0x9e3779b9) >>> 0 || 1);
    for (const ex of train) {
      const input = { ...ex.input };
      for (const f of fields) if (typeof input[f] === 'string') input[f] = dropWords(input[f] as string, p, rng);
      out.push({ ...ex, id: `${ex.id}#${e}`, input });
    }
  }
  return out;
}
