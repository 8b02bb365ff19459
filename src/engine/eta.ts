/**
 * Time-left estimate for training: steps and validations are timed separately; the first run of each compiled
 * shape (session creation) and other outliers are left out, so one slow compile does not
 * turn a 7-minute job into a 45-minute forecast.
 */
export class EtaEstimator {
  private steps: number[] = [];
  private vals: number[] = [];

  /** @param valBatches forward-only batches per validation: the guess (a third of a step each) until two have been timed */
  constructor(private valBatches = 0) {}

  /** milliseconds one optimizer step took */
  observeStep(ms: number): void {
    this.steps.push(ms);
  }
  /** milliseconds one validation pass took */
  observeValidation(ms: number): void {
    this.vals.push(ms);
  }

  /** estimated milliseconds for the remaining steps and validation passes (0 before any step) */
  eta(remainingSteps: number, remainingValidations: number): number {
    const step = typical(this.steps);
    // the first validation also compiles its sessions: until a second one is timed, trust the smaller of it and the guess
    const guess = this.valBatches > 0 ? (this.valBatches * step) / 3 : Infinity;
    const val = this.vals.length >= 2 ? typical(this.vals) : Math.min(this.vals[0] ?? Infinity, guess === Infinity ? step * 4 : guess);
    return Math.max(0, remainingSteps * step + remainingValidations * val);
  }
}

/** Mean of the last 200 observations without outliers (above 2.5 × the median: compiles, a busy neighbour). */
function typical(xs: number[]): number {
  if (xs.length === 0) return 0;
  const recent = xs.slice(-200);
  const sorted = recent.slice().sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const keep = recent.filter((x) => x <= 2.5 * median);
  return keep.reduce((a, b) => a + b, 0) / keep.length;
}
