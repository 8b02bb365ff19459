import type { ChatRequest, Usage } from '../types.ts';

/** One request of a batch: the request hash as custom_id. */
export interface BatchLine {
  customId: string;
  request: ChatRequest;
}

/** One request's outcome, read from the provider's results. */
export type BatchItem =
  | { customId: string; ok: true; text: string; usage: Usage }
  | {
      customId: string;
      ok: false;
      /** errored: the request failed; expired: the batch's window ran out first; canceled: the batch was cancelled */
      kind: 'errored' | 'expired' | 'canceled';
      message: string;
      status?: number;
    };

/** A batch as seen by one poll. */
export interface BatchPoll {
  /** ended: results can be read (completed, expired, cancelled, or failed as a whole) */
  ended: boolean;
  /** the provider's own status word (validating, in_progress, finalizing, completed, ended, ...) */
  status: string;
  /** requests finished so far / in all, where the provider says */
  done?: number;
  total?: number;
  failed?: number;
  /** set when the whole batch failed (no request ran): every request fails with it */
  error?: string;
  /** opaque data results() needs (output and error file ids) */
  files?: { output?: string | null; error?: string | null };
}

/** A provider's batch API, reduced to what the batch layer needs. */
export interface BatchClient {
  readonly api: 'openai' | 'anthropic';
  /** base URL (identity of where batches live) */
  readonly endpoint: string;
  /** uploads the lines and creates the batch; resolves with the batch id */
  submit(lines: BatchLine[], signal?: AbortSignal): Promise<string>;
  poll(id: string, signal?: AbortSignal): Promise<BatchPoll>;
  /** every result of an ended batch (any order) */
  results(id: string, poll: BatchPoll, reqOf: (customId: string) => ChatRequest | undefined, signal?: AbortSignal): AsyncIterable<BatchItem>;
}
