import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Pass, StateMachine, DefinitionBody } from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC } from '../../functions/runtime/observability';
import {
  GuardAlarms,
  SWEEP_TARGET_FAILURES_METRIC,
  SWEEP_TARGETS_MISSED_METRIC,
} from '../../infra/lib/constructs/guard-alarms';
import { addDeployment } from '../../infra/lib/deployment';
import {
  allStatements,
  createTestApp,
  exampleConfig,
  exampleInput,
  logicalIdsOf,
  nagFindings,
  isTlsGuard,
  type TemplateJson,
} from './support';
import { parseDeploymentConfig } from '../../infra/lib/deployment-config';
import { INFRA_DIR } from '../../infra/lib/paths';

const ALARM_EMAIL = 'vpc-guard-operators@example.com';

interface Synthesized {
  readonly app: ReturnType<typeof createTestApp>;
  readonly template: Template;
  readonly json: TemplateJson;
}

const synthesized: Record<'standalone' | 'hub', Synthesized> = {} as never;

beforeAll(() => {
  // Prepare / Act: both topologies, the standalone one with an operator e-mail.
  const standaloneApp = createTestApp();
  const standalone = addDeployment(
    standaloneApp,
    exampleConfig('standalone', { alarmEmails: [ALARM_EMAIL] }),
  );
  const hubApp = createTestApp();
  const hub = addDeployment(hubApp, exampleConfig('hub'));
  for (const [kind, app, stack] of [
    ['standalone', standaloneApp, standalone.guardStacks[0]!],
    ['hub', hubApp, hub.hubStack!],
  ] as const) {
    const template = Template.fromStack(stack);
    synthesized[kind] = { app, template, json: template.toJSON() as TemplateJson };
  }
}, 120_000);

type AlarmProps = Record<string, unknown> & {
  MetricName?: string;
  Namespace?: string;
  Dimensions?: { Name: string; Value: unknown }[];
  AlarmActions?: unknown[];
};

function alarms(json: TemplateJson): AlarmProps[] {
  return logicalIdsOf(json, 'AWS::CloudWatch::Alarm').map(
    (id) => json.Resources[id]!.Properties as AlarmProps,
  );
}

function alarmsOn(json: TemplateJson, metricName: string, dimension: unknown): AlarmProps[] {
  return alarms(json).filter(
    (alarm) =>
      alarm.MetricName === metricName &&
      alarm.Dimensions?.some((d) => JSON.stringify(d.Value) === JSON.stringify(dimension)),
  );
}

function alarmTopicId(json: TemplateJson): string {
  const ids = logicalIdsOf(json, 'AWS::SNS::Topic').filter((id) => id.startsWith('AlarmsTopic'));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

describe.each(['standalone', 'hub'] as const)('GuardAlarms (%s)', (kind) => {
  it('alarms on every dead-letter queue when a message is visible', () => {
    const { json } = synthesized[kind];
    const queues = logicalIdsOf(json, 'AWS::SQS::Queue').filter((id) => /DeadLetter/.test(id));
    expect(queues.length).toBeGreaterThanOrEqual(kind === 'standalone' ? 5 : 4);
    for (const queue of queues) {
      const found = alarmsOn(json, 'ApproximateNumberOfMessagesVisible', {
        'Fn::GetAtt': [queue, 'QueueName'],
      });
      expect(found, queue).toHaveLength(1);
      expect(found[0]).toMatchObject({
        Namespace: 'AWS/SQS',
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('alarms on the errors and throttles of every function, over 5 minutes', () => {
    const { json } = synthesized[kind];
    const functions = logicalIdsOf(json, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(3);
    for (const fn of functions) {
      for (const metric of ['Errors', 'Throttles']) {
        const found = alarmsOn(json, metric, { Ref: fn });
        expect(found, `${metric} of ${fn}`).toHaveLength(1);
        expect(found[0]).toMatchObject({
          Namespace: 'AWS/Lambda',
          Statistic: 'Sum',
          Period: 300,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
        });
      }
    }
  });

  it("alarms on the sweep's missed targets, from the metrics the sweep emits", () => {
    const { template } = synthesized[kind];
    expect(SWEEP_TARGET_FAILURES_METRIC).toBe(METRIC.sweepTargetFailures);
    expect(SWEEP_TARGETS_MISSED_METRIC).toBe(METRIC.sweepTargetsMissed);
    const metric = (id: string, name: string) => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'VpcGuard',
          MetricName: name,
          Dimensions: [{ Name: 'service', Value: 'vpc-guard' }],
        },
        Period: 300,
        Stat: 'Sum',
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'MAX([FILL(failures, 0), FILL(missed, 0)])' }),
        Match.objectLike(metric('failures', METRIC.sweepTargetFailures)),
        Match.objectLike(metric('missed', METRIC.sweepTargetsMissed)),
      ]),
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('notifies the one operator topic from every alarm', () => {
    const { json } = synthesized[kind];
    const topic = alarmTopicId(json);
    const all = alarms(json);
    expect(all.length).toBeGreaterThan(0);
    for (const alarm of all) expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
  });

  it('encrypts the topic with a rotated key CloudWatch may use for this account only', () => {
    const { json, template } = synthesized[kind];
    const topic = alarmTopicId(json);
    const key = logicalIdsOf(json, 'AWS::KMS::Key').find((id) => id.startsWith('AlarmsTopicKey'));
    expect(key).toBeDefined();
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const statements = allStatements(json);
    const cloudWatchKey = statements.filter(
      (s) => s.logicalId === key && JSON.stringify(s.statement.Principal).includes('cloudwatch'),
    );
    expect(cloudWatchKey).toHaveLength(1);
    expect(cloudWatchKey[0]!.statement).toMatchObject({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    const topicPolicy = statements.filter(
      (s) =>
        s.type === 'AWS::SNS::TopicPolicy' && JSON.stringify(s.statement).includes(`"${topic}"`),
    );
    // TLS enforced, and only CloudWatch alarms of this account publish.
    expect(topicPolicy.some((s) => isTlsGuard(s.statement))).toBe(true);
    expect(
      topicPolicy.filter((s) => s.statement.Effect === 'Allow').map((s) => s.statement),
    ).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: expect.objectContaining({
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        }),
      }),
    ]);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(synthesized[kind].app)).toEqual([]);
  });
});

describe('GuardAlarms', () => {
  it('subscribes the configured alarm e-mails, with a dead-letter queue for failed deliveries', () => {
    const { template, json } = synthesized.standalone;
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: ALARM_EMAIL,
      TopicArn: { Ref: alarmTopicId(json) },
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
    });
    // The hub example names no alarm e-mail: its topic has no subscription.
    const hub = synthesized.hub;
    const subscriptions = hub.template.findResources('AWS::SNS::Subscription', {
      Properties: { TopicArn: { Ref: alarmTopicId(hub.json) } },
    });
    expect(subscriptions).toEqual({});
  });

  it('alarms on failed and timed-out executions of a state machine it is given', () => {
    // Prepare
    // A bare app: the state machine here only stands in for the sweep's (no cdk-nag).
    const stack = new Stack(new App(), 'StateMachineAlarms');
    const machine = new StateMachine(stack, 'Sweep', {
      definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Nothing')),
    });
    const guardAlarms = new GuardAlarms(stack, 'Alarms');
    // Act
    guardAlarms.alarmOnStateMachine(machine);
    guardAlarms.alarmOnStateMachine(machine);
    // Assess
    const template = Template.fromStack(stack);
    const json = template.toJSON() as TemplateJson;
    const topic = alarmTopicId(json);
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      const found = alarmsOn(json, metric, {
        Ref: logicalIdsOf(json, 'AWS::StepFunctions::StateMachine')[0],
      });
      expect(found, metric).toHaveLength(1);
      expect(found[0]).toMatchObject({
        Namespace: 'AWS/States',
        Statistic: 'Sum',
        Threshold: 0,
        AlarmActions: [{ Ref: topic }],
      });
    }
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
  });

  it('rejects an alarm e-mail that is not an address', () => {
    expect(() =>
      parseDeploymentConfig(exampleInput('standalone', { alarmEmails: ['operators'] }), {
        source: 'test',
        baseDir: INFRA_DIR,
      }),
    ).toThrow(/alarmEmails\[0\]: expected an e-mail address, got "operators"/);
  });
});
