import type { RemediationAction, RemediationMode } from '../policy/schema';
import type { RouteTarget } from '../snapshot/schema';

/**
 * The remediation plan: what vpc-guard would change, why, in which order and at what cost. Plain data,
 * saved as JSON, rendered as a per-VPC diff; `applyRemediation` is its only reader that writes.
 */

export const PLAN_SCHEMA_VERSION = 1;

/** A route as it must be found before removal, and as rollback recreates it. */
export interface RouteRef {
  readonly routeTableId: string;
  readonly destination: string;
  readonly target: RouteTarget;
}

export type ActionParams =
  | {
      readonly action: 'remove-nat';
      readonly natGatewayId: string;
      readonly subnetId: string;
      readonly connectivityType: 'public' | 'private';
      readonly allocationIds: readonly string[];
      readonly publicIps: readonly string[];
      /** Routes that target the NAT: deleted first, so none is left as a blackhole. */
      readonly routes: readonly RouteRef[];
    }
  | { readonly action: 'remove-internet-route'; readonly route: RouteRef }
  | {
      readonly action: 'create-endpoint';
      readonly service: string;
      readonly serviceName: string;
      readonly type: 'Interface' | 'Gateway';
      /** Interface: one subnet per workload AZ. */
      readonly subnetIds: readonly string[];
      /** Gateway: every route table that serves subnets. */
      readonly routeTableIds: readonly string[];
      /** Interface: reuse vpc-guard's group in the VPC, or create one admitting TCP 443 from the VPC. */
      readonly securityGroup:
        | { readonly reuse: string }
        | {
            readonly create: {
              readonly groupName: string;
              readonly description: string;
              readonly ingressCidrs: readonly string[];
            };
          }
        | null;
      readonly privateDnsEnabled: boolean;
      readonly policyDocument: string;
      /** Deterministic: the same VPC, service and policy give the same token, so a retry never duplicates. */
      readonly clientToken: string;
      readonly tags: Readonly<Record<string, string>>;
    }
  | { readonly action: 'enable-private-dns'; readonly endpointId: string; readonly service: string }
  | {
      readonly action: 'extend-endpoint-coverage';
      readonly endpointId: string;
      readonly service: string;
      readonly addSubnetIds: readonly string[];
      readonly addRouteTableIds: readonly string[];
    }
  | {
      readonly action: 'replace-endpoint-policy';
      readonly endpointId: string;
      readonly service: string;
      readonly endpointType: 'Interface' | 'Gateway';
      readonly policyDocument: string;
      /** What is there now: the record keeps it, and rollback restores it. */
      readonly previousPolicyDocument: string | null;
    }
  | {
      /** Releases an Elastic IP a NAT gateway vpc-guard deleted left allocated (and billed). */
      readonly action: 'release-elastic-ip';
      readonly allocationId: string;
      readonly publicIp: string;
      /** The deleted NAT gateway, as the address's `vpc-guard:released-from` tag names it. */
      readonly natGatewayId: string;
    };

/**
 * `planned`: will run (for real in `auto`, as DryRun in `dry-run`). `blocked`: will not run, and the
 * reason says what would unblock it (a VPC DNS attribute, the profile's action list, the change cap).
 */
export type PlannedActionStatus = 'planned' | 'blocked';

export interface PlannedAction {
  /** `accountId/region/vpcId/action/subject`: stable across runs, like finding keys. */
  readonly id: string;
  readonly action: RemediationAction;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly status: PlannedActionStatus;
  readonly blockedReason?: string;
  /** `apply` makes the change; `dry-run` only asks EC2 whether it would succeed. */
  readonly execution: 'apply' | 'dry-run';
  /** One line for the diff, e.g. "+ interface endpoint sts in us-east-1a, us-east-1b (private DNS)". */
  readonly summary: string;
  /** Why: the findings this action fixes (none for `release-elastic-ip`, which tidies up after one). */
  readonly findingKeys: readonly string[];
  readonly reason: string;
  /** What must still hold when the action runs; checked against a fresh describe (describe-compare-act). */
  readonly preconditions: readonly string[];
  /** What the rescan must show afterwards. */
  readonly expectedEffect: string;
  /** Positive: added monthly cost; negative: saving. Data processing excluded. */
  readonly monthlyCostChangeUsd: number;
  readonly params: ActionParams;
}

export interface VpcPlan {
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly vpcName: string | null;
  readonly profile: string;
  readonly mode: RemediationMode;
  /** Digest of the VPC's collected state: a plan applied to a VPC that has changed since fails closed. */
  readonly fingerprint: string;
  readonly actions: readonly PlannedAction[];
  /** Why nothing (or not everything) is planned: exempt, mode notify, uncertain profile, ... */
  readonly notes: readonly string[];
}

export interface RemediationPlan {
  readonly schemaVersion: typeof PLAN_SCHEMA_VERSION;
  readonly createdAt: string;
  readonly organizationId: string;
  /** Digest of the policy the plan was made with. */
  readonly policyDigest: string;
  readonly vpcs: readonly VpcPlan[];
  readonly totals: {
    readonly actions: number;
    readonly planned: number;
    readonly blocked: number;
    readonly monthlyCostChangeUsd: number;
  };
}
