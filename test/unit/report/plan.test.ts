import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../shared/src/evaluate';
import { parseGuardPolicy } from '../../../shared/src/policy/load';
import { parseRemediationPlan } from '../../../shared/src/remediation/plan-file';
import { planRemediation } from '../../../shared/src/remediation/plan';
import type {
  PlannedAction,
  RemediationPlan,
  VpcPlan,
} from '../../../shared/src/remediation/plan-model';
import type { ActionRecord, RemediationRecord } from '../../../shared/src/remediation/record';
import { summarizeOutcomes } from '../../../shared/src/remediation/record';
import {
  describePlanTotals,
  renderPlanDiff,
  renderPlanJson,
} from '../../../shared/src/report/plan';
import { describeOutcomes, renderRecordSummary } from '../../../shared/src/report/record';
import { parseNetworkSnapshots } from '../../../shared/src/snapshot/file';

const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');
const VPC = 'vpc-0a0000000000000a1';

function action(overrides: Partial<PlannedAction> & Pick<PlannedAction, 'summary'>): PlannedAction {
  return {
    id: `111111111111/us-east-1/${VPC}/enable-private-dns/logs`,
    action: 'enable-private-dns',
    accountId: '111111111111',
    region: 'us-east-1',
    vpcId: VPC,
    status: 'planned',
    execution: 'apply',
    findingKeys: [`111111111111/us-east-1/${VPC}/endpoint-misconfigured/logs/private-dns`],
    reason: 'Interface endpoint vpce-1 (logs) has private DNS off',
    preconditions: [],
    expectedEffect: 'vpce-1 has private DNS enabled',
    monthlyCostChangeUsd: 0,
    params: { action: 'enable-private-dns', endpointId: 'vpce-1', service: 'logs' },
    ...overrides,
  };
}

function vpcPlan(overrides: Partial<VpcPlan>): VpcPlan {
  return {
    accountId: '111111111111',
    region: 'us-east-1',
    vpcId: VPC,
    vpcName: 'payments-prod',
    profile: 'regulated',
    mode: 'auto',
    fingerprint: '0123456789abcdef',
    actions: [],
    notes: [],
    ...overrides,
  };
}

function plan(vpcs: VpcPlan[]): RemediationPlan {
  const all = vpcs.flatMap((v) => v.actions);
  const planned = all.filter((a) => a.status === 'planned');
  return {
    schemaVersion: 1,
    createdAt: '2026-11-21T00:00:00.000Z',
    organizationId: 'o-a1b2c3d4e5',
    policyDigest: 'fedcba9876543210',
    vpcs,
    totals: {
      actions: all.length,
      planned: planned.length,
      blocked: all.length - planned.length,
      monthlyCostChangeUsd: planned.reduce((t, a) => t + a.monthlyCostChangeUsd, 0),
    },
  };
}

const SAMPLE = plan([
  vpcPlan({
    actions: [
      action({
        id: `111111111111/us-east-1/${VPC}/create-endpoint/sts`,
        action: 'create-endpoint',
        summary:
          '+ interface endpoint sts in us-east-1a, us-east-1b with private DNS (data-perimeter policy)',
        reason: 'Required Interface endpoint for sts (com.amazonaws.us-east-1.sts) is missing',
        monthlyCostChangeUsd: 14.6,
        params: {
          action: 'create-endpoint',
          service: 'sts',
          serviceName: 'com.amazonaws.us-east-1.sts',
          type: 'Interface',
          subnetIds: ['subnet-a', 'subnet-b'],
          routeTableIds: [],
          securityGroup: { reuse: 'sg-1' },
          privateDnsEnabled: true,
          policyDocument: '{"Statement":[]}',
          clientToken: 'vpcguard-0123',
          tags: { 'vpc-guard:managed': 'true' },
        },
      }),
      action({ summary: '~ private DNS on for vpce-1 (logs)' }),
      action({
        id: `111111111111/us-east-1/${VPC}/remove-nat/nat-1`,
        action: 'remove-nat',
        summary: '- NAT gateway nat-1 in subnet-1; Elastic IP kept',
        reason: 'Public NAT gateway nat-1 is forbidden by profile "regulated"',
        status: 'blocked',
        blockedReason: 'remove-nat is not in profiles.regulated.remediation.actions',
        monthlyCostChangeUsd: -36.5,
        params: {
          action: 'remove-nat',
          natGatewayId: 'nat-1',
          subnetId: 'subnet-1',
          connectivityType: 'public',
          allocationIds: ['eipalloc-1'],
          publicIps: ['3.3.3.3'],
          routes: [],
        },
      }),
    ],
    notes: ['1 finding has no automatic fix'],
  }),
  vpcPlan({
    vpcId: 'vpc-0a0000000000000a2',
    vpcName: null,
    mode: 'dry-run',
    actions: [
      action({
        id: '111111111111/us-east-1/vpc-0a0000000000000a2/replace-endpoint-policy/vpce-2',
        vpcId: 'vpc-0a0000000000000a2',
        summary: '~ policy of vpce-2 (kms) -> data-perimeter template',
        action: 'replace-endpoint-policy',
        reason: 'vpce-2 (kms): full-access policy',
        execution: 'dry-run',
        params: {
          action: 'replace-endpoint-policy',
          endpointId: 'vpce-2',
          service: 'kms',
          endpointType: 'Interface',
          policyDocument: '{"Statement":[]}',
          previousPolicyDocument: null,
        },
      }),
    ],
  }),
  vpcPlan({
    vpcId: 'vpc-0a0000000000000a3',
    vpcName: 'vendor-gateway',
    notes: ['exempt: Exempt until 2027-03-31: vendor appliance'],
  }),
]);

describe('renderPlanDiff', () => {
  it('writes each VPC with its changes, why, status and monthly cost', () => {
    // Act
    const text = renderPlanDiff(SAMPLE);

    // Assess
    expect(text).toBe(
      [
        `111111111111/us-east-1/${VPC}  payments-prod  profile regulated, mode auto`,
        '  + interface endpoint sts in us-east-1a, us-east-1b with private DNS (data-perimeter policy)',
        '      why: Required Interface endpoint for sts (com.amazonaws.us-east-1.sts) is missing',
        '      planned, +$14.60/mo',
        '  ~ private DNS on for vpce-1 (logs)',
        '      why: Interface endpoint vpce-1 (logs) has private DNS off',
        '      planned',
        '  - NAT gateway nat-1 in subnet-1; Elastic IP kept',
        '      why: Public NAT gateway nat-1 is forbidden by profile "regulated"',
        '      blocked: remove-nat is not in profiles.regulated.remediation.actions',
        '  note: 1 finding has no automatic fix',
        '  monthly cost change: +$14.60/mo',
        '',
        '111111111111/us-east-1/vpc-0a0000000000000a2  profile regulated, mode dry-run',
        '  ~ policy of vpce-2 (kms) -> data-perimeter template',
        '      why: vpce-2 (kms): full-access policy',
        '      planned (dry-run: DryRun calls only, no change)',
        '  monthly cost change: $0.00/mo',
        '',
        '111111111111/us-east-1/vpc-0a0000000000000a3  vendor-gateway  profile regulated, mode auto',
        '  nothing planned: exempt: Exempt until 2027-03-31: vendor appliance',
        '',
        'Plan: 4 actions in 2 VPCs: 3 planned, 1 blocked; monthly cost change +$14.60/mo (planned actions; data processing excluded)',
        '',
      ].join('\n'),
    );
  });

  it('says there is nothing to change for an empty plan', () => {
    // Act
    const text = renderPlanDiff(plan([]));

    // Assess
    expect(text).toBe('vpc-guard plan: nothing to change: every VPC is compliant.\n');
  });

  it.each([
    [true, true],
    [false, false],
  ])('colours the diff only when asked (color: %s)', (color, coloured) => {
    // Act
    const text = renderPlanDiff(SAMPLE, { color });

    // Assess
    expect(text.includes(ESC)).toBe(coloured);
    expect(text.replace(ANSI, '')).toBe(renderPlanDiff(SAMPLE));
  });

  it('colours additions green, removals red and modifications yellow', () => {
    // Act
    const text = renderPlanDiff(SAMPLE, { color: true });

    // Assess
    expect(text).toContain(`${ESC}[32m+ interface endpoint sts`);
    expect(text).toContain(`${ESC}[31m- NAT gateway nat-1`);
    expect(text).toContain(`${ESC}[33m~ private DNS on`);
  });

  it('renders the demo estate with every kind of change and blocked reason', () => {
    // Prepare
    const root = new URL('../../../', import.meta.url);
    const snapshots = parseNetworkSnapshots(
      JSON.parse(readFileSync(new URL('examples/demo-account.json', root), 'utf8')),
    );
    const policy = parseGuardPolicy(readFileSync(new URL('examples/policy.yaml', root), 'utf8'));
    const now = new Date('2026-11-21T00:00:00Z');
    const demo = planRemediation({
      snapshots,
      evaluations: evaluate(snapshots, policy, { now }),
      policy,
      now,
    });

    // Act
    const text = renderPlanDiff(demo);

    // Assess
    expect(text).toMatch(/^ {2}\+ interface endpoint kms in us-east-1a, us-east-1b, us-east-1c/m);
    expect(text).toMatch(/^ {2}- NAT gateway nat-\w+ in subnet-\w+ and 3 routes to it/m);
    expect(text).toMatch(/^ {2}~ policy of vpce-\w+ \(kms\) -> data-perimeter template$/m);
    expect(text).toContain(
      'blocked: remove-internet-route is not in profiles.regulated.remediation.actions',
    );
    expect(text).toContain('nothing planned: exempt: Exempt until 2027-03-31');
    expect(text).toContain(`Plan: ${describePlanTotals(demo)}; monthly cost change`);
  });
});

describe('renderPlanJson', () => {
  it('writes the plan as JSON that parses back to the same plan', () => {
    // Act
    const text = renderPlanJson(SAMPLE);

    // Assess
    expect(text.endsWith('}\n')).toBe(true);
    expect(parseRemediationPlan(JSON.parse(text))).toEqual(SAMPLE);
  });

  it.each([
    [{ ...SAMPLE, schemaVersion: 2 }, 'schemaVersion: expected 1'],
    [{ ...SAMPLE, vpcs: 'none' }, 'vpcs: expected array'],
    [
      plan([
        vpcPlan({ actions: [action({ summary: 'x', params: { action: 'remove-nat' } as never })] }),
      ]),
      'vpcs[0].actions[0].params',
    ],
  ])('refuses a plan file that is not a plan: %#', (data, message) => {
    // Act
    const act = () => parseRemediationPlan(JSON.parse(JSON.stringify(data)), 'plan.json');

    // Assess
    expect(act).toThrow(message);
  });
});

describe('renderRecordSummary', () => {
  function record(
    actions: ActionRecord[],
    execution: 'apply' | 'dry-run' = 'apply',
  ): RemediationRecord {
    return {
      schemaVersion: 1,
      runId: '00000000-0000-4000-8000-000000000001',
      kind: 'apply',
      execution,
      startedAt: '2026-11-21T00:00:00.000Z',
      finishedAt: '2026-11-21T00:01:00.000Z',
      identity: 'arn:aws:sts::111111111111:assumed-role/Ops/alice',
      plan: null,
      actions,
      summary: summarizeOutcomes(actions),
    };
  }

  function outcome(id: string, result: ActionRecord['outcome'], detail: string): ActionRecord {
    return {
      id,
      action: 'create-endpoint',
      accountId: '111111111111',
      region: 'us-east-1',
      vpcId: VPC,
      outcome: result,
      detail,
      calls: [],
      before: {},
      after: {},
      created: [],
      removedRoutes: [],
      remainingFindingKeys: [],
    };
  }

  it('writes one line per action with its outcome and detail, then the counts', () => {
    // Act
    const text = renderRecordSummary(
      record([
        outcome('a/create-endpoint/sts', 'verified', 'created vpce-9; verified by rescan'),
        outcome('a/remove-nat/nat-1', 'blocked', 'the VPC changed since the plan: re-plan'),
      ]),
    );

    // Assess
    expect(text).toBe(
      [
        '  verified       a/create-endpoint/sts',
        '                 created vpce-9; verified by rescan',
        '  blocked        a/remove-nat/nat-1',
        '                 the VPC changed since the plan: re-plan',
        'Apply: 1 verified, 1 blocked; run 00000000-0000-4000-8000-000000000001 as arn:aws:sts::111111111111:assumed-role/Ops/alice',
        '',
      ].join('\n'),
    );
  });

  it('marks a dry-run and counts nothing when there were no actions', () => {
    // Act
    const text = renderRecordSummary(record([], 'dry-run'), { color: true });

    // Assess
    expect(text.replace(ANSI, '')).toBe(
      'Apply (dry-run: nothing changed): no actions; run 00000000-0000-4000-8000-000000000001 as arn:aws:sts::111111111111:assumed-role/Ops/alice\n',
    );
    expect(describeOutcomes(summarizeOutcomes([]))).toBe('no actions');
  });
});
