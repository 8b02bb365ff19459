import type { Problem, TrainingRecord } from './types.ts';
import { promptHash, recordHash, targetOf } from './records.ts';

export interface ValidateOptions {
  /** model context length in tokens */
  contextLength?: number;
  /** token counter for a whole record as the model will see it (chat template applied); default ~4 chars/token */
  countTokens?: (record: TrainingRecord) => number;
  /** dev records: checked for overlap with training data */
  validation?: TrainingRecord[];
  /**
   * Prompt hashes (see promptHash) of held-out records. The caller passes hashes, never the held-out
   * data itself, so a backend can check train/test overlap without receiving the test split.
   */
  holdoutPromptHashes?: Iterable<string>;
  /** minimum number of training records (OpenAI requires 10) */
  minRecords?: number;
  /** treat targets as labels when there are at most this many distinct targets (default 20) */
  maxLabels?: number;
}

export function approxTokens(record: TrainingRecord): number {
  let chars = 0;
  for (const m of record.messages) chars += m.content.length + 8;
  return Math.ceil(chars / 4);
}

/** Checks training data: shape, length against context, label balance, duplicates, overlap with dev/held-out. */
export function validateRecords(records: TrainingRecord[], opts: ValidateOptions = {}): Problem[] {
  const problems: Problem[] = [];
  const count = opts.countTokens ?? approxTokens;
  const minRecords = opts.minRecords ?? 10;
  if (records.length === 0) {
    problems.push({ level: 'error', message: 'no training records' });
    return problems;
  }
  if (records.length < minRecords)
    problems.push({ level: 'warning', message: `only ${records.length} training records; at least ${minRecords} recommended` });

  let tooLong = 0;
  let firstTooLong = -1;
  records.forEach((r, i) => {
    if (!r.messages?.length) {
      problems.push({ level: 'error', message: 'record has no messages', index: i });
      return;
    }
    if (!r.messages.some((m) => m.role === 'user')) problems.push({ level: 'error', message: 'record has no user turn', index: i });
    const t = targetOf(r);
    if (t === undefined) problems.push({ level: 'error', message: 'record does not end with an assistant turn', index: i });
    else if (!t.trim()) problems.push({ level: 'error', message: 'assistant turn is empty', index: i });
    if (opts.contextLength) {
      const n = count(r);
      if (n > opts.contextLength) {
        tooLong++;
        if (firstTooLong < 0) firstTooLong = i;
      }
    }
  });
  if (tooLong) {
    problems.push({
      level: 'warning',
      message: `${tooLong} of ${records.length} records exceed ${opts.contextLength} tokens; their prompts will be cut in the middle (the start of the prompt and the answer are kept)`,
      index: firstTooLong,
    });
  }

  // label balance (classification-like targets)
  const targets = new Map<string, number>();
  for (const r of records) {
    const t = targetOf(r)?.trim();
    if (t !== undefined) targets.set(t, (targets.get(t) ?? 0) + 1);
  }
  const maxLabels = opts.maxLabels ?? 20;
  if (targets.size >= 2 && targets.size <= maxLabels && records.length >= 2 * targets.size) {
    const counts = [...targets.entries()].sort((a, b) => b[1] - a[1]);
    const [maxL, maxN] = counts[0];
    const [minL, minN] = counts[counts.length - 1];
    if (maxN / minN >= 5) problems.push({ level: 'warning', message: `labels are imbalanced: "${maxL}" ${maxN} vs "${minL}" ${minN}` });
  } else if (targets.size === 1 && records.length > 1) {
    problems.push({ level: 'warning', message: 'every record has the same answer; the model will learn to always give it' });
  }

  // duplicates and conflicts
  const seenRecord = new Map<string, number>();
  const seenPrompt = new Map<string, { index: number; target: string | undefined }>();
  let dups = 0;
  let conflicts = 0;
  records.forEach((r, i) => {
    const rh = recordHash(r);
    const ph = promptHash(r);
    if (seenRecord.has(rh)) {
      dups++;
      if (dups <= 3) problems.push({ level: 'warning', message: `duplicate of record ${seenRecord.get(rh)}`, index: i });
    } else seenRecord.set(rh, i);
    const p = seenPrompt.get(ph);
    if (p && p.target !== targetOf(r)) {
      conflicts++;
      if (conflicts <= 3)
        problems.push({ level: 'warning', message: `same prompt as record ${p.index} with a different answer`, index: i });
    } else if (!p) seenPrompt.set(ph, { index: i, target: targetOf(r) });
  });
  if (dups > 3) problems.push({ level: 'warning', message: `${dups} duplicate records in all` });
  if (conflicts > 3) problems.push({ level: 'warning', message: `${conflicts} conflicting records in all` });

  // overlap with validation and held-out data
  if (opts.validation?.length) {
    let n = 0;
    let first = -1;
    opts.validation.forEach((v, i) => {
      if (seenPrompt.has(promptHash(v))) {
        n++;
        if (first < 0) first = i;
      }
    });
    if (n)
      problems.push({
        level: 'warning',
        message: `${n} validation records also appear in the training data (validation loss will be optimistic)`,
        index: first,
      });
  }
  if (opts.holdoutPromptHashes) {
    const held = new Set(opts.holdoutPromptHashes);
    let n = 0;
    let first = -1;
    records.forEach((r, i) => {
      if (held.has(promptHash(r))) {
        n++;
        if (first < 0) first = i;
      }
    });
    if (n)
      problems.push({
        level: 'error',
        message: `${n} training records also appear in the held-out test data (train/test leakage)`,
        index: first,
      });
  }
  return problems;
}

export function formatProblems(problems: Problem[]): string {
  return problems.map((p) => `${p.level}${p.index !== undefined ? ` (record ${p.index})` : ''}: ${p.message}`).join('\n');
}
