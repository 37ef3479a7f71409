import type { CostImpact } from './cost/pricing';
import { InputValidationError } from './errors';
import { parseExemption, type ExemptionStatus } from './policy/exemption';
import { resolveProfile, tagValue, type ProfileSource } from './policy/resolve';
import type { GuardPolicy } from './policy/schema';
import { RULES } from './rules/registry';
import {
  RULE_IDS,
  SEVERITIES,
  clampMessage,
  type Compliance,
  type RuleFinding,
  type RuleId,
  type Severity,
  type VpcContext,
} from './rules/types';
import type {
  EgressOnlyInternetGateway,
  InternetGateway,
  NatGateway,
  NetworkSnapshot,
  RouteTable,
  SecurityGroup,
  Subnet,
  VpcEndpoint,
} from './snapshot/schema';

/** A finding with its coordinates and its key, `accountId/region/vpcId/ruleId/subject`. */
export interface Finding extends RuleFinding {
  readonly key: string;
  readonly ruleId: RuleId;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
}

export interface RuleOutcome {
  readonly ruleId: RuleId;
  readonly compliance: Compliance;
  readonly reason?: string;
}

/** The verdict on one VPC: the unit AWS Config, SNS and Slack report. */
export interface Evaluation {
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  /** The VPC's `Name` tag, when it has one. */
  readonly vpcName: string | null;
  readonly profile: string;
  readonly profileSource: ProfileSource;
  /** Set when the profile could not be resolved with certainty (remediation then fails closed). */
  readonly profileProblem?: string;
  readonly compliance: Compliance;
  /** One line, at most 256 characters, for AWS Config's annotation. */
  readonly annotation: string;
  readonly exemption: ExemptionStatus;
  readonly rules: readonly RuleOutcome[];
  /** Open findings, worst first. */
  readonly findings: readonly Finding[];
  /** What would be reported without the VPC's valid exemption. */
  readonly suppressedFindings: readonly Finding[];
  /** Monthly cost of what is wrong now (forbidden NATs) and of the suggested fixes. */
  readonly monthlyCost: { readonly currentUsd: number; readonly fixUsd: number };
  readonly collectedAt: string;
}

export interface EvaluateOptions {
  /** The clock, as an argument: exemptions expire relative to it. */
  readonly now: Date;
}

export interface EvaluationSummary {
  readonly vpcs: number;
  readonly compliant: number;
  readonly nonCompliant: number;
  readonly notApplicable: number;
  readonly findings: number;
  readonly findingsByRule: Readonly<Record<RuleId, number>>;
  readonly findingsBySeverity: Readonly<Record<Severity, number>>;
  readonly monthlyCostUsd: {
    /** Spent each month on what the policy forbids (NAT hours and addresses; data processing excluded). */
    readonly forbidden: number;
    /** Added each month by the suggested fixes (interface endpoint AZ-hours). */
    readonly fixes: number;
  };
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = Object.fromEntries(
  SEVERITIES.map((severity, index) => [severity, index]),
) as Record<Severity, number>;
const RULE_RANK: Readonly<Record<string, number>> = Object.fromEntries(
  RULE_IDS.map((id, index) => [id, index]),
);

function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    (RULE_RANK[a.ruleId] ?? 0) - (RULE_RANK[b.ruleId] ?? 0) ||
    (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0)
  );
}

/** Groups items by VPC id in one pass, so evaluation stays linear in the size of the estate. */
function groupByVpc<T extends { vpcId: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.vpcId);
    if (group) group.push(item);
    else groups.set(item.vpcId, [item]);
  }
  return groups;
}

function groupGatewaysByVpc<T extends { attachments: readonly { vpcId: string; state: string }[] }>(
  gateways: readonly T[],
): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const gateway of gateways) {
    for (const attachment of gateway.attachments) {
      if (attachment.state === 'detached' || attachment.state === 'detaching') continue;
      const group = groups.get(attachment.vpcId);
      if (group) group.push(gateway);
      else groups.set(attachment.vpcId, [gateway]);
    }
  }
  return groups;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

function sumCost(findings: readonly Finding[], kind: CostImpact['kind']): number {
  let total = 0;
  for (const finding of findings) if (finding.cost?.kind === kind) total += finding.cost.monthlyUsd;
  return round2(total);
}

function buildAnnotation(
  compliance: Compliance,
  findings: readonly Finding[],
  exemption: ExemptionStatus,
  suppressed: number,
): string {
  if (compliance === 'NOT_APPLICABLE' && exemption.state === 'valid') {
    return clampMessage(
      `Exempt until ${exemption.until}: ${exemption.reason}` +
        (suppressed > 0 ? ` (${suppressed} finding${suppressed === 1 ? '' : 's'} suppressed)` : ''),
    );
  }
  if (findings.length === 0) return 'All vpc-guard rules pass.';
  const [first] = findings;
  const more = findings.length > 1 ? ` (+${findings.length - 1} more)` : '';
  return clampMessage(`${first!.message}${more}`);
}

/** Outcomes repeat across thousands of VPCs: share one frozen object per distinct outcome. */
const outcomeCache = new Map<string, RuleOutcome>();

function sharedOutcome(ruleId: RuleId, compliance: Compliance, reason?: string): RuleOutcome {
  const key = `${ruleId}|${compliance}|${reason ?? ''}`;
  let outcome = outcomeCache.get(key);
  if (outcome === undefined) {
    outcome = Object.freeze(
      reason === undefined ? { ruleId, compliance } : { ruleId, compliance, reason },
    );
    // Reasons are per profile, so the set stays small; the bound guards against surprises.
    if (outcomeCache.size < 10_000) outcomeCache.set(key, outcome);
  }
  return outcome;
}

function evaluateVpc(
  context: VpcContext,
  collectedAt: string,
  profileSource: ProfileSource,
  profileProblem?: string,
): Evaluation {
  const { accountId, region, vpc } = context;
  const outcomes: RuleOutcome[] = [];
  const found: Finding[] = [];
  for (const rule of RULES) {
    const result = rule.evaluate(context);
    outcomes.push(sharedOutcome(rule.id, result.compliance, result.reason));
    for (const finding of result.findings) {
      found.push({
        ...finding,
        message: clampMessage(finding.message),
        key: `${accountId}/${region}/${vpc.vpcId}/${rule.id}/${finding.subject}`,
        ruleId: rule.id,
        accountId,
        region,
        vpcId: vpc.vpcId,
      });
    }
  }
  found.sort(compareFindings);
  const exempt = context.exemption.state === 'valid';
  const findings = exempt ? [] : found;
  const suppressedFindings = exempt ? found : [];
  const compliance: Compliance = exempt
    ? 'NOT_APPLICABLE'
    : findings.length > 0
      ? 'NON_COMPLIANT'
      : 'COMPLIANT';
  return {
    accountId,
    region,
    vpcId: vpc.vpcId,
    vpcName: vpc.tags['Name'] ?? null,
    profile: context.profileName,
    profileSource,
    ...(profileProblem === undefined ? {} : { profileProblem }),
    compliance,
    annotation: buildAnnotation(compliance, findings, context.exemption, suppressedFindings.length),
    exemption: context.exemption,
    rules: outcomes,
    findings,
    suppressedFindings,
    monthlyCost: { currentUsd: sumCost(findings, 'current'), fixUsd: sumCost(findings, 'fix') },
    collectedAt,
  };
}

/**
 * Evaluates every VPC of every snapshot against the policy: one {@link Evaluation} per VPC, ordered by
 * account, region and VPC id, findings worst first. Pure: the clock comes in as `now`.
 */
export function evaluate(
  snapshots: readonly NetworkSnapshot[],
  policy: GuardPolicy,
  options: EvaluateOptions,
): Evaluation[] {
  const evaluations: Evaluation[] = [];
  const seen = new Set<string>();
  for (const [index, snapshot] of snapshots.entries()) {
    for (const vpc of snapshot.vpcs) {
      const id = `${snapshot.accountId}/${snapshot.region}/${vpc.vpcId}`;
      if (seen.has(id)) {
        throw new InputValidationError('snapshots', [
          {
            path: `[${index}]`,
            message: `${vpc.vpcId} of ${snapshot.accountId}/${snapshot.region} appears in more than one snapshot`,
          },
        ]);
      }
      seen.add(id);
    }
    for (const { context, profileSource, profileProblem } of buildVpcContexts(
      snapshot,
      policy,
      options,
    )) {
      evaluations.push(evaluateVpc(context, snapshot.collectedAt, profileSource, profileProblem));
    }
  }
  return evaluations.sort(
    (a, b) =>
      a.accountId.localeCompare(b.accountId) ||
      a.region.localeCompare(b.region) ||
      a.vpcId.localeCompare(b.vpcId),
  );
}

/** A VPC's rule context with how its profile was resolved. */
export interface ResolvedVpcContext {
  readonly context: VpcContext;
  readonly profileSource: ProfileSource;
  readonly profileProblem?: string;
}

/**
 * Builds the rule context of every VPC in a snapshot: resources grouped by VPC in one pass, profile
 * and exemption resolved. Shared by `evaluate` and the planner.
 */
export function buildVpcContexts(
  snapshot: NetworkSnapshot,
  policy: GuardPolicy,
  options: EvaluateOptions,
): ResolvedVpcContext[] {
  const subnets = groupByVpc<Subnet>(snapshot.subnets);
  const routeTables = groupByVpc<RouteTable>(snapshot.routeTables);
  const natGateways = groupByVpc<NatGateway>(snapshot.natGateways);
  const endpoints = groupByVpc<VpcEndpoint>(snapshot.vpcEndpoints);
  const internetGateways = groupGatewaysByVpc<InternetGateway>(snapshot.internetGateways);
  const egressOnly = groupGatewaysByVpc<EgressOnlyInternetGateway>(
    snapshot.egressOnlyInternetGateways,
  );
  const securityGroups = new Map<string, SecurityGroup>(
    snapshot.securityGroups.map((group) => [group.groupId, group]),
  );
  return snapshot.vpcs.map((vpc) => {
    const resolved = resolveProfile(policy, snapshot.accountId, vpc);
    const context: VpcContext = {
      accountId: snapshot.accountId,
      region: snapshot.region,
      organizationId: policy.organization.id,
      now: options.now,
      vpc,
      profileName: resolved.name,
      profile: resolved.profile,
      exemption: parseExemption(
        tagValue(vpc.tags, policy.exemptions.tag),
        options.now,
        policy.exemptions.maxDays,
      ),
      exemptionTag: policy.exemptions.tag,
      subnets: subnets.get(vpc.vpcId) ?? [],
      routeTables: routeTables.get(vpc.vpcId) ?? [],
      natGateways: natGateways.get(vpc.vpcId) ?? [],
      internetGateways: internetGateways.get(vpc.vpcId) ?? [],
      egressOnlyInternetGateways: egressOnly.get(vpc.vpcId) ?? [],
      vpcEndpoints: endpoints.get(vpc.vpcId) ?? [],
      securityGroups,
    };
    return resolved.problem === undefined
      ? { context, profileSource: resolved.source }
      : { context, profileSource: resolved.source, profileProblem: resolved.problem };
  });
}

/** Counts for a report's summary line and the JSON output's `summary`. */
export function summarizeEvaluations(evaluations: readonly Evaluation[]): EvaluationSummary {
  const findingsByRule = Object.fromEntries(RULE_IDS.map((id) => [id, 0])) as Record<
    RuleId,
    number
  >;
  const findingsBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<
    Severity,
    number
  >;
  let compliant = 0;
  let nonCompliant = 0;
  let notApplicable = 0;
  let findings = 0;
  let forbidden = 0;
  let fixes = 0;
  for (const evaluation of evaluations) {
    if (evaluation.compliance === 'COMPLIANT') compliant += 1;
    else if (evaluation.compliance === 'NON_COMPLIANT') nonCompliant += 1;
    else notApplicable += 1;
    for (const finding of evaluation.findings) {
      findings += 1;
      findingsByRule[finding.ruleId] += 1;
      findingsBySeverity[finding.severity] += 1;
    }
    forbidden += evaluation.monthlyCost.currentUsd;
    fixes += evaluation.monthlyCost.fixUsd;
  }
  return {
    vpcs: evaluations.length,
    compliant,
    nonCompliant,
    notApplicable,
    findings,
    findingsByRule,
    findingsBySeverity,
    monthlyCostUsd: { forbidden: round2(forbidden), fixes: round2(fixes) },
  };
}
