import { InputError } from '../../core/index.ts';

/**
 * Error raised for bad files or arguments in engine I/O: a core InputError (the CLI exits 2 and prints
 * `where: message`) under its own name, so callers can still tell engine file errors apart.
 */
export class EngineIoError extends InputError {
  constructor(where: string, message: string) {
    super(where, message);
    this.name = 'EngineIoError';
  }
}
