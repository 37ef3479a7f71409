import * as z from 'zod';
import type { Evaluation } from '../evaluate';
import { SEVERITIES } from '../rules/types';
import type { AlertingTransition, FindingTransitions } from '../findings/state';
import { FixStatusSchema, fixStatusLookup, type RemediationContext } from './fix-status';

/**
 * One finding state change as the alerting sinks carry it: the JSON body of each SNS message, and
 * what the Slack notifier parses back and groups by VPC. Plain, versioned data, validated by
 * {@link FindingChangeMessageSchema} at the notifier's edge.
 */

export const FINDING_CHANGE_SCHEMA_VERSION = 1;

const CostSchema = z.object({
  kind: z.enum(['current', 'fix']),
  monthlyUsd: z.number(),
  basis: z.string(),
  excludes: z.array(z.string()),
  pricingRegion: z.string(),
  pricingAsOf: z.string(),
  estimated: z.boolean(),
});

const ChangedFindingSchema = z.object({
  key: z.string().min(1),
  accountId: z.string().min(1),
  region: z.string().min(1),
  vpcId: z.string().min(1),
  // Strings, not the enums: a notifier one release behind must still pass a newer rule's alert on.
  ruleId: z.string().min(1),
  subject: z.string(),
  resourceId: z.string().min(1),
  severity: z.enum(SEVERITIES),
  /** For `changed`: the severity before, when it changed. */
  previousSeverity: z.enum(SEVERITIES).nullable(),
  message: z.string(),
  /** Null for a resolved finding (nothing to show) or when left out to fit the 256 KB SNS limit. */
  evidence: z.record(z.string(), z.unknown()).nullable(),
  fix: z.object({ action: z.string(), summary: z.string() }).nullable(),
  cost: CostSchema.nullable(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  resolvedAt: z.string().nullable(),
});

const VpcSummarySchema = z.object({
  accountId: z.string().min(1),
  region: z.string().min(1),
  vpcId: z.string().min(1),
  vpcName: z.string().nullable(),
  profile: z.string(),
  /** False when the VPC no longer exists (its findings resolved `vpc-gone`). */
  present: z.boolean(),
  compliance: z.enum(['COMPLIANT', 'NON_COMPLIANT', 'NOT_APPLICABLE']).nullable(),
  annotation: z.string().nullable(),
  openFindings: z.number().int().min(0),
  monthlyCost: z.object({ currentUsd: z.number(), fixUsd: z.number() }).nullable(),
  exemption: z.object({ until: z.string(), reason: z.string() }).nullable(),
});

export const FindingChangeMessageSchema = z.object({
  schemaVersion: z.literal(FINDING_CHANGE_SCHEMA_VERSION),
  source: z.literal('vpc-guard'),
  type: z.literal('finding-change'),
  transition: z.enum(['opened', 'changed', 'resolved']),
  /** For `resolved`: fixed, exempt (suppressed by a valid exemption) or vpc-gone. */
  reason: z.enum(['fixed', 'exempt', 'vpc-gone']).nullable(),
  /** For `changed`: which of severity, evidence, message differ. */
  changes: z.array(z.enum(['severity', 'evidence', 'message'])),
  /** For `opened`: the finding had resolved before and is back. */
  reopened: z.boolean(),
  /** When the transition was observed. */
  at: z.string(),
  /** What triggered the run (`config-rule`, `api-event`, `sweep`, `cli`), when known. */
  trigger: z.string().nullable(),
  finding: ChangedFindingSchema,
  vpc: VpcSummarySchema,
  remediation: FixStatusSchema,
  /** True when the evidence was left out to keep the message within the SNS size limit. */
  evidenceOmitted: z.boolean(),
});
export type FindingChangeMessage = z.infer<typeof FindingChangeMessageSchema>;
export type VpcSummary = z.infer<typeof VpcSummarySchema>;

/** Options of {@link buildFindingChanges}. */
export interface FindingChangeOptions extends RemediationContext {
  readonly trigger?: string;
}

/** Evaluations by `accountId/region/vpcId`, the lookup the sinks take. */
export function indexEvaluationsByVpc(evaluations: readonly Evaluation[]): Map<string, Evaluation> {
  return new Map(evaluations.map((e) => [`${e.accountId}/${e.region}/${e.vpcId}`, e]));
}

function vpcSummary(
  transition: AlertingTransition,
  evaluation: Evaluation | undefined,
): VpcSummary {
  const { record } = transition;
  if (evaluation === undefined) {
    return {
      accountId: record.accountId,
      region: record.region,
      vpcId: record.vpcId,
      vpcName: record.vpcName,
      profile: record.profile,
      present: transition.kind !== 'resolved' || transition.reason !== 'vpc-gone',
      compliance: null,
      annotation: null,
      openFindings: 0,
      monthlyCost: null,
      exemption: null,
    };
  }
  return {
    accountId: evaluation.accountId,
    region: evaluation.region,
    vpcId: evaluation.vpcId,
    vpcName: evaluation.vpcName,
    profile: evaluation.profile,
    present: true,
    compliance: evaluation.compliance,
    annotation: evaluation.annotation,
    openFindings: evaluation.findings.length,
    monthlyCost: { ...evaluation.monthlyCost },
    exemption:
      evaluation.exemption.state === 'valid'
        ? { until: evaluation.exemption.until, reason: evaluation.exemption.reason }
        : null,
  };
}

/**
 * One {@link FindingChangeMessage} per opened, changed or resolved transition (unchanged ones never
 * alert), with the VPC's evaluation summary and what the remediation did about the finding. Pure.
 * `undelivered` alerts are not rendered from there: the caller routes each to the sinks that still
 * owe it, among the kinds it belongs to.
 */
export function buildFindingChanges(
  transitions: FindingTransitions,
  evaluationsByVpc: ReadonlyMap<string, Evaluation>,
  options: FindingChangeOptions = {},
): FindingChangeMessage[] {
  const fixStatus = fixStatusLookup(options);
  const all: AlertingTransition[] = [
    ...transitions.opened,
    ...transitions.changed,
    ...transitions.resolved,
  ];
  return all.map((transition) => {
    const { record } = transition;
    const evaluation = evaluationsByVpc.get(`${record.accountId}/${record.region}/${record.vpcId}`);
    const current = transition.finding;
    const suggestion = current?.fix ?? null;
    return {
      schemaVersion: FINDING_CHANGE_SCHEMA_VERSION,
      source: 'vpc-guard',
      type: 'finding-change',
      transition: transition.kind,
      reason: transition.kind === 'resolved' ? transition.reason : null,
      changes: transition.kind === 'changed' ? [...transition.changes] : [],
      reopened: transition.kind === 'opened' && transition.previous !== null,
      at: transition.kind === 'resolved' ? (record.resolvedAt ?? record.lastSeen) : record.lastSeen,
      trigger: options.trigger ?? null,
      finding: {
        key: record.key,
        accountId: record.accountId,
        region: record.region,
        vpcId: record.vpcId,
        ruleId: record.ruleId,
        subject: record.subject,
        resourceId: record.resourceId,
        severity: record.severity,
        previousSeverity:
          transition.kind === 'changed' && transition.previous.severity !== record.severity
            ? transition.previous.severity
            : null,
        message: record.message,
        evidence: current ? { ...current.evidence } : null,
        fix: current?.fix ? { action: current.fix.action, summary: current.fix.summary } : null,
        cost: current?.cost ? { ...current.cost, excludes: [...current.cost.excludes] } : null,
        firstSeen: record.firstSeen,
        lastSeen: record.lastSeen,
        resolvedAt: record.resolvedAt ?? null,
      },
      vpc: vpcSummary(transition, evaluation),
      remediation: fixStatus(record.key, suggestion),
      evidenceOmitted: false,
    };
  });
}
