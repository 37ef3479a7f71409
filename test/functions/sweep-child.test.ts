import 'aws-sdk-client-mock-vitest/extend';
import { PublishBatchCommand } from '@aws-sdk/client-sns';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSweepChildHandler,
  createSweepListTargetsHandler,
  createSweepSummaryHandler,
} from '../../functions/sweep/create-task-handlers';
import {
  listSweepTargets,
  summarizeSweep,
  sweepTarget,
  type SweepTargetResult,
} from '../../functions/sweep/targets';
import {
  ACCOUNT,
  NOW,
  REGION,
  FunctionHarness,
  asRaw,
  captureOutput,
  mocks,
  resetMocks,
  smallAccount,
  type HarnessOptions,
} from './support/harness';

afterEach(() => {
  resetMocks();
});

const MEMBER = '222222222222';
const LOCKED = '333333333333';
const OTHER_REGION = 'eu-west-1';
const RUN = 'sweep-2026-11-20T10-00';
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:vpc-guard-sweep-child`;
const OPTIONS = { invokedFunctionArn: FUNCTION_ARN };

/** The small account copied into another account id, owning its VPCs there. */
function copyOf(accountId: string) {
  return JSON.parse(JSON.stringify(smallAccount()).split(ACCOUNT).join(accountId)) as ReturnType<
    typeof smallAccount
  >;
}

const denied = Object.assign(new Error('not authorized to perform sts:AssumeRole'), {
  name: 'AccessDenied',
  $metadata: {},
});

/** A hub over three accounts in two regions; LOCKED has no member role that can be assumed. */
function hubHarness(options: Pick<HarnessOptions, 'account' | 'overrides'> = {}): FunctionHarness {
  return new FunctionHarness({
    functionName: 'sweep',
    env: {
      MODE: 'hub',
      MEMBER_ACCOUNTS: `${MEMBER},${ACCOUNT},${LOCKED},${MEMBER}`,
      EXTERNAL_ID_PARAMETER: '/vpc-guard/external-id',
      REGIONS: `${OTHER_REGION},${REGION}`,
      SECURITY_HUB: 'off',
    },
    snapshots: [smallAccount(), copyOf(MEMBER), copyOf(LOCKED)],
    account: { regions: [OTHER_REGION], ...options.account },
    overrides: {
      assumeRole: (role) => () =>
        role.roleArn.includes(LOCKED)
          ? Promise.reject(denied)
          : Promise.resolve({ accessKeyId: 'ASIAMEMBER', secretAccessKey: 'secret' }),
      ...options.overrides,
    },
  });
}

/** Runs `fn` with the logger's and metrics' output muted. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const output = captureOutput();
  try {
    return await fn();
  } finally {
    output.restore();
  }
}

describe('sweep on Step Functions: the child unit', () => {
  it('lists each account in scope x each configured region, sorted and deduplicated', async () => {
    // Prepare
    const harness = hubHarness();

    // Act
    const listing = await quietly(() => listSweepTargets(harness.deps, { runId: RUN }));

    // Assess
    expect(listing.accounts).toBe(3);
    expect(listing.targets.map((t) => `${t.accountId}/${t.region}`)).toEqual([
      `${ACCOUNT}/${OTHER_REGION}`,
      `${ACCOUNT}/${REGION}`,
      `${MEMBER}/${OTHER_REGION}`,
      `${MEMBER}/${REGION}`,
      `${LOCKED}/${OTHER_REGION}`,
      `${LOCKED}/${REGION}`,
    ]);
    expect(listing.targets.every((t) => t.runId === RUN)).toBe(true);
  });

  it('lists only its own account in standalone mode, and refuses REGIONS=all', async () => {
    // Prepare
    const standalone = new FunctionHarness({ functionName: 'sweep' });
    const all = new FunctionHarness({ functionName: 'sweep', env: { REGIONS: 'all' } });

    // Act
    const listing = await quietly(() => listSweepTargets(standalone.deps, { runId: RUN }));
    const refused = listSweepTargets(all.deps, { runId: RUN });

    // Assess
    expect(listing.targets).toEqual([{ runId: RUN, accountId: ACCOUNT, region: REGION }]);
    await expect(refused).rejects.toThrow(/regions named/);
  });

  it('sweeps every target on its own: the failing one says why, the others are read, nothing is written to EC2', async () => {
    // Prepare
    const harness = hubHarness();
    const listing = await quietly(() => listSweepTargets(harness.deps, { runId: RUN }));

    // Act
    const results = await quietly(() =>
      Promise.all(listing.targets.map((t) => sweepTarget(harness.deps, t, OPTIONS))),
    );

    // Assess
    const byTarget = Object.fromEntries(results.map((r) => [`${r.accountId}/${r.region}`, r]));
    for (const accountId of [ACCOUNT, MEMBER]) {
      expect(byTarget[`${accountId}/${REGION}`]).toMatchObject({ status: 'ok', vpcs: 2 });
      expect(byTarget[`${accountId}/${REGION}`]?.findings).toBeGreaterThan(0);
      expect(byTarget[`${accountId}/${OTHER_REGION}`]).toMatchObject({ status: 'ok', vpcs: 0 });
    }
    for (const region of [REGION, OTHER_REGION]) {
      expect(byTarget[`${LOCKED}/${region}`]).toMatchObject({
        status: 'failed',
        vpcs: 0,
        reason: expect.stringMatching(/^collect \(.+\): AccessDenied: .*sts:AssumeRole/),
      });
    }
    expect(harness.ec2Writes()).toEqual([]);
    expect(mocks.sns).toHaveReceivedCommand(PublishBatchCommand);
  });

  it('answers a replayed child with duplicate, alerting nothing again', async () => {
    // Prepare
    const harness = hubHarness();
    const target = { runId: RUN, accountId: MEMBER, region: REGION };
    const first = await quietly(() => sweepTarget(harness.deps, target, OPTIONS));
    const published = mocks.sns.commandCalls(PublishBatchCommand).length;

    // Act
    const replay = await quietly(() => sweepTarget(harness.deps, target, OPTIONS));
    const nextRun = await quietly(() =>
      sweepTarget(harness.deps, { ...target, runId: `${RUN}-next` }, OPTIONS),
    );

    // Assess
    expect(first.status).toBe('ok');
    expect(replay).toMatchObject({ status: 'duplicate', vpcs: 0, findings: 0 });
    expect(mocks.sns.commandCalls(PublishBatchCommand).length).toBe(published);
    expect(nextRun.status).toBe('ok');
  });

  it('holds the claim only while the attempt may run: a retry after a timeout sweeps the target', async () => {
    // Prepare
    let now = NOW.getTime();
    const harness = hubHarness({ overrides: { clock: () => new Date(now) } });
    const target = { runId: RUN, accountId: MEMBER, region: REGION };
    // An attempt that claimed the target for its 120 s, then timed out without a result.
    await harness.deps.findings?.claimEvent(`sweep/${RUN}/${MEMBER}/${REGION}`, 120);

    // Act
    now += 60_000;
    const whileRunning = await quietly(() => sweepTarget(harness.deps, target, OPTIONS));
    now += 61_000;
    const afterTimeout = await quietly(() =>
      sweepTarget(harness.deps, target, { ...OPTIONS, claimTtlSeconds: 120 }),
    );

    // Assess
    expect(whileRunning.status).toBe('duplicate');
    expect(afterTimeout).toMatchObject({ status: 'ok', vpcs: 2 });
  });

  it('releases the claim of a failed target, so a redrive sweeps it again', async () => {
    // Prepare
    const harness = hubHarness({
      account: {
        regions: [OTHER_REGION],
        failOn: [{ operation: 'DescribeVpcs', region: OTHER_REGION, code: 'RequestLimitExceeded' }],
      },
    });
    const target = { runId: RUN, accountId: MEMBER, region: OTHER_REGION };
    const first = await quietly(() => sweepTarget(harness.deps, target, OPTIONS));

    // Act
    const redrive = await quietly(() => sweepTarget(harness.deps, target, OPTIONS));

    // Assess
    expect(first).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^collect/) });
    expect(redrive.status).toBe('failed');
  });

  it('fails, without any AWS call about it, a target out of scope or in a region not configured', async () => {
    // Prepare
    const harness = hubHarness();
    const callsBefore = harness.account.calls.length;

    // Act
    const outOfScope = await quietly(() =>
      sweepTarget(harness.deps, { runId: RUN, accountId: '444444444444', region: REGION }, OPTIONS),
    );
    const otherRegion = await quietly(() =>
      sweepTarget(harness.deps, { runId: RUN, accountId: MEMBER, region: 'ap-south-1' }, OPTIONS),
    );

    // Assess
    expect(outOfScope).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/not in scope/),
    });
    expect(otherRegion).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/REGIONS/),
    });
    expect(harness.account.calls.length).toBe(callsBefore);
    expect(harness.awsWrites()).toBe(0);
  });

  it('summarizes a run: read, failed with reasons, duplicates, and the missed targets named', () => {
    // Prepare
    const result = (
      accountId: string,
      region: string,
      status: SweepTargetResult['status'],
      extra: Partial<SweepTargetResult> = {},
    ): SweepTargetResult => ({
      runId: RUN,
      accountId,
      region,
      status,
      vpcs: 0,
      findings: 0,
      ...extra,
    });
    const targets = [ACCOUNT, MEMBER, LOCKED, '444444444444'].map((accountId) => ({
      runId: RUN,
      accountId,
      region: REGION,
    }));

    // Act
    const summary = summarizeSweep(
      RUN,
      [
        result(MEMBER, REGION, 'ok', { vpcs: 2, findings: 5 }),
        // Read by one attempt, a duplicate in another: read, not missed.
        result(MEMBER, OTHER_REGION, 'duplicate'),
        result(MEMBER, OTHER_REGION, 'ok', { vpcs: 1 }),
        [
          result(ACCOUNT, REGION, 'duplicate'),
          result(LOCKED, REGION, 'failed', { reason: 'collect: AccessDenied' }),
        ],
      ],
      targets,
    );

    // Assess
    expect(summary).toEqual({
      runId: RUN,
      targets: 4,
      read: 2,
      failed: [{ accountId: LOCKED, region: REGION, reason: 'collect: AccessDenied' }],
      duplicates: [
        { accountId: ACCOUNT, region: REGION },
        { accountId: MEMBER, region: OTHER_REGION },
      ],
      vpcs: 3,
      findings: 5,
      missed: [
        {
          accountId: ACCOUNT,
          region: REGION,
          reason: expect.stringMatching(/earlier attempt .*not confirmed/),
        },
        { accountId: LOCKED, region: REGION, reason: 'collect: AccessDenied' },
        {
          accountId: '444444444444',
          region: REGION,
          reason: 'no result: the child did not finish',
        },
      ],
    });
  });

  it('runs the three tasks as Step Functions invokes them, a batch of items included', async () => {
    // Prepare
    const harness = hubHarness();
    const context = harness.context('vpc-guard-sweep-child');

    // Act
    const { listing, batch, summary } = await quietly(async () => {
      const listing = (await asRaw(createSweepListTargetsHandler(harness.deps))(
        { runId: RUN },
        context,
      )) as { targets: { accountId: string; region: string }[] };
      const child = asRaw(createSweepChildHandler(harness.deps));
      const batches = [0, 2, 4].map((i) => ({
        Items: listing.targets.slice(i, i + 2),
        BatchInput: { runId: RUN },
      }));
      const results = await Promise.all(batches.map((b) => child(b, context)));
      const single = await child(listing.targets[0], context);
      const summary = await asRaw(createSweepSummaryHandler())(
        { runId: RUN, results, targets: listing.targets },
        context,
      );
      return { listing, batch: { results, single }, summary };
    });
    const invalid = quietly(() =>
      asRaw(createSweepChildHandler(harness.deps))({ runId: RUN, accountId: 'x' }, context),
    );

    // Assess
    expect(listing.targets).toHaveLength(6);
    expect(batch.results.map((r) => (r as unknown[]).length)).toEqual([2, 2, 2]);
    expect(batch.single).toMatchObject({ status: 'duplicate' });
    expect(summary).toMatchObject({
      targets: 6,
      read: 4,
      vpcs: 4,
      missed: [
        { accountId: LOCKED, region: OTHER_REGION },
        { accountId: LOCKED, region: REGION },
      ],
    });
    await expect(invalid).rejects.toThrow(/sweep child input/);
    expect(harness.ec2Writes()).toEqual([]);
  });
});
