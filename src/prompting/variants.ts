import { z } from 'zod';
import type { ChatMessage, ChatModel } from '../models/types.ts';
import { applySelection, type BuildContext } from './build.ts';
import { formatSchema, type FormatSpec } from './format.ts';
import { messageSchema } from './files.ts';
import type { TemplateProgram } from './program.ts';
import { selectionSchema, type SelectionSpec } from './select.ts';
import { deriveSeed, Rng } from '../core/index.ts';

/** Declared alternatives; the grid is their cartesian product (each value replaces the base's). */
export interface VaryConfig {
  /** whole templates */
  messages?: ChatMessage[][];
  /** system-message wordings */
  instructions?: string[];
  /** few-shot selection strategies */
  selection?: SelectionSpec[];
  /** numbers of demonstrations (k of the selection; random selection when none is given) */
  shots?: number[];
  format?: FormatSpec[];
}

export const varySchema = z
  .strictObject({
    messages: z.array(z.array(messageSchema).min(1)).min(1).optional(),
    instructions: z.array(z.string().min(1)).min(1).optional(),
    selection: z.array(selectionSchema).min(1).optional(),
    shots: z.array(z.number().int().min(0)).min(1).optional(),
    format: z.array(formatSchema).min(1).optional(),
  })
  .refine((v) => Object.values(v).some((x) => Array.isArray(x) && x.length > 0), {
    message: 'declare at least one alternative (instructions, shots, selection, format or messages)',
  });

export interface VariantPoint {
  index: number;
  id: string;
  label: string;
  messages?: ChatMessage[];
  instruction?: string;
  selection?: SelectionSpec;
  shots?: number;
  format?: FormatSpec;
}

const DIMS = ['messages', 'instructions', 'selection', 'shots', 'format'] as const;

function short(dim: string, v: unknown, i: number): string {
  switch (dim) {
    case 'messages':
      return `template#${i + 1}`;
    case 'instructions':
      return `instruction#${i + 1}`;
    case 'selection':
      return `selection=${(v as SelectionSpec).strategy}${(v as SelectionSpec).mmr !== undefined ? `+mmr` : ''}`;
    case 'shots':
      return `shots=${v}`;
    default: {
      if (typeof v === 'string') return `format=${v}`;
      const f = v as FormatSpec;
      return `format=${f.type}${f.reasoning ? '+reasoning' : ''}`;
    }
  }
}

/** Expand the grid (in declared order); larger than `max` → a seeded sample of `max` points, in grid order. */
export function expandGrid(vary: VaryConfig, max = 64, seed = 0): VariantPoint[] {
  let points: { parts: Partial<Record<(typeof DIMS)[number], unknown>>; labels: string[] }[] = [{ parts: {}, labels: [] }];
  for (const d of DIMS) {
    const vals = vary[d] as unknown[] | undefined;
    if (!vals?.length) continue;
    const next: typeof points = [];
    for (const p of points) vals.forEach((v, i) => next.push({ parts: { ...p.parts, [d]: v }, labels: [...p.labels, short(d, v, i)] }));
    points = next;
  }
  let idx = points.map((_, i) => i);
  if (idx.length > max) idx = new Rng(deriveSeed(seed, 'grid')).sample(idx, max).sort((a, b) => a - b);
  return idx.map((i, j) => {
    const p = points[i].parts;
    return {
      index: j,
      id: `v${j}`,
      label: points[i].labels.join(' '),
      messages: p.messages as ChatMessage[] | undefined,
      instruction: p.instructions as string | undefined,
      selection: p.selection as SelectionSpec | undefined,
      shots: p.shots as number | undefined,
      format: p.format as FormatSpec | undefined,
    };
  });
}

/** Build one variant's program (and model: embedding selection wraps it) from the base. */
export async function buildVariant(
  base: TemplateProgram,
  point: VariantPoint,
  defaults: { selection?: SelectionSpec; shots?: number },
  bctx: BuildContext,
  model: ChatModel,
  embedder?: ChatModel,
): Promise<{ program: TemplateProgram; model: ChatModel }> {
  let p = base;
  if (point.messages) p = p.with({ messages: point.messages });
  if (point.instruction !== undefined) p = p.withInstruction(point.instruction);
  if (point.format) p = p.with({ format: point.format });
  const sel = point.selection ?? defaults.selection;
  const k = point.shots ?? sel?.k ?? defaults.shots;
  if (k === 0) return { program: p, model };
  if (sel) return applySelection(p, k === undefined ? sel : { ...sel, k }, bctx, model, embedder, `variants.${point.id}`);
  if (k !== undefined) return applySelection(p, { strategy: 'random', k }, bctx, model, embedder, `variants.${point.id}`);
  return { program: p, model };
}
