/** One labeled example. `input` holds the mapped input fields; `expected` the expected output as text. */
export interface Example {
  /** Stable id: from the data (an `id` field), else `<file>:<line>` (JSONL, CSV), `<file>#<n>` (the n-th record of a JSON array) or `<builtin>:<n>`. */
  id: string;
  input: Record<string, unknown>;
  expected: string;
  /** Where it came from, for error messages: file and 1-based line (or record index). */
  source?: { file: string; line: number };
}

export interface Split {
  train: Example[];
  dev: Example[];
  test: Example[];
}

/** The splits an optimizer or trainer may see. The test split is deliberately absent. */
export type TrainingView = Pick<Split, 'train' | 'dev'>;

/** Bad user input (file:line, config path or request): the one class lives in core. */
export { InputError } from '../core/index.ts';
