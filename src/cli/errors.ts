// Error → exit code mapping. Kept free of heavy imports (loaded by main.ts at start).

import { env, EXIT, exitCodeOf } from '../core/index.ts';

/** Exit codes (documented in the README) and the one error classification live in core. */
export { EXIT };
export const exitCodeFor = exitCodeOf;

/** One line on stderr for bad input; a message plus stack (when TUNELAB_DEBUG is set) for crashes. */
export function printError(err: unknown): void {
  const e = err as Error;
  const msg = (e && typeof e.message === 'string' ? e.message : String(err)).replace(/\s*\n\s*/g, ' ');
  process.stderr.write(`tunelab: ${msg}\n`);
  if (env('TUNELAB_DEBUG') && e?.stack && exitCodeFor(err) !== EXIT.badInput) process.stderr.write(e.stack + '\n');
}
