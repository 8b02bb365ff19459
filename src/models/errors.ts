import { InputError } from '../core/index.ts';
import { ModelError } from './types.ts';

/**
 * A bad model configuration (unknown provider, missing key variable, missing base URL).
 * An InputError (core): `where` names the config path; the CLI exits with code 2.
 */
export class ModelConfigError extends InputError {
  constructor(where: string, message: string) {
    super(where, message);
    this.name = 'ModelConfigError';
  }
}

/**
 * `auth`: the provider answered 401 or 403 (key missing, wrong or without access); `not_found`: it
 * answered 404 (unknown model name, wrong base URL path). Neither is retried, and both stop a run.
 */
export type CallErrorKind = 'http' | 'timeout' | 'unreachable' | 'connection' | 'malformed' | 'aborted' | 'auth' | 'not_found' | 'other';

/** Kinds that no retry and no other example will change: the endpoint, the key or the model name is wrong. */
export const FATAL_CALL_KINDS: ReadonlySet<CallErrorKind> = new Set<CallErrorKind>(['unreachable', 'auth', 'not_found']);

/**
 * A failed call after all attempts. Message: `model <id>: request <hash8>: <detail> after N attempts`;
 * for a refusal (auth, not_found): `model <id>: HTTP <status> from <endpoint>: <provider's message>; <hint>`.
 * Fatal kinds (FATAL_CALL_KINDS: unreachable, auth, not_found) carry `exitCode` 2: the CLI treats them as
 * bad input and the evaluation loop stops at the first one rather than failing every example.
 */
export class ModelCallError extends ModelError {
  /** 2 for fatal kinds (bad input: endpoint, key or model name), absent otherwise */
  readonly exitCode?: number;
  constructor(
    modelId: string,
    public requestHash: string,
    public kind: CallErrorKind,
    public detail: string,
    public attempts: number,
    status?: number,
    public url?: string,
  ) {
    super(modelId, detail, status, false);
    this.name = 'ModelCallError';
    this.message =
      kind === 'auth' || kind === 'not_found'
        ? `model ${modelId}: ${detail}`
        : `model ${modelId}: request ${requestHash.slice(0, 8)}: ${detail}${attempts > 1 ? ` after ${attempts} attempts` : ''}`;
    if (FATAL_CALL_KINDS.has(kind)) this.exitCode = 2;
  }
}

/**
 * What an adapter throws for one failed attempt: sanitized (no SDK objects, headers or bodies beyond
 * a short message). `retryAfterMs` from Retry-After / retry-after-ms headers.
 */
export class AttemptError extends Error {
  constructor(
    public kind: CallErrorKind,
    message: string,
    public retryable: boolean,
    public status?: number,
    public retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AttemptError';
  }
}
