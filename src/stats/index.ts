export { bootstrapCI, pairedBootstrap, percentile, mean, type BootstrapOptions, type Interval, type PairedResult } from './bootstrap.ts';
export { wilsonInterval, normalQuantile } from './wilson.ts';
export { mcnemarExact, mcnemar, binomialTwoSided, type McNemarResult } from './mcnemar.ts';
export { consistency, type ConsistencyResult } from './consistency.ts';
export { holm } from './holm.ts';
export { pairedStatistic, type PairedStatResult } from './paired.ts';
