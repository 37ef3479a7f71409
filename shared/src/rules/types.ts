import type { CostImpact } from '../cost/pricing';
import type { ExemptionStatus } from '../policy/exemption';
import type { Profile, RemediationAction } from '../policy/schema';
import type {
  EgressOnlyInternetGateway,
  InternetGateway,
  NatGateway,
  RouteTable,
  SecurityGroup,
  Subnet,
  Vpc,
  VpcEndpoint,
} from '../snapshot/schema';

/** Stable rule ids: AWS Config, Security Hub and alert routing key on them. */
export const RULE_IDS = [
  'nat-gateway-forbidden',
  'internet-route-forbidden',
  'endpoint-missing',
  'endpoint-misconfigured',
  'endpoint-policy-too-broad',
  'exemption-expired',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

/** AWS Config's own compliance values. */
export type Compliance = 'COMPLIANT' | 'NON_COMPLIANT' | 'NOT_APPLICABLE';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What would fix a finding, when vpc-guard knows how. */
export interface FixSuggestion {
  readonly action: RemediationAction;
  readonly summary: string;
}

/** A finding as a rule reports it; `evaluate` adds the key and the VPC coordinates. */
export interface RuleFinding {
  readonly severity: Severity;
  /** The AWS resource at fault (NAT, route table, endpoint) or the VPC when the fault is an absence. */
  readonly resourceId: string;
  /** Identifies the finding within its rule and VPC; part of the finding key, so stable across runs. */
  readonly subject: string;
  /** One line, at most 256 characters: usable as an AWS Config annotation. */
  readonly message: string;
  /** The facts behind the verdict: which service, which statement, which route. */
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly fix: FixSuggestion | null;
  readonly cost: CostImpact | null;
}

export interface RuleResult {
  readonly compliance: Compliance;
  readonly findings: readonly RuleFinding[];
  /** Why the rule does not apply, when `NOT_APPLICABLE`. */
  readonly reason?: string;
}

/** Everything a rule may look at for one VPC. Plain data: rules are pure. */
export interface VpcContext {
  readonly accountId: string;
  readonly region: string;
  readonly organizationId: string;
  readonly now: Date;
  readonly vpc: Vpc;
  readonly profileName: string;
  readonly profile: Profile;
  readonly exemption: ExemptionStatus;
  readonly exemptionTag: string;
  readonly subnets: readonly Subnet[];
  readonly routeTables: readonly RouteTable[];
  /** Every NAT gateway of the VPC, whatever its state. */
  readonly natGateways: readonly NatGateway[];
  /** Internet gateways attached to the VPC. */
  readonly internetGateways: readonly InternetGateway[];
  readonly egressOnlyInternetGateways: readonly EgressOnlyInternetGateway[];
  readonly vpcEndpoints: readonly VpcEndpoint[];
  readonly securityGroups: ReadonlyMap<string, SecurityGroup>;
}

/** A rule: pure, one per file, registered in `registry.ts`. */
export interface Rule {
  readonly id: RuleId;
  readonly title: string;
  readonly description: string;
  evaluate(context: VpcContext): RuleResult;
}

/** Truncates to the 256 characters AWS Config accepts in an annotation. */
export function clampMessage(message: string, limit = 256): string {
  return message.length <= limit ? message : `${message.slice(0, limit - 1)}…`;
}
