import 'aws-sdk-client-mock-vitest/extend';
import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { PublishBatchCommand } from '@aws-sdk/client-sns';
import type { AssumeRoleOptions } from '@vpc-guard/shared';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metrics } from '../../functions/runtime/observability';
import { PipelineError } from '../../functions/runtime/pipeline-report';
import { createSweepHandler } from '../../functions/sweep/create-handler';
import type { SweepResult } from '../../functions/sweep/sweep';
import {
  ACCOUNT,
  REGION,
  FunctionHarness,
  asRaw,
  captureOutput,
  loadEvent,
  mocks,
  resetMocks,
  runCapturingFailure,
  smallAccount,
  type HarnessOptions,
} from './support/harness';

const organizations = mockClient(OrganizationsClient);

afterEach(() => {
  resetMocks();
  organizations.reset();
  vi.restoreAllMocks();
});

function sweepHarness(options: HarnessOptions = {}): FunctionHarness {
  return new FunctionHarness({ functionName: 'sweep', ...options });
}

async function invoke(
  harness: FunctionHarness,
  event: unknown = loadEvent('sweep/scheduled-event.json'),
) {
  const output = captureOutput();
  try {
    return (await asRaw(createSweepHandler(harness.deps))(event, harness.context())) as SweepResult;
  } finally {
    output.restore();
  }
}

const MEMBER = '222222222222';

/**
 * The small account copied into another account id (its resource ids are per account), owning its
 * VPCs there: the collector leaves out a VPC another account owns.
 */
function memberAccount() {
  return JSON.parse(JSON.stringify(smallAccount()).split(ACCOUNT).join(MEMBER)) as ReturnType<
    typeof smallAccount
  >;
}

describe('sweep', () => {
  it('sweeps every configured region of the account', async () => {
    // Prepare
    const harness = sweepHarness({
      env: { REGIONS: 'us-east-1,eu-west-1' },
      account: { regions: ['eu-west-1'] },
    });

    // Act
    const result = await invoke(harness);

    // Assess
    expect(result).toMatchObject({ status: 'handled', accounts: 1, targets: 2, vpcs: 2 });
    expect(
      result.report.targets.map((t) => `${t.accountId}/${t.region}:${t.vpcIds.length}`).sort(),
    ).toEqual([`${ACCOUNT}/eu-west-1:0`, `${ACCOUNT}/${REGION}:2`]);
    expect(result.report.targets.find((t) => t.region === REGION)?.transitions?.opened).toBe(6);
  });

  it('reports a failing region with its account and region, and sweeps the others', async () => {
    // Prepare
    const harness = sweepHarness({
      env: { REGIONS: 'us-east-1,eu-west-1' },
      account: {
        regions: ['eu-west-1'],
        failOn: [{ operation: 'DescribeVpcs', region: 'eu-west-1', code: 'UnauthorizedOperation' }],
      },
    });
    const addMetric = vi.spyOn(metrics, 'addMetric');

    // Act
    const { error, output } = await runCapturingFailure(
      createSweepHandler(harness.deps),
      loadEvent('sweep/scheduled-event.json'),
      harness.context(),
    );

    // Assess
    expect(error).toBeInstanceOf(PipelineError);
    const report = (error as PipelineError).report;
    expect(report.failures).toEqual([
      expect.objectContaining({
        stage: 'collect',
        accountId: ACCOUNT,
        region: 'eu-west-1',
        kind: 'access-denied',
      }),
    ]);
    expect(report.targets.map((t) => t.region)).toEqual([REGION]);
    expect(mocks.sns).toHaveReceivedCommand(PublishBatchCommand);
    expect(addMetric).toHaveBeenCalledWith('SweepTargetFailures', 'Count', 1);
    const logged = output.logs().find((line) => line['message'] === 'collect failed');
    expect(logged?.['failure']).toMatchObject({ accountId: ACCOUNT, region: 'eu-west-1' });
  });

  it('sweeps each member account with its member role and external id in hub mode', async () => {
    // Prepare
    const assumed: AssumeRoleOptions[] = [];
    const harness = sweepHarness({
      env: {
        MODE: 'hub',
        MEMBER_ACCOUNTS: `${ACCOUNT},${MEMBER}`,
        EXTERNAL_ID_PARAMETER: '/vpc-guard/external-id',
        SECURITY_HUB: 'off',
      },
      snapshots: [smallAccount(), memberAccount()],
      overrides: {
        assumeRole: (options) => {
          assumed.push(options);
          return () => Promise.resolve({ accessKeyId: 'ASIAMEMBER', secretAccessKey: 'secret' });
        },
      },
    });

    // Act
    const result = await invoke(harness);

    // Assess
    expect(result).toMatchObject({ accounts: 2, targets: 2, vpcs: 4 });
    expect(assumed.map((a) => a.roleArn).sort()).toEqual([
      `arn:aws:iam::${ACCOUNT}:role/VpcGuardMember`,
      `arn:aws:iam::${MEMBER}:role/VpcGuardMember`,
    ]);
    expect(assumed.every((a) => a.externalId === 'vpc-guard-external-id-42')).toBe(true);
    expect(harness.account.calls.some((call) => call.accountId === MEMBER)).toBe(true);
  });

  it('lists the member accounts from Organizations when none are configured', async () => {
    // Prepare
    organizations.on(ListAccountsCommand).resolves({
      Accounts: [
        { Id: ACCOUNT, State: 'ACTIVE', Name: 'workloads' },
        { Id: MEMBER, State: 'ACTIVE', Name: 'payments' },
        { Id: '333333333333', State: 'SUSPENDED', Name: 'closed' },
      ],
    });
    const harness = sweepHarness({
      env: { MODE: 'hub', EXTERNAL_ID_PARAMETER: '/vpc-guard/external-id', SECURITY_HUB: 'off' },
      snapshots: [smallAccount(), memberAccount()],
      overrides: {
        assumeRole: () => () => Promise.resolve({ accessKeyId: 'ASIA', secretAccessKey: 's' }),
      },
    });

    // Act
    const result = await invoke(harness);

    // Assess
    expect(result.accounts).toBe(2);
    expect(organizations).toHaveReceivedCommand(ListAccountsCommand);
  });

  it('reports an account whose role cannot be assumed, and sweeps the others', async () => {
    // Prepare
    const denied = Object.assign(new Error('not authorized to perform sts:AssumeRole'), {
      name: 'AccessDenied',
      $metadata: {},
    });
    const harness = sweepHarness({
      env: {
        MODE: 'hub',
        MEMBER_ACCOUNTS: `${ACCOUNT},${MEMBER}`,
        EXTERNAL_ID_PARAMETER: '/vpc-guard/external-id',
      },
      snapshots: [smallAccount(), memberAccount()],
      overrides: {
        assumeRole: (options) => () =>
          options.roleArn.includes(MEMBER)
            ? Promise.reject(denied)
            : Promise.resolve({ accessKeyId: 'ASIA', secretAccessKey: 's' }),
      },
    });

    // Act
    const error = (await invoke(harness).catch((e: unknown) => e)) as PipelineError;

    // Assess
    expect(error).toBeInstanceOf(PipelineError);
    expect(error.report.failures).toEqual([
      expect.objectContaining({
        stage: 'collect',
        accountId: MEMBER,
        region: null,
        kind: 'access-denied',
      }),
    ]);
    expect(error.report.targets.map((t) => t.accountId)).toEqual([ACCOUNT]);
  });

  it('does nothing for a replayed schedule event', async () => {
    // Prepare
    const harness = sweepHarness();
    await invoke(harness);
    const calls = harness.account.calls.length;

    // Act
    const replay = await invoke(harness);

    // Assess
    expect(replay.status).toBe('duplicate');
    expect(harness.account.calls.length).toBe(calls);
  });

  it('rejects an event that is not a schedule, naming the field, with no AWS call', async () => {
    // Prepare
    const harness = sweepHarness();
    const event = loadEvent('sweep/scheduled-event.json');
    event['detail-type'] = 'AWS API Call via CloudTrail';

    // Act
    const attempt = invoke(harness, event);

    // Assess
    await expect(attempt).rejects.toThrow(/detail-type\]?: expected "Scheduled Event"/);
    expect(harness.account.calls).toEqual([]);
    expect(harness.awsWrites()).toBe(0);
  });
});
