import {
  summarizeOutcomes,
  type ActionOutcome,
  type ActionRecord,
  type PlannedAction,
  type RemediationPlan,
  type RemediationRecord,
  type VpcPlan,
} from '@vpc-guard/shared';
import { ACCOUNT, REGION, nonCompliant } from '../findings/sample-findings';

/** A plan and a record for payments-prod: remove the NAT, create sts, replace the endpoint policy. */

const [NAT, STS, POLICY] = nonCompliant.findings;
const VPC = nonCompliant.vpcId;

export function plannedAction(
  action: PlannedAction['action'],
  findingKey: string,
  overrides: Partial<PlannedAction> = {},
): PlannedAction {
  return {
    id: `${ACCOUNT}/${REGION}/${VPC}/${action}/${findingKey.split('/').slice(4).join('/')}`,
    action,
    accountId: ACCOUNT,
    region: REGION,
    vpcId: VPC,
    status: 'planned',
    execution: 'apply',
    summary: `${action} for ${findingKey.split('/')[4]}`,
    findingKeys: [findingKey],
    reason: 'the finding',
    preconditions: [],
    expectedEffect: 'the finding is gone',
    monthlyCostChangeUsd: 0,
    params: { action: 'enable-private-dns', endpointId: 'vpce-1', service: 'logs' },
    ...overrides,
  };
}

export const NAT_ACTION = plannedAction('remove-nat', NAT!.key);
export const STS_ACTION = plannedAction('create-endpoint', STS!.key, {
  status: 'blocked',
  blockedReason: 'the VPC has enableDnsHostnames off',
});
export const POLICY_ACTION = plannedAction('replace-endpoint-policy', POLICY!.key);

export function vpcPlan(actions: PlannedAction[], overrides: Partial<VpcPlan> = {}): VpcPlan {
  return {
    accountId: ACCOUNT,
    region: REGION,
    vpcId: VPC,
    vpcName: 'payments-prod',
    profile: 'regulated',
    mode: 'auto',
    fingerprint: '0123456789abcdef',
    actions,
    notes: [],
    ...overrides,
  };
}

export function plan(vpcs: VpcPlan[]): RemediationPlan {
  const actions = vpcs.flatMap((v) => v.actions);
  return {
    schemaVersion: 1,
    createdAt: '2026-11-20T10:00:00.000Z',
    organizationId: 'o-exampleorgid',
    policyDigest: 'fedcba9876543210',
    vpcs,
    totals: {
      actions: actions.length,
      planned: actions.filter((a) => a.status === 'planned').length,
      blocked: actions.filter((a) => a.status === 'blocked').length,
      monthlyCostChangeUsd: 0,
    },
  };
}

export function actionRecord(
  planned: PlannedAction,
  outcome: ActionOutcome,
  overrides: Partial<ActionRecord> = {},
): ActionRecord {
  return {
    id: planned.id,
    action: planned.action,
    accountId: planned.accountId,
    region: planned.region,
    vpcId: planned.vpcId,
    outcome,
    detail: `${outcome}: ${planned.summary}`,
    calls: [
      {
        operation: 'DeleteNatGateway',
        input: { NatGatewayId: 'nat-0a000000000000d1' },
        dryRun: false,
        result: 'ok',
        at: '2026-11-20T10:00:01.000Z',
      },
    ],
    before: { state: 'available' },
    after: { state: 'deleting' },
    created: [],
    removedRoutes: [],
    remainingFindingKeys: [],
    ...overrides,
  };
}

export function record(
  actions: ActionRecord[],
  remediationPlan: RemediationPlan | null,
  overrides: Partial<RemediationRecord> = {},
): RemediationRecord {
  return {
    schemaVersion: 1,
    runId: 'run-20261120-100000',
    kind: 'apply',
    execution: 'apply',
    startedAt: '2026-11-20T10:00:00.000Z',
    finishedAt: '2026-11-20T10:02:00.000Z',
    identity: 'arn:aws:sts::111111111111:assumed-role/VpcGuardRemediation/vpc-guard',
    plan: remediationPlan,
    actions,
    summary: summarizeOutcomes(actions),
    ...overrides,
  };
}

/** The plan of the three actions, and a record where the NAT removal was verified. */
export const PLAN = plan([vpcPlan([NAT_ACTION, STS_ACTION, POLICY_ACTION])]);
export const RECORD = record([actionRecord(NAT_ACTION, 'verified')], PLAN);
