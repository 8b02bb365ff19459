// Public entry of report/: render a RunReport as a terminal table, Markdown, JSON or one offline HTML file.
export type { RunReport, ArmReport, PairedComparison } from './types.ts';
export { renderTable, type TableOptions } from './table.ts';
export { renderMarkdown } from './markdown.ts';
export { renderJson } from './json.ts';
export { renderHtml, escapeHtml, type HtmlOptions } from './html.ts';
export { verdict, type Verdict } from './format.ts';

import type { RunReport } from './types.ts';
import { renderTable } from './table.ts';
import { renderMarkdown } from './markdown.ts';
import { renderJson } from './json.ts';
import { renderHtml } from './html.ts';

export type ReportFormat = 'table' | 'md' | 'json' | 'html';
export const REPORT_FORMATS: readonly ReportFormat[] = ['table', 'md', 'json', 'html'];

/** Render in one of the CLI's formats (`--format table|md|json|html`). */
export function render(report: RunReport, format: ReportFormat, options: { color?: boolean } = {}): string {
  switch (format) {
    case 'table':
      return renderTable(report, { color: options.color });
    case 'md':
      return renderMarkdown(report);
    case 'json':
      return renderJson(report);
    case 'html':
      return renderHtml(report);
    default:
      throw new Error(`unknown report format: ${String(format)}`);
  }
}
