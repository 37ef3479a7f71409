import { describe, expect, it } from 'vitest';
import {
  RELEASED_FROM_TAG,
  RELEASED_FROM_VPC_TAG,
  evaluate,
  parseGuardPolicy,
  parseRemediationPlan,
  planRemediation,
  renderPlanDiff,
  type GuardPolicy,
  type NetworkSnapshot,
  type NetworkSnapshotInput,
  type PlannedAction,
} from '@vpc-guard/shared';
import { IDS, NOW, TEST_POLICY_YAML, VPC_ID, snapshotWith } from '../../fixtures/network';

/*
 * Planning `release-elastic-ip`: the Elastic IPs vpc-guard marked when it deleted their NAT gateway
 * are released in a later run, once that NAT is gone and the address is unassociated, under the
 * profile of the VPC the NAT was in, like any other action.
 */

const NAT_ID = 'nat-0123456789abcdef0';
const ALLOCATION = 'eipalloc-0123456789abcdef0';
const OTHER_ALLOCATION = 'eipalloc-0123456789abcdef1';
const ALL_ACTIONS =
  '[remove-nat, remove-internet-route, create-endpoint, enable-private-dns, extend-endpoint-coverage, replace-endpoint-policy, release-elastic-ip]';

function policyWith(remediation: string): GuardPolicy {
  return parseGuardPolicy(
    TEST_POLICY_YAML.replace(
      '    remediation: { mode: auto, actions: [remove-nat, create-endpoint], maxChangesPerRun: 10 }',
      `    remediation: ${remediation}`,
    ),
  );
}

const MAY_RELEASE = `{ mode: auto, actions: ${ALL_ACTIONS} }`;

type ElasticIpInput = NonNullable<NetworkSnapshotInput['elasticIps']>[number];

/** An address as remove-nat leaves it: unassociated, marked with the NAT and its VPC. */
function marked(overrides: Partial<ElasticIpInput> = {}): ElasticIpInput {
  return {
    allocationId: ALLOCATION,
    publicIp: '52.1.2.3',
    tags: { [RELEASED_FROM_TAG]: NAT_ID, [RELEASED_FROM_VPC_TAG]: VPC_ID },
    ...overrides,
  };
}

/** The compliant VPC, after a NAT of it was removed: the NAT in `natState` (absent: gone). */
function snapshotAfterRemoval(
  addresses: ElasticIpInput[] = [marked()],
  natState?: 'pending' | 'available' | 'deleting' | 'failed' | 'deleted',
): NetworkSnapshot {
  return snapshotWith((s) => {
    s.elasticIps = addresses;
    if (natState)
      s.natGateways = [
        {
          natGatewayId: NAT_ID,
          vpcId: VPC_ID,
          subnetId: IDS.SUBNET_B,
          state: natState,
          allocationIds: [ALLOCATION],
          publicIps: ['52.1.2.3'],
        },
      ];
  });
}

function plan(snapshot: NetworkSnapshot, policy: GuardPolicy) {
  const evaluations = evaluate([snapshot], policy, { now: NOW });
  return planRemediation({ snapshots: [snapshot], evaluations, policy, now: NOW });
}

function actionsOf(result: ReturnType<typeof plan>): PlannedAction[] {
  return result.vpcs.flatMap((vpc) => vpc.actions);
}

describe('planRemediation: release-elastic-ip', () => {
  it('releases the address of a removed NAT in an otherwise compliant VPC, saving its hourly price', () => {
    // Prepare
    const snapshot = snapshotAfterRemoval();

    // Act
    const result = plan(snapshot, policyWith(MAY_RELEASE));

    // Assess
    expect(evaluate([snapshot], policyWith(MAY_RELEASE), { now: NOW })[0]!.compliance).toBe(
      'COMPLIANT',
    );
    expect(result.vpcs).toHaveLength(1);
    expect(actionsOf(result)).toEqual([
      expect.objectContaining({
        id: `111111111111/us-east-1/${VPC_ID}/release-elastic-ip/${ALLOCATION}`,
        action: 'release-elastic-ip',
        status: 'planned',
        execution: 'apply',
        findingKeys: [],
        monthlyCostChangeUsd: -3.65,
        params: {
          action: 'release-elastic-ip',
          allocationId: ALLOCATION,
          publicIp: '52.1.2.3',
          natGatewayId: NAT_ID,
        },
      }),
    ]);
    expect(actionsOf(result)[0]!.reason).toContain(`deleted NAT gateway ${NAT_ID}`);
    expect(actionsOf(result)[0]!.preconditions).toEqual([
      `${ALLOCATION} is not associated`,
      `${ALLOCATION} still carries ${RELEASED_FROM_TAG}=${NAT_ID}`,
    ]);
    expect(result.totals).toEqual({
      actions: 1,
      planned: 1,
      blocked: 0,
      monthlyCostChangeUsd: -3.65,
    });
  });

  it.each(['pending', 'available', 'deleting'] as const)(
    'waits while the NAT is still %s: it holds the address',
    (natState) => {
      // Act
      const result = plan(snapshotAfterRemoval([marked()], natState), policyWith(MAY_RELEASE));

      // Assess
      expect(actionsOf(result).filter((a) => a.action === 'release-elastic-ip')).toEqual([]);
    },
  );

  it.each(['failed', 'deleted'] as const)('releases once the NAT is %s', (natState) => {
    // Act
    const result = plan(snapshotAfterRemoval([marked()], natState), policyWith(MAY_RELEASE));

    // Assess
    expect(actionsOf(result).map((a) => [a.action, a.status])).toEqual([
      ['release-elastic-ip', 'planned'],
    ]);
  });

  it.each([
    ['associated again', { associationId: 'eipassoc-0123456789abcdef0' }],
    ['attached to a network interface', { networkInterfaceId: 'eni-0123456789abcdef0' }],
    ['without the vpc-guard:released-from mark', { tags: { [RELEASED_FROM_VPC_TAG]: VPC_ID } }],
    [
      'marked from a VPC that is not in the snapshot',
      { tags: { [RELEASED_FROM_TAG]: NAT_ID, [RELEASED_FROM_VPC_TAG]: 'vpc-0ffffffffffffffff' } },
    ],
  ])('leaves an address %s alone', (_case, overrides) => {
    // Act
    const result = plan(snapshotAfterRemoval([marked(overrides)]), policyWith(MAY_RELEASE));

    // Assess
    expect(result.vpcs).toEqual([]);
  });

  it('finds the VPC through the NAT gateway when the address lacks the VPC mark', () => {
    // Prepare
    const address = marked({ tags: { [RELEASED_FROM_TAG]: NAT_ID } });

    // Act
    const result = plan(snapshotAfterRemoval([address], 'failed'), policyWith(MAY_RELEASE));

    // Assess
    expect(actionsOf(result).map((a) => [a.vpcId, a.action])).toEqual([
      [VPC_ID, 'release-elastic-ip'],
    ]);
  });

  it("blocks the release when the profile's list does not allow it, naming the list", () => {
    // Act
    const result = plan(
      snapshotAfterRemoval(),
      policyWith('{ mode: auto, actions: [remove-nat, create-endpoint] }'),
    );

    // Assess
    expect(actionsOf(result)).toEqual([
      expect.objectContaining({
        action: 'release-elastic-ip',
        status: 'blocked',
        blockedReason: 'release-elastic-ip is not in profiles.regulated.remediation.actions',
      }),
    ]);
    expect(result.totals).toMatchObject({ planned: 0, blocked: 1, monthlyCostChangeUsd: 0 });
  });

  it('plans a DryRun release in dry-run mode', () => {
    // Act
    const result = plan(
      snapshotAfterRemoval(),
      policyWith(`{ mode: dry-run, actions: ${ALL_ACTIONS} }`),
    );

    // Assess
    expect(actionsOf(result).map((a) => [a.status, a.execution])).toEqual([['planned', 'dry-run']]);
  });

  it.each(['off', 'notify'])('releases nothing in %s mode and says why', (mode) => {
    // Act
    const result = plan(snapshotAfterRemoval(), policyWith(`{ mode: ${mode} }`));

    // Assess
    expect(actionsOf(result)).toEqual([]);
    expect(result.vpcs[0]!.notes).toEqual([
      `profile "regulated" is in ${mode} mode: 1 Elastic IP(s) left by a removed NAT gateway stay allocated`,
    ]);
  });

  it('releases nothing in an exempt VPC', () => {
    // Prepare
    const snapshot = snapshotAfterRemoval();
    snapshot.vpcs[0]!.tags['vpc-guard:exempt'] = 'until=2027-01-31; reason=CHG-1';

    // Act
    const result = plan(snapshot, policyWith(MAY_RELEASE));

    // Assess
    expect(actionsOf(result)).toEqual([]);
    expect(result.vpcs[0]!.notes[0]).toMatch(/^exempt: /);
  });

  it('releases nothing in a VPC whose profile tag names no profile', () => {
    // Prepare
    const snapshot = snapshotAfterRemoval();
    snapshot.vpcs[0]!.tags['vpc-guard:profile'] = 'regulatd';

    // Act
    const result = plan(snapshot, policyWith(MAY_RELEASE));

    // Assess
    expect(actionsOf(result)).toEqual([]);
    expect(result.vpcs[0]!.notes[0]).toContain('profile uncertain');
  });

  it('counts releases against maxChangesPerRun, after the VPC’s other fixes', () => {
    // Prepare: a second NAT to remove, and two addresses to release.
    const snapshot = snapshotWith((s) => {
      s.elasticIps = [marked(), marked({ allocationId: OTHER_ALLOCATION, publicIp: '52.1.2.4' })];
      s.natGateways = [
        {
          natGatewayId: 'nat-0123456789abcdef9',
          vpcId: VPC_ID,
          subnetId: IDS.SUBNET_B,
          state: 'available',
          allocationIds: ['eipalloc-0123456789abcdef9'],
          publicIps: ['52.1.2.9'],
        },
      ];
    });

    // Act
    const result = plan(
      snapshot,
      policyWith(`{ mode: auto, actions: ${ALL_ACTIONS}, maxChangesPerRun: 2 }`),
    );

    // Assess
    expect(actionsOf(result).map((a) => [a.action, a.status])).toEqual([
      ['remove-nat', 'planned'],
      ['release-elastic-ip', 'planned'],
      ['release-elastic-ip', 'blocked'],
    ]);
    expect(actionsOf(result)[2]!.blockedReason).toContain('maxChangesPerRun is 2');
  });

  it('renders the release in the diff with its reason and saving, and round-trips through a plan file', () => {
    // Prepare
    const result = plan(snapshotAfterRemoval(), policyWith(MAY_RELEASE));

    // Act
    const diff = renderPlanDiff(result);
    const reread = parseRemediationPlan(JSON.parse(JSON.stringify(result)), 'plan.json');

    // Assess
    expect(diff).toContain(`- Elastic IP 52.1.2.3 (${ALLOCATION}) left by NAT gateway ${NAT_ID}`);
    expect(diff).toContain(`why: vpc-guard deleted NAT gateway ${NAT_ID}`);
    expect(diff).toContain('-$3.65/mo');
    expect(reread).toEqual(result);
  });
});
