// Error → exit code mapping. Kept free of heavy imports (loaded by main.ts at start).

/** Exit codes, documented in the README. */
export const EXIT = { ok: 0, assertion: 1, badInput: 2 } as const;

/** InputError (task, config, model config) and usage errors are bad input: exit 2. Anything else is a crash: 1. */
export function exitCodeFor(err: unknown): number {
  const e = err as { name?: string; exitCode?: number } | undefined;
  if (e && typeof e.exitCode === 'number') return e.exitCode;
  if (e?.name === 'InputError' || e?.name === 'ModelConfigError') return EXIT.badInput;
  // an endpoint that refuses connections or does not resolve is a configuration problem
  if (e?.name === 'ModelCallError' && (e as { kind?: string }).kind === 'unreachable') return EXIT.badInput;
  return 1;
}

/** One line on stderr for bad input; a message plus stack (when TUNELAB_DEBUG is set) for crashes. */
export function printError(err: unknown): void {
  const e = err as Error;
  const msg = (e && typeof e.message === 'string' ? e.message : String(err)).replace(/\s*\n\s*/g, ' ');
  process.stderr.write(`tunelab: ${msg}\n`);
  if (process.env.TUNELAB_DEBUG && e?.stack && exitCodeFor(err) !== EXIT.badInput) process.stderr.write(e.stack + '\n');
}
