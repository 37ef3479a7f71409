import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { GuardPolicy } from '../../shared/src/policy/schema';
import type { ActionParams } from '../../shared/src/remediation/actions/registry';
import type { RemediationPlan } from '../../shared/src/remediation/plan-model';
import { Scenario, vpcIdNamed } from '../scenarios/harness';

/**
 * A resource tagged `vpc-guard:protected` (any value, any capitals) is never written by vpc-guard:
 * the planner blocks the action with the reason, and apply, planning again from what it describes
 * right before writing, blocks it too when the tag went on after the plan.
 */

const ACCOUNT = '111111111111';
const US = 'us-east-1';

type Params<A extends ActionParams['action']> = Extract<ActionParams, { action: A }>;

function paramsOf<A extends ActionParams['action']>(
  plan: RemediationPlan,
  vpcId: string,
  action: A,
): Params<A> {
  const found = plan.vpcs
    .find((vpc) => vpc.vpcId === vpcId)
    ?.actions.find((a) => a.status === 'planned' && a.action === action);
  if (!found) throw new Error(`no planned ${action} in ${vpcId}`);
  return found.params as Params<A>;
}

async function protect(scenario: Scenario, resourceId: string, key = 'vpc-guard:protected') {
  await scenario
    .ec2For(ACCOUNT, US)
    .send(new CreateTagsCommand({ Resources: [resourceId], Tags: [{ Key: key, Value: 'true' }] }));
}

/** What each case protects, in a demo VPC where the example policy plans a write to it. */
const CASES: readonly {
  readonly kind: string;
  readonly vpc: string;
  readonly action: ActionParams['action'];
  readonly resource: (plan: RemediationPlan, vpcId: string) => string;
  readonly key: string;
}[] = [
  {
    kind: 'NAT gateway',
    key: 'vpc-guard:protected',
    vpc: 'orders-prod',
    action: 'remove-nat',
    resource: (plan, vpcId) => paramsOf(plan, vpcId, 'remove-nat').natGatewayId,
  },
  {
    kind: 'NAT gateway',
    key: 'VPC-Guard:Protected',
    vpc: 'orders-prod',
    action: 'remove-nat',
    resource: (plan, vpcId) => paramsOf(plan, vpcId, 'remove-nat').natGatewayId,
  },
  {
    kind: 'route table',
    key: 'vpc-guard:protected',
    vpc: 'orders-prod',
    action: 'remove-nat',
    resource: (plan, vpcId) => paramsOf(plan, vpcId, 'remove-nat').routes[0]!.routeTableId,
  },
  {
    kind: 'VPC',
    key: 'vpc-guard:protected',
    vpc: 'orders-prod',
    action: 'remove-nat',
    resource: (_plan, vpcId) => vpcId,
  },
  {
    kind: 'endpoint',
    key: 'vpc-guard:protected',
    vpc: 'reporting-prod',
    action: 'replace-endpoint-policy',
    resource: (plan, vpcId) => paramsOf(plan, vpcId, 'replace-endpoint-policy').endpointId,
  },
];

describe('a resource tagged vpc-guard:protected', () => {
  it.each(CASES)(
    'blocks $action in $vpc when its $kind carries $key',
    async ({ vpc, action, resource, key }) => {
      // Prepare
      const scenario = await Scenario.demo();
      const first = await scenario.plan();
      const vpcId = vpcIdNamed(first, vpc);
      const id = resource(first.plan, vpcId);
      await protect(scenario, id, key);

      // Act
      const run = await scenario.run();

      // Assess
      const blocked = run.plan.vpcs
        .find((v) => v.vpcId === vpcId)!
        .actions.filter((a) => a.action === action);
      expect(blocked.length).toBeGreaterThan(0);
      expect(
        blocked.some(
          (a) =>
            a.status === 'blocked' &&
            a.blockedReason?.includes(`${id} is tagged vpc-guard:protected`),
        ),
      ).toBe(true);
      const touching = run.applyCalls.filter(
        (c) => c.mutating && c.operation !== 'CreateTags' && JSON.stringify(c.input).includes(id),
      );
      expect(touching).toEqual([]);
    },
  );

  it('is not written by apply when the tag went on after the plan was made', async () => {
    // Prepare
    const scenario = await Scenario.demo();
    const { plan, ...scan } = await scenario.plan();
    const vpcId = vpcIdNamed(scan, 'orders-prod');
    const natGatewayId = paramsOf(plan, vpcId, 'remove-nat').natGatewayId;
    await protect(scenario, natGatewayId);
    const from = scenario.account.calls.length;

    // Act
    const record = await scenario.apply(plan);

    // Assess
    expect(
      record.actions.find((a) => a.action === 'remove-nat' && a.vpcId === vpcId),
    ).toMatchObject({ outcome: 'blocked', detail: expect.stringContaining('vpc-guard:protected') });
    const writes = scenario.account.calls.slice(from).filter((c) => c.mutating);
    expect(JSON.stringify(writes)).not.toContain(natGatewayId);
  });

  it('keeps an Elastic IP left by a removed NAT gateway allocated when it is protected', async () => {
    // Prepare: the NAT is removed (its address marked), then the address is protected
    const mayRelease = (policy: GuardPolicy) => {
      const regulated = policy.profiles['regulated']!.remediation;
      regulated.actions = [...regulated.actions, 'release-elastic-ip'];
      regulated.maxChangesPerRun = 100;
    };
    const scenario = await Scenario.demo({ policy: mayRelease });
    const first = await scenario.run();
    const allocationIds = first.record.actions.flatMap((a) =>
      a.action === 'remove-nat' ? ((a.after['markedAllocationIds'] as string[]) ?? []) : [],
    );
    expect(allocationIds.length).toBeGreaterThan(0);
    scenario.account.advance();
    for (const id of allocationIds) await protect(scenario, id);

    // Act
    const second = await scenario.run();

    // Assess
    const releases = second.plan.vpcs.flatMap((v) =>
      v.actions.filter((a) => a.action === 'release-elastic-ip'),
    );
    expect(releases.length).toBe(allocationIds.length);
    for (const release of releases) {
      expect(release.status).toBe('blocked');
      expect(release.blockedReason).toContain('is tagged vpc-guard:protected');
    }
    expect(second.applyCalls.filter((c) => c.operation === 'ReleaseAddress')).toEqual([]);
  });
});
