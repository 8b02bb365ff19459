/** Exit codes of the CLI, documented in the README. */
export const EXIT = { ok: 0, failure: 1, assertion: 1, badInput: 2 } as const;

/** Bad user input. `where` names the file:line, config path or request. The CLI exits with code 2. */
export class InputError extends Error {
  readonly exitCode = EXIT.badInput;
  constructor(
    public where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'InputError';
  }
}

/** A command used wrongly (missing argument, conflicting flags) with no file or path to name. Exit code 2. */
export class UsageError extends Error {
  readonly exitCode = EXIT.badInput;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An operation stopped by its caller (AbortSignal). */
export class AbortedError extends Error {
  constructor(message = 'aborted') {
    super(message);
    this.name = 'AbortError';
  }
}

/** Error names that mean bad input (exit 2) for errors defined outside core that carry no exitCode. */
const BAD_INPUT_NAMES = new Set(['InputError', 'UsageError', 'ModelConfigError']);

/**
 * The one classification of errors into exit codes: an error's own numeric `exitCode` wins; bad input
 * (InputError, UsageError, a model configuration error, an endpoint that refuses connections or does not
 * resolve) is 2; anything else is a crash: 1.
 */
export function exitCodeOf(err: unknown): number {
  const e = err as { name?: unknown; exitCode?: unknown; kind?: unknown } | null | undefined;
  if (e && typeof e === 'object') {
    if (typeof e.exitCode === 'number') return e.exitCode;
    if (typeof e.name === 'string' && BAD_INPUT_NAMES.has(e.name)) return EXIT.badInput;
    if (e.name === 'ModelCallError' && e.kind === 'unreachable') return EXIT.badInput;
  }
  return EXIT.failure;
}

/** True for errors that are the user's input rather than a crash (exit code 2). */
export function isBadInput(err: unknown): boolean {
  return exitCodeOf(err) === EXIT.badInput;
}
