export interface NormalizeOptions { case?: boolean; whitespace?: boolean; punctuation?: boolean; trim?: boolean }
export function normalizeText(s: string, o: NormalizeOptions): string { throw new Error('not implemented'); }
/** First listed label found in `text` (whole word, case-insensitive; a longer label containing it wins); strict: whole normalized text equals a label. */
export function extractLabel(text: string, labels: readonly string[], strict = false): string | undefined { throw new Error('not implemented'); }
