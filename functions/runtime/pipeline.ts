import { randomUUID } from 'node:crypto';
import {
  addDnsAttributes,
  applyRemediation,
  blockPlan,
  collectNetworkSnapshot,
  describeAwsError,
  evaluate,
  planRemediation,
  putRecordEvents,
  renderRecordEvents,
  type Evaluation,
  type FindingScope,
  type GuardPolicy,
  type NetworkSnapshot,
  type RemediationPlan,
  type RemediationRecord,
  type StoredFinding,
} from '@vpc-guard/shared';
import { countPendingAlerts, diffAndNotify, mergeAlerted, type Alerted } from './alert-outbox';
import { reportToConfig, type ConfigReportOptions } from './config-reporting';
import type { Dependencies, KillSwitch } from './dependencies';
import { METRIC, countMetric, logger } from './observability';
import {
  FailureLog,
  type PipelineReport,
  type RemediationSummary,
  type TargetReport,
  type TargetSite,
  type Trigger,
} from './pipeline-report';
import { SignedRecordLog } from './record-log';
import { NOTHING_PUBLISHED } from './sinks/registry';

/**
 * The flow every pipeline function runs for one account and region (all its VPCs, or a few):
 * collect -> evaluate -> plan (the decision) -> report to Config -> diff against the stored findings
 * -> notify what changed (SNS, Security Hub) -> remediate per profile (kill switch read right before)
 * -> record events -> verify and notify the outcome. Reads run side by side, so one VPC's decision
 * takes two sequential round trips. Every sink runs even when another failed; each failure is kept,
 * logged with account, region and VPCs, and raised at the end as one `PipelineError`: a partial
 * failure never hides what worked, and never passes for success. An alert a sink failed to take stays
 * owed on its finding's item (the outbox of the findings store), and the next run of its scope sends
 * it again to that sink alone: the retry of the failed invocation, or the next event or sweep.
 *
 * This file is the flow and the remediation step; the report types and the failure log are in
 * `pipeline-report.ts`, Config reporting in `config-reporting.ts`, the alert outbox (diff, notify,
 * settle) in `alert-outbox.ts`, and `blockPlan` with the plans in the shared remediation module.
 */

/** What the pipeline decided, before any write: for the latency benchmark and tests. */
export interface Decision {
  readonly evaluations: readonly Evaluation[];
  readonly plan: RemediationPlan | null;
}

/** One run of the pipeline. */
export interface PipelineRequest {
  readonly trigger: Trigger;
  readonly accountId: string;
  readonly region: string;
  /** Only these VPCs; every VPC of the region when left out. */
  readonly vpcIds?: readonly string[];
  /** Diff against the stored findings and alert on changes. Needs FINDINGS_TABLE. */
  readonly notify: boolean;
  /** Plan and apply per profile. */
  readonly remediate: boolean;
  readonly configReport?: ConfigReportOptions;
  /** Loads the policy to use instead of the configured one (a Config rule parameter names it). */
  readonly loadPolicy?: () => Promise<GuardPolicy>;
  /** The Lambda function ARN, for remediation records. */
  readonly invokedFunctionArn: string;
  /**
   * Claims the event for this invocation; started alongside the reads. False: a replay, so the run
   * stops before its first write.
   */
  readonly claim?: () => Promise<boolean>;
  readonly onDecision?: (decision: Decision) => void;
}

/** Reads done before the decision, possibly started alongside the collection. */
export interface Prefetched {
  readonly policy: GuardPolicy;
  readonly stored?: Promise<StoredFinding[]>;
  readonly killSwitch?: Promise<KillSwitch>;
  readonly previouslyReported?: Promise<readonly string[]>;
}

/** Why a function does not remediate without its record key. */
const NO_RECORD_KEY =
  'no record key configured (RECORD_KEY_ARN): a change that cannot be recorded tamper-evidently is not made';

/** The actions of the plan still to run (status planned). */
function countPlanned(plan: RemediationPlan): number {
  return plan.vpcs.reduce(
    (n, vpc) => n + vpc.actions.filter((a) => a.status === 'planned').length,
    0,
  );
}

/** VPCs where the record shows a change was made (a call that succeeded for real). */
function changedVpcs(record: RemediationRecord): string[] {
  const ids = record.actions
    .filter((action) => action.calls.some((call) => call.result === 'ok' && !call.dryRun))
    .map((action) => action.vpcId);
  return [...new Set(ids)];
}

function scopeOf(accountId: string, region: string, vpcIds?: readonly string[]): FindingScope {
  return vpcIds === undefined
    ? { kind: 'region', accountId, region }
    : { kind: 'vpcs', accountId, region, vpcIds: [...vpcIds] };
}

/**
 * Collects one account and region (scoped to `vpcIds` when given), then runs the rest of the
 * pipeline ({@link processSnapshot}). A collection that fails is reported as a failure; a policy that
 * cannot be read or is invalid throws, since nothing can be decided without it.
 */
export async function runPipeline(
  deps: Dependencies,
  request: PipelineRequest,
): Promise<PipelineReport> {
  const { accountId, region, vpcIds } = request;
  const store = request.notify ? deps.findings : null;
  const scope = scopeOf(accountId, region, vpcIds);
  // Every read that does not depend on another starts now: one round trip for all of them.
  const policy = request.loadPolicy ? request.loadPolicy() : deps.policy();
  const claim = request.claim?.();
  const snapshot = collectNetworkSnapshot({
    ec2: deps.ec2For(accountId, region),
    accountId,
    region,
    ...(vpcIds ? { vpcIds } : {}),
    // A scoped run reads the DNS attributes now, so a private-DNS decision costs no extra round trip.
    dnsAttributesFor: request.remediate && vpcIds ? vpcIds : [],
    now: deps.clock,
    callerAccountId: () => deps.callerAccountFor(accountId),
  });
  const prefetched = {
    stored: store ? store.load(scope) : undefined,
    killSwitch: request.remediate ? deps.killSwitch() : undefined,
    previouslyReported: request.configReport?.previouslyReported?.(),
  };
  // Nothing started here may outlive the invocation: Lambda would freeze it mid-call and resume it
  // in the next one. Every early exit waits for the reads already under way.
  const inFlight = [snapshot, ...Object.values(prefetched)].filter((p) => p !== undefined);
  for (const pending of inFlight) pending.catch(() => undefined);
  const settle = async () => {
    await Promise.allSettled(inFlight);
  };

  let resolvedPolicy: GuardPolicy;
  let won: boolean;
  try {
    [resolvedPolicy, won] = await Promise.all([policy, claim ?? Promise.resolve(true)]);
  } catch (error) {
    await Promise.allSettled([settle(), claim]);
    throw error;
  }
  if (!won) {
    await settle();
    return { trigger: request.trigger, duplicate: true, targets: [], failures: [] };
  }
  const failures = new FailureLog();
  let collected: NetworkSnapshot;
  try {
    collected = await snapshot;
  } catch (error) {
    failures.add('collect', { accountId, region, vpcIds: vpcIds ?? [] }, error);
    await settle();
    return { trigger: request.trigger, duplicate: false, targets: [], failures: failures.failures };
  }
  const target = await processSnapshot(
    deps,
    collected,
    request,
    { policy: resolvedPolicy, ...prefetched },
    failures,
  );
  return {
    trigger: request.trigger,
    duplicate: false,
    targets: [target],
    failures: failures.failures,
  };
}

/**
 * Runs the pipeline on a collected snapshot (a sweep collects many at once): evaluate, plan, report
 * to Config, diff and notify, remediate, record, verify. Never throws for an AWS failure: each is
 * added to `failures` and the next stage runs.
 */
export async function processSnapshot(
  deps: Dependencies,
  snapshot: NetworkSnapshot,
  request: Omit<PipelineRequest, 'accountId' | 'region' | 'vpcIds' | 'claim'>,
  prefetched: Prefetched,
  failures: FailureLog = new FailureLog(),
): Promise<TargetReport> {
  const { accountId, region } = snapshot;
  const scopedIds = snapshot.scope?.vpcIds;
  const scope = scopeOf(accountId, region, scopedIds);
  const where = { accountId, region, vpcIds: scopedIds ?? [] };
  const policy = prefetched.policy;
  const now = deps.clock();
  const store = request.notify ? deps.findings : null;

  // Decide: evaluate, and plan where a profile remediates.
  let snapshots: readonly NetworkSnapshot[] = [snapshot];
  let evaluations = evaluate(snapshots, policy, { now });
  let plan: RemediationPlan | null = null;
  let planned = 0;
  if (request.remediate) {
    const enriched = await addDnsAttributes({
      snapshots,
      evaluations,
      policy,
      ec2For: deps.ec2For,
    });
    for (const failure of enriched.failures) {
      failures.push({
        stage: 'dns-attributes',
        accountId,
        region,
        vpcIds: where.vpcIds,
        kind: failure.kind,
        message: failure.message,
        items: 0,
      });
    }
    if (enriched.vpcsRead > 0) {
      snapshots = enriched.snapshots;
      // Evaluated again: with the DNS attributes known, findings say what blocks private DNS.
      evaluations = evaluate(snapshots, policy, { now });
    }
    plan = planRemediation({ snapshots, evaluations, policy, now });
    planned = countPlanned(plan);
    if (planned > 0) {
      const killSwitch = await readKillSwitch(deps, prefetched.killSwitch, failures, where);
      if (killSwitch.state === 'on') plan = blockPlan(plan, killSwitch.detail);
      else if (deps.recordSigner === null) plan = blockPlan(plan, NO_RECORD_KEY);
    }
  }
  request.onDecision?.({ evaluations, plan });

  const summary = {
    accountId,
    region,
    scope: scope.kind,
    vpcIds: evaluations.map((e) => e.vpcId),
    compliant: evaluations.filter((e) => e.compliance === 'COMPLIANT').length,
    nonCompliant: evaluations.filter((e) => e.compliance === 'NON_COMPLIANT').length,
    notApplicable: evaluations.filter((e) => e.compliance === 'NOT_APPLICABLE').length,
    findings: evaluations.reduce((n, e) => n + e.findings.length, 0),
  };
  countMetric(METRIC.vpcsEvaluated, evaluations.length);

  const configEvaluations = request.configReport
    ? await reportToConfig(
        deps,
        snapshot,
        evaluations,
        request.configReport,
        prefetched.previouslyReported,
        failures,
      )
    : 0;

  // Alert on what changed, saying what the plan will do about it.
  let alerted: Alerted | null = null;
  if (store) {
    alerted = await diffAndNotify(deps, {
      scope,
      evaluations,
      stored: prefetched.stored ?? store.load(scope),
      context: { plan, trigger: request.trigger },
      redeliver: true,
      failures,
    });
  }

  // Remediate. The kill switch is read again right before the first write; a plan it blocks still
  // goes through the writer, which writes nothing and records why (the audit trail says so).
  let remediation: RemediationSummary | null = null;
  let recordEvents = 0;
  if (plan && planned > 0) {
    const killSwitch = await readKillSwitch(deps, undefined, failures, where);
    const final =
      killSwitch.state === 'on'
        ? blockPlan(plan, killSwitch.detail)
        : deps.recordSigner === null
          ? blockPlan(plan, NO_RECORD_KEY)
          : plan;
    let record: RemediationRecord | null;
    // Every write is journaled, signed, before it is made; without a key nothing is written and the
    // (all-blocked) record is logged as it is.
    const journal = deps.recordSigner ? new SignedRecordLog(deps.recordSigner) : null;
    try {
      record = await applyRemediation(final, policy, {
        ec2For: deps.ec2For,
        identity: deps.identity(accountId, request.invokedFunctionArn),
        clock: deps.clock,
        endpointLimiter: deps.endpointLimiter,
        runId: randomUUID(),
        ...(journal ? { journal } : {}),
      });
      if (journal) await journal.write(record);
      else logger.info('remediation record', { record });
    } catch (error) {
      failures.add('remediation', where, error, countPlanned(final));
      // What was done before the failure is in the last journal entry; report on that.
      record = journal?.last ?? null;
    }
    if (record) {
      countMetric(METRIC.remediationActions, record.actions.length);
      countMetric(METRIC.remediationBlocked, record.summary.blocked);
      remediation = {
        runId: record.runId,
        killSwitch: killSwitch.state,
        planned: countPlanned(final),
        blocked: final.totals.blocked,
        outcomes: record.summary,
      };
      recordEvents = await sendRecordEvents(deps, record, failures, where);
      if (alerted) {
        const followUp = await verifyAndNotify(deps, {
          trigger: request.trigger,
          snapshot,
          policy,
          record,
          stored: alerted.stored,
          failures,
        });
        if (followUp) alerted = mergeAlerted(alerted, followUp);
      }
    }
  }

  const pendingAlerts = alerted ? countPendingAlerts(alerted, where) : 0;
  return {
    ...summary,
    transitions: alerted ? { ...alerted.transitions, pendingAlerts } : null,
    published: alerted?.published ?? NOTHING_PUBLISHED,
    configEvaluations,
    remediation,
    recordEvents,
  };
}

async function readKillSwitch(
  deps: Dependencies,
  pending: Promise<KillSwitch> | undefined,
  failures: FailureLog,
  where: TargetSite,
): Promise<KillSwitch> {
  try {
    return await (pending ?? deps.killSwitch());
  } catch (error) {
    // Cannot tell whether writes are allowed: fail closed, and say so.
    failures.add('kill-switch', where, error);
    return {
      state: 'on',
      detail: `kill switch unreadable (${describeAwsError(error)}): treated as on`,
    };
  }
}

/** Puts the record on the event bus (one event per VPC); returns how many EventBridge accepted. */
async function sendRecordEvents(
  deps: Dependencies,
  record: RemediationRecord,
  failures: FailureLog,
  where: TargetSite,
): Promise<number> {
  try {
    const entries = renderRecordEvents(record, { busName: deps.config.eventBusName });
    const result = await putRecordEvents(deps.eventBridge, entries);
    failures.addBatch('record-events', where, result.failed, (first, count) => ({
      kind: 'other',
      message: `${count} record event(s) not accepted: ${first.errorCode}: ${first.errorMessage}`,
    }));
    return result.sent;
  } catch (error) {
    failures.add('record-events', where, error);
    return 0;
  }
}

interface FollowUpRequest {
  readonly trigger: Trigger;
  readonly snapshot: NetworkSnapshot;
  readonly policy: GuardPolicy;
  readonly record: RemediationRecord;
  /** The stored findings as the first diff left them (the index may not show those writes yet). */
  readonly stored: StoredFinding[];
  readonly failures: FailureLog;
}

/**
 * After a remediation that changed something: collect the changed VPCs again, diff, and alert on what
 * the change resolved, with the record (so the alert says "fixed by vpc-guard"). vpc-guard's own API
 * calls never trigger it again (the loop guard), so this is the only follow-up those changes get.
 */
async function verifyAndNotify(
  deps: Dependencies,
  request: FollowUpRequest,
): Promise<Alerted | null> {
  const vpcIds = changedVpcs(request.record);
  if (vpcIds.length === 0) return null;
  const { accountId, region } = request.snapshot;
  let after: NetworkSnapshot;
  try {
    after = await collectNetworkSnapshot({
      ec2: deps.ec2For(accountId, region),
      accountId,
      region,
      vpcIds,
      now: deps.clock,
      callerAccountId: () => deps.callerAccountFor(accountId),
    });
  } catch (error) {
    request.failures.add('verify', { accountId, region, vpcIds }, error);
    return null;
  }
  return diffAndNotify(deps, {
    scope: scopeOf(accountId, region, vpcIds),
    evaluations: evaluate([after], request.policy, { now: deps.clock() }),
    stored: Promise.resolve(request.stored),
    context: { record: request.record, trigger: request.trigger },
    redeliver: false,
    failures: request.failures,
  });
}
