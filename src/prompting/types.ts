import type { ChatMessage, ChatRequest } from '../models/types.ts';
import type { Example } from '../task/types.ts';

/** A chat template: messages whose content may contain {{field}} variables from the example. */
export interface PromptTemplate {
  messages: ChatMessage[];
  /** Few-shot demonstrations rendered before the final user turn (as user/assistant pairs). */
  demos?: Example[];
}

/** A frozen prompt artifact (what optimizers output and users export). */
export interface FrozenPrompt {
  kind: 'tunelab.frozen-prompt';
  version: 1;
  hash: string;
  messages: ChatMessage[];
  demos: { input: Record<string, unknown>; expected: string; id?: string }[];
  devScore?: number;
  spent?: Spent;
  meta?: Record<string, unknown>;
}

/** What preparing an arm cost (engineering cost counts in the comparison). */
export interface Spent {
  calls: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  ms: number;
}

/** Turns an example into a request and a model output into the answer the metric scores. */
export interface PromptProgram {
  /** content hash of the exact prompt (messages + demos + format) */
  hash: string;
  /** may be async (demos chosen per example by embeddings): evaluate() awaits it */
  render(example: Example): ChatRequest | Promise<ChatRequest>;
  parse?(output: string): string;
  describe?(): unknown;
}
