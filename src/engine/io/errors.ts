/**
 * Error raised for bad files or arguments in engine I/O. It has the same shape as tunelab's
 * InputError (`where` + message) so callers can map it to a clear message; the engine imports
 * nothing from the rest of tunelab, hence its own class.
 */
export class EngineIoError extends Error {
  constructor(
    public where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'EngineIoError';
  }
}
