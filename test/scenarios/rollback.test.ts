import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTagsCommand, ModifyVpcEndpointCommand } from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENDPOINT_MUTATION_BUCKET, RateLimiterRegistry } from '../../shared/src/aws/rate-limiter';
import { evaluate } from '../../shared/src/evaluate';
import { parseGuardPolicy } from '../../shared/src/policy/load';
import type { GuardPolicy } from '../../shared/src/policy/schema';
import { applyRemediation } from '../../shared/src/remediation/apply';
import { planRemediation } from '../../shared/src/remediation/plan';
import { isAwsDefaultEndpointPolicy } from '../../shared/src/remediation/actions/replace-endpoint-policy';
import { loadRemediationRecord, type RemediationRecord } from '../../shared/src/remediation/record';
import {
  applyRollback,
  planRollback,
  type RollbackDependencies,
} from '../../shared/src/remediation/rollback';
import { collectNetworkSnapshot } from '../../shared/src/snapshot/collect';
import { loadNetworkSnapshots } from '../../shared/src/snapshot/file';
import type { NetworkSnapshot } from '../../shared/src/snapshot/schema';
import { TEST_RECORD_TRUST, writeSignedRecord } from '../support/record-key';
import { SimulatedAccount, type SimulatedAccountOptions } from '../support/simulated-ec2';

/*
 * Rollback end to end on the simulated demo account: detect -> plan -> apply, then plan the
 * rollback from the apply record and apply it; the account must be back where it was for
 * everything vpc-guard touched, and a second rollback must change nothing.
 */

const root = new URL('../../', import.meta.url);
const NOW = new Date('2026-11-21T00:00:00Z');
const clock = () => NOW;

let demo: NetworkSnapshot[];
/** The demo policy, allowed every action the planner has and enough changes to fix everything. */
let policy: GuardPolicy;

beforeAll(async () => {
  demo = await loadNetworkSnapshots(fileURLToPath(new URL('examples/demo-account.json', root)));
  const base = parseGuardPolicy(
    await readFile(new URL('examples/policy.yaml', root), 'utf8'),
    'examples/policy.yaml',
  );
  const regulated = base.profiles['regulated']!;
  policy = {
    ...base,
    profiles: {
      ...base.profiles,
      regulated: {
        ...regulated,
        remediation: {
          ...regulated.remediation,
          actions: [...regulated.remediation.actions, 'remove-internet-route'],
          maxChangesPerRun: 100,
        },
      },
    },
  };
});

/** EC2's real endpoint bucket on a virtual clock: the runs respect it without waiting for it. */
function virtualLimiter(): { limiter: RateLimiterRegistry; waitedMs: () => number } {
  let now = 0;
  let waited = 0;
  const limiter = new RateLimiterRegistry(ENDPOINT_MUTATION_BUCKET, {
    clock: () => now,
    sleep: (ms) => {
      now += ms;
      waited += ms;
      return Promise.resolve();
    },
  });
  return { limiter, waitedMs: () => waited };
}

interface Applied {
  readonly account: SimulatedAccount;
  readonly before: NetworkSnapshot[];
  readonly record: RemediationRecord;
}

/** Loads the demo into a simulated account, then plans and applies its remediation. */
async function applyDemo(options: SimulatedAccountOptions = {}): Promise<Applied> {
  const account = SimulatedAccount.fromSnapshots(demo, { clock: () => NOW.getTime(), ...options });
  const before = demo.map((s) => account.toSnapshot(s.accountId, s.region));
  // The CLI reads DNS attributes before planning private DNS; so does this collection.
  const live = await Promise.all(
    demo.map((s) =>
      collectNetworkSnapshot({
        ec2: account.client({ accountId: s.accountId, region: s.region }),
        accountId: s.accountId,
        region: s.region,
        dnsAttributesFor: s.vpcs.map((v) => v.vpcId),
        now: clock,
      }),
    ),
  );
  const plan = planRemediation({
    snapshots: live,
    evaluations: evaluate(live, policy, { now: NOW }),
    policy,
    now: NOW,
  });
  const record = await applyRemediation(plan, policy, {
    ec2For: (accountId, region) => account.client({ accountId, region }),
    identity: 'arn:aws:sts::111111111111:assumed-role/VpcGuardMember/scenario',
    clock,
    endpointLimiter: virtualLimiter().limiter,
    runId: 'apply-run',
  });
  return { account, before, record };
}

function rollbackDeps(
  account: SimulatedAccount,
  extra: Partial<RollbackDependencies> = {},
): RollbackDependencies {
  return {
    ec2For: (accountId, region) => account.client({ accountId, region }),
    identity: 'arn:aws:sts::111111111111:assumed-role/VpcGuardMember/scenario',
    clock,
    endpointLimiter: virtualLimiter().limiter,
    // Time passing, for the simulator: asynchronous changes finish.
    sleep: () => Promise.resolve(account.advance()),
    ...extra,
  };
}

function after(account: SimulatedAccount): NetworkSnapshot[] {
  return demo.map((s) => account.toSnapshot(s.accountId, s.region));
}

const LIVE_NAT = new Set(['pending', 'available']);

/**
 * What rollback restores, comparable across snapshots: live endpoints with their policy, private
 * DNS and coverage, security groups, and every route. `natIds` renames NAT targets (old -> new);
 * `dropRoute` leaves out routes rollback cannot restore.
 */
function restorable(
  snapshots: readonly NetworkSnapshot[],
  natIds: ReadonlyMap<string, string> = new Map(),
  dropRoute: (target: { type: string; id: string }, state: string) => boolean = () => false,
) {
  return snapshots.map((s) => ({
    where: `${s.accountId}/${s.region}`,
    endpoints: s.vpcEndpoints
      .filter((e) => e.state === 'available' || e.state === 'pending')
      .map((e) => ({
        id: e.vpcEndpointId,
        policy: e.policyDocument ?? null,
        privateDns: e.privateDnsEnabled,
        subnets: [...e.subnetIds].sort(),
        routeTables: [...e.routeTableIds].sort(),
      }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    securityGroups: s.securityGroups.map((g) => g.groupId).sort(),
    routes: s.routeTables
      .flatMap((t) =>
        t.routes
          .filter((r) => !dropRoute(r.target, r.state))
          .map((r) => {
            const id =
              r.target.type === 'nat' ? (natIds.get(r.target.id) ?? r.target.id) : r.target.id;
            return `${t.routeTableId} ${r.destination} -> ${id} (${r.state})`;
          }),
      )
      .sort(),
  }));
}

/** NAT gateways the apply run deleted, from its record. */
function deletedNats(record: RemediationRecord): string[] {
  return record.actions.flatMap((a) =>
    a.action === 'remove-nat' &&
    a.calls.some((c) => c.operation === 'DeleteNatGateway' && c.result === 'ok')
      ? [String(a.before['natGatewayId'])]
      : [],
  );
}

describe('rollback of an apply run on the simulated demo account', () => {
  it('restores policies, private DNS, coverage and routes, deletes what vpc-guard created, and blocks the deleted NATs', async () => {
    // Prepare
    const { account, before, record } = await applyDemo();
    const gone = new Set(deletedNats(record));
    expect(record.summary.verified).toBeGreaterThanOrEqual(10);
    expect(gone.size).toBe(2);

    // Act
    const plan = planRollback(record, {});
    const rollback = await applyRollback(plan, rollbackDeps(account, { runId: 'rollback-run' }));

    // Assess
    expect(rollback).toMatchObject({
      kind: 'rollback',
      execution: 'apply',
      rollbackOf: 'apply-run',
      runId: 'rollback-run',
    });
    expect(rollback.summary).toMatchObject({ failed: 0, 'still-failing': 0, blocked: gone.size });
    expect(rollback.actions.filter((a) => a.outcome === 'blocked').map((a) => a.action)).toEqual([
      'recreate-nat',
      'recreate-nat',
    ]);
    // Routes to a deleted NAT cannot come back without one; a blackhole is not restored.
    const unrestorable = (target: { type: string; id: string }, state: string) =>
      (target.type === 'nat' && gone.has(target.id)) || state === 'blackhole';
    expect(restorable(after(account))).toEqual(restorable(before, new Map(), unrestorable));
  });

  it('recreates each deleted NAT in its subnet with its Elastic IP and points its routes at it, with recreateNat', async () => {
    // Prepare
    const { account, before, record } = await applyDemo();

    // Act
    const rollback = await applyRollback(
      planRollback(record, { recreateNat: true }),
      rollbackDeps(account),
    );

    // Assess
    expect(rollback.summary).toMatchObject({ failed: 0, 'still-failing': 0, blocked: 0 });
    const now = after(account);
    const natIds = new Map<string, string>();
    for (const oldId of deletedNats(record)) {
      const old = before.flatMap((s) => s.natGateways).find((n) => n.natGatewayId === oldId)!;
      const replacement = now
        .flatMap((s) => s.natGateways)
        .find(
          (n) =>
            LIVE_NAT.has(n.state) &&
            n.subnetId === old.subnetId &&
            n.allocationIds[0] === old.allocationIds[0],
        );
      expect(
        replacement,
        `a live NAT in ${old.subnetId} with ${old.allocationIds[0]}`,
      ).toBeDefined();
      expect(replacement).toMatchObject({
        state: 'available',
        connectivityType: old.connectivityType,
        tags: { 'vpc-guard:managed': 'true', 'vpc-guard:replaces': oldId },
      });
      natIds.set(oldId, replacement!.natGatewayId);
    }
    expect(natIds.size).toBe(2);
    const blackhole = (_target: unknown, state: string) => state === 'blackhole';
    expect(restorable(now)).toEqual(restorable(before, natIds, blackhole));
  });

  it('writes nothing to what people tagged vpc-guard:protected since the run', async () => {
    // Prepare: every endpoint, security group and route table of the demo protected after the run
    const { account, record } = await applyDemo();
    for (const snapshot of after(account)) {
      const ids = [
        ...snapshot.vpcEndpoints.map((e) => e.vpcEndpointId),
        ...snapshot.securityGroups.map((g) => g.groupId),
        ...snapshot.routeTables.map((t) => t.routeTableId),
        ...snapshot.subnets.map((t) => t.subnetId),
      ];
      await account.client({ accountId: snapshot.accountId, region: snapshot.region }).send(
        new CreateTagsCommand({
          Resources: ids,
          Tags: [{ Key: 'vpc-guard:protected', Value: 'change freeze' }],
        }),
      );
    }
    account.resetCalls();

    // Act
    const rollback = await applyRollback(
      planRollback(record, { recreateNat: true }),
      rollbackDeps(account),
    );

    // Assess
    expect(account.writes()).toEqual([]);
    const blockedByTag = rollback.actions.filter((a) => a.detail.includes('vpc-guard:protected'));
    expect(blockedByTag.length).toBeGreaterThanOrEqual(10);
    expect(rollback.summary.verified).toBe(0);
  });

  it('changes nothing when the same rollback runs a second time', async () => {
    // Prepare
    const { account, record } = await applyDemo();
    const plan = planRollback(record, { recreateNat: true });
    await applyRollback(plan, rollbackDeps(account));
    const restored = after(account);
    account.resetCalls();

    // Act
    const second = await applyRollback(plan, rollbackDeps(account));

    // Assess
    expect(account.writes()).toEqual([]);
    expect(new Set(second.actions.map((a) => a.outcome))).toEqual(new Set(['skipped']));
    expect(after(account)).toEqual(restored);
  });

  it('only asks EC2 in a dry run: every write carries DryRun and nothing changes', async () => {
    // Prepare
    const { account, record } = await applyDemo();
    const applied = after(account);
    account.resetCalls();

    // Act
    const dryRun = await applyRollback(
      planRollback(record, { recreateNat: true }),
      rollbackDeps(account, { dryRun: true }),
    );

    // Assess
    expect(dryRun.execution).toBe('dry-run');
    expect(account.writes()).toEqual([]);
    expect(account.calls.filter((c) => c.mutating).every((c) => c.dryRun)).toBe(true);
    expect(dryRun.summary['would-succeed']).toBeGreaterThanOrEqual(10);
    expect(dryRun.summary).toMatchObject({ failed: 0, blocked: 0, unauthorized: 0 });
    expect(after(account)).toEqual(applied);
  });

  it('sends endpoint mutations through the token bucket', async () => {
    // Prepare
    const { account, record } = await applyDemo();
    const bucket = virtualLimiter();
    account.resetCalls();

    // Act
    await applyRollback(
      planRollback(record, {}),
      rollbackDeps(account, { endpointLimiter: bucket.limiter }),
    );

    // Assess: more endpoint writes in one account-region than the bucket's burst had to wait.
    const endpointWrites = account
      .writes()
      .filter((c) => ['ModifyVpcEndpoint', 'DeleteVpcEndpoints'].includes(c.operation));
    expect(endpointWrites.length).toBeGreaterThan(ENDPOINT_MUTATION_BUCKET.capacity);
    expect(bucket.waitedMs()).toBeGreaterThan(0);
  });

  it('leaves a policy someone changed after the run alone, and restores the rest', async () => {
    // Prepare
    const { account, record } = await applyDemo();
    const replaced = record.actions.find((a) => a.action === 'replace-endpoint-policy')!;
    const endpointId = String(
      replaced.calls.find((c) => c.operation === 'ModifyVpcEndpoint')!.input['VpcEndpointId'],
    );
    const theirs = JSON.stringify({
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*' }],
    });
    await account
      .client({ accountId: replaced.accountId, region: replaced.region })
      .send(new ModifyVpcEndpointCommand({ VpcEndpointId: endpointId, PolicyDocument: theirs }));

    // Act
    const rollback = await applyRollback(planRollback(record, {}), rollbackDeps(account));

    // Assess
    const step = rollback.actions.find((a) =>
      a.id.endsWith(`restore-endpoint-policy/${endpointId}`),
    );
    expect(step).toMatchObject({ outcome: 'blocked' });
    expect(step!.detail).toContain('changed since the run');
    const endpoint = account
      .toSnapshot(replaced.accountId, replaced.region)
      .vpcEndpoints.find((e) => e.vpcEndpointId === endpointId);
    expect(endpoint?.policyDocument).toBe(theirs);
    expect(rollback.summary.verified).toBeGreaterThanOrEqual(10);
  });

  it('waits for deleting endpoints to release the security group they used before deleting it', async () => {
    // Prepare: endpoints stay `deleting` for a while, so the group is still in use at first.
    const { account, before, record } = await applyDemo({ endpointDeletionDelayCalls: 12 });
    let waits = 0;

    // Act
    const rollback = await applyRollback(
      planRollback(record, {}),
      rollbackDeps(account, {
        sleep: () => {
          waits += 1;
          return Promise.resolve();
        },
        waitAttempts: 30,
      }),
    );

    // Assess
    const group = rollback.actions.find((a) => a.action === 'delete-created-security-group')!;
    expect(group.outcome).toBe('verified');
    expect(group.calls.filter((c) => c.result === 'DependencyViolation').length).toBeGreaterThan(0);
    expect(waits).toBeGreaterThan(0);
    account.advance();
    expect(restorable(after(account)).map((s) => s.securityGroups)).toEqual(
      restorable(before).map((s) => s.securityGroups),
    );
  });

  it('reports a security group still held by a deleting endpoint as still-failing after bounded retries, and a rerun finishes', async () => {
    // Prepare
    const { account, record } = await applyDemo({ endpointDeletionDelayCalls: 1_000 });
    const plan = planRollback(record, {});

    // Act
    const first = await applyRollback(
      plan,
      rollbackDeps(account, { sleep: () => Promise.resolve(), waitAttempts: 3 }),
    );
    account.advance();
    const second = await applyRollback(plan, rollbackDeps(account));

    // Assess
    const firstGroup = first.actions.find((a) => a.action === 'delete-created-security-group')!;
    expect(firstGroup.outcome).toBe('still-failing');
    expect(firstGroup.detail).toMatch(/after 3 attempts .*still deleting.*rerun the rollback/);
    expect(firstGroup.calls.filter((c) => c.operation === 'DeleteSecurityGroup')).toHaveLength(3);
    const secondGroup = second.actions.find((a) => a.action === 'delete-created-security-group')!;
    expect(secondGroup.outcome).toBe('verified');
  });

  it('reports a recreated NAT that is not available yet as still-failing, blocks its routes, and a rerun finishes with the same NAT', async () => {
    // Prepare
    const { account, record } = await applyDemo({ natCreationDelayCalls: 1_000 });
    const plan = planRollback(record, { recreateNat: true });

    // Act
    const first = await applyRollback(
      plan,
      rollbackDeps(account, { sleep: () => Promise.resolve(), waitAttempts: 2 }),
    );
    account.advance();
    const second = await applyRollback(plan, rollbackDeps(account));

    // Assess
    const nats = (r: RemediationRecord) => r.actions.filter((a) => a.action === 'recreate-nat');
    expect(nats(first).map((a) => a.outcome)).toEqual(['still-failing', 'still-failing']);
    expect(nats(first)[0]!.detail).toContain('still pending after 2 checks');
    const natRoutes = first.actions.filter(
      (a) => a.action === 'recreate-route' && a.detail.includes('no NAT gateway replaces'),
    );
    expect(natRoutes.length).toBe(5);
    expect(natRoutes.every((a) => a.outcome === 'blocked')).toBe(true);
    expect(nats(second).map((a) => a.outcome)).toEqual(['skipped', 'skipped']);
    expect(second.summary).toMatchObject({ blocked: 0, failed: 0, 'still-failing': 0 });
    expect(account.callsOf('CreateNatGateway').filter((c) => c.outcome === 'ok')).toHaveLength(2);
  });

  it('records a failed AWS call on its step and carries on with the others', async () => {
    // Prepare
    const { account, record } = await applyDemo({
      failOn: [{ operation: 'CreateRoute', nth: 1, code: 'InvalidParameterValue' }],
    });

    // Act
    const rollback = await applyRollback(planRollback(record, {}), rollbackDeps(account));

    // Assess
    const failed = rollback.actions.filter((a) => a.outcome === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ action: 'recreate-route' });
    expect(failed[0]!.detail).toContain('CreateRoute: InvalidParameterValue');
    expect(rollback.summary.verified).toBeGreaterThanOrEqual(10);
  });

  it('reports unauthorized in a dry run when the role lacks a permission', async () => {
    // Prepare
    const { account, record } = await applyDemo({ deniedOperations: ['DeleteVpcEndpoints'] });

    // Act
    const dryRun = await applyRollback(
      planRollback(record, {}),
      rollbackDeps(account, { dryRun: true }),
    );

    // Assess
    const deletions = dryRun.actions.filter((a) => a.action === 'delete-created-endpoint');
    expect(deletions.length).toBe(3);
    expect(deletions.every((a) => a.outcome === 'unauthorized')).toBe(true);
    expect(dryRun.summary.unauthorized).toBe(3);
  });

  it('resets a gateway endpoint that had no policy, and gives an interface endpoint the AWS default text', async () => {
    // Prepare: a hand-made run that replaced two policies recorded as absent.
    const account = SimulatedAccount.fromSnapshots(demo, { clock: () => NOW.getTime() });
    const payments = demo[0]!;
    const vpcId = payments.vpcs[0]!.vpcId;
    const endpoints = payments.vpcEndpoints.filter(
      (e) => e.vpcId === vpcId && ['s3', 'sts'].some((s) => e.serviceName.endsWith(`.${s}`)),
    );
    expect(endpoints.map((e) => e.type).sort()).toEqual(['Gateway', 'Interface']);
    const written = JSON.stringify({
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalOrgID': policy.organization.id } },
        },
      ],
    });
    const ec2 = account.client({ accountId: payments.accountId, region: payments.region });
    for (const endpoint of endpoints) {
      await ec2.send(
        new ModifyVpcEndpointCommand({
          VpcEndpointId: endpoint.vpcEndpointId,
          PolicyDocument: written,
        }),
      );
    }
    const actions = endpoints.map((endpoint) => ({
      id: `${payments.accountId}/${payments.region}/${vpcId}/replace-endpoint-policy/${endpoint.vpcEndpointId}`,
      action: 'replace-endpoint-policy' as const,
      accountId: payments.accountId,
      region: payments.region,
      vpcId,
      outcome: 'verified' as const,
      detail: 'replaced',
      calls: [
        {
          operation: 'ModifyVpcEndpoint',
          input: { VpcEndpointId: endpoint.vpcEndpointId },
          dryRun: false,
          result: 'ok',
          at: NOW.toISOString(),
        },
      ],
      before: { policyDocument: null, endpointType: endpoint.type },
      after: {},
      created: [],
      removedRoutes: [],
      remainingFindingKeys: [],
    }));
    const record = {
      schemaVersion: 1,
      runId: 'hand-made-run',
      kind: 'apply',
      execution: 'apply',
      startedAt: NOW.toISOString(),
      finishedAt: NOW.toISOString(),
      identity: 'test',
      plan: {
        vpcs: [
          { actions: actions.map((a) => ({ id: a.id, params: { policyDocument: written } })) },
        ],
      },
      actions,
    };
    const dir = await mkdtemp(join(tmpdir(), 'vpc-guard-rollback-'));
    const path = join(dir, 'hand-made-run.json');
    await writeSignedRecord(path, record);

    try {
      // Act
      const rollback = await applyRollback(
        planRollback((await loadRemediationRecord(path, TEST_RECORD_TRUST)).record, {}),
        rollbackDeps(account),
      );

      // Assess
      expect(rollback.actions.map((a) => a.outcome)).toEqual(['verified', 'verified']);
      const modify = (type: string) => {
        const endpointId = endpoints.find((e) => e.type === type)!.vpcEndpointId;
        const step = rollback.actions.find((a) => a.id.endsWith(endpointId))!;
        return step.calls.find((c) => c.operation === 'ModifyVpcEndpoint')!.input;
      };
      expect(modify('Gateway')).toMatchObject({ ResetPolicy: true });
      expect(modify('Interface')).not.toHaveProperty('ResetPolicy');
      const now = account.toSnapshot(payments.accountId, payments.region).vpcEndpoints;
      for (const endpoint of endpoints) {
        const policyNow = now.find(
          (e) => e.vpcEndpointId === endpoint.vpcEndpointId,
        )?.policyDocument;
        expect(isAwsDefaultEndpointPolicy(policyNow)).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('plans the same rollback from the record file as from the record in memory', async () => {
    // Prepare
    const { record } = await applyDemo();
    const dir = await mkdtemp(join(tmpdir(), 'vpc-guard-rollback-'));
    const path = join(dir, 'apply-run.json');
    await writeSignedRecord(path, record);

    try {
      // Act
      const { record: loaded } = await loadRemediationRecord(path, TEST_RECORD_TRUST);

      // Assess
      expect(planRollback(loaded, { recreateNat: true })).toEqual(
        planRollback(record, { recreateNat: true }),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to roll back its own record', async () => {
    // Prepare
    const { account, record } = await applyDemo();
    const rollback = await applyRollback(planRollback(record, {}), rollbackDeps(account));

    // Act
    const act = () => planRollback(rollback, {});

    // Assess
    expect(act).toThrow(/is a rollback of run apply-run/);
  });
});
