import type { Evaluation as ConfigEvaluation } from '@aws-sdk/client-config-service';
import {
  putConfigEvaluations,
  renderConfigEvaluations,
  renderNotApplicableEvaluations,
  type Evaluation,
  type NetworkSnapshot,
  type PutConfigEvaluationsResult,
} from '@vpc-guard/shared';
import type { Dependencies } from './dependencies';
import { FailureLog, kindOfCode, type PipelineReport, type Trigger } from './pipeline-report';
import { NOTHING_PUBLISHED } from './sinks/registry';

/**
 * AWS Config reporting: a config-rule run's evaluations of the VPCs it collected, NOT_APPLICABLE for
 * the VPCs gone since (asked for by id and not found, or reported before and not found now), and the
 * reports that need no collection at all ({@link putEvaluationsOnly}). What Config did not store is
 * one failure of the `config` stage.
 */

/** AWS Config reporting for a config-rule run. */
export interface ConfigReportOptions {
  readonly resultToken: string;
  /** Config keeps the latest result by this time: the item's capture time, or the notification's. */
  readonly orderingTimestamp: Date;
  /** Evaluations of other resources sent along (a deleted subnet's own NOT_APPLICABLE). */
  readonly extra?: readonly ConfigEvaluation[];
  /**
   * VPCs this rule reported before; those not found now are reported NOT_APPLICABLE. Read alongside
   * the collection.
   */
  readonly previouslyReported?: () => Promise<readonly string[]>;
}

/** Adds the evaluations Config did not store (rejected, or a failed call) as one failure. */
function addConfigFailures(
  failures: FailureLog,
  result: PutConfigEvaluationsResult,
  total: number,
  accountId: string,
  region: string,
): void {
  const vpcIds = result.failed.map((f) => f.evaluation.ComplianceResourceId ?? '?');
  failures.addBatch('config', { accountId, region, vpcIds }, result.failed, (first, count) => ({
    kind: first.code === 'Rejected' ? 'invalid' : kindOfCode(first.code),
    message: `${count} of ${total} evaluations not stored: ${first.code}: ${first.error}`,
  }));
}

/**
 * Sends the VPCs' evaluations to AWS Config; returns how many Config stored. `previouslyReported`:
 * the VPCs this rule reported before (read alongside the collection), when the rule keeps track.
 */
export async function reportToConfig(
  deps: Dependencies,
  snapshot: NetworkSnapshot,
  evaluations: readonly Evaluation[],
  options: ConfigReportOptions,
  previouslyReported: Promise<readonly string[]> | undefined,
  failures: FailureLog,
): Promise<number> {
  const { accountId, region } = snapshot;
  const evaluated = new Set(evaluations.map((e) => e.vpcId));
  // A VPC asked for by id that the collection did not find no longer exists.
  const gone = (snapshot.scope?.vpcIds ?? []).filter((id) => !evaluated.has(id));
  if (previouslyReported) {
    try {
      const before = await previouslyReported;
      gone.push(...before.filter((id) => !evaluated.has(id)));
    } catch (error) {
      failures.add('config-history', { accountId, region, vpcIds: [] }, error);
    }
  }
  const timing = { orderingTimestamp: options.orderingTimestamp };
  const entries = [
    ...renderConfigEvaluations(evaluations, timing),
    ...renderNotApplicableEvaluations(gone, timing),
    ...(options.extra ?? []),
  ];
  if (entries.length === 0) return 0;
  const result = await putConfigEvaluations(
    deps.configServiceFor(accountId, region),
    options.resultToken,
    entries,
    { testMode: deps.config.configTestMode },
  );
  addConfigFailures(failures, result, entries.length, accountId, region);
  return result.sent;
}

/** A Config report that needs no collection: NOT_APPLICABLE for a deleted VPC or an out-of-scope item. */
export interface EvaluationsOnlyRequest {
  readonly trigger: Trigger;
  readonly accountId: string;
  readonly region: string;
  readonly resultToken: string;
  readonly entries: readonly ConfigEvaluation[];
}

/** Sends evaluations to AWS Config and reports the outcome as a pipeline run. */
export async function putEvaluationsOnly(
  deps: Dependencies,
  request: EvaluationsOnlyRequest,
): Promise<PipelineReport> {
  const failures = new FailureLog();
  const result = await putConfigEvaluations(
    deps.configServiceFor(request.accountId, request.region),
    request.resultToken,
    request.entries,
    { testMode: deps.config.configTestMode },
  );
  addConfigFailures(failures, result, request.entries.length, request.accountId, request.region);
  return {
    trigger: request.trigger,
    duplicate: false,
    targets: [
      {
        accountId: request.accountId,
        region: request.region,
        scope: 'vpcs',
        vpcIds: [],
        compliant: 0,
        nonCompliant: 0,
        notApplicable: request.entries.length,
        findings: 0,
        transitions: null,
        published: NOTHING_PUBLISHED,
        configEvaluations: result.sent,
        remediation: null,
        recordEvents: 0,
      },
    ],
    failures: failures.failures,
  };
}
