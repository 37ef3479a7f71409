import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateNatGatewayCommand } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  ENDPOINT_MUTATION_BUCKET,
  InputValidationError,
  RateLimiterRegistry,
  parseRemediationPlan,
  type NetworkSnapshotInput,
} from '@vpc-guard/shared';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliDependencies } from '../../functions/cli/dependencies';
import { main } from '../../functions/cli/main';
import type { GuardPolicy } from '../../shared/src/policy/schema';
import type { ActionParams } from '../../shared/src/remediation/actions/registry';
import type { PlannedAction, RemediationPlan } from '../../shared/src/remediation/plan-model';
import { REPO_ROOT, recordingContext } from '../cli/support';
import { Scenario, vpcIdNamed, type PlannedScan } from '../scenarios/harness';
import { SimulatedAccount } from '../support/simulated-ec2';

/**
 * A saved plan is untrusted input: `apply` plans again from the policy and what AWS shows now, and
 * runs only the actions of the file that equal what the policy plans, in every parameter. An edited
 * file can leave actions out, never add, widen or reorder them; the preview shows what will be
 * written, never the file's own words.
 */

const ALLOW_EVERYTHING = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
});
const FOREIGN_SERVICE = 'com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0';

/** The example policy with room under the cap for every fix of the demo estate in one run. */
function roomy(policy: GuardPolicy): void {
  policy.profiles['regulated']!.remediation.maxChangesPerRun = 100;
}

type Params<A extends ActionParams['action']> = Extract<ActionParams, { action: A }>;

/** Plan data as a hand could edit it. */
type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };

/** A deep copy of a plan, as a saved file would hold it, to edit. */
function copyOf(plan: RemediationPlan): Mutable<RemediationPlan> {
  return structuredClone(plan) as Mutable<RemediationPlan>;
}

/** The first planned action of a plan matching `pick`. */
function plannedAction(
  plan: Mutable<RemediationPlan>,
  pick: (action: PlannedAction) => boolean,
): Mutable<PlannedAction> {
  const found = plan.vpcs
    .flatMap((vpc) => vpc.actions)
    .find((action) => action.status === 'planned' && pick(action));
  if (!found) throw new Error('no such planned action in the demo plan');
  return found;
}

/** A planned NAT removal in a VPC where the policy also plans endpoint creations. */
function natRemovalWithEndpoints(plan: Mutable<RemediationPlan>): Mutable<PlannedAction> {
  return plannedAction(
    plan,
    (a) =>
      a.action === 'remove-nat' &&
      plan.vpcs
        .find((v) => v.vpcId === a.vpcId)!
        .actions.some((b) => b.status === 'planned' && b.action === 'create-endpoint'),
  );
}

const interfaceEndpoint = (action: PlannedAction) =>
  action.params.action === 'create-endpoint' && action.params.type === 'Interface';

/** The writes (DryRun included) the simulated account saw since `from`. */
function writesSince(scenario: Scenario, from: number) {
  return scenario.account.calls.slice(from).filter((call) => call.mutating);
}

describe('a saved plan handed to applyRemediation', () => {
  let scenario: Scenario;
  let planned: PlannedScan;

  beforeEach(async () => {
    scenario = await Scenario.demo({ policy: roomy });
    planned = await scenario.plan();
  });

  it('writes no endpoint policy the policy does not plan, and names the field', async () => {
    // Prepare: the repro: an allow-everything policy under the summary of the template
    const edited = copyOf(planned.plan);
    const target = plannedAction(edited, interfaceEndpoint);
    (target.params as { policyDocument: string }).policyDocument = ALLOW_EVERYTHING;
    const from = scenario.account.calls.length;

    // Act
    const record = await scenario.apply(edited);

    // Assess
    const params = target.params as Params<'create-endpoint'>;
    expect(record.actions.find((a) => a.id === target.id)).toMatchObject({
      outcome: 'blocked',
      detail: `plan file's create-endpoint ${params.serviceName}: policyDocument differs from what the policy plans now`,
      calls: [],
    });
    const writes = writesSince(scenario, from);
    expect(writes.length).toBeGreaterThan(0); // the rest of the plan still runs
    expect(writes.filter((call) => JSON.stringify(call.input).includes('"Principal":"*"'))).toEqual(
      [],
    );
  });

  it('creates no endpoint to a foreign service with a security group open to 0.0.0.0/0', async () => {
    // Prepare
    const edited = copyOf(planned.plan);
    const target = plannedAction(edited, interfaceEndpoint);
    Object.assign(target.params, {
      serviceName: FOREIGN_SERVICE,
      securityGroup: {
        create: { groupName: 'open', description: 'open', ingressCidrs: ['0.0.0.0/0'] },
      },
      privateDnsEnabled: false,
    });
    const from = scenario.account.calls.length;

    // Act
    const record = await scenario.apply(edited);

    // Assess
    const detail = record.actions.find((a) => a.id === target.id)?.detail ?? '';
    expect(detail).toMatch(
      /^plan file's create-endpoint com\.amazonaws\.vpce\.us-east-1\.vpce-svc-0123456789abcdef0: .*privateDnsEnabled.*securityGroup.*serviceName.* differ from what the policy plans now$/,
    );
    const writes = writesSince(scenario, from);
    expect(JSON.stringify(writes)).not.toContain(FOREIGN_SERVICE);
    expect(JSON.stringify(writes)).not.toContain('"GroupName":"open"');
    const ingress = writes.filter((c) => c.operation === 'AuthorizeSecurityGroupIngress');
    expect(JSON.stringify(ingress)).not.toContain('0.0.0.0/0');
  });

  it.each<{ field: string; edit: (params: Params<'create-endpoint'>) => void }>([
    { field: 'subnetIds', edit: (p) => void (p as Mutable<typeof p>).subnetIds.reverse() },
    { field: 'clientToken', edit: (p) => Object.assign(p, { clientToken: 'vpcguard-forged' }) },
    { field: 'type', edit: (p) => Object.assign(p, { type: 'Gateway' }) },
    { field: 'tags.Owner', edit: (p) => Object.assign(p, { tags: { ...p.tags, Owner: 'x' } }) },
    { field: 'service', edit: (p) => Object.assign(p, { service: 'kinesis-streams' }) },
  ])('blocks an interface endpoint creation whose $field was edited', async ({ field, edit }) => {
    // Prepare: an endpoint with more than one subnet, so that their order matters
    const edited = copyOf(planned.plan);
    const target = plannedAction(
      edited,
      (a) => interfaceEndpoint(a) && (a.params as Params<'create-endpoint'>).subnetIds.length > 1,
    );
    edit(target.params as Params<'create-endpoint'>);

    // Act
    const record = await scenario.apply(edited);

    // Assess
    const action = record.actions.find((a) => a.id === target.id)!;
    expect(action.outcome).toBe('blocked');
    expect(action.detail).toContain(`: ${field} differs from what the policy plans now`);
    expect(action.calls).toEqual([]);
  });

  it('blocks a NAT removal edited to delete a route the policy does not plan to delete', async () => {
    // Prepare: the NAT's removal takes along a route of another table, to the internet gateway
    const edited = copyOf(planned.plan);
    const target = plannedAction(edited, (a) => a.action === 'remove-nat');
    const vpc = planned.snapshots
      .flatMap((s) => s.routeTables)
      .find((t) => t.vpcId === target.vpcId && t.routes.some((r) => r.target.type === 'igw'));
    const route = vpc!.routes.find((r) => r.target.type === 'igw')!;
    (target.params as Mutable<Params<'remove-nat'>>).routes.push({
      routeTableId: vpc!.routeTableId,
      destination: route.destination,
      target: route.target,
    });
    const from = scenario.account.calls.length;

    // Act
    const record = await scenario.apply(edited);

    // Assess
    expect(record.actions.find((a) => a.id === target.id)).toMatchObject({
      outcome: 'blocked',
      detail: expect.stringContaining(': routes differs from what the policy plans now'),
    });
    const deleted = writesSince(scenario, from).filter((c) => c.operation === 'DeleteRoute');
    expect(deleted.filter((c) => c.input['RouteTableId'] === vpc!.routeTableId)).toEqual([]);
  });

  it('blocks an action the policy does not plan at all, whatever the file says of it', async () => {
    // Prepare: a policy replacement for an endpoint of a VPC the policy leaves alone
    const edited = copyOf(planned.plan);
    const model = plannedAction(edited, (a) => a.action === 'replace-endpoint-policy');
    const vendor = vpcIdNamed(planned, 'vendor-gateway'); // exempt
    const endpoint = planned.snapshots
      .flatMap((s) => s.vpcEndpoints)
      .find((e) => e.vpcId === vendor);
    expect(endpoint).toBeDefined();
    const forged: Mutable<PlannedAction> = {
      ...model,
      id: `${model.accountId}/${model.region}/${model.vpcId}/replace-endpoint-policy/${endpoint!.vpcEndpointId}`,
      params: {
        ...(model.params as Params<'replace-endpoint-policy'>),
        endpointId: endpoint!.vpcEndpointId,
        policyDocument: ALLOW_EVERYTHING,
        previousPolicyDocument: endpoint!.policyDocument ?? null,
      },
    };
    edited.vpcs.find((v) => v.vpcId === model.vpcId)!.actions.push(forged);
    const from = scenario.account.calls.length;

    // Act
    const record = await scenario.apply(edited);

    // Assess
    expect(record.actions.find((a) => a.id === forged.id)).toMatchObject({
      outcome: 'blocked',
      detail: `plan file's replace-endpoint-policy ${endpoint!.vpcEndpointId}: the policy plans no such action now`,
    });
    expect(JSON.stringify(writesSince(scenario, from))).not.toContain(endpoint!.vpcEndpointId);
  });

  /** Gives ledger-prod (which lacks endpoints) a NAT gateway too, and plans again. */
  async function ledgerWithNat(): Promise<RemediationPlan> {
    const ledger = vpcIdNamed(planned, 'ledger-prod');
    const subnet = planned.snapshots.flatMap((s) => s.subnets).find((s) => s.vpcId === ledger)!;
    await scenario
      .ec2For('111111111111', 'us-east-1')
      .send(
        new CreateNatGatewayCommand({ SubnetId: subnet.subnetId, ConnectivityType: 'private' }),
      );
    scenario.account.advance();
    return (await scenario.plan()).plan;
  }

  it('runs the actions it keeps in the order the policy plans, endpoints before egress', async () => {
    // Prepare: the file lists the NAT removal of a VPC before its endpoint creations
    const edited = copyOf(await ledgerWithNat());
    const nat = natRemovalWithEndpoints(edited);
    const vpc = edited.vpcs.find((v) => v.vpcId === nat.vpcId)!;
    vpc.actions.sort(
      (a, b) => Number(b.action === 'remove-nat') - Number(a.action === 'remove-nat'),
    );
    expect(vpc.actions[0]!.action).toBe('remove-nat');
    const from = scenario.account.calls.length;

    // Act
    await scenario.apply(edited);

    // Assess
    const ops = writesSince(scenario, from)
      .filter((c) => JSON.stringify(c.input).includes(nat.vpcId) || c.input['NatGatewayId'])
      .map((c) => c.operation);
    expect(ops).toContain('DeleteNatGateway');
    expect(ops.indexOf('CreateVpcEndpoint')).toBeGreaterThanOrEqual(0);
    expect(ops.indexOf('CreateVpcEndpoint')).toBeLessThan(ops.indexOf('DeleteNatGateway'));
  });

  it('cuts no egress when the file leaves out an endpoint fix the policy plans in that VPC', async () => {
    // Prepare: narrowing by deletion, the careless way: the endpoints go, the NAT removal stays
    const edited = copyOf(await ledgerWithNat());
    const nat = natRemovalWithEndpoints(edited);
    const vpc = edited.vpcs.find((v) => v.vpcId === nat.vpcId)!;
    vpc.actions = vpc.actions.filter((a) => a.action !== 'create-endpoint');
    const from = scenario.account.calls.length;

    // Act
    const record = await scenario.apply(edited);

    // Assess
    expect(record.actions.find((a) => a.id === nat.id)).toMatchObject({
      outcome: 'blocked',
      detail: expect.stringMatching(/^the plan holds back \d+ endpoint fix(es)? the policy plans/),
    });
    const natGatewayId = (nat.params as Params<'remove-nat'>).natGatewayId;
    expect(JSON.stringify(writesSince(scenario, from))).not.toContain(natGatewayId);
  });
});

describe('the saved plan file', () => {
  it('is refused when it lists one action twice, or an action under another VPC than its own', async () => {
    // Prepare
    const scenario = await Scenario.demo({ policy: roomy });
    const { plan } = await scenario.plan();
    const twice = copyOf(plan);
    twice.vpcs[0]!.actions.push(structuredClone(twice.vpcs[0]!.actions[0]!));
    const moved = copyOf(plan);
    const other = moved.vpcs.find((v) => v.vpcId !== moved.vpcs[0]!.vpcId)!;
    moved.vpcs[0]!.actions.push({ ...structuredClone(other.actions[0]!) });

    // Act
    const problems = [twice, moved].map((data) => {
      try {
        parseRemediationPlan(JSON.parse(JSON.stringify(data)), 'plan.json');
        return 'accepted';
      } catch (error) {
        if (!(error instanceof InputValidationError)) throw error;
        return error.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
      }
    });

    // Assess
    expect(problems[0]).toMatch(/vpcs\[0\]\.actions\[\d+\]\.id: .*more than once/);
    expect(problems[1]).toMatch(/vpcs\[0\]\.actions\[\d+\]\.vpcId: expected .*vpc-/);
  });
});

describe('vpc-guard apply --plan', () => {
  const DEMO = JSON.parse(
    readFileSync(join(REPO_ROOT, 'examples', 'demo-account.json'), 'utf8'),
  ) as NetworkSnapshotInput[];
  const NOW = '2026-11-21T00:00:00Z';
  let work: string;

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'vpc-guard-plans-'));
  });
  afterEach(() => {
    rmSync(work, { recursive: true, force: true });
  });

  function harness(): { account: SimulatedAccount; deps: CliDependencies } {
    const account = SimulatedAccount.fromSnapshots(DEMO);
    const sts = new STSClient({ region: 'us-east-1' });
    mockClient(sts).on(GetCallerIdentityCommand).resolves({
      Account: '111111111111',
      Arn: 'arn:aws:sts::111111111111:assumed-role/Ops/alice',
      UserId: 'AROAEXAMPLE:alice',
    });
    let virtualMs = 0;
    const deps = {
      ec2: ({ accountId, region }: { accountId: string; region: string }) =>
        account.client({ accountId, region, retryBackoff: 'none', maxAttempts: 5 }),
      sts: () => sts,
      organizations: () => {
        throw new Error('not used');
      },
      assumeRole: () => () => Promise.resolve({ accessKeyId: 'A', secretAccessKey: 'S' }),
      terminal: { interactive: false, readLine: () => Promise.resolve(undefined) },
      endpointLimiter: () =>
        new RateLimiterRegistry(ENDPOINT_MUTATION_BUCKET, {
          clock: () => virtualMs,
          sleep: (ms: number) => {
            virtualMs += ms;
            return Promise.resolve();
          },
        }),
    } as unknown as CliDependencies;
    return { account, deps };
  }

  it('previews what the policy plans now, never the summaries of an edited file, and writes only that', async () => {
    // Prepare: the repro: the endpoint policy opened up under the template's summary line
    const { account, deps } = harness();
    const policy = join(work, 'policy.yaml');
    writeFileSync(
      policy,
      readFileSync(join(REPO_ROOT, 'examples', 'policy.yaml'), 'utf8').replace(
        'maxChangesPerRun: 10',
        'maxChangesPerRun: 100',
      ),
    );
    const ctx = () => recordingContext({ cwd: work, now: () => new Date(NOW) });
    await main(
      ['plan', '--regions', 'us-east-1', '--policy', policy, '--out', 'plan.json', '--now', NOW],
      ctx(),
      deps,
    );
    const saved = JSON.parse(readFileSync(join(work, 'plan.json'), 'utf8')) as RemediationPlan;
    const edited = copyOf(saved);
    const target = plannedAction(edited, interfaceEndpoint);
    const original = target.summary;
    Object.assign(target.params, { policyDocument: ALLOW_EVERYTHING });
    const other = plannedAction(edited, (a) => a.action === 'remove-nat');
    Object.assign(other, { summary: '~ a harmless tidy-up', reason: 'trust me' });
    writeFileSync(join(work, 'plan.json'), JSON.stringify(edited));
    account.resetCalls();
    const context = ctx();

    // Act
    const code = await main(
      ['apply', '--plan', 'plan.json', '--policy', policy, '--yes'],
      context,
      deps,
    );

    // Assess
    const out = context.stdout.join('');
    expect(code).toBe(1);
    const serviceName = (target.params as Params<'create-endpoint'>).serviceName;
    expect(out).toContain(
      `blocked: plan file's create-endpoint ${serviceName}: policyDocument differs from what the policy plans now`,
    );
    expect(out).not.toContain('a harmless tidy-up');
    expect(out).not.toContain('trust me');
    // The blocked action is shown by what it would do, not by the file's summary of it.
    expect(out.split('\n').filter((line) => line.includes(original))).toEqual([]);
    const writes = account.writes();
    expect(writes.length).toBeGreaterThan(0);
    expect(JSON.stringify(writes)).not.toContain('"Principal":"*"');
    expect(
      writes.filter(
        (c) => c.operation === 'CreateVpcEndpoint' && c.input['ServiceName'] === serviceName,
      ),
    ).toEqual([]);
  });
});
