import { readFileSync } from 'node:fs';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { AwsTarget } from '../../../shared/src/aws/targets';
import { evaluate } from '../../../shared/src/evaluate';
import { loadGuardPolicy } from '../../../shared/src/policy/load';
import type { GuardPolicy } from '../../../shared/src/policy/schema';
import type { CollectOptions } from '../../../shared/src/snapshot/collect';
import {
  addDnsAttributes,
  collectEstate,
  mapWithConcurrency,
  vpcsNeedingDnsAttributes,
  type EstateProgress,
} from '../../../shared/src/snapshot/collect-estate';
import type { NetworkSnapshot, NetworkSnapshotInput } from '../../../shared/src/snapshot/schema';
import { SimulatedAccount, type SimulatedAccountOptions } from '../../support/simulated-ec2';

const DEMO = JSON.parse(
  readFileSync(new URL('../../../examples/demo-account.json', import.meta.url), 'utf8'),
) as NetworkSnapshotInput[];
const POLICY_PATH = new URL('../../../examples/policy.yaml', import.meta.url).pathname;
const NOW = new Date('2026-11-21T00:00:00Z');
const PAYMENTS = '111111111111';
const SANDBOXES = '222222222222';
const LEDGER_PROD = 'vpc-04f3fc7dd50d77c56';

function simulated(options: SimulatedAccountOptions = {}) {
  const account = SimulatedAccount.fromSnapshots(DEMO, options);
  const ec2For = (target: AwsTarget) =>
    account.client({
      accountId: target.accountId,
      region: target.region,
      retryBackoff: 'none',
      maxAttempts: 2,
    });
  return { account, ec2For };
}

function awsError(name: string, message = `${name} from the test`): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: {} });
}

/** A collector that waits for the test to release it, and counts how many run at once. */
function gatedCollector() {
  let running = 0;
  let peak = 0;
  const waiting: (() => void)[] = [];
  const collect = async (options: CollectOptions): Promise<NetworkSnapshot> => {
    running += 1;
    peak = Math.max(peak, running);
    await new Promise<void>((resolve) => waiting.push(resolve));
    running -= 1;
    return {
      schemaVersion: 1,
      accountId: options.accountId,
      region: options.region,
      collectedAt: NOW.toISOString(),
      vpcs: [],
      subnets: [],
      routeTables: [],
      natGateways: [],
      internetGateways: [],
      egressOnlyInternetGateways: [],
      vpcEndpoints: [],
      securityGroups: [],
      elasticIps: [],
    };
  };
  /** Releases the waiting calls until every call has been released. */
  const drain = async (done: Promise<unknown>) => {
    let finished = false;
    void done.then(() => (finished = true));
    while (!finished) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      waiting.splice(0).forEach((release) => release());
    }
  };
  return { collect, drain, peak: () => peak };
}

describe('mapWithConcurrency', () => {
  it('keeps the order of the items and settles every one, a rejection included', async () => {
    // Act
    const results = await mapWithConcurrency([3, 1, 2], 2, async (n) => {
      await new Promise((resolve) => setTimeout(resolve, n));
      if (n === 1) throw new Error('one');
      return n * 10;
    });

    // Assess
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([
      30,
      'rejected',
      20,
    ]);
  });

  it.each([0, -1, Number.NaN])('throws for a limit of %s', async (limit) => {
    // Act
    const result = mapWithConcurrency([1], limit, (n) => Promise.resolve(n));

    // Assess
    await expect(result).rejects.toThrow('concurrency limit must be at least 1');
  });
});

describe('collectEstate', () => {
  it('collects every enabled region of every account on the simulated estate', async () => {
    // Prepare
    const { account, ec2For } = simulated();
    const progress: EstateProgress[] = [];

    // Act
    const estate = await collectEstate({
      accounts: [{ accountId: PAYMENTS }, { accountId: SANDBOXES }],
      regions: { kind: 'all' },
      ec2For,
      discoveryRegion: 'us-east-1',
      now: () => NOW,
      countFindings: (snapshot) => snapshot.vpcs.length,
      onProgress: (event) => progress.push(event),
    });

    // Assess
    expect(estate.failures).toEqual([]);
    expect(estate.targets).toBe(3);
    expect(estate.snapshots.map((s) => `${s.accountId}/${s.region}/${s.vpcs.length}`)).toEqual([
      '111111111111/eu-west-1/3',
      '111111111111/us-east-1/7',
      '222222222222/us-east-1/2',
    ]);
    expect(account.callsOf('DescribeRegions')).toHaveLength(2);
    expect(account.calls.every((call) => !call.mutating)).toBe(true);
    expect(progress.at(-1)).toMatchObject({
      targetsDone: 3,
      targetsKnown: 3,
      targetsFinal: true,
      accountsDone: 2,
      accountsTotal: 2,
      vpcsSeen: 12,
      findings: 12,
    });
  });

  it('reports a failing region with its account and kind, and collects the rest', async () => {
    // Prepare
    const { ec2For } = simulated({
      failOn: [
        {
          operation: 'DescribeVpcs',
          code: 'UnauthorizedOperation',
          accountId: PAYMENTS,
          region: 'eu-west-1',
        },
      ],
    });

    // Act
    const estate = await collectEstate({
      accounts: [{ accountId: PAYMENTS }, { accountId: SANDBOXES }],
      regions: { kind: 'list', regions: ['us-east-1', 'eu-west-1'] },
      ec2For,
      discoveryRegion: 'us-east-1',
    });

    // Assess
    expect(estate.snapshots.map((s) => `${s.accountId}/${s.region}`)).toEqual([
      '111111111111/us-east-1',
      '222222222222/us-east-1',
    ]);
    expect(estate.failures).toEqual([
      expect.objectContaining({
        accountId: PAYMENTS,
        region: 'eu-west-1',
        stage: 'collect',
        kind: 'access-denied',
      }),
      // eu-west-1 is not enabled in the sandbox account: EC2 refuses the credentials there.
      expect.objectContaining({
        accountId: SANDBOXES,
        region: 'eu-west-1',
        stage: 'collect',
        kind: 'access-denied',
        message: expect.stringContaining('AuthFailure') as unknown,
      }),
    ]);
  });

  it('reports an account whose role cannot be assumed once, and makes no EC2 call there', async () => {
    // Prepare
    const { account, ec2For } = simulated();
    const progress: EstateProgress[] = [];

    // Act
    const estate = await collectEstate({
      accounts: [
        { accountId: PAYMENTS },
        {
          accountId: SANDBOXES,
          credentials: () =>
            Promise.reject(awsError('AccessDenied', 'not authorized to perform: sts:AssumeRole')),
        },
      ],
      regions: { kind: 'list', regions: ['us-east-1'] },
      ec2For,
      discoveryRegion: 'us-east-1',
      onProgress: (event) => progress.push(event),
    });

    // Assess
    expect(estate.snapshots.map((s) => s.accountId)).toEqual([PAYMENTS]);
    expect(estate.failures).toEqual([
      {
        accountId: SANDBOXES,
        region: null,
        stage: 'credentials',
        kind: 'access-denied',
        message: 'AccessDenied: not authorized to perform: sts:AssumeRole',
      },
    ]);
    expect(account.calls.filter((call) => call.accountId === SANDBOXES)).toEqual([]);
    expect(progress.at(-1)).toMatchObject({ targetsDone: 1, targetsKnown: 1, accountsDone: 2 });
  });

  it('reports an account whose regions cannot be listed as throttled, and collects the others', async () => {
    // Prepare
    const { ec2For } = simulated({
      failOn: [
        { operation: 'DescribeRegions', code: 'RequestLimitExceeded', accountId: SANDBOXES },
      ],
    });

    // Act
    const estate = await collectEstate({
      accounts: [{ accountId: PAYMENTS }, { accountId: SANDBOXES }],
      regions: { kind: 'all' },
      ec2For,
      discoveryRegion: 'us-east-1',
    });

    // Assess
    expect(estate.snapshots).toHaveLength(2);
    expect(estate.failures).toEqual([
      expect.objectContaining({ accountId: SANDBOXES, stage: 'regions', kind: 'throttled' }),
    ]);
  });

  it.each([
    ['InvalidVpcID.NotFound', 'not-found'],
    ['InternalError', 'other'],
    ['DependencyViolation', 'other'],
  ])('classifies a %s failure as %s', async (code, kind) => {
    // Act
    const estate = await collectEstate({
      accounts: [{ accountId: PAYMENTS }],
      regions: { kind: 'list', regions: ['us-east-1'] },
      ec2For: () => ({}) as EC2Client,
      discoveryRegion: 'us-east-1',
      collect: () => Promise.reject(awsError(code)),
    });

    // Assess
    expect(estate.failures).toEqual([expect.objectContaining({ kind, stage: 'collect' })]);
  });

  it.each([
    [2, 1, 2],
    [2, undefined, 4],
    [3, 2, 6],
    [1, undefined, 2],
  ])(
    'with %i accounts and %s regions at a time, never runs more than %i collections at once',
    async (accountConcurrency, regionConcurrency, bound) => {
      // Prepare
      const gate = gatedCollector();
      const accounts = ['1', '2', '3', '4', '5', '6'].map((d) => ({ accountId: d.repeat(12) }));

      // Act
      const running = collectEstate({
        accounts,
        regions: { kind: 'list', regions: ['us-east-1', 'eu-west-1'] },
        ec2For: () => ({}) as EC2Client,
        discoveryRegion: 'us-east-1',
        accountConcurrency,
        ...(regionConcurrency === undefined ? {} : { regionConcurrency }),
        collect: gate.collect,
      });
      await gate.drain(running);
      const estate = await running;

      // Assess
      expect(estate.snapshots).toHaveLength(12);
      expect(gate.peak()).toBe(bound);
    },
  );
});

describe('DNS attributes for remediation decisions', () => {
  /** The live view of the demo estate: collected without DNS attributes, as a scan collects. */
  async function liveDemo(options: SimulatedAccountOptions = {}) {
    const { account, ec2For } = simulated(options);
    const policy = await loadGuardPolicy(POLICY_PATH);
    const estate = await collectEstate({
      accounts: [{ accountId: PAYMENTS }, { accountId: SANDBOXES }],
      regions: { kind: 'all' },
      ec2For,
      discoveryRegion: 'us-east-1',
    });
    account.resetCalls();
    const evaluations = evaluate(estate.snapshots, policy, { now: NOW });
    return { account, ec2For, policy, snapshots: estate.snapshots, evaluations };
  }

  it('needs them only where a fix decides private DNS under a profile that may act', async () => {
    // Prepare
    const { policy, snapshots, evaluations } = await liveDemo();

    // Act
    const needed = vpcsNeedingDnsAttributes(snapshots, evaluations, policy);

    // Assess: ledger-prod (private DNS off, interface endpoints missing); not the exempt
    // vendor-gateway, not the notify-only sandboxes, not the VPCs without such a finding.
    expect(Object.fromEntries(needed)).toEqual({ '111111111111/us-east-1': [LEDGER_PROD] });
  });

  it.each([
    [
      'mode notify',
      (policy: GuardPolicy) => (policy.profiles['regulated']!.remediation.mode = 'notify'),
    ],
    [
      'neither action allowed',
      (policy: GuardPolicy) => (policy.profiles['regulated']!.remediation.actions = ['remove-nat']),
    ],
    [
      'private DNS optional',
      (policy: GuardPolicy) => {
        policy.profiles['regulated']!.endpoints.privateDns = 'optional';
        policy.profiles['regulated']!.remediation.actions = ['create-endpoint'];
      },
    ],
  ])('needs none with %s', async (_case, change) => {
    // Prepare
    const { policy, snapshots, evaluations } = await liveDemo();
    change(policy);

    // Act
    const needed = vpcsNeedingDnsAttributes(snapshots, evaluations, policy);

    // Assess
    expect(needed.size).toBe(0);
  });

  it('reads them with DescribeVpcAttribute for those VPCs only and merges them in', async () => {
    // Prepare
    const { account, ec2For, policy, snapshots, evaluations } = await liveDemo();

    // Act
    const enriched = await addDnsAttributes({
      snapshots,
      evaluations,
      policy,
      ec2For: (accountId, region) => ec2For({ accountId, region }),
    });

    // Assess
    expect(enriched.failures).toEqual([]);
    expect(enriched.vpcsRead).toBe(1);
    expect(
      account.calls
        .map((c) => `${c.operation} ${String(c.input['VpcId'])} ${String(c.input['Attribute'])}`)
        .sort(),
    ).toEqual([
      `DescribeVpcAttribute ${LEDGER_PROD} enableDnsHostnames`,
      `DescribeVpcAttribute ${LEDGER_PROD} enableDnsSupport`,
    ]);
    const vpcs = enriched.snapshots.flatMap((s) => s.vpcs);
    expect(vpcs.find((v) => v.vpcId === LEDGER_PROD)).toMatchObject({
      enableDnsSupport: true,
      enableDnsHostnames: true,
    });
    expect(vpcs.filter((v) => v.enableDnsSupport !== undefined)).toHaveLength(1);
  });

  it('reports a failure and leaves the attributes unknown, so the plan blocks', async () => {
    // Prepare
    const { policy, snapshots, evaluations, ec2For } = await liveDemo({
      failOn: [{ operation: 'DescribeVpcAttribute', code: 'UnauthorizedOperation' }],
    });

    // Act
    const enriched = await addDnsAttributes({
      snapshots,
      evaluations,
      policy,
      ec2For: (accountId, region) => ec2For({ accountId, region }),
    });

    // Assess
    expect(enriched.failures).toEqual([
      expect.objectContaining({
        accountId: PAYMENTS,
        region: 'us-east-1',
        stage: 'dns-attributes',
        kind: 'access-denied',
      }),
    ]);
    expect(enriched.snapshots).toEqual(snapshots);
  });

  it('reads nothing for VPCs whose snapshot already holds the attributes', async () => {
    // Prepare
    const policy = await loadGuardPolicy(POLICY_PATH);
    const { account, ec2For } = simulated();
    const snapshots = DEMO.map((s) => account.toSnapshot(s.accountId, s.region, NOW.toISOString()));
    const evaluations = evaluate(snapshots, policy, { now: NOW });

    // Act
    const enriched = await addDnsAttributes({
      snapshots,
      evaluations,
      policy,
      ec2For: (accountId, region) => ec2For({ accountId, region }),
    });

    // Assess
    expect(enriched.vpcsRead).toBe(0);
    expect(account.calls).toEqual([]);
  });
});
