import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GenerateMacCommand,
  KMSClient,
  KMSInvalidMacException,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliDependencies } from '../../functions/cli/dependencies';
import { main } from '../../functions/cli/main';
import type { NetworkSnapshotInput } from '../../shared/src/snapshot/schema';
import { parseRemediationRecord } from '../../shared/src/remediation/record';
import { LocalRecordSigner, signRecord } from '../../shared/src/remediation/record-integrity';
import { applyRollback, planRollback } from '../../shared/src/remediation/rollback';
import { recordingContext, REPO_ROOT } from '../cli/support';
import { TEST_RECORD_KEY, TEST_RECORD_SIGNER } from '../support/record-key';
import { SimulatedAccount } from '../support/simulated-ec2';

/*
 * A remediation record is untrusted input: whoever can write the records directory can hand one to
 * `vpc-guard rollback`. A record must carry a MAC that verifies with the operator's key, and every
 * rollback step is bounded by what AWS shows now, even for a correctly signed record.
 */

const DEMO = JSON.parse(
  readFileSync(join(REPO_ROOT, 'examples', 'demo-account.json'), 'utf8'),
) as NetworkSnapshotInput[];
const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const NOW = '2026-11-21T00:00:00Z';
/** orders-prod: regulated, with a private route table vpc-guard never touched. */
const ORDERS = 'vpc-07b42084a64dd51ba';
const ORDERS_PRIVATE_TABLE = 'rtb-0e34a8e6f4cc8c8ee';
const ORDERS_IGW = 'igw-006747a3b0b7efc0c';
/** orders-prod-kms and orders-prod-sts: endpoints vpc-guard does not manage. */
const ORDERS_KMS = 'vpce-0455c2ad92cc84f3a';
const ORDERS_STS = 'vpce-0be71d1d3645c6cc7';
/** payments-prod: another regulated VPC of the same account and region. */
const PAYMENTS = 'vpc-015ed053227c9a799';
const ALLOW_ALL = JSON.stringify({
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
});

function account(): SimulatedAccount {
  return SimulatedAccount.fromSnapshots(DEMO, { clock: () => Date.parse(NOW) });
}

function endpointNow(sim: SimulatedAccount, endpointId: string) {
  return sim.toSnapshot(ACCOUNT, REGION).vpcEndpoints.find((e) => e.vpcEndpointId === endpointId)!;
}

function routesOf(sim: SimulatedAccount, tableId: string): string[] {
  return sim
    .toSnapshot(ACCOUNT, REGION)
    .routeTables.find((t) => t.routeTableId === tableId)!
    .routes.map((r) => `${r.destination} -> ${r.target.id}`);
}

function call(operation: string, input: Record<string, unknown>) {
  return { operation, input, dryRun: false, result: 'ok', at: NOW };
}

function action(vpcId: string, kind: string, subject: string, fields: Record<string, unknown>) {
  return {
    id: `${ACCOUNT}/${REGION}/${vpcId}/${kind}/${subject}`,
    action: kind,
    accountId: ACCOUNT,
    region: REGION,
    vpcId,
    outcome: 'verified',
    detail: 'done',
    calls: [],
    before: {},
    after: {},
    created: [],
    removedRoutes: [],
    remainingFindingKeys: [],
    ...fields,
  };
}

function record(actions: readonly ReturnType<typeof action>[], planDocuments = new Map()) {
  return {
    schemaVersion: 1,
    runId: 'forged-run',
    kind: 'apply',
    execution: 'apply',
    startedAt: NOW,
    finishedAt: NOW,
    identity: 'arn:aws:sts::111111111111:assumed-role/VpcGuardRemediation/run',
    plan: {
      vpcs: [
        {
          actions: actions.map((a) => ({
            id: a.id,
            params: planDocuments.has(a.id) ? { policyDocument: planDocuments.get(a.id) } : {},
          })),
        },
      ],
    },
    actions,
  };
}

/** The repro: an internet route, a policy rewrite and a coverage change vpc-guard never made. */
function forgedRecord(sim: SimulatedAccount) {
  const route = {
    routeTableId: ORDERS_PRIVATE_TABLE,
    destination: '0.0.0.0/1',
    target: { type: 'igw', id: ORDERS_IGW },
  };
  const removeRoute = action(ORDERS, 'remove-internet-route', `${ORDERS_PRIVATE_TABLE}/0.0.0.0/1`, {
    calls: [
      call('DeleteRoute', {
        RouteTableId: ORDERS_PRIVATE_TABLE,
        DestinationCidrBlock: '0.0.0.0/1',
      }),
    ],
    before: { route, state: 'active' },
    removedRoutes: [route],
  });
  const policy = action(ORDERS, 'replace-endpoint-policy', ORDERS_KMS, {
    calls: [call('ModifyVpcEndpoint', { VpcEndpointId: ORDERS_KMS })],
    before: { policyDocument: ALLOW_ALL, endpointType: 'Interface' },
  });
  const coverage = action(ORDERS, 'extend-endpoint-coverage', ORDERS_STS, {
    calls: [call('ModifyVpcEndpoint', { VpcEndpointId: ORDERS_STS })],
    after: { addedSubnetIds: [...endpointNow(sim, ORDERS_STS).subnetIds], addedRouteTableIds: [] },
  });
  const current = endpointNow(sim, ORDERS_KMS).policyDocument ?? null;
  return record([removeRoute, policy, coverage], new Map([[policy.id, current]]));
}

function cliDeps(sim: SimulatedAccount): CliDependencies {
  const sts = new STSClient({ region: REGION });
  mockClient(sts)
    .on(GetCallerIdentityCommand)
    .resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Ops/alice` });
  return {
    ec2: ({ accountId, region }) => sim.client({ accountId, region, retryBackoff: 'none' }),
    sts: () => sts,
    organizations: () => {
      throw new Error('not used');
    },
    assumeRole: () => () => Promise.reject(new Error('not used')),
    terminal: { interactive: false, readLine: () => Promise.resolve(undefined) },
  };
}

function rollbackDeps(sim: SimulatedAccount) {
  return {
    ec2For: (accountId: string, region: string) => sim.client({ accountId, region }),
    identity: 'test',
    clock: () => new Date(NOW),
    sleep: () => Promise.resolve(sim.advance()),
  };
}

describe('vpc-guard rollback given a record it cannot trust', () => {
  let work: string;

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'vpc-guard-records-'));
  });

  afterEach(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses a hand-made unsigned record with exit 2 and makes no AWS call, even with --yes', async () => {
    // Prepare
    const sim = account();
    const path = join(work, 'forged.json');
    writeFileSync(path, JSON.stringify(forgedRecord(sim)));
    const routesBefore = routesOf(sim, ORDERS_PRIVATE_TABLE);
    const context = recordingContext({ cwd: work, now: () => new Date(NOW) });

    // Act
    const code = await main(['rollback', path, '--yes'], context, cliDeps(sim));

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toContain('not signed');
    expect(sim.calls).toEqual([]);
    expect(routesOf(sim, ORDERS_PRIVATE_TABLE)).toEqual(routesBefore);
  });

  it('refuses a signed record changed after signing, with exit 2 and no AWS call, even with --accept-unsigned', async () => {
    // Prepare: a record signed with the operator's key, then one route added to it by hand.
    const sim = account();
    const keyFile = join(work, 'record.key');
    writeFileSync(keyFile, TEST_RECORD_KEY);
    const genuine = await signRecord(record([]), TEST_RECORD_SIGNER);
    const forged = forgedRecord(sim);
    const path = join(work, 'edited.json');
    writeFileSync(path, JSON.stringify({ ...genuine, actions: forged.actions, plan: forged.plan }));
    const context = recordingContext({ cwd: work, now: () => new Date(NOW) });

    // Act
    const code = await main(
      ['rollback', path, '--yes', '--record-key-file', keyFile, '--accept-unsigned'],
      context,
      cliDeps(sim),
    );

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toContain('MAC does not verify');
    expect(sim.calls).toEqual([]);
  });

  it('refuses a record signed with another key, with exit 2 and no AWS call', async () => {
    // Prepare: a well-formed record, signed by a key that is not the operator's.
    const sim = account();
    const keyFile = join(work, 'record.key');
    writeFileSync(keyFile, TEST_RECORD_KEY);
    const other = new LocalRecordSigner(Buffer.alloc(32, 1));
    const path = join(work, 'other-key.json');
    writeFileSync(path, JSON.stringify(await signRecord(forgedRecord(sim), other)));
    const context = recordingContext({ cwd: work, now: () => new Date(NOW) });

    // Act
    const code = await main(
      ['rollback', path, '--yes', '--record-key-file', keyFile],
      context,
      cliDeps(sim),
    );

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toContain('MAC does not verify');
    expect(sim.calls).toEqual([]);
  });

  it('shows every write of an unsigned record in full with --accept-unsigned, and writes nothing without --yes', async () => {
    // Prepare
    const sim = account();
    const path = join(work, 'forged.json');
    writeFileSync(path, JSON.stringify(forgedRecord(sim)));
    const context = recordingContext({ cwd: work, now: () => new Date(NOW) });

    // Act
    const code = await main(['rollback', path, '--accept-unsigned'], context, cliDeps(sim));

    // Assess
    expect(code).toBe(0);
    const out = context.stdout.join('');
    expect(out).toContain('"destination": "0.0.0.0/1"');
    expect(out).toContain(JSON.stringify(ALLOW_ALL));
    expect(context.stderr.join('')).toContain('not verified');
    expect(sim.writes()).toEqual([]);
  });
});

describe('vpc-guard rollback of a record the deployed functions logged', () => {
  let work: string;

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'vpc-guard-records-'));
  });

  afterEach(() => {
    rmSync(work, { recursive: true, force: true });
  });

  /** KMS as an operator reaches the deployed key: VerifyMac allowed, GenerateMac denied. */
  function verifyOnlyKms(): KMSClient {
    const kms = new KMSClient({ region: REGION });
    const mock = mockClient(kms);
    mock.on(VerifyMacCommand).callsFake(async (input: { Message: Uint8Array; Mac: Uint8Array }) => {
      if (!(await TEST_RECORD_SIGNER.verify(input.Message, input.Mac))) {
        throw new KMSInvalidMacException({ message: 'invalid MAC', $metadata: {} });
      }
      return { MacValid: true };
    });
    mock.on(GenerateMacCommand).rejects(
      Object.assign(new Error('not authorized to perform kms:GenerateMac'), {
        name: 'AccessDeniedException',
      }),
    );
    return kms;
  }

  it('takes the log entry as the record it holds, verifies it with KMS, and writes its own record unsigned', async () => {
    // Prepare: a run's record signed with the deployment's key, saved as the functions log it
    const sim = account();
    const signed = await signRecord(forgedRecord(sim), TEST_RECORD_SIGNER);
    const path = join(work, 'logged.json');
    writeFileSync(
      path,
      JSON.stringify({ level: 'INFO', message: 'remediation record', record: signed }),
    );
    const context = recordingContext({ cwd: work, now: () => new Date(NOW) });
    const kms = verifyOnlyKms();

    // Act
    const code = await main(
      ['rollback', path, '--yes', '--record-key', 'alias/vpc-guard-records', '--records', 'out'],
      context,
      { ...cliDeps(sim), kms: () => kms },
    );

    // Assess: verified (a signed record is a run vpc-guard made) and rolled back; the rollback's own
    // record is kept, unsigned, and the operator is told why.
    const stderr = context.stderr.join('');
    expect(stderr).not.toContain('not verified');
    expect(stderr).toContain('cannot sign here');
    expect(code).toBe(0);
    expect(sim.writes().map((w) => w.operation)).toEqual(
      expect.arrayContaining(['ModifyVpcEndpoint', 'CreateRoute']),
    );
    const written = readdirSync(join(work, 'out'));
    expect(written).toHaveLength(1);
    const own = JSON.parse(readFileSync(join(work, 'out', written[0]!), 'utf8')) as {
      kind: string;
      integrity?: unknown;
    };
    expect(own.kind).toBe('rollback');
    expect(own.integrity).toBeUndefined();
  });

  it('refuses a logged record whose MAC does not verify with the key', async () => {
    // Prepare: the logged record edited after it was signed
    const sim = account();
    const signed = await signRecord(record([]), TEST_RECORD_SIGNER);
    const forged = forgedRecord(sim);
    const path = join(work, 'logged.json');
    writeFileSync(
      path,
      JSON.stringify({
        message: 'remediation record',
        record: { ...signed, actions: forged.actions, plan: forged.plan },
      }),
    );
    const context = recordingContext({ cwd: work, now: () => new Date(NOW) });
    const kms = verifyOnlyKms();

    // Act
    const code = await main(
      ['rollback', path, '--yes', '--record-key', 'alias/vpc-guard-records'],
      context,
      { ...cliDeps(sim), kms: () => kms },
    );

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toContain('MAC does not verify');
    expect(sim.calls).toEqual([]);
  });
});

describe('rollback steps bounded by what AWS shows now, even for a signed record', () => {
  it('does not recreate a route in a table of another VPC than the one the record names', async () => {
    // Prepare: the action names payments-prod, the route table is orders-prod's.
    const sim = account();
    const route = {
      routeTableId: ORDERS_PRIVATE_TABLE,
      destination: '0.0.0.0/1',
      target: { type: 'igw', id: ORDERS_IGW },
    };
    const data = record([
      action(PAYMENTS, 'remove-internet-route', `${ORDERS_PRIVATE_TABLE}/0.0.0.0/1`, {
        calls: [
          call('DeleteRoute', {
            RouteTableId: ORDERS_PRIVATE_TABLE,
            DestinationCidrBlock: '0.0.0.0/1',
          }),
        ],
        before: { route, state: 'active' },
        removedRoutes: [route],
      }),
    ]);

    // Act
    const result = await applyRollback(
      planRollback(parseRemediationRecord(data)),
      rollbackDeps(sim),
    );

    // Assess
    expect(result.actions.map((a) => a.outcome)).toEqual(['blocked']);
    expect(result.actions[0]!.detail).toContain(`not in ${PAYMENTS}`);
    expect(sim.writes()).toEqual([]);
  });

  it('does not recreate a route the record lists as removed without a DeleteRoute call for it', () => {
    // Prepare
    const route = {
      routeTableId: ORDERS_PRIVATE_TABLE,
      destination: '0.0.0.0/1',
      target: { type: 'igw', id: ORDERS_IGW },
    };
    const data = record([
      action(ORDERS, 'remove-internet-route', `${ORDERS_PRIVATE_TABLE}/0.0.0.0/0`, {
        calls: [
          call('DeleteRoute', {
            RouteTableId: ORDERS_PRIVATE_TABLE,
            DestinationCidrBlock: '0.0.0.0/0',
          }),
        ],
        removedRoutes: [route],
      }),
    ]);

    // Act
    const plan = planRollback(parseRemediationRecord(data));

    // Assess
    expect(plan.steps.map((s) => s.status)).toEqual(['blocked']);
    expect(plan.steps[0]!.reason).toContain('shows no DeleteRoute');
  });

  it('does not rewrite the policy or shrink the coverage of endpoints of another VPC than the one the record names', async () => {
    // Prepare: the actions name payments-prod; the endpoints are orders-prod's.
    const sim = account();
    const current = endpointNow(sim, ORDERS_KMS).policyDocument ?? null;
    const subnets = [...endpointNow(sim, ORDERS_STS).subnetIds];
    const policy = action(PAYMENTS, 'replace-endpoint-policy', ORDERS_KMS, {
      calls: [call('ModifyVpcEndpoint', { VpcEndpointId: ORDERS_KMS })],
      before: { policyDocument: ALLOW_ALL, endpointType: 'Interface' },
    });
    const coverage = action(PAYMENTS, 'extend-endpoint-coverage', ORDERS_STS, {
      calls: [call('ModifyVpcEndpoint', { VpcEndpointId: ORDERS_STS })],
      after: { addedSubnetIds: subnets, addedRouteTableIds: [] },
    });
    const data = record([policy, coverage], new Map([[policy.id, current]]));

    // Act
    const result = await applyRollback(
      planRollback(parseRemediationRecord(data)),
      rollbackDeps(sim),
    );

    // Assess
    expect(result.actions.map((a) => a.outcome)).toEqual(['blocked', 'blocked']);
    expect(sim.writes()).toEqual([]);
    expect(endpointNow(sim, ORDERS_KMS).policyDocument ?? null).toBe(current);
    expect(endpointNow(sim, ORDERS_STS).subnetIds).toEqual(subnets);
  });

  it('does not recreate a NAT gateway in a subnet of another VPC than the one the record names', async () => {
    // Prepare: payments-prod named, the subnet is orders-prod's (where its NAT lives).
    const sim = account();
    const nat = DEMO[0]!.natGateways!.find((n) => n.vpcId === ORDERS)!;
    const data = record([
      action(PAYMENTS, 'remove-nat', 'nat-0000000000000000a', {
        calls: [call('DeleteNatGateway', { NatGatewayId: 'nat-0000000000000000a' })],
        before: {
          natGatewayId: 'nat-0000000000000000a',
          subnetId: nat.subnetId,
          connectivityType: 'private',
          allocationIds: [],
        },
      }),
    ]);

    // Act
    const result = await applyRollback(
      planRollback(parseRemediationRecord(data), { recreateNat: true }),
      rollbackDeps(sim),
    );

    // Assess
    expect(result.actions.map((a) => a.outcome)).toEqual(['blocked']);
    expect(sim.writes()).toEqual([]);
  });
});
