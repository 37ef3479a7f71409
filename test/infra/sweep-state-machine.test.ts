import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { addDeployment } from '../../infra/lib/deployment';
import {
  actionsOf,
  allStatements,
  createTestApp,
  exampleConfig,
  nagFindings,
  type TemplateJson,
} from './support';

interface Synthesized {
  readonly app: ReturnType<typeof createTestApp>;
  readonly template: Template;
  readonly json: TemplateJson;
  readonly regions: number;
  readonly schedule: string;
}

const synthesized: Record<'standalone' | 'hub', Synthesized> = {} as never;

beforeAll(() => {
  // Prepare / Act: both topologies with the default sweep settings.
  const standaloneApp = createTestApp();
  const standaloneConfig = exampleConfig('standalone');
  const standalone = addDeployment(standaloneApp, standaloneConfig);
  const hubApp = createTestApp();
  const hubConfig = exampleConfig('hub');
  const hub = addDeployment(hubApp, hubConfig);
  for (const [kind, app, stack, config] of [
    ['standalone', standaloneApp, standalone.guardStacks[0]!, standaloneConfig],
    ['hub', hubApp, hub.hubStack!, hubConfig],
  ] as const) {
    const template = Template.fromStack(stack);
    synthesized[kind] = {
      app,
      template,
      json: template.toJSON() as TemplateJson,
      regions: config.regions.length,
      schedule: config.sweepSchedule,
    };
  }
}, 180_000);

/** The state machine's definition, its tokens joined away. */
function definitionOf(json: TemplateJson): Record<string, unknown> {
  const [machine] = Object.values(json.Resources).filter(
    (resource) => resource.Type === 'AWS::StepFunctions::StateMachine',
  );
  const body = (machine!.Properties as { DefinitionString: unknown }).DefinitionString;
  const text =
    typeof body === 'string'
      ? body
      : (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
          .map((part) => (typeof part === 'string' ? part : 'TOKEN'))
          .join('');
  return JSON.parse(text) as Record<string, unknown>;
}

describe.each(['standalone', 'hub'] as const)('the sweep state machine (%s)', (kind) => {
  it('lists, maps the targets in a DISTRIBUTED map from S3 and summarizes', () => {
    const { json, regions } = synthesized[kind];
    const definition = definitionOf(json) as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };
    const map = definition.States['Sweep targets']!;
    expect(definition.StartAt).toBe('List targets');
    expect(map).toMatchObject({
      Type: 'Map',
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' } },
      ItemReader: {
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { 'Bucket.$': '$.targets.bucket', 'Key.$': '$.targets.key' },
      },
      ItemBatcher: { MaxItemsPerBatch: regions },
      MaxConcurrency: 40,
      ToleratedFailurePercentage: 10,
      ResultWriter: { Parameters: { Prefix: 'runs/results' } },
      Next: 'Summarize',
    });
    const child = (map.ItemProcessor as { States: Record<string, Record<string, unknown>> }).States[
      'Sweep one target'
    ]!;
    expect(child.Retry).toEqual([
      expect.objectContaining({ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 2 }),
    ]);
    expect(definition.States['Summarize']).toMatchObject({
      Parameters: {
        'runId.$': '$.runId',
        'targets.$': '$.targets',
        'results.$': '$.map.ResultWriterDetails',
      },
    });
  });

  it('logs and traces, and gives the tasks the run bucket', () => {
    const { template } = synthesized[kind];
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: Match.anyValue(),
      PublicAccessBlockConfiguration: Match.objectLike({
        BlockPublicAcls: true,
        RestrictPublicBuckets: true,
      }),
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ ExpirationInDays: 30, Status: 'Enabled' })],
      },
    });
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Environment: { Variables: Match.objectLike({ SWEEP_BUCKET: Match.anyValue() }) } },
      3,
    );
  });

  it('is started by EventBridge Scheduler on the sweep schedule', () => {
    const { template, schedule } = synthesized[kind];
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: schedule,
      Target: Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp('SweepStateMachine') },
        DeadLetterConfig: Match.anyValue(),
      }),
    });
  });

  it('alarms on failed and timed-out executions', () => {
    const { template } = synthesized[kind];
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
      });
    }
  });

  it('runs its tasks as the evaluation role, which holds no EC2 write', () => {
    const { json } = synthesized[kind];
    const taskRoles = new Set(
      Object.values(json.Resources)
        .filter(
          (resource) =>
            resource.Type === 'AWS::Lambda::Function' &&
            JSON.stringify(resource.Properties).includes('SWEEP_BUCKET'),
        )
        .map((resource) => JSON.stringify((resource.Properties as { Role: unknown }).Role)),
    );
    expect(taskRoles.size).toBe(1);
    const [role] = [...taskRoles];
    expect(role).toContain('EvaluationRole');
    const writes = allStatements(json)
      .filter((located) => located.roles.some((id) => id.includes('EvaluationRole')))
      .flatMap((located) => actionsOf(located.statement))
      .filter((action) => action.startsWith('ec2:') && !/^ec2:(Describe|Get|List)/.test(action));
    expect(writes).toEqual([]);
  });

  it('is cdk-nag clean', () => {
    expect(nagFindings(synthesized[kind].app)).toEqual([]);
  });
});
