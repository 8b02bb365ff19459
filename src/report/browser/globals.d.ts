// Types for the report's browser script (report-client.js).
import type { Chart as ChartJs, ChartType } from 'chart.js';

declare global {
  // Chart.js is inlined before the report's script as a UMD bundle: a global `Chart`.
  const Chart: typeof ChartJs;
}

// what the report's own plugins (errorBars, valueLabels) read from a dataset
interface ReportDatasetExtras {
  /** per point [lo, hi] or null: an interval drawn along the value axis */
  errorBars?: ([number, number] | null)[];
  /** per point: text drawn next to the point */
  valueLabels?: string[];
  /** per point: the value the label is anchored at */
  labelAt?: number[];
}

declare module 'chart.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unused-vars -- declaration merging adds the extras
  interface ChartDatasetProperties<TType extends ChartType, TData> extends ReportDatasetExtras {}
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unused-vars -- declaration merging adds the extras
  interface ChartDatasetPropertiesCustomTypesPerDataset<TType extends ChartType, TData> extends ReportDatasetExtras {}
}
