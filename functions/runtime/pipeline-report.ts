import {
  InputValidationError,
  VpcGuardError,
  classifyAwsError,
  describeAwsError,
  type ActionOutcome,
  type AwsErrorKind,
  type FindingScope,
} from '@vpc-guard/shared';
import type { KillSwitch } from './dependencies';
import { METRIC, countMetric, logger } from './observability';
import type { PublishedCounts, SinkStage } from './sinks/registry';

/**
 * What a pipeline run reports, and how it keeps its failures: the report types every pipeline
 * function returns ({@link PipelineReport}, one {@link TargetReport} per account and region), the
 * {@link PipelineError} a run with any failed stage ends in, and the {@link FailureLog} each stage
 * adds its failures to (logged and counted as they happen, a batch call's rejects as one line).
 */

/** What started the run: it goes into every notification. */
export type Trigger = 'config-rule' | 'api-event' | 'sweep';

/** A step of the pipeline that can fail on its own; each alert sink is one (its `stage`). */
export type Stage =
  | SinkStage
  | 'collect'
  /** Evaluating, planning or reporting a collected account-region failed unexpectedly (a defect). */
  | 'process'
  | 'dns-attributes'
  | 'config-history'
  | 'config'
  | 'findings-load'
  | 'findings-store'
  | 'kill-switch'
  | 'remediation'
  | 'record-events'
  | 'verify';

/** One failed step: where, what kind of error, how many items it cost. */
export interface StageFailure {
  readonly stage: Stage;
  readonly accountId: string;
  /** Null when a whole account failed (its role could not be assumed). */
  readonly region: string | null;
  readonly vpcIds: readonly string[];
  readonly kind: AwsErrorKind | 'invalid-input';
  readonly message: string;
  /** Items lost to the failure: messages not published, findings not imported, ... */
  readonly items: number;
}

/** What remediation did in one account and region. */
export interface RemediationSummary {
  readonly runId: string;
  readonly killSwitch: KillSwitch['state'];
  readonly planned: number;
  readonly blocked: number;
  readonly outcomes: Readonly<Record<ActionOutcome, number>>;
}

/** The outcome of one account and region. */
export interface TargetReport {
  readonly accountId: string;
  readonly region: string;
  readonly scope: FindingScope['kind'];
  /** The VPCs evaluated. */
  readonly vpcIds: readonly string[];
  readonly compliant: number;
  readonly nonCompliant: number;
  readonly notApplicable: number;
  readonly findings: number;
  /** Recorded transitions (alerts sent for these); null when findings are not tracked. */
  readonly transitions: {
    readonly opened: number;
    readonly changed: number;
    readonly resolved: number;
    readonly superseded: number;
    /** Alerts earlier runs recorded but some sink did not take, sent again by this run. */
    readonly redelivered: number;
    /** Alerts this run held that some sink still owes at its end: a later run sends them again. */
    readonly pendingAlerts: number;
  } | null;
  /** What each alert sink counts as sent (`{ sns, securityHub }`), keyed by its `publishedAs`. */
  readonly published: PublishedCounts;
  readonly configEvaluations: number;
  readonly remediation: RemediationSummary | null;
  readonly recordEvents: number;
}

/** The outcome of a run: every target's report and every failure. */
export interface PipelineReport {
  readonly trigger: Trigger;
  /** True when the event had been processed before: nothing was written. */
  readonly duplicate: boolean;
  readonly targets: readonly TargetReport[];
  readonly failures: readonly StageFailure[];
}

/** Some stage failed; the report says what worked and what did not. */
export class PipelineError extends VpcGuardError {
  readonly report: PipelineReport;

  constructor(report: PipelineReport) {
    const lines = report.failures.map(
      (f) =>
        `${f.stage} ${f.accountId}/${f.region ?? '*'}${f.vpcIds.length ? ` [${f.vpcIds.join(', ')}]` : ''} (${f.kind}): ${f.message}`,
    );
    super(
      `${report.trigger}: ${report.failures.length} stage${report.failures.length === 1 ? '' : 's'} failed (the others completed):\n${lines.map((l) => `  - ${l}`).join('\n')}`,
    );
    this.name = 'PipelineError';
    this.report = report;
  }
}

/** Throws a {@link PipelineError} when any stage failed; returns the report otherwise. */
export function assertPipelineSucceeded(report: PipelineReport): PipelineReport {
  if (report.failures.length > 0) throw new PipelineError(report);
  return report;
}

/** Where a failure happened: the account, the region (null when a whole account failed), the VPCs. */
export interface FailureSite {
  readonly accountId: string;
  readonly region: string | null;
  readonly vpcIds: readonly string[];
}

/** One account and region of a run, scoped to `vpcIds` (none: all its VPCs). */
export interface TargetSite extends FailureSite {
  readonly region: string;
}

/** The kind of a failure, for the report: AWS errors classified, bad input named as such. */
function kindOf(error: unknown): StageFailure['kind'] {
  return error instanceof InputValidationError ? 'invalid-input' : classifyAwsError(error);
}

/** The kind of an error a batch API reported by code alone (PublishBatch, BatchImportFindings). */
export function kindOfCode(code: string): AwsErrorKind {
  return classifyAwsError({ name: code, $metadata: {} });
}

/** Collects failures, logging each with its coordinates as it happens. */
export class FailureLog {
  readonly failures: StageFailure[] = [];

  /** Adds a call that threw: its kind and message come from the error. */
  add(stage: Stage, where: FailureSite, error: unknown, items = 0): void {
    this.push({
      stage,
      ...where,
      kind: kindOf(error),
      message: error instanceof InputValidationError ? error.message : describeAwsError(error),
      items,
    });
  }

  /**
   * Adds the items a batch call reported as not taken (a publish, an import, a put or a conditional
   * write per item) as one failure, described by the first of them: one log line per batch, with
   * the count in `items`. Nothing when none failed.
   */
  addBatch<T>(
    stage: Stage,
    where: FailureSite,
    failed: readonly T[],
    describe: (first: T, count: number) => { kind: StageFailure['kind']; message: string },
  ): void {
    const [first] = failed;
    if (first === undefined) return;
    this.push({ stage, ...where, ...describe(first, failed.length), items: failed.length });
  }

  /** Adds a failure its stage described itself (a DNS-attribute read, a sweep's collection). */
  push(failure: StageFailure): void {
    this.failures.push(failure);
    countMetric(METRIC.stageFailures);
    logger.error(`${failure.stage} failed`, { failure });
  }
}
