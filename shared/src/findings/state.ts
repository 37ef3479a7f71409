import { createHash } from 'node:crypto';
import { InputValidationError, type InputProblem } from '../errors';
import type { Evaluation, Finding } from '../evaluate';
import type { RuleId, Severity } from '../rules/types';

/**
 * Finding state: which findings are open, and what changed since the last look. Alerts go out only
 * when a finding opens, changes (severity or evidence) or resolves, so a sweep every hour does not
 * repeat yesterday's news. Pure: the stored state and the clock come in as arguments.
 */

/** How long a resolved finding is kept (DynamoDB TTL) before it is forgotten. */
export const RESOLVED_RETENTION_DAYS = 30;

export type StoredFindingState = 'open' | 'resolved';

/**
 * The names of the sinks an alert goes to, as the findings table stores them owed: each accepts or
 * fails it on its own, so each is owed on its own. A stored name not listed here is dropped when
 * read. Stable once deployed; each has its sink in the functions' sink registry, which checks so.
 */
export const ALERT_SINKS = ['sns', 'securityhub'] as const;
export type AlertSink = (typeof ALERT_SINKS)[number];

/**
 * The alert of the last recorded transition, while some sinks still owe it (the outbox). It is
 * written with the transition, in the same conditional write, and cleared sink by sink as each
 * accepts it; a run that finds it re-delivers it. So a sink that fails after the transition was
 * recorded delays the alert, and never loses it.
 */
export interface PendingAlert {
  /** New with every recorded transition: clears and re-delivery claims apply to this alert only. */
  readonly id: string;
  readonly transition: 'opened' | 'changed' | 'resolved';
  /** The sinks that have not accepted it yet; never empty (a delivered alert is removed). */
  readonly sinks: readonly AlertSink[];
  /** For `changed`: what changed, as the first delivery said. */
  readonly changes?: readonly FindingChangeField[];
  /** For `changed`: the severity before, when it changed. */
  readonly previousSeverity?: Severity;
  /**
   * Epoch seconds until which one invocation holds the delivery: the one that recorded it, or the one
   * that took it over. Another invocation re-delivers only after that, so two never both send it.
   */
  readonly leaseUntil?: number;
}

/**
 * Why a finding resolved. `fixed`: the VPC was evaluated and the finding is gone. `exempt`: the VPC
 * now carries a valid exemption, which suppresses its findings. `vpc-gone`: the VPC was in scope but
 * no longer exists.
 */
export type ResolutionReason = 'fixed' | 'exempt' | 'vpc-gone';

/** A finding as the findings table keeps it, between runs. */
export interface StoredFinding {
  /** The finding key, `accountId/region/vpcId/ruleId/subject`. */
  readonly key: string;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly ruleId: RuleId;
  readonly subject: string;
  /** The AWS resource at fault; kept so a resolved finding can still name it (Security Hub, Slack). */
  readonly resourceId: string;
  readonly severity: Severity;
  /** {@link findingDigest} of the finding when last written: a different digest is a change. */
  readonly digest: string;
  readonly message: string;
  readonly profile: string;
  readonly vpcName: string | null;
  /** When this episode of the finding opened (a finding that resolves and comes back starts anew). */
  readonly firstSeen: string;
  /** When the finding was last written open (each transition, and each run when unchanged ones are touched). */
  readonly lastSeen: string;
  readonly state: StoredFindingState;
  readonly resolvedAt?: string;
  readonly resolution?: ResolutionReason;
  /** Epoch seconds after which DynamoDB may delete a resolved entry (its TTL attribute). */
  readonly expiresAt?: number;
  /** The alert some sinks still owe; absent once every sink accepted it. */
  readonly pendingAlert?: PendingAlert;
}

/**
 * What the current evaluations looked at. Only previous findings inside the scope may resolve: a
 * scoped event evaluates one VPC (or a few) and must never resolve the rest of the region.
 * - `vpcs`: these VPCs of one account and region were evaluated; a listed VPC without an evaluation
 *   no longer exists (its findings resolve `vpc-gone`).
 * - `region`: every VPC of the account and region was evaluated (a sweep); a VPC with stored findings
 *   but no evaluation has disappeared.
 */
export type FindingScope =
  | {
      readonly kind: 'vpcs';
      readonly accountId: string;
      readonly region: string;
      readonly vpcIds: readonly string[];
    }
  | { readonly kind: 'region'; readonly accountId: string; readonly region: string };

/** What differs in a changed finding. `message` alone is never a change (see {@link findingDigest}). */
export type FindingChangeField = 'severity' | 'evidence' | 'message';

/** A finding seen now that was not open before (new, or back after it resolved). */
export interface OpenedTransition {
  readonly kind: 'opened';
  readonly key: string;
  readonly finding: Finding;
  /** The entry to write. */
  readonly record: StoredFinding;
  /** The resolved entry it reopens, if the table still holds one. */
  readonly previous: StoredFinding | null;
}

/** An open finding whose severity or evidence differs from what was stored. */
export interface ChangedTransition {
  readonly kind: 'changed';
  readonly key: string;
  readonly finding: Finding;
  readonly record: StoredFinding;
  readonly previous: StoredFinding;
  readonly changes: readonly FindingChangeField[];
}

/** An open finding that is gone (fixed), suppressed (exempt), or whose VPC is gone. */
export interface ResolvedTransition {
  readonly kind: 'resolved';
  readonly key: string;
  readonly reason: ResolutionReason;
  readonly record: StoredFinding;
  readonly previous: StoredFinding;
  /** For `exempt`: the finding as the exemption now suppresses it; otherwise null. */
  readonly finding: Finding | null;
}

/** An open finding seen again as it was: no alert. */
export interface UnchangedTransition {
  readonly kind: 'unchanged';
  readonly key: string;
  readonly finding: Finding;
  /** The stored entry with `lastSeen`, message, profile and VPC name refreshed. */
  readonly record: StoredFinding;
  readonly previous: StoredFinding;
}

export type FindingTransition =
  OpenedTransition | ChangedTransition | ResolvedTransition | UnchangedTransition;

/** A transition that alerts. */
export type AlertingTransition = OpenedTransition | ChangedTransition | ResolvedTransition;

/**
 * The outcome of {@link diffFindings}, by kind. `opened`, `changed` and `resolved` are new and alert;
 * `undelivered` are alerts recorded earlier that some sinks still owe (see {@link PendingAlert}).
 */
export interface FindingTransitions {
  readonly opened: readonly OpenedTransition[];
  readonly changed: readonly ChangedTransition[];
  readonly resolved: readonly ResolvedTransition[];
  readonly unchanged: readonly UnchangedTransition[];
  /**
   * Alerts an earlier run recorded that some sinks have not accepted: nothing to record, only to
   * send again, to the sinks in `record.pendingAlert.sinks`. Each is rebuilt from the stored entry
   * (`record` is that entry), so it says what the first delivery said, with the same time.
   */
  readonly undelivered: readonly AlertingTransition[];
}

/** Options of {@link diffFindings}. */
export interface DiffFindingsOptions {
  /** Days a resolved entry is kept before its TTL lets DynamoDB delete it. @default 30 */
  readonly resolvedRetentionDays?: number;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A stable JSON text: object keys sorted by code point, arrays sorted by their own canonical text.
 * Arrays are compared as sets because describe calls do not promise an order (route tables, subnets,
 * statements): the same facts listed in another order must not raise a "changed" alert.
 */
function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value
      .map(canonical)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The digest that decides whether a finding changed: `<severity>:<32 hex of sha256(evidence)>`. The
 * message is left out on purpose: it is phrased from the evidence, and rewording it in a new release
 * must not re-alert every open finding.
 */
export function findingDigest(finding: Pick<Finding, 'severity' | 'evidence'>): string {
  return `${finding.severity}:${sha256(canonical(finding.evidence)).slice(0, 32)}`;
}

function digestParts(digest: string): { severity: string; evidence: string } {
  const colon = digest.indexOf(':');
  return colon < 0
    ? { severity: '', evidence: digest }
    : { severity: digest.slice(0, colon), evidence: digest.slice(colon + 1) };
}

function vpcPathOf(item: { accountId: string; region: string; vpcId: string }): string {
  return `${item.accountId}/${item.region}/${item.vpcId}`;
}

function checkScope(scope: FindingScope, current: readonly Evaluation[]): void {
  const problems: InputProblem[] = [];
  const listed = scope.kind === 'vpcs' ? new Set(scope.vpcIds) : null;
  for (const [index, evaluation] of current.entries()) {
    const outside =
      evaluation.accountId !== scope.accountId ||
      evaluation.region !== scope.region ||
      (listed !== null && !listed.has(evaluation.vpcId));
    if (outside) {
      problems.push({
        path: `[${index}]`,
        message:
          `${vpcPathOf(evaluation)} is outside the scope ` +
          (scope.kind === 'region'
            ? `${scope.accountId}/${scope.region}`
            : `${scope.accountId}/${scope.region} [${scope.vpcIds.join(', ')}]`),
      });
    }
  }
  if (problems.length > 0) throw new InputValidationError('evaluations', problems);
}

function inScope(scope: FindingScope, stored: StoredFinding, listed: ReadonlySet<string> | null) {
  return (
    stored.accountId === scope.accountId &&
    stored.region === scope.region &&
    (listed === null || listed.has(stored.vpcId))
  );
}

function openRecord(finding: Finding, evaluation: Evaluation, firstSeen: string, now: string) {
  const record: StoredFinding = {
    key: finding.key,
    accountId: finding.accountId,
    region: finding.region,
    vpcId: finding.vpcId,
    ruleId: finding.ruleId,
    subject: finding.subject,
    resourceId: finding.resourceId,
    severity: finding.severity,
    digest: findingDigest(finding),
    message: finding.message,
    profile: evaluation.profile,
    vpcName: evaluation.vpcName,
    firstSeen,
    lastSeen: now,
    state: 'open',
  };
  return record;
}

function changedFields(previous: StoredFinding, record: StoredFinding): FindingChangeField[] {
  const before = digestParts(previous.digest);
  const after = digestParts(record.digest);
  const fields: FindingChangeField[] = [];
  if (previous.severity !== record.severity || before.severity !== after.severity) {
    fields.push('severity');
  }
  if (before.evidence !== after.evidence) fields.push('evidence');
  if (previous.message !== record.message) fields.push('message');
  return fields;
}

/** The entry without its outbox (a new transition supersedes an alert still owed, with its own). */
export function withoutPendingAlert(record: StoredFinding): StoredFinding {
  const copy: { -readonly [K in keyof StoredFinding]: StoredFinding[K] } = { ...record };
  delete copy.pendingAlert;
  return copy;
}

/**
 * The alert a stored open entry still owes, rebuilt from the entry: the finding as seen now (its
 * digest is the stored one, so it is the finding the alert was about) and the stored record, whose
 * `lastSeen` is the time of the transition (entries that owe an alert are never touched).
 */
function owedOpenAlert(
  before: StoredFinding,
  pending: PendingAlert,
  finding: Finding,
): OpenedTransition | ChangedTransition {
  if (pending.transition !== 'changed') {
    return { kind: 'opened', key: before.key, finding, record: before, previous: null };
  }
  return {
    kind: 'changed',
    key: before.key,
    finding,
    record: before,
    // Only the severity of the entry before is part of the alert; the rest is gone.
    previous: { ...before, severity: pending.previousSeverity ?? before.severity },
    changes: [...(pending.changes ?? [])],
  };
}

/**
 * Compares the stored findings with the current evaluations and says what opened, changed, resolved
 * or stayed the same. Only stored findings inside `scope` are considered, so a partial scan never
 * resolves what it did not look at; an evaluation outside `scope` is a caller error and throws. A VPC
 * with a valid exemption resolves its open findings with reason `exempt` and opens none. Stored
 * entries already resolved are reopened when the finding comes back.
 *
 * A stored entry that still owes an alert ({@link PendingAlert}) is owed it again in `undelivered`
 * when nothing new happened to it: an open finding seen as it was (not `unchanged`), or a resolved
 * one that stays away. When something new happened (it changed, resolved, or came back), the new
 * transition carries the news, with an alert of its own for every sink, and the owed one is dropped.
 *
 * @throws InputValidationError when an evaluation lies outside `scope` or `now` is not a valid date.
 */
export function diffFindings(
  previous: readonly StoredFinding[],
  current: readonly Evaluation[],
  scope: FindingScope,
  now: Date,
  options: DiffFindingsOptions = {},
): FindingTransitions {
  if (Number.isNaN(now.getTime())) {
    throw new InputValidationError('now', [{ path: '', message: 'expected a valid date' }]);
  }
  checkScope(scope, current);
  const at = now.toISOString();
  const retentionDays = options.resolvedRetentionDays ?? RESOLVED_RETENTION_DAYS;
  const expiresAt = Math.floor(now.getTime() / 1000) + Math.round(retentionDays * 86_400);
  const listed = scope.kind === 'vpcs' ? new Set(scope.vpcIds) : null;

  const stored = new Map<string, StoredFinding>();
  for (const entry of previous) {
    if (inScope(scope, entry, listed) && !stored.has(entry.key)) stored.set(entry.key, entry);
  }
  const evaluationByVpc = new Map<string, Evaluation>(current.map((e) => [e.vpcId, e]));

  const opened: OpenedTransition[] = [];
  const changed: ChangedTransition[] = [];
  const unchanged: UnchangedTransition[] = [];
  const undelivered: AlertingTransition[] = [];
  const seen = new Set<string>();
  for (const evaluation of current) {
    // An exempt VPC reports nothing: its stored findings resolve below.
    if (evaluation.exemption.state === 'valid') continue;
    for (const finding of evaluation.findings) {
      if (seen.has(finding.key)) continue;
      seen.add(finding.key);
      const before = stored.get(finding.key);
      if (before === undefined || before.state === 'resolved') {
        opened.push({
          kind: 'opened',
          key: finding.key,
          finding,
          record: openRecord(finding, evaluation, at, at),
          previous: before ?? null,
        });
        continue;
      }
      const record = openRecord(finding, evaluation, before.firstSeen, at);
      if (record.digest !== before.digest) {
        changed.push({
          kind: 'changed',
          key: finding.key,
          finding,
          record,
          previous: before,
          changes: changedFields(before, record),
        });
      } else if (before.pendingAlert !== undefined) {
        undelivered.push(owedOpenAlert(before, before.pendingAlert, finding));
      } else {
        unchanged.push({ kind: 'unchanged', key: finding.key, finding, record, previous: before });
      }
    }
  }

  const resolved: ResolvedTransition[] = [];
  for (const before of stored.values()) {
    if (seen.has(before.key)) continue;
    const evaluation = evaluationByVpc.get(before.vpcId);
    const exempt = evaluation?.exemption.state === 'valid';
    const suppressed = exempt
      ? (evaluation.suppressedFindings.find((item) => item.key === before.key) ?? null)
      : null;
    if (before.state === 'resolved') {
      // Resolved and still away: only an alert it still owes is left to do.
      if (before.pendingAlert === undefined) continue;
      undelivered.push({
        kind: 'resolved',
        key: before.key,
        reason: before.resolution ?? 'fixed',
        record: before,
        previous: before,
        finding: before.resolution === 'exempt' ? suppressed : null,
      });
      continue;
    }
    const reason: ResolutionReason =
      evaluation === undefined ? 'vpc-gone' : exempt ? 'exempt' : 'fixed';
    resolved.push({
      kind: 'resolved',
      key: before.key,
      reason,
      previous: before,
      finding: suppressed,
      record: {
        ...withoutPendingAlert(before),
        state: 'resolved',
        resolvedAt: at,
        resolution: reason,
        expiresAt,
      },
    });
  }
  resolved.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  undelivered.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { opened, changed, resolved, unchanged, undelivered };
}

/** Counts by kind, for logs and metrics. */
export function countTransitions(
  transitions: FindingTransitions,
): Record<FindingTransition['kind'], number> {
  return {
    opened: transitions.opened.length,
    changed: transitions.changed.length,
    resolved: transitions.resolved.length,
    unchanged: transitions.unchanged.length,
  };
}
