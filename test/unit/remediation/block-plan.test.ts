import { describe, expect, it } from 'vitest';
import { blockPlan, type PlannedAction, type RemediationPlan } from '@vpc-guard/shared';

const REASON = 'kill switch on: change freeze';
const CAP_REASON = 'maxChangesPerRun (1) reached';

type Status = PlannedAction['status'];

function actionOf(vpcId: string, index: number, status: Status): PlannedAction {
  const endpointId = `vpce-0000000000000000${index}`;
  return {
    id: `111122223333/eu-west-1/${vpcId}/enable-private-dns/${endpointId}`,
    action: 'enable-private-dns',
    accountId: '111122223333',
    region: 'eu-west-1',
    vpcId,
    status,
    ...(status === 'blocked' ? { blockedReason: CAP_REASON } : {}),
    execution: 'apply',
    summary: `~ private DNS on ${endpointId}`,
    findingKeys: [],
    reason: 'private DNS off',
    preconditions: [],
    expectedEffect: 'private DNS on',
    monthlyCostChangeUsd: 0,
    params: { action: 'enable-private-dns', endpointId, service: 'sts' },
  };
}

/** A plan with one VPC per entry of `statuses`, each holding actions of those statuses. */
function planOf(statuses: readonly (readonly Status[])[]): RemediationPlan {
  const vpcs = statuses.map((actions, v) => {
    const vpcId = `vpc-0000000000000000${v}`;
    return {
      accountId: '111122223333',
      region: 'eu-west-1',
      vpcId,
      vpcName: null,
      profile: 'regulated',
      mode: 'auto' as const,
      fingerprint: `fp-${v}`,
      actions: actions.map((status, a) => actionOf(vpcId, a, status)),
      notes: [],
    };
  });
  const all = statuses.flat();
  return {
    schemaVersion: 1,
    createdAt: '2025-01-01T00:00:00.000Z',
    organizationId: 'o-exampleorgid',
    policyDigest: 'digest',
    vpcs,
    totals: {
      actions: all.length,
      planned: all.filter((s) => s === 'planned').length,
      blocked: all.filter((s) => s === 'blocked').length,
      monthlyCostChangeUsd: 12.5,
    },
  };
}

describe('blockPlan', () => {
  it.each([
    {
      name: 'an all-planned plan',
      statuses: [['planned', 'planned']],
      reasons: [[REASON, REASON]],
      totals: { actions: 2, planned: 0, blocked: 2 },
    },
    {
      name: 'a plan with actions already blocked',
      statuses: [['planned', 'blocked'], ['planned']],
      reasons: [[REASON, CAP_REASON], [REASON]],
      totals: { actions: 3, planned: 0, blocked: 3 },
    },
    {
      name: 'a plan with nothing planned',
      statuses: [['blocked']],
      reasons: [[CAP_REASON]],
      totals: { actions: 1, planned: 0, blocked: 1 },
    },
    {
      name: 'an empty plan',
      statuses: [[]],
      reasons: [[]],
      totals: { actions: 0, planned: 0, blocked: 0 },
    },
  ] satisfies {
    name: string;
    statuses: Status[][];
    reasons: string[][];
    totals: { actions: number; planned: number; blocked: number };
  }[])(
    'blocks every planned action of $name with the reason and adjusts the totals',
    ({ statuses, reasons, totals }) => {
      // Prepare
      const plan = planOf(statuses);
      // Act
      const blocked = blockPlan(plan, REASON);
      // Assess
      expect(blocked.vpcs.map((vpc) => vpc.actions.map((a) => a.status))).toEqual(
        reasons.map((vpc) => vpc.map(() => 'blocked')),
      );
      expect(blocked.vpcs.map((vpc) => vpc.actions.map((a) => a.blockedReason))).toEqual(reasons);
      expect(blocked.totals).toEqual({ ...totals, monthlyCostChangeUsd: 12.5 });
    },
  );

  it('leaves the plan it was given unchanged', () => {
    // Prepare
    const plan = planOf([['planned', 'blocked']]);
    const before = structuredClone(plan);
    // Act
    blockPlan(plan, REASON);
    // Assess
    expect(plan).toEqual(before);
  });

  it('keeps everything but the status and reason of each action', () => {
    // Prepare
    const plan = planOf([['planned']]);
    // Act
    const [action] = blockPlan(plan, REASON).vpcs[0]!.actions;
    // Assess
    expect(action).toEqual({
      ...plan.vpcs[0]!.actions[0],
      status: 'blocked',
      blockedReason: REASON,
    });
  });
});
