/*
 * The report formats, apart from the renderers: the CLI lists them in `--help` without loading any.
 */

/** The formats `renderReport` knows, in the order the CLI lists them. */
export const REPORT_FORMATS = ['table', 'json', 'markdown', 'sarif'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
