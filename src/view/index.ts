// Public entry of view/: the `tunelab view` server and the store reads behind it and the reports.
export { startViewServer, webDir, type ViewServer, type ViewServerOptions } from './server.ts';
export {
  openForReading,
  reportWithEvidence,
  listRunSummaries,
  filterExamples,
  examplesCsv,
  exampleDetail,
  compareRuns,
  finetuneArms,
  type RunSummary,
  type ArmProgress,
  type ExampleFilter,
  type ExampleDetail,
  type Comparison,
  type CompareRow,
  type FinetuneArmView,
} from './data.ts';
