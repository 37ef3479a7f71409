import { summarizeEvaluations, type Evaluation, type EvaluationSummary } from '../evaluate';

/** The version of the JSON report's shape; bumped on any change a consumer could notice. */
export const JSON_REPORT_SCHEMA_VERSION = 1;

/** Options of the JSON report. */
export interface JsonReportOptions {
  readonly generatedAt: Date;
  /** The vpc-guard version that produced the report. @default - not recorded */
  readonly toolVersion?: string;
}

/** The JSON report, as `JSON.parse` returns it. */
export interface JsonReport {
  readonly schemaVersion: typeof JSON_REPORT_SCHEMA_VERSION;
  readonly generatedAt: string;
  readonly tool: { readonly name: 'vpc-guard'; readonly version?: string };
  readonly evaluations: readonly Evaluation[];
  readonly summary: EvaluationSummary & { readonly exempt: number };
}

/**
 * The machine-readable report: every evaluation as `evaluate` produced it (findings with keys,
 * evidence, fixes and costs; suppressed findings of exempt VPCs) and the summary. Pretty-printed with
 * two spaces and a final newline; the same input always gives the same text.
 */
export function renderJsonReport(
  evaluations: readonly Evaluation[],
  options: JsonReportOptions,
): string {
  const summary = summarizeEvaluations(evaluations);
  const exempt = evaluations.filter((evaluation) => evaluation.exemption.state === 'valid').length;
  const report: JsonReport = {
    schemaVersion: JSON_REPORT_SCHEMA_VERSION,
    generatedAt: options.generatedAt.toISOString(),
    tool:
      options.toolVersion === undefined
        ? { name: 'vpc-guard' }
        : { name: 'vpc-guard', version: options.toolVersion },
    evaluations,
    summary: { ...summary, exempt },
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}
