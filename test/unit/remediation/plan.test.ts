import { describe, expect, it } from 'vitest';
import {
  analyzeEndpointPolicy,
  endpointClientToken,
  evaluate,
  parseGuardPolicy,
  planRemediation,
  policyDigest,
  type GuardPolicy,
  type NetworkSnapshot,
  type PlannedAction,
} from '@vpc-guard/shared';
import {
  DEFAULT_POLICY,
  IDS,
  NOW,
  ORG_ID,
  TEST_POLICY_YAML,
  VPC_ID,
  snapshotWith,
} from '../../fixtures/network';

const NAT_ID = 'nat-0123456789abcdef0';
const ALL_ACTIONS =
  '[remove-nat, remove-internet-route, create-endpoint, enable-private-dns, extend-endpoint-coverage, replace-endpoint-policy]';

function policyWith(remediation: string): GuardPolicy {
  return parseGuardPolicy(
    TEST_POLICY_YAML.replace(
      '    remediation: { mode: auto, actions: [remove-nat, create-endpoint], maxChangesPerRun: 10 }',
      `    remediation: ${remediation}`,
    ),
  );
}

/** The compliant VPC with a NAT and its default route, and no logs endpoint. */
function brokenSnapshot(): NetworkSnapshot {
  return snapshotWith((s) => {
    s.natGateways = [
      {
        natGatewayId: NAT_ID,
        vpcId: VPC_ID,
        subnetId: IDS.SUBNET_B,
        state: 'available',
        allocationIds: ['eipalloc-0123456789abcdef0'],
        publicIps: ['52.1.2.3'],
      },
    ];
    s.routeTables![1]!.routes!.push({
      destination: '0.0.0.0/0',
      target: { type: 'nat', id: NAT_ID },
    });
    s.vpcEndpoints = s.vpcEndpoints!.filter((e) => e.vpcEndpointId !== 'vpce-00000000000000003');
  });
}

function plan(snapshot: NetworkSnapshot, policy: GuardPolicy) {
  const evaluations = evaluate([snapshot], policy, { now: NOW });
  return planRemediation({ snapshots: [snapshot], evaluations, policy, now: NOW });
}

function actionsOf(result: ReturnType<typeof plan>): PlannedAction[] {
  return result.vpcs.flatMap((vpc) => vpc.actions);
}

describe('planRemediation', () => {
  it('creates the missing endpoint before it removes the NAT, both for real in auto mode', () => {
    // Act
    const result = plan(brokenSnapshot(), policyWith(`{ mode: auto, actions: ${ALL_ACTIONS} }`));
    // Assess
    expect(actionsOf(result).map((a) => [a.action, a.status, a.execution])).toEqual([
      ['create-endpoint', 'planned', 'apply'],
      ['remove-nat', 'planned', 'apply'],
    ]);
    expect(result.totals).toMatchObject({ actions: 2, planned: 2, blocked: 0 });
  });

  it('puts the routes that target the NAT into its removal, with the findings they fix', () => {
    // Act
    const [, removeNat] = actionsOf(
      plan(brokenSnapshot(), policyWith(`{ mode: auto, actions: ${ALL_ACTIONS} }`)),
    );
    // Assess
    expect(removeNat!.params).toMatchObject({
      action: 'remove-nat',
      natGatewayId: NAT_ID,
      subnetId: IDS.SUBNET_B,
      allocationIds: ['eipalloc-0123456789abcdef0'],
      routes: [{ routeTableId: IDS.RTB_PRIVATE, destination: '0.0.0.0/0' }],
    });
    expect(removeNat!.findingKeys).toHaveLength(2);
    expect(removeNat!.monthlyCostChangeUsd).toBe(-36.5);
  });

  it.each([
    ['off', 0],
    ['notify', 0],
  ])('plans nothing in %s mode and says why', (mode, count) => {
    // Act
    const result = plan(brokenSnapshot(), policyWith(`{ mode: ${mode} }`));
    // Assess
    expect(actionsOf(result)).toHaveLength(count);
    expect(result.vpcs[0]!.notes.join(' ')).toContain(`${mode} mode`);
  });

  it('plans DryRun calls only in dry-run mode', () => {
    // Act
    const result = plan(brokenSnapshot(), policyWith(`{ mode: dry-run, actions: ${ALL_ACTIONS} }`));
    // Assess
    expect(actionsOf(result).every((a) => a.execution === 'dry-run')).toBe(true);
  });

  it("blocks an action the profile's list does not allow, naming the list", () => {
    // Act
    const actions = actionsOf(
      plan(brokenSnapshot(), policyWith('{ mode: auto, actions: [remove-nat] }')),
    );
    // Assess
    expect(actions.find((a) => a.action === 'create-endpoint')).toMatchObject({
      status: 'blocked',
      blockedReason: 'create-endpoint is not in profiles.regulated.remediation.actions',
    });
  });

  it('keeps egress while a required endpoint fix is blocked', () => {
    // Act
    const actions = actionsOf(
      plan(brokenSnapshot(), policyWith('{ mode: auto, actions: [remove-nat] }')),
    );
    // Assess
    expect(actions.find((a) => a.action === 'remove-nat')).toMatchObject({ status: 'blocked' });
    expect(actions.find((a) => a.action === 'remove-nat')!.blockedReason).toContain(
      'egress is removed only once the required endpoints are in place',
    );
  });

  it('stops at the blast-radius cap and says the next run continues', () => {
    // Act
    const actions = actionsOf(
      plan(
        brokenSnapshot(),
        policyWith(`{ mode: auto, actions: ${ALL_ACTIONS}, maxChangesPerRun: 1 }`),
      ),
    );
    // Assess
    expect(actions.map((a) => a.status)).toEqual(['planned', 'blocked']);
    expect(actions[1]!.blockedReason).toContain('maxChangesPerRun is 1');
  });

  it('plans nothing for an exempt VPC', () => {
    // Prepare
    const snapshot = brokenSnapshot();
    snapshot.vpcs[0]!.tags['vpc-guard:exempt'] = 'until=2027-01-31; reason=CHG-1';
    // Act
    const result = plan(snapshot, policyWith(`{ mode: auto, actions: ${ALL_ACTIONS} }`));
    // Assess
    expect(actionsOf(result)).toEqual([]);
    expect(result.vpcs[0]!.notes[0]).toMatch(/^exempt: /);
  });

  it('plans nothing for a VPC whose profile tag names no profile', () => {
    // Prepare
    const snapshot = brokenSnapshot();
    snapshot.vpcs[0]!.tags['vpc-guard:profile'] = 'regulatd';
    // Act
    const result = plan(snapshot, policyWith(`{ mode: auto, actions: ${ALL_ACTIONS} }`));
    // Assess
    expect(actionsOf(result)).toEqual([]);
    expect(result.vpcs[0]!.notes[0]).toContain('profile uncertain');
  });

  it.each([
    ['were not collected', undefined, 'were not collected'],
    ['are off', false, 'enableDnsHostnames is off'],
  ])('blocks private DNS when the VPC DNS attributes %s', (_name, hostnames, reason) => {
    // Prepare
    const snapshot = brokenSnapshot();
    if (hostnames === undefined)
      delete (snapshot.vpcs[0] as { enableDnsHostnames?: boolean }).enableDnsHostnames;
    else snapshot.vpcs[0]!.enableDnsHostnames = hostnames;
    // Act
    const create = actionsOf(
      plan(snapshot, policyWith(`{ mode: auto, actions: ${ALL_ACTIONS} }`)),
    )[0]!;
    // Assess
    expect(create).toMatchObject({ action: 'create-endpoint', status: 'blocked' });
    expect(create.blockedReason).toContain(reason);
  });

  it('creates an interface endpoint in one subnet per AZ, preferring subnets without an internet route', () => {
    // Prepare: a second subnet in us-east-1a, public (the main table gets an IGW route)
    const snapshot = snapshotWith((s) => {
      s.vpcEndpoints = s.vpcEndpoints!.filter((e) => e.vpcEndpointId !== 'vpce-00000000000000003');
      s.subnets!.push({
        subnetId: 'subnet-00000000000000003',
        vpcId: VPC_ID,
        availabilityZone: 'us-east-1a',
        availabilityZoneId: 'use1-az1',
        cidrBlock: '10.0.3.0/24',
      });
      s.routeTables![0]!.routes!.push({
        destination: '0.0.0.0/0',
        target: { type: 'igw', id: 'igw-0123456789abcdef0' },
      });
    });
    // Act
    const create = actionsOf(
      plan(snapshot, policyWith(`{ mode: auto, actions: ${ALL_ACTIONS} }`)),
    ).find((a) => a.action === 'create-endpoint')!;
    // Assess
    expect(create.params).toMatchObject({
      action: 'create-endpoint',
      type: 'Interface',
      serviceName: 'com.amazonaws.us-east-1.logs',
      subnetIds: [IDS.SUBNET_A, IDS.SUBNET_B],
      privateDnsEnabled: true,
      securityGroup: {
        create: { groupName: 'vpc-guard-endpoints', ingressCidrs: ['10.0.0.0/16'] },
      },
      tags: { 'vpc-guard:managed': 'true', Name: 'vpc-guard-logs' },
    });
  });

  it('reuses the security group vpc-guard manages in the VPC', () => {
    // Prepare
    const snapshot = brokenSnapshot();
    snapshot.securityGroups[0]!.tags['vpc-guard:managed'] = 'true';
    // Act
    const create = actionsOf(
      plan(snapshot, policyWith(`{ mode: auto, actions: ${ALL_ACTIONS} }`)),
    )[0]!;
    // Assess
    expect(create.params).toMatchObject({ securityGroup: { reuse: 'sg-0000000000000e001' } });
  });

  it('derives the same ClientToken for the same VPC, service and policy, and another for another policy', () => {
    // Prepare
    const policy = policyWith(`{ mode: auto, actions: ${ALL_ACTIONS} }`);
    const other = policyWith(`{ mode: auto, actions: ${ALL_ACTIONS}, maxChangesPerRun: 9 }`);
    // Act
    const first = actionsOf(plan(brokenSnapshot(), policy))[0]!;
    const again = actionsOf(plan(brokenSnapshot(), policy))[0]!;
    const changed = actionsOf(plan(brokenSnapshot(), other))[0]!;
    // Assess
    const token = (a: PlannedAction) =>
      a.params.action === 'create-endpoint' ? a.params.clientToken : '';
    expect(token(first)).toBe(token(again));
    expect(token(first)).toBe(
      endpointClientToken('111111111111', VPC_ID, 'logs', 'Interface', policyDigest(policy)),
    );
    expect(token(first)).not.toBe(token(changed));
    expect(token(first).length).toBeLessThanOrEqual(64);
  });

  it('replaces a full-access policy with a template that passes its own rule, keeping the previous one', () => {
    // Prepare
    const snapshot = snapshotWith((s) => {
      s.vpcEndpoints!.find((e) => e.vpcEndpointId === 'vpce-00000000000000002')!.policyDocument =
        DEFAULT_POLICY;
    });
    // Act
    const [replace] = actionsOf(
      plan(snapshot, policyWith(`{ mode: auto, actions: ${ALL_ACTIONS} }`)),
    );
    // Assess
    expect(replace).toMatchObject({ action: 'replace-endpoint-policy', status: 'planned' });
    const params = replace!.params;
    if (params.action !== 'replace-endpoint-policy') throw new Error('wrong action');
    expect(params.previousPolicyDocument).toBe(DEFAULT_POLICY);
    expect(
      analyzeEndpointPolicy(params.policyDocument, {
        organizationId: ORG_ID,
        region: snapshot.region,
      }).verdict,
    ).toBe('scoped');
  });

  it('is deterministic: the same input gives the same plan', () => {
    // Prepare
    const policy = policyWith(`{ mode: auto, actions: ${ALL_ACTIONS} }`);
    // Act / Assess
    expect(JSON.stringify(plan(brokenSnapshot(), policy))).toBe(
      JSON.stringify(plan(brokenSnapshot(), policy)),
    );
  });
});
