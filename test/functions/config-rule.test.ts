import 'aws-sdk-client-mock-vitest/extend';
import {
  GetComplianceDetailsByConfigRuleCommand,
  GetResourceConfigHistoryCommand,
  PutEvaluationsCommand,
  type Evaluation as ConfigEvaluation,
} from '@aws-sdk/client-config-service';
import { PublishBatchCommand } from '@aws-sdk/client-sns';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { InputValidationError, type NetworkSnapshotInput } from '@vpc-guard/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { createConfigRuleHandler } from '../../functions/config-rule/create-handler';
import type { ConfigRuleResult } from '../../functions/config-rule/rule';
import { PipelineError } from '../../functions/runtime/pipeline-report';
import {
  ACCOUNT,
  REGION,
  SANDBOX_VPC,
  VPC,
  FunctionHarness,
  asRaw,
  captureOutput,
  fixtureText,
  loadEvent,
  mocks,
  policyJson,
  resetMocks,
  type HarnessOptions,
} from './support/harness';

afterEach(resetMocks);

const RULE_ENV = { FINDINGS_TABLE: undefined, TOPIC_ARN: undefined, OWN_ROLE_ARNS: undefined };

function ruleHarness(options: HarnessOptions = {}): FunctionHarness {
  return new FunctionHarness({
    functionName: 'config-rule',
    ...options,
    env: { ...RULE_ENV, ...options.env },
  });
}

async function invoke(harness: FunctionHarness, event: unknown): Promise<ConfigRuleResult> {
  const output = captureOutput();
  try {
    return (await asRaw(createConfigRuleHandler(harness.deps))(
      event,
      harness.context(),
    )) as ConfigRuleResult;
  } finally {
    output.restore();
  }
}

/** Every evaluation sent, in order, with the batch it went in. */
function sentEvaluations(): {
  batch: number;
  evaluation: ConfigEvaluation;
  token: string | undefined;
}[] {
  return mocks.config.commandCalls(PutEvaluationsCommand).flatMap((call, batch) =>
    (call.args[0].input.Evaluations ?? []).map((evaluation) => ({
      batch,
      evaluation,
      token: call.args[0].input.ResultToken,
    })),
  );
}

/** The parts of a change notification the tests edit. */
interface EditableChange {
  configurationItem: {
    resourceId: string;
    awsAccountId: string;
    configurationItemStatus: string;
    configuration: Record<string, unknown> | null;
    relationships: unknown[];
  };
  configurationItemDiff?: unknown;
}

/** A rule event with its invoking event edited. */
function editEvent(
  fixture: string,
  edit: (invoking: EditableChange) => void,
): Record<string, unknown> {
  const event = loadEvent(`config-rule/${fixture}`);
  const invoking = JSON.parse(event['invokingEvent'] as string) as EditableChange;
  edit(invoking);
  event['invokingEvent'] = JSON.stringify(invoking);
  return event;
}

const CHANGES = [
  { fixture: 'vpc-change.json', type: 'AWS::EC2::VPC' },
  { fixture: 'subnet-change.json', type: 'AWS::EC2::Subnet' },
  { fixture: 'route-table-change.json', type: 'AWS::EC2::RouteTable' },
  { fixture: 'nat-gateway-change.json', type: 'AWS::EC2::NatGateway' },
  { fixture: 'internet-gateway-change.json', type: 'AWS::EC2::InternetGateway' },
  { fixture: 'vpc-endpoint-change.json', type: 'AWS::EC2::VPCEndpoint' },
] as const;

describe('config-rule: configuration changes', () => {
  it.each(CHANGES)(
    'reports the VPC of a changed $type, with an annotation naming the gap',
    async ({ fixture, type }) => {
      // Prepare
      const harness = ruleHarness();
      const event = loadEvent(`config-rule/${fixture}`);

      // Act
      const result = await invoke(harness, event);

      // Assess
      expect(result).toMatchObject({
        messageType: 'ConfigurationItemChangeNotification',
        vpcIds: [VPC],
      });
      expect(result.resource?.type).toBe(type);
      const sent = sentEvaluations();
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({
        token: event['resultToken'],
        evaluation: {
          ComplianceResourceType: 'AWS::EC2::VPC',
          ComplianceResourceId: VPC,
          ComplianceType: 'NON_COMPLIANT',
          OrderingTimestamp: new Date('2026-11-20T09:12:45.321Z'),
        },
      });
      const annotation = sent[0]!.evaluation.Annotation ?? '';
      expect(annotation.length).toBeGreaterThan(0);
      expect(annotation.length).toBeLessThanOrEqual(256);
      expect(annotation).toContain('nat-0aa00000000000001');
      expect(harness.account.callsOf('DescribeVpcs')[0]!.input).toMatchObject({
        Filters: [{ Name: 'vpc-id', Values: [VPC] }],
      });
    },
  );

  it('reads an oversized item from the configuration history, then reports its VPC', async () => {
    // Prepare
    const harness = ruleHarness();
    const routeTable = JSON.parse(
      JSON.parse(fixtureText('events/config-rule/route-table-change.json')).invokingEvent as string,
    ).configurationItem as { configuration: unknown };
    mocks.config.on(GetResourceConfigHistoryCommand).resolves({
      configurationItems: [
        {
          resourceType: 'AWS::EC2::RouteTable',
          resourceId: 'rtb-0aa00000000000002',
          configurationItemStatus: 'OK',
          configuration: JSON.stringify(routeTable.configuration),
          relationships: [
            {
              resourceType: 'AWS::EC2::VPC',
              resourceId: VPC,
              relationshipName: 'Is contained in Vpc',
            },
          ],
        },
      ],
    });

    // Act
    const result = await invoke(harness, loadEvent('config-rule/oversized-route-table.json'));

    // Assess
    expect(mocks.config).toHaveReceivedCommandWith(GetResourceConfigHistoryCommand, {
      resourceType: 'AWS::EC2::RouteTable',
      resourceId: 'rtb-0aa00000000000002',
      limit: 1,
    });
    expect(result.vpcIds).toEqual([VPC]);
    expect(sentEvaluations().map((s) => s.evaluation)).toEqual([
      expect.objectContaining({ ComplianceResourceId: VPC, ComplianceType: 'NON_COMPLIANT' }),
    ]);
  });

  it('reports NOT_APPLICABLE for a VPC that left the rule scope, reading nothing from EC2', async () => {
    // Prepare
    const harness = ruleHarness();
    const event = loadEvent('config-rule/vpc-change.json');
    event['eventLeftScope'] = true;

    // Act
    await invoke(harness, event);

    // Assess
    expect(sentEvaluations().map((s) => s.evaluation)).toEqual([
      expect.objectContaining({
        ComplianceResourceType: 'AWS::EC2::VPC',
        ComplianceResourceId: VPC,
        ComplianceType: 'NOT_APPLICABLE',
      }),
    ]);
    expect(harness.account.calls).toEqual([]);
  });

  it('reports NOT_APPLICABLE for a deleted VPC', async () => {
    // Prepare
    const harness = ruleHarness();
    const event = editEvent('vpc-change.json', (invoking) => {
      invoking.configurationItem.configurationItemStatus = 'ResourceDeleted';
      invoking.configurationItem.configuration = null;
      invoking.configurationItem.relationships = [];
    });

    // Act
    await invoke(harness, event);

    // Assess
    expect(sentEvaluations().map((s) => s.evaluation.ComplianceType)).toEqual(['NOT_APPLICABLE']);
    expect(harness.account.calls).toEqual([]);
  });

  it('evaluates the VPC again when one of its NAT gateways is deleted', async () => {
    // Prepare: a deleted item has no configuration; the diff holds the previous one.
    const harness = ruleHarness();
    const event = editEvent('nat-gateway-change.json', (invoking) => {
      const item = invoking.configurationItem;
      invoking.configurationItemDiff = {
        changedProperties: {
          Configuration: {
            previousValue: item.configuration,
            updatedValue: null,
            changeType: 'DELETE',
          },
        },
        changeType: 'DELETE',
      };
      item.configurationItemStatus = 'ResourceDeleted';
      item.configuration = null;
      item.relationships = [];
    });

    // Act
    const result = await invoke(harness, event);

    // Assess
    expect(result.vpcIds).toEqual([VPC]);
    const evaluations = sentEvaluations().map((s) => s.evaluation);
    expect(evaluations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ComplianceResourceType: 'AWS::EC2::VPC',
          ComplianceResourceId: VPC,
        }),
        expect.objectContaining({
          ComplianceResourceType: 'AWS::EC2::NatGateway',
          ComplianceResourceId: 'nat-0aa00000000000001',
          ComplianceType: 'NOT_APPLICABLE',
        }),
      ]),
    );
  });

  it('reports NOT_APPLICABLE for a VPC asked about that no longer exists', async () => {
    // Prepare
    const harness = ruleHarness();
    const event = editEvent('subnet-change.json', (invoking) => {
      invoking.configurationItem.configuration = {
        ...invoking.configurationItem.configuration,
        vpcId: 'vpc-0aa0000000000dead',
      };
      invoking.configurationItem.relationships = [];
    });

    // Act
    await invoke(harness, event);

    // Assess
    expect(sentEvaluations().map((s) => s.evaluation)).toEqual([
      expect.objectContaining({
        ComplianceResourceId: 'vpc-0aa0000000000dead',
        ComplianceType: 'NOT_APPLICABLE',
      }),
    ]);
  });

  it('never remediates, even under an auto profile', async () => {
    // Prepare
    const harness = ruleHarness({ policy: 'policy-auto.yaml', killSwitch: 'off' });

    // Act
    await invoke(harness, loadEvent('config-rule/nat-gateway-change.json'));

    // Assess
    expect(harness.ec2Writes()).toEqual([]);
  });
});

/** A region of `count` bare VPCs (no subnets, nothing required of them under `open`). */
function manyVpcs(count: number): NetworkSnapshotInput {
  return {
    schemaVersion: 1,
    accountId: ACCOUNT,
    region: REGION,
    collectedAt: '2026-11-20T09:00:00.000Z',
    vpcs: Array.from({ length: count }, (_, index) => ({
      vpcId: `vpc-${index.toString(16).padStart(17, '0')}`,
      cidrBlocks: ['10.0.0.0/16'],
      tags: { 'vpc-guard:profile': index % 2 === 0 ? 'open' : 'regulated' },
    })),
  };
}

describe('config-rule: periodic runs', () => {
  it('reports every VPC of the region, in batches of at most 100', async () => {
    // Prepare
    const harness = ruleHarness({ snapshots: [manyVpcs(250)], account: { pageSize: 1000 } });

    // Act
    const result = await invoke(harness, loadEvent('config-rule/scheduled.json'));

    // Assess
    const batches = mocks.config
      .commandCalls(PutEvaluationsCommand)
      .map((c) => c.args[0].input.Evaluations ?? []);
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    const sent = sentEvaluations();
    expect(new Set(sent.map((s) => s.evaluation.ComplianceResourceId)).size).toBe(250);
    expect(sent.every((s) => (s.evaluation.Annotation ?? '').length <= 256)).toBe(true);
    expect(
      sent.every(
        (s) => s.evaluation.OrderingTimestamp?.toISOString() === '2026-11-20T10:00:00.152Z',
      ),
    ).toBe(true);
    expect(result.report.targets[0]).toMatchObject({
      scope: 'region',
      compliant: 125,
      nonCompliant: 125,
    });
  });

  it('reports NOT_APPLICABLE for VPCs it reported before that no longer exist, reading every page', async () => {
    // Prepare
    const harness = ruleHarness();
    const result = (id: string, type = 'AWS::EC2::VPC') => ({
      EvaluationResultIdentifier: {
        EvaluationResultQualifier: {
          ConfigRuleName: 'vpc-guard',
          ResourceType: type,
          ResourceId: id,
        },
      },
      ComplianceType: 'NON_COMPLIANT' as const,
    });
    mocks.config
      .on(GetComplianceDetailsByConfigRuleCommand)
      .resolvesOnce({
        EvaluationResults: [result(VPC), result('vpc-0aa0000000000dead')],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        EvaluationResults: [
          result('vpc-0aa0000000000beef'),
          result('subnet-0aa00000000000099', 'AWS::EC2::Subnet'),
        ],
      });

    // Act
    await invoke(harness, loadEvent('config-rule/scheduled.json'));

    // Assess
    expect(mocks.config).toHaveReceivedCommandTimes(GetComplianceDetailsByConfigRuleCommand, 2);
    expect(mocks.config).toHaveReceivedNthCommandWith(GetComplianceDetailsByConfigRuleCommand, 2, {
      ConfigRuleName: 'vpc-guard',
      NextToken: 'page-2',
    });
    const byId = new Map(
      sentEvaluations().map((s) => [
        s.evaluation.ComplianceResourceId,
        s.evaluation.ComplianceType,
      ]),
    );
    expect(Object.fromEntries(byId)).toEqual({
      [VPC]: 'NON_COMPLIANT',
      [SANDBOX_VPC]: 'COMPLIANT',
      'vpc-0aa0000000000dead': 'NOT_APPLICABLE',
      'vpc-0aa0000000000beef': 'NOT_APPLICABLE',
    });
  });
});

describe('config-rule: rule parameters', () => {
  it('evaluates every VPC with the profile a rule parameter names', async () => {
    // Prepare
    const harness = ruleHarness();
    const event = loadEvent('config-rule/vpc-change.json');
    event['ruleParameters'] = JSON.stringify({ profile: 'open' });

    // Act
    await invoke(harness, event);

    // Assess
    expect(sentEvaluations()[0]?.evaluation).toMatchObject({
      ComplianceResourceId: VPC,
      ComplianceType: 'COMPLIANT',
    });
  });

  it('reads the policy from the location a rule parameter names', async () => {
    // Prepare
    const harness = ruleHarness();
    harness.parameters.set(
      '/team-a/vpc-guard-policy',
      policyJson(fixtureText('events/policy.yaml')),
    );
    const event = loadEvent('config-rule/vpc-change.json');
    event['ruleParameters'] = JSON.stringify({ policySource: 'ssm:/team-a/vpc-guard-policy' });

    // Act
    await invoke(harness, event);

    // Assess
    expect(mocks.ssm).toHaveReceivedCommandWith(GetParameterCommand, {
      Name: '/team-a/vpc-guard-policy',
    });
    expect(mocks.ssm).not.toHaveReceivedCommandWith(GetParameterCommand, {
      Name: '/vpc-guard/policy',
    });
  });

  it('rejects a misspelt rule parameter, naming it, with no AWS write', async () => {
    // Prepare
    const harness = ruleHarness();
    const event = loadEvent('config-rule/vpc-change.json');
    event['ruleParameters'] = JSON.stringify({ profil: 'open' });

    // Act
    const attempt = invoke(harness, event);

    // Assess
    await expect(attempt).rejects.toThrow(InputValidationError);
    await expect(attempt).rejects.toThrow(/ruleParameters: unknown key "profil"/);
    expect(harness.awsWrites()).toBe(0);
  });

  it('rejects a profile the policy does not define, with no AWS write', async () => {
    // Prepare
    const harness = ruleHarness();
    const event = loadEvent('config-rule/vpc-change.json');
    event['ruleParameters'] = JSON.stringify({ profile: 'nonexistent' });

    // Act
    const attempt = invoke(harness, event);

    // Assess
    await expect(attempt).rejects.toThrow(
      /ruleParameters: profile: expected one of the policy's profiles/,
    );
    expect(harness.awsWrites()).toBe(0);
  });
});

describe('config-rule: alerts and failures', () => {
  it('alerts on finding changes when the findings table is configured', async () => {
    // Prepare
    const harness = ruleHarness({
      env: {
        FINDINGS_TABLE: 'vpc-guard-findings',
        TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:vpc-guard-findings',
      },
    });

    // Act
    const result = await invoke(harness, loadEvent('config-rule/route-table-change.json'));

    // Assess
    expect(result.report.targets[0]?.transitions).toMatchObject({ opened: 6 });
    expect(mocks.sns).toHaveReceivedCommandTimes(PublishBatchCommand, 1);
  });

  it('only reports to Config without a findings table', async () => {
    // Prepare
    const harness = ruleHarness();

    // Act
    await invoke(harness, loadEvent('config-rule/route-table-change.json'));

    // Assess
    expect(mocks.sns.calls()).toHaveLength(0);
    expect(mocks.ddb.calls()).toHaveLength(0);
  });

  it('rejects an event whose invokingEvent is not JSON, naming the field, with no AWS call', async () => {
    // Prepare
    const harness = ruleHarness();
    const event = loadEvent('config-rule/vpc-change.json');
    event['invokingEvent'] = '{"configurationItem": ';

    // Act
    const attempt = invoke(harness, event);

    // Assess
    await expect(attempt).rejects.toThrow(/invokingEvent: Invalid JSON/);
    expect(harness.account.calls).toEqual([]);
    expect(harness.awsWrites()).toBe(0);
  });

  it('rejects a configuration item whose id does not fit its type', async () => {
    // Prepare
    const harness = ruleHarness();
    const event = editEvent('route-table-change.json', (invoking) => {
      invoking.configurationItem.resourceId = 'vpc-0aa00000000000001';
    });

    // Act
    const attempt = invoke(harness, event);

    // Assess
    await expect(attempt).rejects.toThrow(
      /invokingEvent\.configurationItem\.resourceId: expected a AWS::EC2::RouteTable id/,
    );
    expect(harness.awsWrites()).toBe(0);
  });

  it("rejects an item from another account than the rule's", async () => {
    // Prepare
    const harness = ruleHarness();
    const event = editEvent('vpc-change.json', (invoking) => {
      invoking.configurationItem.awsAccountId = '222222222222';
    });

    // Act
    const attempt = invoke(harness, event);

    // Assess
    await expect(attempt).rejects.toThrow(
      /invokingEvent\.configurationItem\.awsAccountId: expected the rule's account 111111111111/,
    );
  });

  it('fails the invocation when Config rejects an evaluation, after sending the others', async () => {
    // Prepare
    const harness = ruleHarness();
    mocks.config
      .on(PutEvaluationsCommand)
      .callsFake((input: { Evaluations: ConfigEvaluation[] }) => ({
        FailedEvaluations: input.Evaluations.slice(0, 1),
      }));

    // Act
    const attempt = invoke(harness, loadEvent('config-rule/scheduled.json'));

    // Assess
    const error = (await attempt.catch((e: unknown) => e)) as PipelineError;
    expect(error).toBeInstanceOf(PipelineError);
    expect(error.report.failures).toEqual([
      expect.objectContaining({ stage: 'config', items: 1, kind: 'invalid' }),
    ]);
    expect(error.report.targets[0]?.configEvaluations).toBe(1);
  });
});
