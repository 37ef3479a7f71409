import type { Evaluation } from '../evaluate';
import type { ReportFormat } from './formats';
import { renderJsonReport, type JsonReportOptions } from './json';
import { renderMarkdownReport, type MarkdownReportOptions } from './markdown';
import { renderSarifReport, type SarifReportOptions } from './sarif';
import { renderTableReport, type TableReportOptions } from './table';

/** Options of every format; each renderer reads the ones it knows. The time comes in: renderers are pure. */
export type ReportOptions = TableReportOptions &
  JsonReportOptions &
  MarkdownReportOptions &
  SarifReportOptions;

/** Renders evaluations in one of the {@link REPORT_FORMATS}. Pure: no clock, environment or console. */
export function renderReport(
  format: ReportFormat,
  evaluations: readonly Evaluation[],
  options: ReportOptions,
): string {
  switch (format) {
    case 'table':
      return renderTableReport(evaluations, options);
    case 'json':
      return renderJsonReport(evaluations, options);
    case 'markdown':
      return renderMarkdownReport(evaluations, options);
    case 'sarif':
      return renderSarifReport(evaluations, options);
  }
}

export { REPORT_FORMATS, type ReportFormat } from './formats';
export { renderJsonReport, renderMarkdownReport, renderSarifReport, renderTableReport };
export { escapeControlCharacters } from './ansi';
export { escapeMarkdownCell } from './markdown';
export { JSON_REPORT_SCHEMA_VERSION } from './json';
export { formatUsd } from './phrasing';
export type { JsonReport, JsonReportOptions } from './json';
export type { MarkdownReportOptions } from './markdown';
export type { SarifReportOptions, SnapshotSource } from './sarif';
export type { TableReportOptions } from './table';
