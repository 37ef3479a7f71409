import 'aws-sdk-client-mock-vitest/extend';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { BatchImportFindingsCommand } from '@aws-sdk/client-securityhub';
import { PublishBatchCommand, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { InputValidationError } from '@vpc-guard/shared';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiEventHandler } from '../../functions/api-event/create-handler';
import type { ApiEventResult } from '../../functions/api-event/event';
import { PipelineError } from '../../functions/runtime/pipeline-report';
import {
  ACCOUNT,
  KILL_SWITCH_PARAMETER,
  REGION,
  TOPIC,
  VPC,
  FunctionHarness,
  asRaw,
  captureOutput,
  loadEvent,
  mocks,
  resetMocks,
  runCapturingFailure,
  type HarnessOptions,
} from './support/harness';

afterEach(resetMocks);

/** Runs the api-event handler on an event, with the logger's output captured. */
async function invoke(
  harness: FunctionHarness,
  event: unknown,
  context: Context = harness.context(),
): Promise<ApiEventResult> {
  const output = captureOutput();
  try {
    return (await asRaw(createApiEventHandler(harness.deps))(event, context)) as ApiEventResult;
  } finally {
    output.restore();
  }
}

/** The SNS entries published, across every PublishBatch call. */
function publishedEntries(): PublishBatchRequestEntry[] {
  return mocks.sns
    .commandCalls(PublishBatchCommand)
    .flatMap((call) => call.args[0].input.PublishBatchRequestEntries ?? []);
}

function attribute(entry: PublishBatchRequestEntry, name: string): string | undefined {
  return entry.MessageAttributes?.[name]?.StringValue;
}

/** The describe call that maps a call's resource to its VPC, when the record names no VPC. */
const CLOUDTRAIL_CASES = [
  { fixture: 'create-nat-gateway', lookup: null },
  { fixture: 'delete-nat-gateway', lookup: 'DescribeNatGateways' },
  { fixture: 'create-vpc-endpoint', lookup: null },
  { fixture: 'modify-vpc-endpoint', lookup: 'DescribeVpcEndpoints' },
  { fixture: 'delete-vpc-endpoints', lookup: 'DescribeVpcEndpoints' },
  { fixture: 'create-route', lookup: 'DescribeRouteTables' },
  { fixture: 'replace-route', lookup: 'DescribeRouteTables' },
  { fixture: 'delete-route', lookup: 'DescribeRouteTables' },
  { fixture: 'attach-internet-gateway', lookup: null },
  { fixture: 'associate-route-table', lookup: 'DescribeRouteTables' },
  { fixture: 'create-subnet', lookup: null },
] as const;

describe('api-event: CloudTrail EC2 calls', () => {
  let harness: FunctionHarness;
  beforeEach(() => {
    harness = new FunctionHarness();
  });

  it.each(CLOUDTRAIL_CASES)(
    'evaluates the VPC a $fixture call changed',
    async ({ fixture, lookup }) => {
      // Prepare
      const event = loadEvent(`api-event/${fixture}.json`);

      // Act
      const result = await invoke(harness, event);

      // Assess
      expect(result).toMatchObject({
        status: 'handled',
        accountId: ACCOUNT,
        region: REGION,
        vpcIds: [VPC],
      });
      const collect = harness.account.callsOf('DescribeVpcs');
      expect(collect).toHaveLength(1);
      expect(collect[0]!.input).toMatchObject({ Filters: [{ Name: 'vpc-id', Values: [VPC] }] });
      const lookups = harness.account.calls.filter((call) => call.seq < collect[0]!.seq);
      expect(lookups.map((call) => call.operation)).toEqual(lookup === null ? [] : [lookup]);
      expect(result.report?.targets[0]).toMatchObject({ nonCompliant: 1, findings: 6 });
      expect(harness.ec2Writes()).toEqual([]);
    },
  );

  it('publishes one SNS message per opened finding, with the attributes subscriptions filter on', async () => {
    // Act
    await invoke(harness, loadEvent('api-event/create-route.json'));

    // Assess
    const entries = publishedEntries();
    expect(entries).toHaveLength(6);
    expect(mocks.sns).toHaveReceivedCommandWith(PublishBatchCommand, { TopicArn: TOPIC });
    for (const entry of entries) {
      expect(Object.keys(entry.MessageAttributes ?? {}).sort()).toEqual(
        ['accountId', 'profile', 'region', 'ruleId', 'severity', 'state'].sort(),
      );
      expect(attribute(entry, 'accountId')).toBe(ACCOUNT);
      expect(attribute(entry, 'profile')).toBe('regulated');
      expect(attribute(entry, 'state')).toBe('opened');
      expect(entry.Subject).toMatch(
        /^\[vpc-guard\] OPENED (high|medium) [a-z-]+ regulated \(111111111111\/us-east-1\)$/,
      );
      const body = JSON.parse(entry.Message ?? '{}') as {
        finding: { key: string; severity: string };
      };
      expect(attribute(entry, 'severity')).toBe(body.finding.severity);
      expect(body.finding.key.startsWith(`${ACCOUNT}/${REGION}/${VPC}/`)).toBe(true);
    }
    expect(entries.map((e) => attribute(e, 'ruleId')).sort()).toEqual([
      'endpoint-misconfigured',
      'endpoint-policy-too-broad',
      'endpoint-policy-too-broad',
      'internet-route-forbidden',
      'internet-route-forbidden',
      'nat-gateway-forbidden',
    ]);
  });

  it('imports ASFF findings into Security Hub, with ids from the finding keys', async () => {
    // Act
    await invoke(harness, loadEvent('api-event/create-route.json'));

    // Assess
    const findings = mocks.securityHub
      .commandCalls(BatchImportFindingsCommand)
      .flatMap((call) => call.args[0].input.Findings ?? []);
    expect(findings).toHaveLength(6);
    const nat = findings.find((f) => f.GeneratorId === 'vpc-guard/nat-gateway-forbidden');
    expect(nat).toMatchObject({
      SchemaVersion: '2018-10-08',
      Id: `vpc-guard/${ACCOUNT}/${REGION}/${VPC}/nat-gateway-forbidden/nat-0aa00000000000001`,
      ProductArn: `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`,
      AwsAccountId: ACCOUNT,
      Region: REGION,
      Severity: { Label: 'HIGH' },
      Compliance: { Status: 'FAILED' },
      RecordState: 'ACTIVE',
      Workflow: { Status: 'NEW' },
    });
    expect(nat?.Resources?.map((r) => r.Type)).toEqual(['AwsEc2Vpc', 'Other']);
    expect(nat?.Title?.length).toBeLessThanOrEqual(256);
  });

  it('alerts once: a second change to the same VPC finds its findings unchanged', async () => {
    // Prepare
    await invoke(harness, loadEvent('api-event/create-route.json'));
    const first = publishedEntries().length;

    // Act
    const result = await invoke(harness, loadEvent('api-event/create-nat-gateway.json'));

    // Assess
    expect(first).toBe(6);
    expect(result.report?.targets[0]?.transitions).toEqual({
      opened: 0,
      changed: 0,
      resolved: 0,
      superseded: 0,
      redelivered: 0,
      pendingAlerts: 0,
    });
    expect(publishedEntries()).toHaveLength(first);
    expect(mocks.securityHub.commandCalls(BatchImportFindingsCommand)).toHaveLength(1);
  });

  it('does nothing twice for a replayed event id', async () => {
    // Prepare
    const event = loadEvent('api-event/modify-vpc-endpoint.json');
    await invoke(harness, event);
    const writes = harness.table.writes;

    // Act
    const replay = await invoke(harness, event);

    // Assess
    expect(replay.status).toBe('duplicate');
    expect(harness.table.writes).toBe(writes);
    expect(harness.table.conditionFailures).toBe(1);
    expect(mocks.sns.commandCalls(PublishBatchCommand)).toHaveLength(1);
    expect(harness.ec2Writes()).toEqual([]);
  });

  it('ignores a call made by one of its own roles, so its fixes never trigger it again', async () => {
    // Prepare
    const event = loadEvent('api-event/delete-route.json') as {
      detail: { userIdentity: Record<string, unknown> };
    };
    event.detail.userIdentity = {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLEVPCGUARD01:vpc-guard-api-event',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/vpc-guard-api-event-role/vpc-guard-api-event`,
      accountId: ACCOUNT,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: 'AROAEXAMPLEVPCGUARD01',
          arn: `arn:aws:iam::${ACCOUNT}:role/vpc-guard-api-event-role`,
          accountId: ACCOUNT,
          userName: 'vpc-guard-api-event-role',
        },
      },
    };

    // Act
    const result = await invoke(harness, event);

    // Assess
    expect(result.status).toBe('ignored');
    expect(result.reason).toContain('arn:aws:iam::111111111111:role/vpc-guard-api-event-role');
    expect(harness.account.calls).toEqual([]);
    expect(harness.awsWrites()).toBe(0);
  });

  it("ignores the member role's calls in hub mode, from any account", async () => {
    // Prepare
    const hub = new FunctionHarness({
      env: {
        MODE: 'hub',
        EXTERNAL_ID_PARAMETER: '/vpc-guard/external-id',
        OWN_ROLE_ARNS: undefined,
        MEMBER_ACCOUNTS: `${ACCOUNT},222222222222`,
      },
    });
    const event = loadEvent('api-event/create-route.json') as {
      account: string;
      detail: { recipientAccountId: string; userIdentity: Record<string, unknown> };
    };
    // Every account field of the event names the member account (they must agree).
    event.account = '222222222222';
    event.detail.recipientAccountId = '222222222222';
    // No session context: only the assumed-role ARN says who it was.
    event.detail.userIdentity = {
      type: 'AssumedRole',
      arn: 'arn:aws:sts::222222222222:assumed-role/VpcGuardMember/vpc-guard',
      accountId: '222222222222',
    };

    // Act
    const result = await invoke(hub, event);

    // Assess
    expect(result.status).toBe('ignored');
    expect(hub.account.calls).toEqual([]);
  });

  it('ignores a call that failed: nothing changed', async () => {
    // Prepare
    const event = loadEvent('api-event/create-vpc-endpoint.json') as {
      detail: Record<string, unknown>;
    };
    event.detail['errorCode'] = 'Client.UnauthorizedOperation';
    event.detail['errorMessage'] = 'You are not authorized to perform this operation.';

    // Act
    const result = await invoke(harness, event);

    // Assess
    expect(result).toMatchObject({ status: 'ignored' });
    expect(harness.awsWrites()).toBe(0);
  });

  it('evaluates the whole region when the resource a call names is already gone', async () => {
    // Prepare
    const event = loadEvent('api-event/delete-vpc-endpoints.json') as {
      detail: { requestParameters: { DeleteVpcEndpointsRequest: { VpcEndpointId: unknown } } };
    };
    event.detail.requestParameters.DeleteVpcEndpointsRequest.VpcEndpointId = [
      { tag: 1, content: 'vpce-0aa000000000000ff' },
    ];

    // Act
    const result = await invoke(harness, event);

    // Assess
    expect(result.vpcIds).toBe('region');
    expect(result.report?.targets[0]).toMatchObject({
      scope: 'region',
      vpcIds: [VPC, 'vpc-0bb00000000000002'],
    });
    expect(harness.account.callsOf('DescribeVpcs')[0]!.input).toMatchObject({ Filters: [] });
  });
});

describe('api-event: Config compliance changes', () => {
  it('evaluates the VPC whose compliance changed', async () => {
    // Prepare
    const harness = new FunctionHarness();

    // Act
    const result = await invoke(harness, loadEvent('api-event/config-compliance-change.json'));

    // Assess
    expect(result).toMatchObject({
      status: 'handled',
      event: 'Config Rules Compliance Change',
      vpcIds: [VPC],
    });
    expect(publishedEntries()).toHaveLength(6);
  });

  it("ignores another rule's compliance changes", async () => {
    // Prepare
    const harness = new FunctionHarness();
    const event = loadEvent('api-event/config-compliance-change.json') as {
      detail: Record<string, unknown>;
    };
    event.detail['configRuleName'] = 'vpc-flow-logs-enabled';

    // Act
    const result = await invoke(harness, event);

    // Assess
    expect(result).toMatchObject({ status: 'ignored' });
    expect(harness.account.calls).toEqual([]);
  });

  it('maps a subnet compliance change to its VPC by describing the subnet', async () => {
    // Prepare
    const harness = new FunctionHarness();
    const event = loadEvent('api-event/config-compliance-change.json') as {
      detail: Record<string, unknown>;
    };
    event.detail['resourceType'] = 'AWS::EC2::Subnet';
    event.detail['resourceId'] = 'subnet-0aa0000000000000b';

    // Act
    const result = await invoke(harness, event);

    // Assess
    expect(result.vpcIds).toEqual([VPC]);
    expect(harness.account.calls[0]).toMatchObject({
      operation: 'DescribeSubnets',
      input: { Filters: [{ Name: 'subnet-id', Values: ['subnet-0aa0000000000000b'] }] },
    });
  });
});

describe('api-event: remediation', () => {
  const auto = (options: HarnessOptions = {}) =>
    new FunctionHarness({ policy: 'policy-auto.yaml', killSwitch: 'off', ...options });

  it('removes the NAT gateway and internet routes under an auto profile, verified, recorded, and followed up', async () => {
    // Prepare
    const harness = auto();

    // Act
    const result = await invoke(harness, loadEvent('api-event/create-nat-gateway.json'));

    // Assess
    const operations = harness.ec2Writes().map((call) => call.operation);
    expect(operations).toEqual(
      expect.arrayContaining(['DeleteRoute', 'DeleteNatGateway', 'ModifyVpcEndpoint']),
    );
    expect(result.report?.targets[0]?.remediation).toMatchObject({
      killSwitch: 'off',
      planned: 5,
      outcomes: { verified: 5, failed: 0, blocked: 0 },
    });
    const events = mocks.eventBridge
      .commandCalls(PutEventsCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      Source: 'vpc-guard',
      DetailType: 'vpc-guard remediation',
      EventBusName: 'vpc-guard',
      Resources: [`arn:aws:ec2:${REGION}:${ACCOUNT}:vpc/${VPC}`],
    });
    const detail = JSON.parse(events[0]!.Detail ?? '{}') as {
      identity: string;
      summary: { verified: number };
    };
    expect(detail.identity).toBe(
      `arn:aws:lambda:${REGION}:${ACCOUNT}:function:vpc-guard-api-event`,
    );
    expect(detail.summary.verified).toBe(5);
    // The follow-up: every opened finding resolves, and the alert says vpc-guard fixed it.
    const states = publishedEntries().map((entry) => attribute(entry, 'state'));
    expect(states.filter((s) => s === 'opened')).toHaveLength(6);
    expect(states.filter((s) => s === 'resolved')).toHaveLength(6);
    const resolvedNat = publishedEntries()
      .filter((e) => attribute(e, 'state') === 'resolved')
      .map(
        (e) =>
          JSON.parse(e.Message ?? '{}') as {
            finding: { ruleId: string };
            remediation: { state: string; outcome: string };
          },
      )
      .find((m) => m.finding.ruleId === 'nat-gateway-forbidden');
    expect(resolvedNat?.remediation).toMatchObject({ state: 'applied', outcome: 'verified' });
    // Security Hub gets the same findings again, passed and archived, under the same ids.
    const asff = mocks.securityHub
      .commandCalls(BatchImportFindingsCommand)
      .flatMap((call) => call.args[0].input.Findings ?? []);
    const natIds = asff.filter((f) => f.GeneratorId === 'vpc-guard/nat-gateway-forbidden');
    expect(natIds.map((f) => [f.Compliance?.Status, f.RecordState])).toEqual([
      ['FAILED', 'ACTIVE'],
      ['PASSED', 'ARCHIVED'],
    ]);
    expect(new Set(natIds.map((f) => f.Id)).size).toBe(1);
    const opened = publishedEntries()
      .filter((e) => attribute(e, 'state') === 'opened')
      .map((e) => JSON.parse(e.Message ?? '{}') as { remediation: { state: string } });
    expect(opened.every((m) => m.remediation.state === 'planned')).toBe(true);
  });

  it('writes nothing to EC2 while the kill switch is on, and records why', async () => {
    // Prepare
    const harness = auto({ killSwitch: 'on' });

    // Act
    const result = await invoke(harness, loadEvent('api-event/create-nat-gateway.json'));

    // Assess
    expect(harness.ec2Writes()).toEqual([]);
    expect(result.report?.targets[0]?.remediation).toMatchObject({
      killSwitch: 'on',
      planned: 0,
      blocked: 5,
      outcomes: { blocked: 5, verified: 0 },
    });
    const opened = publishedEntries().map(
      (e) => JSON.parse(e.Message ?? '{}') as { remediation: { state: string; detail: string } },
    );
    expect(opened.filter((m) => m.remediation.state === 'blocked').length).toBeGreaterThan(0);
    expect(opened.find((m) => m.remediation.state === 'blocked')?.remediation.detail).toContain(
      `kill switch ${KILL_SWITCH_PARAMETER} is on`,
    );
    expect(mocks.eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('treats a configured but missing kill switch parameter as on', async () => {
    // Prepare
    const harness = new FunctionHarness({ policy: 'policy-auto.yaml' });

    // Act
    await invoke(harness, loadEvent('api-event/create-route.json'));

    // Assess
    expect(harness.ec2Writes()).toEqual([]);
  });

  it('reads the kill switch again right before the first write', async () => {
    // Prepare: off when the plan is made, on by the time the writer would start.
    const harness = auto();
    let reads = 0;
    mocks.ssm.on(GetParameterCommand, { Name: KILL_SWITCH_PARAMETER }).callsFake(() => {
      reads += 1;
      return { Parameter: { Value: reads === 1 ? 'off' : 'on' } };
    });

    // Act
    const result = await invoke(harness, loadEvent('api-event/create-route.json'));

    // Assess
    expect(reads).toBe(2);
    expect(harness.ec2Writes()).toEqual([]);
    expect(result.report?.targets[0]?.remediation?.killSwitch).toBe('on');
  });
});

describe('api-event: failures', () => {
  it('rejects an event that fails its schema, naming the field, with no AWS call at all', async () => {
    // Prepare
    const harness = new FunctionHarness();
    const event = loadEvent('api-event/create-route.json') as { detail: Record<string, unknown> };
    delete event.detail['recipientAccountId'];

    // Act
    const attempt = invoke(harness, event);

    // Assess
    await expect(attempt).rejects.toThrow(InputValidationError);
    await expect(attempt).rejects.toThrow(
      /detail\.recipientAccountId: expected string, got nothing/,
    );
    expect(harness.account.calls).toEqual([]);
    expect(mocks.ddb.calls()).toHaveLength(0);
    expect(harness.awsWrites()).toBe(0);
  });

  it('rejects a CloudTrail record that names neither a VPC nor a resource to find it by', async () => {
    // Prepare
    const harness = new FunctionHarness();
    const event = loadEvent('api-event/create-route.json') as {
      detail: { requestParameters: Record<string, unknown> };
    };
    delete event.detail.requestParameters['routeTableId'];

    // Act
    const attempt = invoke(harness, event);

    // Assess
    await expect(attempt).rejects.toThrow(
      /detail\.requestParameters\.routeTableId: expected the route table/,
    );
    expect(harness.awsWrites()).toBe(0);
  });

  it('completes the other sinks when SNS fails, then fails the invocation and releases the claim', async () => {
    // Prepare
    const harness = new FunctionHarness();
    mocks.sns
      .on(PublishBatchCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: {} }));
    const event = loadEvent('api-event/create-route.json');

    // Act
    const attempt = invoke(harness, event);

    // Assess
    const error = (await attempt.catch((e: unknown) => e)) as PipelineError;
    expect(error).toBeInstanceOf(PipelineError);
    expect(error.report.failures).toEqual([
      expect.objectContaining({
        stage: 'sns',
        kind: 'throttled',
        accountId: ACCOUNT,
        region: REGION,
        vpcIds: [VPC],
        items: 6,
      }),
    ]);
    expect(error.report.targets[0]?.published).toEqual({ sns: 0, securityHub: 6 });
    expect(mocks.ddb).toHaveReceivedCommandWith(DeleteCommand, {
      Key: { pk: `event#api-event/${String(event['id'])}` },
    });
    // The retry is not taken for a replay.
    mocks.sns.reset();
    harness.installMocks();
    const retry = await invoke(harness, event);
    expect(retry.status).toBe('handled');
  });

  it('logs a classified AWS error with account, region and VPC', async () => {
    // Prepare
    const harness = new FunctionHarness({
      account: { failOn: [{ operation: 'DescribeVpcEndpoints', code: 'UnauthorizedOperation' }] },
    });

    // Act
    const { error, output } = await runCapturingFailure(
      createApiEventHandler(harness.deps),
      loadEvent('api-event/create-route.json'),
      harness.context(),
    );

    // Assess
    expect(error).toBeInstanceOf(PipelineError);
    expect((error as PipelineError).report.failures[0]).toMatchObject({
      stage: 'collect',
      kind: 'access-denied',
    });
    const logged = output.logs().find((line) => line['message'] === 'collect failed');
    expect(logged?.['failure']).toMatchObject({
      accountId: ACCOUNT,
      region: REGION,
      vpcIds: [VPC],
      kind: 'access-denied',
    });
    expect(harness.awsWrites()).toBe(1 /* the claim's put; released after */ + 1);
  });
});
