import {
  DeleteTagsCommand,
  DescribeAddressesCommand,
  ReleaseAddressCommand,
  type Address,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { REMEDIATION_ACTIONS, type GuardPolicy } from '../../shared/src/policy/schema';
import type { ActionRecord, RemediationRecord } from '../../shared/src/remediation/record';
import {
  applyRollback,
  planRollback,
  type RollbackDependencies,
} from '../../shared/src/remediation/rollback';
import { RELEASED_FROM_TAG, RELEASED_FROM_VPC_TAG } from '../../shared/src/remediation/tags';
import { SCENARIO_IDENTITY, Scenario, type RemediationRun } from './harness';

/**
 * The Elastic IP a removed NAT gateway leaves behind, on the simulated demo account: the run that
 * deletes the NAT marks the address; a later run, once the NAT is `deleted`, releases it when the
 * profile allows it (verified by a describe) and otherwise only reports it; rollback never pretends
 * to bring a released address back.
 */

/**
 * The demo policy with every other action allowed and room for every change, so one run fixes the
 * rest of the estate and what is left is the release; with `release-elastic-ip` allowed or not.
 */
function regulatedMay(release: boolean) {
  return (policy: GuardPolicy): void => {
    const remediation = policy.profiles['regulated']!.remediation;
    remediation.maxChangesPerRun = 100;
    remediation.actions = REMEDIATION_ACTIONS.filter(
      (action) => release || action !== 'release-elastic-ip',
    );
  };
}

/** The NAT removals of a run that deleted their NAT, with the allocation each NAT held. */
function removals(run: RemediationRun): { record: ActionRecord; allocationId: string }[] {
  return run.record.actions
    .filter((a) => a.action === 'remove-nat' && a.outcome === 'verified')
    .map((record) => ({
      record,
      allocationId: (record.before['allocationIds'] as string[])[0]!,
    }));
}

function ofAction(run: RemediationRun | RemediationRecord, action: string): ActionRecord[] {
  const record = 'record' in run ? run.record : run;
  return record.actions.filter((a) => a.action === action);
}

/** The allocation as the simulated account holds it (not as vpc-guard collected it). */
async function addressOf(
  scenario: Scenario,
  removal: { record: ActionRecord; allocationId: string },
): Promise<Address | undefined> {
  const { accountId, region } = removal.record;
  const { Addresses } = await scenario.ec2For(accountId, region).send(
    new DescribeAddressesCommand({
      Filters: [{ Name: 'allocation-id', Values: [removal.allocationId] }],
    }),
  );
  return Addresses?.[0];
}

function tagsOf(address: Address | undefined): Record<string, string> {
  return Object.fromEntries((address?.Tags ?? []).map((t) => [t.Key!, t.Value ?? '']));
}

function rollbackDeps(scenario: Scenario): RollbackDependencies {
  return {
    ec2For: scenario.ec2For,
    identity: SCENARIO_IDENTITY,
    clock: scenario.clock.date,
    endpointLimiter: scenario.limiter,
    // Time passing, for the simulator: asynchronous changes finish.
    sleep: () => Promise.resolve(scenario.account.advance()),
    runId: 'rollback',
  };
}

describe('releasing the Elastic IP a removed NAT gateway leaves behind', () => {
  it('marks the address when it deletes the NAT, and releases it on a later run once the NAT is deleted, verified by a describe', async () => {
    // Prepare
    const scenario = await Scenario.demo({ policy: regulatedMay(true) });
    const first = await scenario.run();
    const removed = removals(first);
    scenario.account.advance(); // the NATs finish deleting

    // Act
    const second = await scenario.run();

    // Assess: run 1 deleted the NATs and marked each one's address, with one CreateTags call.
    expect(removed.length).toBeGreaterThan(0);
    for (const { record, allocationId } of removed) {
      const natGatewayId = String(record.before['natGatewayId']);
      expect(record.calls.filter((c) => c.operation === 'CreateTags')).toEqual([
        expect.objectContaining({
          input: {
            Resources: [allocationId],
            Tags: [
              { Key: RELEASED_FROM_TAG, Value: natGatewayId },
              { Key: RELEASED_FROM_VPC_TAG, Value: record.vpcId },
            ],
          },
          result: 'ok',
        }),
      ]);
      expect(record.detail).toContain(`marked ${RELEASED_FROM_TAG}=${natGatewayId}`);
    }
    // Run 2 released exactly those addresses, each verified by DescribeAddresses.
    const released = ofAction(second, 'release-elastic-ip');
    expect(released.map((a) => [a.vpcId, a.before['allocationId'], a.outcome]).sort()).toEqual(
      removed.map((r) => [r.record.vpcId, r.allocationId, 'verified']).sort(),
    );
    for (const action of released) {
      expect(action.calls.map((c) => `${c.operation} ${c.result}`)).toEqual([
        'DescribeAddresses ok',
        'ReleaseAddress ok',
        'DescribeAddresses ok',
      ]);
      expect(action.detail).toContain('verified by DescribeAddresses');
      expect(action.before).toMatchObject({
        publicIp: expect.any(String),
        natGatewayId: expect.stringMatching(/^nat-/),
        tags: expect.objectContaining({ [RELEASED_FROM_TAG]: expect.stringMatching(/^nat-/) }),
      });
    }
    for (const removal of removed) expect(await addressOf(scenario, removal)).toBeUndefined();
  });

  it('writes nothing on the run after the release', async () => {
    // Prepare
    const scenario = await Scenario.demo({ policy: regulatedMay(true) });
    await scenario.run();
    scenario.account.advance();
    await scenario.run();
    const writes = scenario.account.writes().length;

    // Act
    const third = await scenario.run();

    // Assess
    expect(third.plan.totals.planned).toBe(0);
    expect(third.record.actions).toEqual([]);
    expect(scenario.account.writes()).toHaveLength(writes);
  });

  it('plans no release while the NAT is still deleting: it holds the address', async () => {
    // Prepare
    const scenario = await Scenario.demo({
      policy: regulatedMay(true),
      account: { natDeletionDelayCalls: 100_000 },
    });
    await scenario.run();

    // Act
    const second = await scenario.plan();

    // Assess
    expect(second.snapshots.flatMap((s) => s.natGateways).map((n) => n.state)).toContain(
      'deleting',
    );
    expect(second.snapshots.flatMap((s) => s.elasticIps).length).toBeGreaterThan(0);
    expect(second.plan.vpcs.flatMap((v) => v.actions)).toEqual([]);
  });

  it('only reports the address, blocked, when the profile does not allow the release, and writes nothing for it', async () => {
    // Prepare
    const scenario = await Scenario.demo({ policy: regulatedMay(false) });
    const first = await scenario.run();
    scenario.account.advance();

    // Act
    const second = await scenario.run();

    // Assess
    const actions = second.plan.vpcs.flatMap((v) => v.actions);
    expect(actions.map((a) => [a.action, a.status])).toEqual(
      removals(first).map(() => ['release-elastic-ip', 'blocked']),
    );
    expect(actions[0]!.blockedReason).toBe(
      'release-elastic-ip is not in profiles.regulated.remediation.actions',
    );
    expect(scenario.account.callsOf('ReleaseAddress')).toEqual([]);
    for (const removal of removals(first))
      expect(tagsOf(await addressOf(scenario, removal))).toHaveProperty(RELEASED_FROM_TAG);
  });

  it('marks with DryRun only in a dry run', async () => {
    // Prepare
    const scenario = await Scenario.demo({
      policy: (policy) => {
        regulatedMay(true)(policy);
        policy.profiles['regulated']!.remediation.mode = 'dry-run';
      },
    });

    // Act
    const run = await scenario.run();

    // Assess
    const removeNat = ofAction(run, 'remove-nat');
    expect(removeNat.length).toBeGreaterThan(0);
    for (const action of removeNat) {
      expect(action.outcome).toBe('would-succeed');
      expect(action.calls.find((c) => c.operation === 'CreateTags')).toMatchObject({
        dryRun: true,
        result: 'DryRunOperation',
      });
    }
    expect(scenario.account.writes()).toEqual([]);
  });

  it('still removes the NAT when marking its address fails, and says the address will not be released', async () => {
    // Prepare: the role may not tag (say, a tag policy); the first CreateTags is refused.
    const scenario = await Scenario.demo({
      policy: regulatedMay(true),
      account: { failOn: [{ operation: 'CreateTags', nth: 1, code: 'UnauthorizedOperation' }] },
    });

    // Act
    const first = await scenario.run();
    scenario.account.advance();
    const second = await scenario.run();

    // Assess
    const [unmarked, ...marked] = removals(first);
    expect(unmarked!.record.outcome).toBe('verified');
    expect(unmarked!.record.detail).toContain('not marked for release');
    expect(unmarked!.record.calls.at(-1)).toMatchObject({
      operation: 'CreateTags',
      result: 'UnauthorizedOperation',
    });
    expect(await addressOf(scenario, unmarked!)).toBeDefined();
    expect(ofAction(second, 'release-elastic-ip').map((a) => a.before['allocationId'])).toEqual(
      marked.map((m) => m.allocationId),
    );
  });

  it.each([
    {
      change: 'someone took the mark off',
      act: (allocationId: string) =>
        new DeleteTagsCommand({ Resources: [allocationId], Tags: [{ Key: RELEASED_FROM_TAG }] }),
      outcome: 'blocked',
      detail: 'the policy plans no',
    },
    {
      change: 'someone released it already',
      act: (allocationId: string) => new ReleaseAddressCommand({ AllocationId: allocationId }),
      outcome: 'blocked',
      detail: 'the policy plans no',
    },
  ])(
    'plans again from the addresses described before releasing: $outcome when $change since the plan',
    async ({ act, outcome, detail }) => {
      // Prepare
      const scenario = await Scenario.demo({ policy: regulatedMay(true) });
      const [removal] = removals(await scenario.run());
      scenario.account.advance();
      const { plan } = await scenario.plan();
      await scenario
        .ec2For(removal!.record.accountId, removal!.record.region)
        .send(act(removal!.allocationId) as DeleteTagsCommand);
      const writes = scenario.account.writes().length;

      // Act
      const record = await scenario.apply(plan);

      // Assess
      const action = ofAction(record, 'release-elastic-ip').find((a) =>
        a.id.endsWith(`/release-elastic-ip/${removal!.allocationId}`),
      );
      expect(action).toMatchObject({ outcome });
      expect(action!.detail).toContain(detail);
      expect(action!.calls).toEqual([]);
      expect(
        scenario.account
          .writes()
          .slice(writes)
          .filter((c) => c.operation === 'ReleaseAddress'),
      ).toHaveLength(ofAction(record, 'release-elastic-ip').length - 1);
    },
  );

  describe('rollback', () => {
    it('reports a released address as a blocked step, and writes nothing for it', async () => {
      // Prepare
      const scenario = await Scenario.demo({ policy: regulatedMay(true) });
      await scenario.run();
      scenario.account.advance();
      const second = await scenario.run();
      const writes = scenario.account.writes().length;

      // Act
      const plan = planRollback(second.record);
      const rollback = await applyRollback(plan, rollbackDeps(scenario));

      // Assess
      const steps = plan.steps.filter((s) => s.action === 'restore-elastic-ip');
      expect(steps.map((s) => s.status)).toEqual(
        ofAction(second, 'release-elastic-ip').map(() => 'blocked'),
      );
      expect(steps[0]!.reason).toMatch(
        /released Elastic IP .* cannot be restored as it was: AllocateAddress gives a new address/,
      );
      expect(rollback.actions.every((a) => a.outcome === 'blocked')).toBe(true);
      expect(scenario.account.writes()).toHaveLength(writes);
    });

    it('blocks recreating a NAT whose original allocation was released since, instead of failing on CreateNatGateway', async () => {
      // Prepare
      const scenario = await Scenario.demo({ policy: regulatedMay(true) });
      const first = await scenario.run();
      scenario.account.advance();
      await scenario.run();

      // Act
      const rollback = await applyRollback(
        planRollback(first.record, { recreateNat: true }),
        rollbackDeps(scenario),
      );

      // Assess
      const nats = ofAction(rollback, 'recreate-nat');
      expect(nats.map((a) => a.outcome)).toEqual(removals(first).map(() => 'blocked'));
      expect(nats[0]!.detail).toMatch(/the original allocation eipalloc-\S+ of nat-\S+ is gone/);
      expect(scenario.account.callsOf('CreateNatGateway')).toEqual([]);
    });

    it('takes the mark off the address of a NAT it recreates, so a later run never releases it', async () => {
      // Prepare
      const scenario = await Scenario.demo({ policy: regulatedMay(true) });
      const first = await scenario.run();
      scenario.account.advance();

      // Act
      const rollback = await applyRollback(
        planRollback(first.record, { recreateNat: true }),
        rollbackDeps(scenario),
      );
      scenario.account.advance();
      const next = await scenario.plan();

      // Assess
      const nats = ofAction(rollback, 'recreate-nat');
      expect(nats.map((a) => a.outcome)).toEqual(removals(first).map(() => 'verified'));
      expect(nats[0]!.detail).toContain(`removed ${RELEASED_FROM_TAG} from`);
      for (const removal of removals(first))
        expect(tagsOf(await addressOf(scenario, removal))).not.toHaveProperty(RELEASED_FROM_TAG);
      expect(
        next.plan.vpcs.flatMap((v) => v.actions).filter((a) => a.action === 'release-elastic-ip'),
      ).toEqual([]);
    });
  });
});
