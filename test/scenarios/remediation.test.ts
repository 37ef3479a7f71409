import {
  CreateRouteCommand,
  CreateTagsCommand,
  CreateVpcEndpointCommand,
} from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { REMEDIATION_ACTIONS, type GuardPolicy } from '../../shared/src/policy/schema';
import { MANAGED_SECURITY_GROUP_NAME, MANAGED_TAG } from '../../shared/src/remediation/tags';
import type { ActionRecord } from '../../shared/src/remediation/record';
import { RULE_IDS, type Compliance, type RuleId } from '../../shared/src/rules/types';
import type { NetworkSnapshot } from '../../shared/src/snapshot/schema';
import {
  Scenario,
  evaluationNamed,
  liveEndpointsPerService,
  mutatingCallsTouching,
  resourceIdsOf,
  vpcIdNamed,
  type RemediationRun,
  type Scan,
} from './harness';

/**
 * vpc-guard's live pipeline (collect -> evaluate -> plan -> apply -> rescan) against the demo estate
 * loaded into the simulated EC2 account: what it fixes, what it refuses to touch, and how it behaves
 * when EC2 fails, throttles, or changes under it. Assertions read the simulator's own call log and
 * state, not vpc-guard's account of them.
 */

const ACCOUNT = '111111111111';
const US = 'us-east-1';

/** Every action the profile may take, with room under the cap for all of them in one run. */
function allowEverything(policy: GuardPolicy): void {
  policy.profiles['regulated']!.remediation.actions = [...REMEDIATION_ACTIONS];
  policy.profiles['regulated']!.remediation.maxChangesPerRun = 100;
}

/** The distinct rule ids of a VPC's open findings, in report order. */
function openRules(scan: Scan, name: string): RuleId[] {
  return [...new Set(evaluationNamed(scan, name).findings.map((finding) => finding.ruleId))].sort(
    (a, b) => RULE_IDS.indexOf(a) - RULE_IDS.indexOf(b),
  );
}

/** A VPC's actions in a record, as `action/subject -> outcome`. */
function outcomesOf(run: RemediationRun, name: string): [string, string][] {
  const vpcId = vpcIdNamed(run, name);
  return run.record.actions
    .filter((action) => action.vpcId === vpcId)
    .map((action) => [action.id.split('/').slice(3).join('/'), action.outcome]);
}

function actionRecord(run: RemediationRun, name: string, suffix: string): ActionRecord {
  const vpcId = vpcIdNamed(run, name);
  const found = run.record.actions.find((a) => a.vpcId === vpcId && a.id.endsWith(suffix));
  if (!found) throw new Error(`no action ${suffix} for ${name} in the record`);
  return found;
}

/** What the simulated account holds now in us-east-1 (not what vpc-guard collected). */
function truth(scenario: Scenario): NetworkSnapshot {
  return scenario.account.toSnapshot(ACCOUNT, US);
}

/** The security groups vpc-guard created in a VPC, by the simulator's state. */
function managedGroups(scenario: Scenario, vpcId: string) {
  return truth(scenario).securityGroups.filter(
    (group) => group.vpcId === vpcId && group.groupName === MANAGED_SECURITY_GROUP_NAME,
  );
}

/** Asserts the VPC has exactly one live endpoint per service and type, and one managed group. */
function expectNoDuplicates(scenario: Scenario, vpcId: string): void {
  const counts = liveEndpointsPerService(truth(scenario), vpcId);
  expect(Object.keys(counts).length).toBeGreaterThan(0);
  expect(Object.entries(counts).filter(([, count]) => count > 1)).toEqual([]);
  expect(managedGroups(scenario, vpcId).length).toBeLessThanOrEqual(1);
}

describe('remediating the demo account on the simulated EC2', () => {
  describe('one run under examples/policy.yaml', () => {
    let scenario: Scenario;
    let run: RemediationRun;

    beforeAll(async () => {
      scenario = await Scenario.demo();
      run = await scenario.run();
    });

    it('carries out every planned action and verifies each by a rescan', () => {
      // Act
      const planned = run.plan.vpcs.flatMap((vpc) =>
        vpc.actions.filter((action) => action.status === 'planned').map((action) => action.id),
      );
      const verified = run.record.actions
        .filter((action) => action.outcome === 'verified')
        .map((action) => action.id);

      // Assess
      expect(planned).toHaveLength(10);
      expect(verified).toEqual(planned);
      expect(run.record.summary.failed + run.record.summary['still-failing']).toBe(0);
    });

    it.each<{ name: string; compliance: Compliance; open: RuleId[]; why: string }>([
      { name: 'ledger-prod', compliance: 'COMPLIANT', open: [], why: 'endpoints fixed' },
      { name: 'reporting-prod', compliance: 'COMPLIANT', open: [], why: 'policies replaced' },
      {
        name: 'orders-prod',
        compliance: 'NON_COMPLIANT',
        open: ['internet-route-forbidden'],
        why: 'NAT removed; its internet gateway route needs remove-internet-route, not allowed',
      },
      {
        name: 'legacy-batch',
        compliance: 'NON_COMPLIANT',
        open: ['internet-route-forbidden', 'exemption-expired'],
        why: 'NAT removed; the internet gateway route is not allowed, an expired exemption has no fix',
      },
      {
        name: 'payments-eu',
        compliance: 'NON_COMPLIANT',
        open: ['internet-route-forbidden'],
        why: 'blackhole routes need remove-internet-route, not allowed',
      },
      {
        name: 'analytics-eu',
        compliance: 'NON_COMPLIANT',
        open: ['endpoint-policy-too-broad'],
        why: 'over the blast-radius cap of 10',
      },
      { name: 'payments-prod', compliance: 'COMPLIANT', open: [], why: 'compliant already' },
      { name: 'identity-prod', compliance: 'COMPLIANT', open: [], why: 'compliant already' },
      { name: 'checkout-prod', compliance: 'COMPLIANT', open: [], why: 'compliant already' },
      { name: 'dev-sandbox', compliance: 'COMPLIANT', open: [], why: 'sandbox' },
      { name: 'ml-experiments', compliance: 'COMPLIANT', open: [], why: 'sandbox' },
      { name: 'vendor-gateway', compliance: 'NOT_APPLICABLE', open: [], why: 'exempt' },
    ])('leaves $name $compliance with [$open] open on the rescan ($why)', (expected) => {
      // Act
      const after = evaluationNamed(run.after, expected.name);

      // Assess
      expect(after.compliance).toBe(expected.compliance);
      expect(openRules(run.after, expected.name)).toEqual(expected.open);
    });

    it('reports each fix it may not make as blocked, with the reason, makes no call for it and leaves its findings open', () => {
      // Prepare
      const open = new Set(run.after.evaluations.flatMap((e) => e.findings.map((f) => f.key)));

      // Act
      const blocked = run.record.actions.filter((action) => action.outcome === 'blocked');

      // Assess
      expect(blocked.map((action) => action.id.split('/').slice(3, 4)[0])).toEqual([
        'replace-endpoint-policy',
        'remove-internet-route',
        'remove-internet-route',
        'remove-internet-route',
        'remove-internet-route',
        'remove-internet-route',
      ]);
      expect(blocked[0]!.detail).toMatch(/over the blast-radius cap/);
      for (const action of blocked.slice(1))
        expect(action.detail).toBe(
          'remove-internet-route is not in profiles.regulated.remediation.actions',
        );
      for (const action of blocked) {
        expect(action.calls).toEqual([]);
        expect(action.remainingFindingKeys.length).toBeGreaterThan(0);
        expect(action.remainingFindingKeys.every((key) => open.has(key))).toBe(true);
      }
    });

    it('creates the managed security group once per VPC, and the next endpoints reuse it without a failed call', () => {
      // Act
      const groupCalls = run.applyCalls.filter((call) =>
        ['CreateSecurityGroup', 'AuthorizeSecurityGroupIngress'].includes(call.operation),
      );

      // Assess: describe, compare, act; a call that fails as a duplicate is a write the run did not need.
      expect(groupCalls.map((call) => `${call.operation} ${call.outcome}`)).toEqual([
        'CreateSecurityGroup ok',
        'AuthorizeSecurityGroupIngress ok',
      ]);
      expect(managedGroups(scenario, vpcIdNamed(run, 'ledger-prod'))).toHaveLength(1);
    });

    it('fixes what the cap held back on the next run', async () => {
      // Prepare
      const scenario = await Scenario.demo();
      await scenario.run();

      // Act
      const second = await scenario.run();

      // Assess
      expect(outcomesOf(second, 'analytics-eu')).toEqual([
        ['replace-endpoint-policy/vpce-0aadc643fd6fd04c6', 'verified'],
      ]);
      expect(evaluationNamed(second.after, 'analytics-eu').compliance).toBe('COMPLIANT');
    });
  });

  describe('with every action allowed and room under the cap', () => {
    it('makes every archetype with remediable findings compliant in one run', async () => {
      // Prepare
      const scenario = await Scenario.demo({ policy: allowEverything });

      // Act
      const run = await scenario.run();

      // Assess
      expect(run.record.summary).toMatchObject({ verified: 16, failed: 0, blocked: 0 });
      const verdicts = Object.fromEntries(
        run.after.evaluations.map((e) => [e.vpcName, e.compliance]),
      );
      expect(verdicts).toEqual({
        'payments-prod': 'COMPLIANT',
        'orders-prod': 'COMPLIANT',
        'ledger-prod': 'COMPLIANT',
        'reporting-prod': 'COMPLIANT',
        'identity-prod': 'COMPLIANT',
        'checkout-prod': 'COMPLIANT',
        'dev-sandbox': 'COMPLIANT',
        'ml-experiments': 'COMPLIANT',
        'vendor-gateway': 'NOT_APPLICABLE',
        // An expired exemption is for a person to renew or remove: no automatic fix.
        'legacy-batch': 'NON_COMPLIANT',
        'payments-eu': 'COMPLIANT',
        'analytics-eu': 'COMPLIANT',
      });
      expect(openRules(run.after, 'legacy-batch')).toEqual(['exemption-expired']);
    });

    it('removes a NAT gateway with its routes and leaves no blackhole route behind', async () => {
      // Prepare
      const scenario = await Scenario.demo({ policy: allowEverything });

      // Act
      const run = await scenario.run();

      // Assess
      const orders = vpcIdNamed(run, 'orders-prod');
      const nat = run.snapshots
        .flatMap((s) => s.natGateways)
        .find((n) => n.vpcId === orders && n.state === 'available')!;
      const state = truth(scenario);
      expect(state.natGateways.find((n) => n.natGatewayId === nat.natGatewayId)?.state).toMatch(
        /^(deleting|deleted)$/,
      );
      const routes = state.routeTables
        .filter((table) => table.vpcId === orders)
        .flatMap((table) => table.routes);
      expect(routes.filter((route) => route.target.id === nat.natGatewayId)).toEqual([]);
      expect(routes.filter((route) => route.state === 'blackhole')).toEqual([]);
    });

    it('changes nothing when the same plan is applied a second time', async () => {
      // Prepare
      const scenario = await Scenario.demo({ policy: allowEverything });
      const first = await scenario.run();
      const writes = scenario.account.writes().length;

      // Act
      const again = await scenario.apply(first.plan);

      // Assess
      expect(scenario.account.writes()).toHaveLength(writes);
      for (const action of again.actions) {
        expect(['blocked', 'skipped']).toContain(action.outcome);
        if (action.outcome === 'blocked') expect(action.detail).toMatch(/changed since the plan/);
      }
    });

    it('plans only the release of the removed NATs’ Elastic IPs on the next run, then nothing, and that run writes nothing', async () => {
      // Prepare: releasing an address waits, by design, for a later run (its NAT must be deleted).
      const scenario = await Scenario.demo({ policy: allowEverything });
      const first = await scenario.run();
      const removed = first.record.actions.filter((a) => a.action === 'remove-nat').length;
      const release = await scenario.run();
      const writes = scenario.account.writes().length;

      // Act
      const next = await scenario.run();

      // Assess
      expect(release.plan.vpcs.flatMap((v) => v.actions.map((a) => a.action))).toEqual(
        Array.from({ length: removed }, () => 'release-elastic-ip'),
      );
      expect(release.record.summary).toMatchObject({ verified: removed, failed: 0 });
      expect(next.plan.totals.planned).toBe(0);
      expect(scenario.account.writes()).toHaveLength(writes);
    });
  });

  describe('a failure part-way', () => {
    it('records the failed endpoint creation with its error code, keeps the one before verified, stops the VPC there, and a rerun converges without duplicates', async () => {
      // Prepare
      const scenario = await Scenario.demo({
        account: {
          failOn: [{ operation: 'CreateVpcEndpoint', nth: 2, code: 'VpcEndpointLimitExceeded' }],
        },
      });

      // Act
      const run = await scenario.run();
      const rerun = await scenario.run();

      // Assess
      expect(outcomesOf(run, 'ledger-prod')).toEqual([
        ['create-endpoint/ecr.dkr', 'verified'],
        ['create-endpoint/kms', 'failed'],
        ['create-endpoint/secretsmanager', 'blocked'],
        ['extend-endpoint-coverage/ecr.api/coverage', 'blocked'],
        ['extend-endpoint-coverage/s3/route-tables', 'blocked'],
        ['enable-private-dns/logs', 'blocked'],
      ]);
      const failed = actionRecord(run, 'ledger-prod', '/create-endpoint/kms');
      expect(failed.detail).toMatch(/^CreateVpcEndpoint: VpcEndpointLimitExceeded/);
      expect(failed.calls.at(-1)).toMatchObject({
        operation: 'CreateVpcEndpoint',
        result: 'VpcEndpointLimitExceeded',
      });
      expect(failed.created).toEqual([]);
      expect(failed.remainingFindingKeys).toEqual([
        `${ACCOUNT}/${US}/${vpcIdNamed(run, 'ledger-prod')}/endpoint-missing/kms`,
      ]);
      const first = actionRecord(run, 'ledger-prod', '/create-endpoint/ecr.dkr');
      expect(first.created.map((resource) => resource.type)).toEqual([
        'security-group',
        'vpc-endpoint',
      ]);
      for (const [, outcome] of outcomesOf(run, 'ledger-prod').slice(2))
        expect(outcome).toBe('blocked');
      expect(actionRecord(run, 'ledger-prod', '/enable-private-dns/logs').detail).toMatch(
        /an earlier action in vpc-\w+ failed/,
      );
      // The other VPCs carry on.
      expect(outcomesOf(run, 'orders-prod')).toContainEqual([
        'remove-nat/nat-0c802896736676479',
        'verified',
      ]);

      expect(rerun.record.summary.failed).toBe(0);
      expect(evaluationNamed(rerun.after, 'ledger-prod').compliance).toBe('COMPLIANT');
      expectNoDuplicates(scenario, vpcIdNamed(run, 'ledger-prod'));
      expect(
        scenario.account.callsOf('CreateVpcEndpoint').filter((c) => c.outcome === 'ok'),
      ).toHaveLength(3);
    });

    it('records the security group a failed first endpoint creation left behind, and the rerun reuses it', async () => {
      // Prepare
      const scenario = await Scenario.demo({
        account: {
          failOn: [{ operation: 'CreateVpcEndpoint', nth: 1, code: 'VpcEndpointLimitExceeded' }],
        },
      });

      // Act
      const run = await scenario.run();
      const rerun = await scenario.run();

      // Assess
      const ledger = vpcIdNamed(run, 'ledger-prod');
      const failed = actionRecord(run, 'ledger-prod', '/create-endpoint/ecr.dkr');
      expect(failed.outcome).toBe('failed');
      const [group] = managedGroups(scenario, ledger);
      expect(failed.created).toEqual([{ type: 'security-group', id: group!.groupId }]);
      expect(group!.tags[MANAGED_TAG]).toBe('true');

      const rerunCreate = rerun.plan.vpcs
        .find((vpc) => vpc.vpcId === ledger)!
        .actions.find((action) => action.id.endsWith('/create-endpoint/ecr.dkr'))!;
      expect(rerunCreate.params).toMatchObject({ securityGroup: { reuse: group!.groupId } });
      expect(evaluationNamed(rerun.after, 'ledger-prod').compliance).toBe('COMPLIANT');
      expectNoDuplicates(scenario, ledger);
      expect(managedGroups(scenario, ledger)).toHaveLength(1);
    });

    it('records the routes a failed NAT removal already deleted, and the rerun deletes the NAT without recreating them', async () => {
      // Prepare: the first DeleteNatGateway is refused (say, a permission boundary fixed before the rerun).
      const scenario = await Scenario.demo({
        account: {
          failOn: [{ operation: 'DeleteNatGateway', nth: 1, code: 'UnauthorizedOperation' }],
        },
      });

      // Act
      const run = await scenario.run();
      const rerun = await scenario.run();

      // Assess
      const legacy = vpcIdNamed(run, 'legacy-batch');
      const planned = run.plan.vpcs
        .find((vpc) => vpc.vpcId === legacy)!
        .actions.find((action) => action.action === 'remove-nat')!;
      if (planned.params.action !== 'remove-nat') throw new Error('expected remove-nat');
      const natGatewayId = planned.params.natGatewayId;
      const failed = actionRecord(run, 'legacy-batch', `/remove-nat/${natGatewayId}`);
      expect(failed.outcome).toBe('failed');
      expect(failed.detail).toMatch(/^DeleteNatGateway: UnauthorizedOperation/);
      expect(failed.calls.map((call) => `${call.operation} ${call.result}`)).toEqual([
        'DeleteRoute ok',
        'DeleteRoute ok',
        'DeleteNatGateway UnauthorizedOperation',
      ]);
      expect(failed.removedRoutes).toEqual(planned.params.routes);
      expect(failed.removedRoutes).toHaveLength(2);
      expect(failed.before).toMatchObject({
        natGatewayId,
        subnetId: planned.params.subnetId,
        allocationIds: planned.params.allocationIds,
        natState: 'available',
      });
      expect(outcomesOf(run, 'orders-prod')).toContainEqual([
        'remove-nat/nat-0c802896736676479',
        'verified',
      ]);

      expect(actionRecord(rerun, 'legacy-batch', `/remove-nat/${natGatewayId}`)).toMatchObject({
        outcome: 'verified',
        removedRoutes: [],
      });
      const state = truth(scenario);
      expect(state.natGateways.find((n) => n.natGatewayId === natGatewayId)?.state).toMatch(
        /^(deleting|deleted)$/,
      );
      const routes = state.routeTables
        .filter((table) => table.vpcId === legacy)
        .flatMap((table) => table.routes);
      expect(routes.filter((route) => route.target.id === natGatewayId)).toEqual([]);
      expect(scenario.account.callsOf('CreateRoute')).toEqual([]);
      expect(openRules(rerun.after, 'legacy-batch')).toEqual([
        'internet-route-forbidden',
        'exemption-expired',
      ]);
    });
  });

  describe('a throttling storm', () => {
    it('completes when every second call is throttled, with no failed action and no duplicate', async () => {
      // Prepare: the SDK's attempts as vpc-guard's own client factory sets them (8).
      const scenario = await Scenario.demo({
        account: { throttle: { kind: 'rate', every: 2 } },
        client: { maxAttempts: 8 },
      });

      // Act
      const run = await scenario.run();

      // Assess
      const throttled = scenario.account.calls.filter((c) => c.outcome === 'RequestLimitExceeded');
      expect(throttled.length).toBeGreaterThan(50);
      expect(throttled.some((call) => call.operation === 'CreateVpcEndpoint')).toBe(true);
      expect(run.record.summary).toMatchObject({ verified: 10, failed: 0, 'still-failing': 0 });
      expect(evaluationNamed(run.after, 'ledger-prod').compliance).toBe('COMPLIANT');
      expectNoDuplicates(scenario, vpcIdNamed(run, 'ledger-prod'));
      expect(
        scenario.account.callsOf('CreateVpcEndpoint').filter((c) => c.outcome === 'ok'),
      ).toHaveLength(3);
    });

    it("completes under EC2's token buckets shrunk to a storm, and EC2 never throttles an endpoint call", async () => {
      // Prepare: small describe, mutate and NAT buckets; time moves 100 ms with every clock reading.
      const scenario = await Scenario.demo({
        account: {
          throttle: {
            kind: 'bucket',
            describe: { capacity: 5, refillPerSecond: 2 },
            mutate: { capacity: 2, refillPerSecond: 1 },
            nat: { capacity: 1, refillPerSecond: 0.5 },
          },
        },
        client: { maxAttempts: 8 },
        tickMs: 100,
      });

      // Act
      const run = await scenario.run();

      // Assess
      const throttled = scenario.account.calls.filter((c) => c.outcome === 'RequestLimitExceeded');
      expect(throttled.length).toBeGreaterThan(50);
      // The endpoint bucket is EC2's own 4 / 0.3: the writer's bucket of the same size keeps under it.
      const endpointCalls = ['CreateVpcEndpoint', 'ModifyVpcEndpoint', 'DeleteVpcEndpoints'];
      expect(throttled.filter((call) => endpointCalls.includes(call.operation))).toEqual([]);
      expect(run.record.summary).toMatchObject({ verified: 10, failed: 0, 'still-failing': 0 });
      expect(evaluationNamed(run.after, 'ledger-prod').compliance).toBe('COMPLIANT');
      expectNoDuplicates(scenario, vpcIdNamed(run, 'ledger-prod'));
    });
  });

  it('never sends a mutating call, DryRun included, about an exempt, notify-only or uncertain-profile VPC', async () => {
    // Prepare: sandboxes forbid egress but only notify; legacy-batch's profile tag names no profile.
    const scenario = await Scenario.demo({
      policy: (policy) => {
        allowEverything(policy);
        policy.profiles['sandbox']!.egress = {
          natGateway: 'forbidden',
          internetRoute: 'forbidden',
        };
      },
    });
    const before = await scenario.scan();
    await scenario.ec2For(ACCOUNT, US).send(
      new CreateTagsCommand({
        Resources: [vpcIdNamed(before, 'legacy-batch')],
        Tags: [{ Key: 'vpc-guard:profile', Value: 'regulatd' }],
      }),
    );

    // Act
    const run = await scenario.run();

    // Assess
    const untouchable = ['vendor-gateway', 'dev-sandbox', 'ml-experiments', 'legacy-batch'];
    for (const name of untouchable) {
      expect(
        evaluationNamed(run, name).findings.length +
          evaluationNamed(run, name).suppressedFindings.length,
      ).toBeGreaterThan(0);
      const ids = resourceIdsOf(run, vpcIdNamed(run, name));
      expect(mutatingCallsTouching(run.applyCalls, ids)).toEqual([]);
      expect(run.plan.vpcs.find((vpc) => vpc.vpcName === name)?.actions ?? []).toEqual([]);
    }
    expect(
      mutatingCallsTouching(run.applyCalls, resourceIdsOf(run, vpcIdNamed(run, 'orders-prod'))),
    ).not.toEqual([]);
  });

  describe('a VPC that changed between plan and apply', () => {
    it.each<{
      what: string;
      name: string;
      change: (scenario: Scenario, scan: Scan) => Promise<unknown>;
    }>([
      {
        what: 'a route added to one of its tables',
        name: 'ledger-prod',
        change: (scenario, scan) => {
          const vpcId = vpcIdNamed(scan, 'ledger-prod');
          const table = scan.snapshots
            .flatMap((s) => s.routeTables)
            .find((t) => t.vpcId === vpcId)!;
          return scenario.ec2For(ACCOUNT, US).send(
            new CreateRouteCommand({
              RouteTableId: table.routeTableId,
              DestinationCidrBlock: '10.250.0.0/16',
              TransitGatewayId: 'tgw-0123456789abcdef0',
            }),
          );
        },
      },
      {
        what: 'an endpoint created by someone else',
        name: 'reporting-prod',
        change: (scenario, scan) => {
          const vpcId = vpcIdNamed(scan, 'reporting-prod');
          const subnet = scan.snapshots.flatMap((s) => s.subnets).find((s) => s.vpcId === vpcId)!;
          return scenario.ec2For(ACCOUNT, US).send(
            new CreateVpcEndpointCommand({
              VpcId: vpcId,
              ServiceName: `com.amazonaws.${US}.sqs`,
              VpcEndpointType: 'Interface',
              SubnetIds: [subnet.subnetId],
              PrivateDnsEnabled: false,
            }),
          );
        },
      },
    ])(
      'blocks every action in $name after $what, and writes nothing to it',
      async ({ name, change }) => {
        // Prepare
        const scenario = await Scenario.demo();
        const planned = await scenario.plan();
        await change(scenario, planned);
        const from = scenario.account.calls.length;

        // Act
        const record = await scenario.apply(planned.plan);

        // Assess
        const vpcId = vpcIdNamed(planned, name);
        const actions = record.actions.filter((action) => action.vpcId === vpcId);
        expect(actions.length).toBeGreaterThan(0);
        for (const action of actions) {
          expect(action.outcome).toBe('blocked');
          expect(action.detail).toMatch(/changed since the plan/);
        }
        const calls = scenario.account.calls.slice(from);
        expect(mutatingCallsTouching(calls, resourceIdsOf(planned, vpcId))).toEqual([]);
        expect(record.summary.verified).toBeGreaterThan(0);
      },
    );
  });

  describe('in dry-run mode', () => {
    const dryRun = (policy: GuardPolicy) => {
      policy.profiles['regulated']!.remediation.mode = 'dry-run';
    };

    it('sends only DryRun calls and reports every planned action as would-succeed', async () => {
      // Prepare
      const scenario = await Scenario.demo({ policy: dryRun });

      // Act
      const run = await scenario.run();

      // Assess
      const mutating = run.applyCalls.filter((call) => call.mutating);
      expect(mutating.length).toBeGreaterThan(10);
      expect(mutating.every((call) => call.dryRun && call.outcome === 'DryRunOperation')).toBe(
        true,
      );
      expect(scenario.account.writes()).toEqual([]);
      expect(run.record.execution).toBe('dry-run');
      expect(run.record.summary).toMatchObject({ 'would-succeed': 10, verified: 0, failed: 0 });
      expect(evaluationNamed(run.after, 'ledger-prod').compliance).toBe('NON_COMPLIANT');
    });

    it('reports unauthorized for the operations the role may not call, and would-succeed for the rest', async () => {
      // Prepare
      const scenario = await Scenario.demo({
        policy: dryRun,
        account: { deniedOperations: ['CreateVpcEndpoint', 'DeleteNatGateway'] },
      });

      // Act
      const run = await scenario.run();

      // Assess
      const byAction = run.record.actions
        .filter((action) => action.outcome !== 'blocked')
        .map((action) => `${action.action} ${action.outcome}`)
        .sort();
      expect(byAction).toEqual([
        'create-endpoint unauthorized',
        'create-endpoint unauthorized',
        'create-endpoint unauthorized',
        'enable-private-dns would-succeed',
        'extend-endpoint-coverage would-succeed',
        'extend-endpoint-coverage would-succeed',
        'remove-nat unauthorized',
        'remove-nat unauthorized',
        'replace-endpoint-policy would-succeed',
        'replace-endpoint-policy would-succeed',
      ]);
      for (const action of run.record.actions.filter((a) => a.outcome === 'unauthorized'))
        expect(action.detail).toMatch(/UnauthorizedOperation/);
      expect(scenario.account.writes()).toEqual([]);
    });
  });

  describe('detection', () => {
    it('collects every security group the endpoints use, as the offline snapshot holds them', async () => {
      // Prepare
      const scenario = await Scenario.demo();
      const offline = scenario
        .targets()
        .map(({ accountId, region }) => scenario.account.toSnapshot(accountId, region));

      // Act
      const scan = await scenario.scan();

      // Assess
      for (const snapshot of offline) {
        const used = new Set(snapshot.vpcEndpoints.flatMap((e) => e.securityGroupIds));
        const live = scan.snapshots.find(
          (s) => s.accountId === snapshot.accountId && s.region === snapshot.region,
        )!;
        expect(live.securityGroups.map((g) => g.groupId).sort()).toEqual([...used].sort());
      }
    });
  });
});
