export interface BootstrapOptions {
  /** default 2000 */ iterations?: number;
  /** default 0.95 */ level?: number;
  /** default 0 */ seed?: number;
  /** statistic of a resample (default: mean). The array is reused between calls: do not keep it. */
  statistic?: (sample: Float64Array) => number;
}
export interface Interval { estimate: number; ci: [number, number]; iterations: number; level: number }
export interface PairedResult { diff: number; ci: [number, number]; p: number; n: number; iterations: number; level: number }
export function mean(v: ArrayLike<number>): number { throw new Error('not implemented'); }
export function percentile(v: ArrayLike<number>, p: number): number { throw new Error('not implemented'); }
export function bootstrapCI(values: ArrayLike<number>, opts: BootstrapOptions = {}): Interval { throw new Error('not implemented'); }
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, opts: Omit<BootstrapOptions, 'statistic'> = {}): PairedResult { throw new Error('not implemented'); }
