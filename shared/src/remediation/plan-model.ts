import * as z from 'zod';
import type { RemediationAction, RemediationMode } from '../policy/schema';
import { RouteTargetSchema } from '../snapshot/schema';
import type { ActionParams } from './actions/registry';

/**
 * The remediation plan: what vpc-guard would change, why, in which order and at what cost. Plain data,
 * saved as JSON, rendered as a per-VPC diff; `applyRemediation` is its only reader that writes. The
 * parameters of each action are defined by the action itself (`actions/<name>.ts`); the saved file's
 * schema is `plan-file.ts`. Kept free of runtime imports of the actions, which import it.
 */

export const PLAN_SCHEMA_VERSION = 1;

/** A route as it must be found before removal, and as rollback recreates it. */
export const RouteRefSchema = z.strictObject({
  routeTableId: z.string().min(1),
  destination: z.string().min(1),
  target: RouteTargetSchema,
});
export type RouteRef = z.infer<typeof RouteRefSchema>;

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
