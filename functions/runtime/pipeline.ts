import { randomUUID } from 'node:crypto';
import type { Evaluation as ConfigEvaluation } from '@aws-sdk/client-config-service';
import {
  InputValidationError,
  VpcGuardError,
  addDnsAttributes,
  applyRemediation,
  asffFindingId,
  classifyAwsError,
  collectNetworkSnapshot,
  describeAwsError,
  diffFindings,
  evaluate,
  importToSecurityHub,
  indexEvaluationsByVpc,
  planRemediation,
  publishToSns,
  putConfigEvaluations,
  putRecordEvents,
  renderAsffFindings,
  renderConfigEvaluations,
  renderNotApplicableEvaluations,
  renderRecordEvents,
  renderSnsMessages,
  type ActionOutcome,
  type AlertSink,
  type AlertingTransition,
  type AwsErrorKind,
  type Evaluation,
  type FindingChangeOptions,
  type FindingScope,
  type FindingTransitions,
  type GuardPolicy,
  type NetworkSnapshot,
  type PutConfigEvaluationsResult,
  type RemediationPlan,
  type RemediationRecord,
  type StoredFinding,
} from '@vpc-guard/shared';
import type { Dependencies, KillSwitch } from './dependencies';
import { SignedRecordLog } from './record-log';
import { METRIC, countMetric, logger } from './observability';

/**
 * The flow every pipeline function runs for one account and region (all its VPCs, or a few):
 * collect -> evaluate -> plan (the decision) -> report to Config -> diff against the stored findings
 * -> notify what changed (SNS, Security Hub) -> remediate per profile (kill switch read right before)
 * -> record events -> verify and notify the outcome. Reads run side by side, so one VPC's decision
 * takes two sequential round trips. Every sink runs even when another failed; each failure is kept,
 * logged with account, region and VPCs, and raised at the end as one {@link PipelineError}: a partial
 * failure never hides what worked, and never passes for success. An alert a sink failed to take stays
 * owed on its finding's item (the outbox of the findings store), and the next run of its scope sends
 * it again to that sink alone: the retry of the failed invocation, or the next event or sweep.
 */

/** What started the run: it goes into every notification. */
export type Trigger = 'config-rule' | 'api-event' | 'sweep';

/** A step of the pipeline that can fail on its own. */
export type Stage =
  | 'collect'
  /** Evaluating, planning or reporting a collected account-region failed unexpectedly (a defect). */
  | 'process'
  | 'dns-attributes'
  | 'config-history'
  | 'config'
  | 'findings-load'
  | 'findings-store'
  | 'sns'
  | 'security-hub'
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
  readonly published: { readonly sns: number; readonly securityHub: number };
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

/** The kind of a failure, for the report: AWS errors classified, bad input named as such. */
function kindOf(error: unknown): StageFailure['kind'] {
  return error instanceof InputValidationError ? 'invalid-input' : classifyAwsError(error);
}

/** The kind of an error a batch API reported by code alone (PublishBatch, BatchImportFindings). */
function kindOfCode(code: string): AwsErrorKind {
  return classifyAwsError({ name: code, $metadata: {} });
}

/** Collects failures, logging each with its coordinates as it happens. */
class FailureLog {
  readonly failures: StageFailure[] = [];

  add(
    stage: Stage,
    where: { accountId: string; region: string | null; vpcIds: readonly string[] },
    error: unknown,
    items = 0,
  ): void {
    this.push({
      stage,
      ...where,
      kind: kindOf(error),
      message: error instanceof InputValidationError ? error.message : describeAwsError(error),
      items,
    });
  }

  push(failure: StageFailure): void {
    this.failures.push(failure);
    countMetric(METRIC.stageFailures);
    logger.error(`${failure.stage} failed`, { failure });
  }
}

/** Blocks every planned action of a plan with `reason` (the kill switch); nothing of it will be written. */
/** Why a function does not remediate without its record key. */
const NO_RECORD_KEY =
  'no record key configured (RECORD_KEY_ARN): a change that cannot be recorded tamper-evidently is not made';

export function blockPlan(plan: RemediationPlan, reason: string): RemediationPlan {
  let blocked = 0;
  const vpcs = plan.vpcs.map((vpc) => ({
    ...vpc,
    actions: vpc.actions.map((action) => {
      if (action.status !== 'planned') return action;
      blocked += 1;
      return { ...action, status: 'blocked' as const, blockedReason: reason };
    }),
  }));
  return {
    ...plan,
    vpcs,
    totals: {
      ...plan.totals,
      planned: plan.totals.planned - blocked,
      blocked: plan.totals.blocked + blocked,
    },
  };
}

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
    ? await reportToConfig(deps, snapshot, evaluations, request.configReport, prefetched, failures)
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
    published: alerted?.published ?? { sns: 0, securityHub: 0 },
    configEvaluations,
    remediation,
    recordEvents,
  };
}

async function readKillSwitch(
  deps: Dependencies,
  pending: Promise<KillSwitch> | undefined,
  failures: FailureLog,
  where: { accountId: string; region: string; vpcIds: readonly string[] },
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

/** Adds the evaluations Config did not store (rejected, or a failed call) as one failure. */
function addConfigFailures(
  failures: FailureLog,
  result: PutConfigEvaluationsResult,
  total: number,
  accountId: string,
  region: string,
): void {
  const [first] = result.failed;
  if (first === undefined) return;
  failures.push({
    stage: 'config',
    accountId,
    region,
    vpcIds: result.failed.map((f) => f.evaluation.ComplianceResourceId ?? '?'),
    kind: first.code === 'Rejected' ? 'invalid' : kindOfCode(first.code),
    message: `${result.failed.length} of ${total} evaluations not stored: ${first.code}: ${first.error}`,
    items: result.failed.length,
  });
}

/** Sends the VPCs' evaluations to AWS Config; returns how many Config stored. */
async function reportToConfig(
  deps: Dependencies,
  snapshot: NetworkSnapshot,
  evaluations: readonly Evaluation[],
  options: ConfigReportOptions,
  prefetched: Prefetched,
  failures: FailureLog,
): Promise<number> {
  const { accountId, region } = snapshot;
  const evaluated = new Set(evaluations.map((e) => e.vpcId));
  // A VPC asked for by id that the collection did not find no longer exists.
  const gone = (snapshot.scope?.vpcIds ?? []).filter((id) => !evaluated.has(id));
  if (prefetched.previouslyReported) {
    try {
      const before = await prefetched.previouslyReported;
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

interface DiffRequest {
  readonly scope: FindingScope;
  readonly evaluations: readonly Evaluation[];
  readonly stored: Promise<StoredFinding[]>;
  readonly context: FindingChangeOptions;
  /**
   * Also send the alerts earlier runs left owed. The follow-up after remediation does not: what it
   * did not change was just attempted by the same invocation.
   */
  readonly redeliver: boolean;
  readonly failures: FailureLog;
}

interface Alerted {
  readonly transitions: Omit<NonNullable<TargetReport['transitions']>, 'pendingAlerts'>;
  readonly published: TargetReport['published'];
  /** The stored findings as this invocation left them: what it read, with what it wrote. */
  readonly stored: StoredFinding[];
  /** Keys of the alerts this invocation held (recorded or took over), delivered or not. */
  readonly held: readonly string[];
}

function mergeAlerted(first: Alerted, second: Alerted): Alerted {
  return {
    transitions: {
      opened: first.transitions.opened + second.transitions.opened,
      changed: first.transitions.changed + second.transitions.changed,
      resolved: first.transitions.resolved + second.transitions.resolved,
      superseded: first.transitions.superseded + second.transitions.superseded,
      redelivered: first.transitions.redelivered + second.transitions.redelivered,
    },
    published: {
      sns: first.published.sns + second.published.sns,
      securityHub: first.published.securityHub + second.published.securityHub,
    },
    stored: second.stored,
    held: [...new Set([...first.held, ...second.held])],
  };
}

/**
 * Counts (metric and log) the alerts this invocation held that some sink still owes at its end. Each
 * is retried by every later run of its scope until a sink takes it, or, resolved, until its TTL.
 */
function countPendingAlerts(
  alerted: Alerted,
  where: { accountId: string; region: string; vpcIds: readonly string[] },
): number {
  const byKey = new Map(alerted.stored.map((entry) => [entry.key, entry]));
  const owed = alerted.held
    .map((key) => byKey.get(key))
    .filter((entry) => entry?.pendingAlert !== undefined);
  countMetric(METRIC.pendingAlerts, owed.length);
  if (owed.length > 0) {
    logger.warn('alerts still owed: a later run sends them again', {
      ...where,
      pendingAlerts: owed.length,
      alerts: owed.slice(0, 20).map((entry) => ({
        key: entry!.key,
        transition: entry!.pendingAlert!.transition,
        sinks: entry!.pendingAlert!.sinks,
      })),
    });
  }
  return owed.length;
}

/** The stored findings after this run: each entry it wrote replaces the one it read. */
function storedAfter(
  stored: readonly StoredFinding[],
  written: readonly StoredFinding[],
): StoredFinding[] {
  const byKey = new Map(stored.map((entry) => [entry.key, entry]));
  for (const record of written) byKey.set(record.key, record);
  return [...byKey.values()];
}

/** The sinks this deployment alerts through. */
function configuredSinks(deps: Dependencies): AlertSink[] {
  const sinks: AlertSink[] = [];
  if (deps.config.topicArn !== null) sinks.push('sns');
  if (deps.config.securityHub) sinks.push('securityhub');
  return sinks;
}

/**
 * Diffs the evaluations against the stored findings, records the transitions (conditional writes:
 * of two invocations racing on a VPC, one alerts) with their alerts owed to every sink, takes over
 * the alerts earlier runs left owed, publishes each alert to the sinks that owe it, and records which
 * took it. What a sink did not take stays owed, for the next run.
 */
async function diffAndNotify(deps: Dependencies, request: DiffRequest): Promise<Alerted | null> {
  const { scope, failures } = request;
  const where = {
    accountId: scope.accountId,
    region: scope.region,
    vpcIds: scope.kind === 'vpcs' ? scope.vpcIds : [],
  };
  const store = deps.findings;
  if (!store) return null;
  let stored: StoredFinding[];
  try {
    stored = await request.stored;
  } catch (error) {
    // Without the stored state every finding would look new: alert on nothing rather than everything.
    failures.add('findings-load', where, error);
    return null;
  }
  const diff = diffFindings(stored, request.evaluations, scope, deps.clock());
  const transitions = request.redeliver ? diff : { ...diff, undelivered: [] };
  const sinks = configuredSinks(deps);
  const applied = await store.apply(transitions, { sinks });
  const owedKeys = new Set(transitions.undelivered.map((transition) => transition.key));
  const [notRecorded, notTaken] = [
    applied.failed.filter((failed) => !owedKeys.has(failed.transition.key)),
    applied.failed.filter((failed) => owedKeys.has(failed.transition.key)),
  ];
  if (notRecorded.length > 0) {
    const [first] = notRecorded;
    failures.push({
      stage: 'findings-store',
      ...where,
      kind: first!.errorKind,
      message: `${notRecorded.length} finding transition(s) not recorded, so not alerted: ${first!.error}`,
      items: notRecorded.length,
    });
  }
  if (notTaken.length > 0) {
    const [first] = notTaken;
    failures.push({
      stage: 'findings-store',
      ...where,
      kind: first!.errorKind,
      message: `${notTaken.length} owed alert(s) not taken over, so not sent again (still owed): ${first!.error}`,
      items: notTaken.length,
    });
  }
  const { opened, changed, resolved, undelivered } = applied.applied;
  countMetric(METRIC.findingsOpened, opened.length);
  countMetric(METRIC.findingsChanged, changed.length);
  countMetric(METRIC.findingsResolved, resolved.length);
  countMetric(METRIC.alertsRedelivered, undelivered.length);
  const alerts: AlertingTransition[] = [...opened, ...changed, ...resolved, ...undelivered];
  const { published, accepted } = await notify(
    deps,
    alerts,
    sinks,
    request.evaluations,
    request.context,
    where,
    failures,
  );
  const settled = await store.settleAlerts(
    alerts.map((alert) => ({
      record: alert.record,
      // A sink switched off since the alert was recorded owes it no more.
      delivered: (alert.record.pendingAlert?.sinks ?? []).filter(
        (sink) => !sinks.includes(sink) || accepted[sink].has(alert.key),
      ),
    })),
  );
  if (settled.failed.length > 0) {
    const [first] = settled.failed;
    failures.push({
      stage: 'findings-store',
      ...where,
      kind: first!.errorKind,
      message: `${settled.failed.length} alert outcome(s) not recorded: those alerts stay owed and are sent again: ${first!.error}`,
      items: settled.failed.length,
    });
  }
  return {
    transitions: {
      opened: opened.length,
      changed: changed.length,
      resolved: resolved.length,
      superseded: applied.superseded.length,
      redelivered: undelivered.length,
    },
    published,
    stored: storedAfter(stored, [
      ...applied.applied.unchanged.map((transition) => transition.record),
      ...alerts.map((alert) => alert.record),
      ...settled.settled,
    ]),
    held: alerts.filter((alert) => alert.record.pendingAlert !== undefined).map((a) => a.key),
  };
}

/** The alerts as the renderers take them, by kind. */
function byKind(alerts: readonly AlertingTransition[]): FindingTransitions {
  return {
    opened: alerts.filter((alert) => alert.kind === 'opened'),
    changed: alerts.filter((alert) => alert.kind === 'changed'),
    resolved: alerts.filter((alert) => alert.kind === 'resolved'),
    unchanged: [],
    undelivered: [],
  };
}

/** Which alerts (by finding key) each sink took. */
type Accepted = Readonly<Record<AlertSink, Set<string>>>;

/**
 * Publishes each alert to the sinks that owe it (`record.pendingAlert.sinks`), SNS and Security Hub
 * side by side, and says which alerts each sink took.
 */
async function notify(
  deps: Dependencies,
  alerts: readonly AlertingTransition[],
  sinks: readonly AlertSink[],
  evaluations: readonly Evaluation[],
  context: FindingChangeOptions,
  where: { accountId: string; region: string; vpcIds: readonly string[] },
  failures: FailureLog,
): Promise<{ published: TargetReport['published']; accepted: Accepted }> {
  const accepted: Accepted = { sns: new Set(), securityhub: new Set() };
  const owedTo = (sink: AlertSink) =>
    sinks.includes(sink)
      ? alerts.filter((alert) => alert.record.pendingAlert?.sinks.includes(sink) ?? false)
      : [];
  const forSns = owedTo('sns');
  const forSecurityHub = owedTo('securityhub');
  const toSns = async (): Promise<number> => {
    const topicArn = deps.config.topicArn;
    if (topicArn === null || forSns.length === 0) return 0;
    const messages = renderSnsMessages(byKind(forSns), indexEvaluationsByVpc(evaluations), context);
    const result = await publishToSns(deps.sns, topicArn, messages);
    for (const sent of result.published) accepted.sns.add(sent.message.change.finding.key);
    if (result.failed.length > 0) {
      const [first] = result.failed;
      failures.push({
        stage: 'sns',
        ...where,
        kind: first!.senderFault ? 'invalid' : kindOfCode(first!.code),
        message: `${result.failed.length} of ${messages.length} messages not published: ${first!.code}: ${first!.error}`,
        items: result.failed.length,
      });
    }
    return result.published.length;
  };
  const toSecurityHub = async (): Promise<number> => {
    if (!deps.config.securityHub || forSecurityHub.length === 0) return 0;
    const findings = renderAsffFindings(byKind(forSecurityHub), evaluations, {
      accountId: where.accountId,
      region: where.region,
    });
    const result = await importToSecurityHub(
      deps.securityHubFor(where.accountId, where.region),
      findings,
    );
    const rejected = new Set(result.failed.map((failed) => failed.id));
    // A rejection without an id cannot be told apart: then no alert counts as taken.
    if (!rejected.has('?')) {
      for (const alert of forSecurityHub) {
        if (!rejected.has(asffFindingId(alert.key))) accepted.securityhub.add(alert.key);
      }
    }
    if (result.failed.length > 0) {
      const [first] = result.failed;
      failures.push({
        stage: 'security-hub',
        ...where,
        kind: kindOfCode(first!.errorCode),
        message: `${result.failed.length} of ${findings.length} findings not imported: ${first!.errorCode}: ${first!.errorMessage}`,
        items: result.failed.length,
      });
    }
    return result.imported;
  };
  const [sns, securityHub] = await Promise.all([
    toSns().catch((error: unknown) => {
      failures.add('sns', where, error, forSns.length);
      return 0;
    }),
    toSecurityHub().catch((error: unknown) => {
      failures.add('security-hub', where, error, forSecurityHub.length);
      return 0;
    }),
  ]);
  countMetric(METRIC.notificationsSent, sns + securityHub);
  return { published: { sns, securityHub }, accepted };
}

/** Puts the record on the event bus (one event per VPC); returns how many EventBridge accepted. */
async function sendRecordEvents(
  deps: Dependencies,
  record: RemediationRecord,
  failures: FailureLog,
  where: { accountId: string; region: string; vpcIds: readonly string[] },
): Promise<number> {
  try {
    const entries = renderRecordEvents(record, { busName: deps.config.eventBusName });
    const result = await putRecordEvents(deps.eventBridge, entries);
    if (result.failed.length > 0) {
      const [first] = result.failed;
      failures.push({
        stage: 'record-events',
        ...where,
        kind: 'other',
        message: `${result.failed.length} record event(s) not accepted: ${first!.errorCode}: ${first!.errorMessage}`,
        items: result.failed.length,
      });
    }
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
        published: { sns: 0, securityHub: 0 },
        configEvaluations: result.sent,
        remediation: null,
        recordEvents: 0,
      },
    ],
    failures: failures.failures,
  };
}

export { FailureLog };
