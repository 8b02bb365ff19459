import { ModelError } from './types.ts';

/**
 * A bad model configuration (unknown provider, missing key variable, missing base URL).
 * Same shape as task's InputError (`where` + message); models may not import task, so the CLI maps
 * both InputError and ModelConfigError to exit code 2.
 */
export class ModelConfigError extends Error {
  constructor(public where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = 'ModelConfigError';
  }
}

export type CallErrorKind = 'http' | 'timeout' | 'unreachable' | 'connection' | 'malformed' | 'aborted' | 'other';

/**
 * A failed call after all attempts. Message: `model <id>: request <hash8>: <detail> after N attempts`.
 * `kind === 'unreachable'` means the endpoint refused connections or its host did not resolve: the CLI
 * treats it as bad input (exit 2) and the runner should stop rather than fail every example.
 */
export class ModelCallError extends ModelError {
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
    this.message = `model ${modelId}: request ${requestHash.slice(0, 8)}: ${detail}${attempts > 1 ? ` after ${attempts} attempts` : ''}`;
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
