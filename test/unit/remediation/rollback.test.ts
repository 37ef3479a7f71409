import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEST_RECORD_TRUST, writeSignedRecord } from '../../support/record-key';
import { InputValidationError, VpcGuardError } from '../../../shared/src/errors';
import type { RouteRef } from '../../../shared/src/remediation/plan-model';
import { natClientToken } from '../../../shared/src/remediation/actions/remove-nat';
import {
  AWS_DEFAULT_ENDPOINT_POLICY,
  isAwsDefaultEndpointPolicy,
} from '../../../shared/src/remediation/actions/replace-endpoint-policy';
import {
  RECORD_SCHEMA_VERSION,
  loadRemediationRecord,
  parseRemediationRecord,
  summarizeOutcomes,
  type ActionRecord,
  type CallRecord,
  type RemediationRecord,
} from '../../../shared/src/remediation/record';
import {
  RollbackRefusedError,
  planRollback,
  type RollbackStep,
} from '../../../shared/src/remediation/rollback';

/*
 * planRollback on hand-made apply records: one per action kind, each as applyRemediation writes it
 * (before, after, created, removedRoutes, calls), so the inverse is read from the same facts.
 */

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const VPC = 'vpc-0aaaaaaaaaaaaaaaa';
const RUN = 'run-2026-11-21';
const AT = '2026-11-21T10:00:00.000Z';
const TEMPLATE = JSON.stringify({
  Statement: [
    {
      Effect: 'Allow',
      Principal: '*',
      Action: '*',
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
    },
  ],
});
const PREVIOUS = JSON.stringify({
  Statement: [{ Effect: 'Allow', Principal: '*', Action: 'logs:*', Resource: '*' }],
});

function call(operation: string, input: Record<string, unknown>, result = 'ok'): CallRecord {
  return { operation, input, dryRun: false, result, at: AT };
}

function action(
  kind: ActionRecord['action'],
  subject: string,
  fields: Partial<ActionRecord> = {},
): ActionRecord {
  return {
    id: `${ACCOUNT}/${REGION}/${VPC}/${kind}/${subject}`,
    action: kind,
    accountId: ACCOUNT,
    region: REGION,
    vpcId: VPC,
    outcome: 'verified',
    detail: 'done; verified by rescan',
    calls: [],
    before: {},
    after: {},
    created: [],
    removedRoutes: [],
    remainingFindingKeys: [],
    ...fields,
  };
}

/** A plan carrying only what rollback reads from it: the action ids and their params. */
function planFor(actions: readonly ActionRecord[], params: Record<string, object> = {}) {
  return {
    schemaVersion: 1,
    createdAt: AT,
    organizationId: 'o-a1b2c3d4e5',
    policyDigest: 'digest',
    vpcs: [
      {
        accountId: ACCOUNT,
        region: REGION,
        vpcId: VPC,
        vpcName: 'ledger-prod',
        profile: 'regulated',
        mode: 'auto',
        fingerprint: 'f',
        actions: actions.map((a) => ({ id: a.id, params: params[a.id] ?? { service: 'logs' } })),
        notes: [],
      },
    ],
    totals: {
      actions: actions.length,
      planned: actions.length,
      blocked: 0,
      monthlyCostChangeUsd: 0,
    },
  } as unknown as RemediationRecord['plan'];
}

function record(
  actions: readonly ActionRecord[],
  fields: Partial<RemediationRecord> = {},
  params: Record<string, object> = {},
): RemediationRecord {
  return {
    schemaVersion: RECORD_SCHEMA_VERSION,
    runId: RUN,
    kind: 'apply',
    execution: 'apply',
    startedAt: AT,
    finishedAt: AT,
    identity: 'arn:aws:sts::111111111111:assumed-role/VpcGuardMember/test',
    plan: planFor(actions, params),
    actions,
    summary: summarizeOutcomes(actions),
    ...fields,
  };
}

const igwRoute: RouteRef = {
  routeTableId: 'rtb-0aaaaaaaaaaaaaaa1',
  destination: '0.0.0.0/0',
  target: { type: 'igw', id: 'igw-0aaaaaaaaaaaaaaa1' },
};
const natRoutes: RouteRef[] = [
  {
    routeTableId: 'rtb-0aaaaaaaaaaaaaaa2',
    destination: '0.0.0.0/0',
    target: { type: 'nat', id: 'nat-0aaaaaaaaaaaaaaa1' },
  },
  {
    routeTableId: 'rtb-0aaaaaaaaaaaaaaa3',
    destination: '0.0.0.0/0',
    target: { type: 'nat', id: 'nat-0aaaaaaaaaaaaaaa1' },
  },
];
const natBefore = {
  natGatewayId: 'nat-0aaaaaaaaaaaaaaa1',
  subnetId: 'subnet-0aaaaaaaaaaaaaaa1',
  connectivityType: 'public',
  allocationIds: ['eipalloc-0aaaaaaaaaaaaaaa1'],
  publicIps: ['203.0.113.10'],
  natState: 'available',
};

const replacePolicy = (before: Record<string, unknown>, endpointId = 'vpce-0aaaaaaaaaaaaaaa1') =>
  action('replace-endpoint-policy', endpointId, {
    before,
    calls: [call('ModifyVpcEndpoint', { VpcEndpointId: endpointId, PolicyDocument: '<n>' })],
  });
const createEndpoint = (created: ActionRecord['created'], service = 'kms') =>
  action('create-endpoint', service, {
    created,
    calls: [
      ...(created.some((c) => c.type === 'security-group')
        ? [call('CreateSecurityGroup', { GroupName: 'vpc-guard-endpoints' })]
        : []),
      call('CreateVpcEndpoint', { ServiceName: `com.amazonaws.${REGION}.${service}` }),
    ],
  });
const enableDns = action('enable-private-dns', 'logs', {
  before: { privateDnsEnabled: false },
  calls: [
    call('ModifyVpcEndpoint', { VpcEndpointId: 'vpce-0aaaaaaaaaaaaaaa4', PrivateDnsEnabled: true }),
  ],
});
const extendCoverage = action('extend-endpoint-coverage', 'ecr.api/coverage', {
  before: { subnetIds: ['subnet-0aaaaaaaaaaaaaaa1'], routeTableIds: [] },
  after: {
    addedSubnetIds: ['subnet-0aaaaaaaaaaaaaaa2', 'subnet-0aaaaaaaaaaaaaaa3'],
    addedRouteTableIds: [],
  },
  calls: [
    call('ModifyVpcEndpoint', {
      VpcEndpointId: 'vpce-0aaaaaaaaaaaaaaa5',
      AddSubnetIds: ['subnet-0aaaaaaaaaaaaaaa2', 'subnet-0aaaaaaaaaaaaaaa3'],
    }),
  ],
});
const removeInternetRoute = action(
  'remove-internet-route',
  `${igwRoute.routeTableId}/${igwRoute.destination}`,
  {
    before: { route: igwRoute, currentTarget: igwRoute.target, state: 'active' },
    removedRoutes: [igwRoute],
    calls: [
      call('DeleteRoute', {
        RouteTableId: igwRoute.routeTableId,
        DestinationCidrBlock: '0.0.0.0/0',
      }),
    ],
  },
);
const removeNat = action('remove-nat', natBefore.natGatewayId, {
  before: natBefore,
  removedRoutes: natRoutes,
  calls: [
    ...natRoutes.map((r) =>
      call('DeleteRoute', { RouteTableId: r.routeTableId, DestinationCidrBlock: r.destination }),
    ),
    call('DeleteNatGateway', { NatGatewayId: natBefore.natGatewayId }),
  ],
});

function only(steps: readonly RollbackStep[]): RollbackStep {
  expect(steps).toHaveLength(1);
  return steps[0]!;
}

describe('planRollback', () => {
  describe('inverts each action kind', () => {
    it('restores the previous policy document of a replaced endpoint policy', () => {
      // Prepare
      const replaced = replacePolicy({ policyDocument: PREVIOUS, endpointType: 'Interface' });
      const input = record(
        [replaced],
        {},
        { [replaced.id]: { service: 'logs', policyDocument: TEMPLATE } },
      );

      // Act
      const plan = planRollback(input, {});

      // Assess
      const step = only(plan.steps);
      expect(step).toMatchObject({
        action: 'restore-endpoint-policy',
        status: 'planned',
        undoes: replaced.id,
        id: `${ACCOUNT}/${REGION}/${VPC}/restore-endpoint-policy/vpce-0aaaaaaaaaaaaaaa1`,
        params: {
          endpointId: 'vpce-0aaaaaaaaaaaaaaa1',
          restore: 'previous',
          policyDocument: PREVIOUS,
          appliedPolicyDocument: TEMPLATE,
        },
      });
      expect(step.summary).toContain('vpce-0aaaaaaaaaaaaaaa1 (logs)');
      expect(step.preconditions.join(' ')).toContain('still the one run');
    });

    it('resets a gateway endpoint policy that had no document before', () => {
      // Prepare
      const replaced = replacePolicy({ policyDocument: null, endpointType: 'Gateway' });
      const input = record(
        [replaced],
        {},
        { [replaced.id]: { service: 's3', policyDocument: TEMPLATE } },
      );

      // Act
      const step = only(planRollback(input, {}).steps);

      // Assess
      expect(step.params).toMatchObject({ restore: 'reset', policyDocument: null });
    });

    it('writes the AWS default policy text back to an interface endpoint that had none, and says so', () => {
      // Prepare
      const replaced = replacePolicy({ policyDocument: null, endpointType: 'Interface' });
      const input = record(
        [replaced],
        {},
        { [replaced.id]: { service: 'sts', policyDocument: TEMPLATE } },
      );

      // Act
      const plan = planRollback(input, {});

      // Assess
      expect(only(plan.steps).params).toMatchObject({
        restore: 'aws-default',
        policyDocument: AWS_DEFAULT_ENDPOINT_POLICY,
      });
      expect(only(plan.steps).summary).toContain('AWS default full-access policy');
      expect(plan.notes.join('\n')).toContain(
        'vpce-0aaaaaaaaaaaaaaa1: no previous policy was recorded',
      );
    });

    it('blocks a policy restore when the record does not say which policy the run wrote', () => {
      // Prepare
      const replaced = replacePolicy({ policyDocument: PREVIOUS, endpointType: 'Interface' });

      // Act
      const step = only(planRollback(record([replaced], { plan: null }), {}).steps);

      // Assess
      expect(step.status).toBe('blocked');
      expect(step.reason).toContain('cannot be ruled out');
    });

    it('deletes the endpoint a create-endpoint made, then the security group it made', () => {
      // Prepare
      const created = createEndpoint([
        { type: 'security-group', id: 'sg-0aaaaaaaaaaaaaaa1' },
        { type: 'vpc-endpoint', id: 'vpce-0aaaaaaaaaaaaaaa9' },
      ]);

      // Act
      const plan = planRollback(record([created]), {});

      // Assess
      expect(plan.steps.map((s) => [s.action, s.params])).toEqual([
        [
          'delete-created-endpoint',
          {
            action: 'delete-created-endpoint',
            endpointId: 'vpce-0aaaaaaaaaaaaaaa9',
            service: 'logs',
          },
        ],
        [
          'delete-created-security-group',
          { action: 'delete-created-security-group', groupId: 'sg-0aaaaaaaaaaaaaaa1' },
        ],
      ]);
    });

    it('turns private DNS back off on the endpoint the successful call named', () => {
      // Act
      const step = only(planRollback(record([enableDns]), {}).steps);

      // Assess
      expect(step).toMatchObject({
        action: 'disable-private-dns',
        params: { endpointId: 'vpce-0aaaaaaaaaaaaaaa4' },
      });
    });

    it('removes exactly the subnets and route tables an extend-endpoint-coverage added', () => {
      // Act
      const step = only(planRollback(record([extendCoverage]), {}).steps);

      // Assess
      expect(step.params).toEqual({
        action: 'shrink-endpoint-coverage',
        endpointId: 'vpce-0aaaaaaaaaaaaaaa5',
        service: 'logs',
        removeSubnetIds: ['subnet-0aaaaaaaaaaaaaaa2', 'subnet-0aaaaaaaaaaaaaaa3'],
        removeRouteTableIds: [],
      });
    });

    it('recreates a removed internet route with the same destination and target', () => {
      // Act
      const step = only(planRollback(record([removeInternetRoute]), {}).steps);

      // Assess
      expect(step).toMatchObject({
        action: 'recreate-route',
        status: 'planned',
        summary: '+ route 0.0.0.0/0 -> igw-0aaaaaaaaaaaaaaa1 in rtb-0aaaaaaaaaaaaaaa1',
        params: { route: igwRoute, viaRecreatedNatOf: null },
      });
    });

    it('skips a removed route that was a blackhole, with the reason', () => {
      // Prepare
      const blackhole = action('remove-internet-route', 'rtb/0.0.0.0/0', {
        before: { route: natRoutes[0], currentTarget: natRoutes[0]!.target, state: 'blackhole' },
        removedRoutes: [natRoutes[0]!],
        calls: [call('DeleteRoute', { RouteTableId: natRoutes[0]!.routeTableId })],
      });

      // Act
      const step = only(planRollback(record([blackhole]), {}).steps);

      // Assess
      expect(step.status).toBe('skipped');
      expect(step.reason).toContain('blackhole');
    });

    it('blocks a deleted NAT gateway without recreateNat, saying to rerun with --recreate-nat', () => {
      // Act
      const plan = planRollback(record([removeNat]), {});

      // Assess
      const step = only(plan.steps);
      expect(step).toMatchObject({ action: 'recreate-nat', status: 'blocked' });
      expect(step.reason).toContain('rerun with --recreate-nat');
      expect(step.reason).toContain('rtb-0aaaaaaaaaaaaaaa2 0.0.0.0/0');
    });

    it('recreates a deleted NAT gateway in its subnet with its Elastic IP, then its routes, with recreateNat', () => {
      // Act
      const plan = planRollback(record([removeNat]), { recreateNat: true });

      // Assess
      expect(plan.steps.map((s) => [s.action, s.status])).toEqual([
        ['recreate-nat', 'planned'],
        ['recreate-route', 'planned'],
        ['recreate-route', 'planned'],
      ]);
      expect(plan.steps[0]!.params).toEqual({
        action: 'recreate-nat',
        natGatewayId: 'nat-0aaaaaaaaaaaaaaa1',
        subnetId: 'subnet-0aaaaaaaaaaaaaaa1',
        connectivityType: 'public',
        allocationId: 'eipalloc-0aaaaaaaaaaaaaaa1',
        clientToken: natClientToken(RUN, 'nat-0aaaaaaaaaaaaaaa1'),
        tags: {
          'vpc-guard:managed': 'true',
          'vpc-guard:replaces': 'nat-0aaaaaaaaaaaaaaa1',
          Name: 'vpc-guard-restored-nat-0aaaaaaaaaaaaaaa1',
        },
        routes: natRoutes,
      });
      expect(plan.steps.slice(1).map((s) => s.params)).toEqual(
        natRoutes.map((route) => ({
          action: 'recreate-route',
          route,
          viaRecreatedNatOf: 'nat-0aaaaaaaaaaaaaaa1',
        })),
      );
    });
  });

  it('lists the inverses in the reverse order of the run', () => {
    // Prepare
    const created = createEndpoint([{ type: 'vpc-endpoint', id: 'vpce-0aaaaaaaaaaaaaaa9' }]);
    const replaced = replacePolicy({ policyDocument: PREVIOUS, endpointType: 'Interface' });
    const run = [created, extendCoverage, enableDns, replaced, removeInternetRoute, removeNat];

    // Act
    const plan = planRollback(record(run), { recreateNat: true });

    // Assess
    expect(plan.steps.map((s) => s.action)).toEqual([
      'recreate-nat',
      'recreate-route',
      'recreate-route',
      'recreate-route',
      'restore-endpoint-policy',
      'disable-private-dns',
      'shrink-endpoint-coverage',
      'delete-created-endpoint',
    ]);
    expect(plan.steps.map((s) => s.undoes)).toEqual([
      removeNat.id,
      removeNat.id,
      removeNat.id,
      removeInternetRoute.id,
      replaced.id,
      enableDns.id,
      extendCoverage.id,
      created.id,
    ]);
  });

  it('deletes only what the run created: not a reused security group', () => {
    // Prepare: the group was reused, so the record lists only the endpoint.
    const created = createEndpoint([{ type: 'vpc-endpoint', id: 'vpce-0aaaaaaaaaaaaaaa9' }]);

    // Act
    const plan = planRollback(record([created]), {});

    // Assess
    expect(plan.steps.map((s) => s.action)).toEqual(['delete-created-endpoint']);
  });

  it('deletes the security group a create-endpoint made before its endpoint creation failed', () => {
    // Prepare
    const failed = action('create-endpoint', 'kms', {
      outcome: 'failed',
      detail: 'CreateVpcEndpoint: InternalError',
      created: [{ type: 'security-group', id: 'sg-0aaaaaaaaaaaaaaa1' }],
      calls: [
        call('CreateSecurityGroup', { GroupName: 'vpc-guard-endpoints' }),
        call('AuthorizeSecurityGroupIngress', { GroupId: 'sg-0aaaaaaaaaaaaaaa1' }),
        call('CreateVpcEndpoint', { ServiceName: 'com.amazonaws.us-east-1.kms' }, 'InternalError'),
      ],
    });

    // Act
    const plan = planRollback(record([failed]), {});

    // Assess
    expect(plan.steps.map((s) => [s.action, s.params])).toEqual([
      [
        'delete-created-security-group',
        { action: 'delete-created-security-group', groupId: 'sg-0aaaaaaaaaaaaaaa1' },
      ],
    ]);
  });

  it('points the routes of a NAT whose deletion failed back at that NAT, with no NAT step', () => {
    // Prepare: the routes were deleted, then DeleteNatGateway failed.
    const partial = action('remove-nat', natBefore.natGatewayId, {
      outcome: 'failed',
      detail: 'DeleteNatGateway: InternalError',
      before: natBefore,
      removedRoutes: natRoutes,
      calls: [
        ...natRoutes.map((r) => call('DeleteRoute', { RouteTableId: r.routeTableId })),
        call('DeleteNatGateway', { NatGatewayId: natBefore.natGatewayId }, 'InternalError'),
      ],
    });

    // Act
    const plan = planRollback(record([partial]), {});

    // Assess
    expect(plan.steps.map((s) => s.params)).toEqual(
      natRoutes.map((route) => ({ action: 'recreate-route', route, viaRecreatedNatOf: null })),
    );
  });

  it.each<[string, Partial<ActionRecord>]>([
    ['skipped', { outcome: 'skipped', detail: 'already right' }],
    ['blocked', { outcome: 'blocked', detail: 'blast-radius cap reached' }],
    [
      'failed before any write',
      {
        outcome: 'failed',
        detail: 'ModifyVpcEndpoint: InternalError',
        calls: [call('ModifyVpcEndpoint', { VpcEndpointId: 'vpce-1' }, 'InternalError')],
      },
    ],
  ])('plans nothing for an action that changed nothing (%s), and notes it', (_name, fields) => {
    // Prepare
    const unchanged = action('replace-endpoint-policy', 'vpce-0aaaaaaaaaaaaaaa1', fields);

    // Act
    const plan = planRollback(record([unchanged]), {});

    // Assess
    expect(plan.steps).toEqual([]);
    expect(plan.notes).toEqual([
      expect.stringContaining('1 action(s) of run run-2026-11-21 changed nothing'),
    ]);
  });

  it('throws when the record is itself a rollback', () => {
    // Prepare
    const rollback = record([], { kind: 'rollback', rollbackOf: 'run-earlier' });

    // Act
    const act = () => planRollback(rollback, {});

    // Assess
    expect(act).toThrow(RollbackRefusedError);
    expect(act).toThrow(/run run-2026-11-21 is a rollback of run run-earlier/);
  });

  it('throws when the record is a dry run', () => {
    // Prepare
    const dryRun = record([], { execution: 'dry-run' });

    // Act
    let error: unknown;
    try {
      planRollback(dryRun, {});
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(RollbackRefusedError);
    expect(error).toMatchObject({ refusal: 'dry-run-record', runId: RUN });
    expect((error as Error).message).toContain('was a dry run');
  });

  it('throws naming the field when an action lacks what its inverse needs', () => {
    // Prepare
    const broken = replacePolicy({ endpointType: 'Interface' });

    // Act
    const act = () => planRollback(record([broken]), {});

    // Assess
    expect(act).toThrow(InputValidationError);
    expect(act).toThrow('record run-2026-11-21: actions[0].before.policyDocument: expected');
  });

  it('derives a NAT ClientToken from the run and the NAT: stable, distinct, at most 64 characters', () => {
    // Act
    const token = natClientToken(RUN, 'nat-0aaaaaaaaaaaaaaa1');

    // Assess
    expect(natClientToken(RUN, 'nat-0aaaaaaaaaaaaaaa1')).toBe(token);
    expect(natClientToken('another-run', 'nat-0aaaaaaaaaaaaaaa1')).not.toBe(token);
    expect(token.length).toBeLessThanOrEqual(64);
    expect(token).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('isAwsDefaultEndpointPolicy', () => {
  it.each<[string, string | null, boolean]>([
    ['the text EC2 returns', AWS_DEFAULT_ENDPOINT_POLICY, true],
    [
      'the text without a Version',
      '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}',
      true,
    ],
    [
      'a principal of AWS *',
      '{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"}]}',
      true,
    ],
    ['a scoped policy', TEMPLATE, false],
    ['a narrower action', PREVIOUS, false],
    ['no document', null, false],
    ['text that is not JSON', 'not json', false],
  ])('judges %s', (_name, document, expected) => {
    // Act / Assess
    expect(isAwsDefaultEndpointPolicy(document)).toBe(expected);
  });
});

describe('loadRemediationRecord', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vpc-guard-record-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a record file written as JSON and recounts its summary', async () => {
    // Prepare
    const path = join(dir, 'record.json');
    const written = record([removeInternetRoute, enableDns]);
    await writeSignedRecord(path, { ...written, summary: {} });

    // Act
    const { record: loaded } = await loadRemediationRecord(path, TEST_RECORD_TRUST);

    // Assess
    expect(loaded.actions).toEqual(written.actions);
    expect(loaded.summary.verified).toBe(2);
    expect(planRollback(loaded, {})).toEqual(planRollback(written, {}));
  });

  it('throws naming the file and the field when a field rollback relies on is wrong', async () => {
    // Prepare
    const path = join(dir, 'record.json');
    const bad = record([
      { ...removeNat, before: { ...natBefore, subnetId: 42 } },
      { ...removeInternetRoute, outcome: 'done' as never },
    ]);
    await writeSignedRecord(path, bad);

    // Act
    const loading = loadRemediationRecord(path, TEST_RECORD_TRUST);

    // Assess
    await expect(loading).rejects.toThrow(InputValidationError);
    await expect(loadRemediationRecord(path, TEST_RECORD_TRUST)).rejects.toThrow(
      /record\.json: 2 problems[\s\S]*actions\[0\]\.before\.subnetId: expected string, got 42[\s\S]*actions\[1\]\.outcome: expected/,
    );
  });

  it('throws naming the file when it is not JSON or cannot be read', async () => {
    // Prepare
    const path = join(dir, 'record.json');
    await writeFile(path, '{ not json', 'utf8');

    // Act / Assess
    await expect(loadRemediationRecord(path, TEST_RECORD_TRUST)).rejects.toThrow(
      `${path}: not valid JSON`,
    );
    await expect(
      loadRemediationRecord(join(dir, 'missing.json'), TEST_RECORD_TRUST),
    ).rejects.toThrow(VpcGuardError);
    await expect(
      loadRemediationRecord(join(dir, 'missing.json'), TEST_RECORD_TRUST),
    ).rejects.toThrow('missing.json: cannot read the record file');
  });

  it('accepts fields it does not rely on as they are', () => {
    // Prepare
    const data = { ...record([enableDns]), extra: 'kept', plan: { anything: true } };

    // Act
    const parsed = parseRemediationRecord(data, 'record.json');

    // Assess
    expect(parsed.actions).toHaveLength(1);
    expect(planRollback(parsed, {}).steps.map((s) => s.action)).toEqual(['disable-private-dns']);
  });
});
