import { readFileSync } from 'node:fs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { addDeployment } from '../../infra/lib/deployment';
import {
  CONFIG_RULE_NAME,
  CONFIG_RULE_RESOURCE_TYPES,
  EC2_API_CALL_EVENT_NAMES,
} from '../../infra/lib/guard-events';
import { EC2_READ_ACTIONS, EC2_REMEDIATION_ACTIONS } from '../../infra/lib/guard-permissions';
import { GuardStack } from '../../infra/lib/guard-stack';
import {
  actionsOf,
  allStatements,
  createTestApp,
  exampleConfig,
  logicalIdOf,
  logicalIdsOf,
  nagFindings,
  isTlsGuard,
  runtimeConfigsOf,
  testPolicyFile,
  wildcardActionStatements,
  type TemplateJson,
} from './support';

let app: ReturnType<typeof createTestApp>;
let stacks: readonly GuardStack[];
let stack: GuardStack;
let template: Template;
let json: TemplateJson;

beforeAll(() => {
  // Prepare / Act: the standalone example, synthesized once for every assertion below.
  app = createTestApp();
  const deployment = addDeployment(app, exampleConfig('standalone'));
  stacks = deployment.guardStacks;
  stack = stacks[0]!;
  template = Template.fromStack(stack);
  json = template.toJSON() as TemplateJson;
}, 120_000);

function functionId(prefix: string): string {
  return logicalIdOf(json, 'AWS::Lambda::Function', prefix);
}

function roleOfFunction(prefix: string): string {
  const role = json.Resources[functionId(prefix)]!.Properties!['Role'] as {
    'Fn::GetAtt': [string, string];
  };
  return role['Fn::GetAtt'][0];
}

describe('GuardStack (standalone)', () => {
  it('is one stack per configured region, in the configured account', () => {
    // Assess
    expect(stacks.map((s) => [s.stackName, s.account, s.region])).toEqual([
      ['VpcGuard-us-east-1', '111111111111', 'us-east-1'],
      ['VpcGuard-eu-west-1', '111111111111', 'eu-west-1'],
    ]);
  });

  it('has no unacknowledged cdk-nag finding (AwsSolutions and Serverless)', () => {
    expect(nagFindings(app)).toEqual([]);
  });

  it('runs seven functions on arm64 and Node.js 24, traced, each with a DLQ and a log group', () => {
    // Assess: the four pipeline functions and the sweep state machine's three tasks.
    template.resourceCountIs('AWS::Lambda::Function', 7);
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      DeadLetterConfig: { TargetArn: Match.anyValue() },
      LoggingConfig: Match.objectLike({ LogGroup: Match.anyValue(), LogFormat: 'JSON' }),
      MemorySize: Match.anyValue(),
      Timeout: Match.anyValue(),
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'vpc-guard',
          POWERTOOLS_METRICS_NAMESPACE: 'VpcGuard',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          // Source maps are not enabled at cold start (docs/PERFORMANCE.md).
          NODE_OPTIONS: Match.absent(),
        }),
      },
    });
    // One per function, and the sweep state machine's.
    template.resourceCountIs('AWS::Logs::LogGroup', 8);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('reserves concurrency for the remediating function only', () => {
    const reserved = logicalIdsOf(json, 'AWS::Lambda::Function').filter(
      (id) => json.Resources[id]!.Properties!['ReservedConcurrentExecutions'] !== undefined,
    );
    expect(reserved).toEqual([functionId('GuardApiEvent')]);
    expect(json.Resources[reserved[0]!]!.Properties!['ReservedConcurrentExecutions']).toBe(2);
  });

  it('encrypts every dead-letter queue and denies it to requests without TLS', () => {
    // One per function, and the sweep schedule's.
    template.resourceCountIs('AWS::SQS::Queue', 8);
    template.allResourcesProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('gives each function the environment its cold start accepts', () => {
    // Act: the same validation each function runs at cold start
    for (const { name, config } of runtimeConfigsOf(json)) {
      // Assess
      expect(config.mode).toBe('standalone');
      if (name !== 'slack-notifier') {
        expect(config.policySource).toEqual({ kind: 'ssm', name: '/vpc-guard/policy' });
        expect(config.killSwitchParameter).toBe('/vpc-guard/kill-switch');
        expect(config.securityHub).toBe(true);
        expect(config.configRuleName).toBe(CONFIG_RULE_NAME);
      } else {
        expect(config.slackSecretArn).toMatch(/:secret:vpc-guard\/slack-webhook$/);
      }
    }
  });

  it('publishes the configured policy, validated and compact, to a Standard SSM parameter', () => {
    // Prepare
    const expected = parseYaml(readFileSync(testPolicyFile('standalone'), 'utf8')) as unknown;
    const id = logicalIdOf(json, 'AWS::SSM::Parameter', 'GuardPolicy');
    const props = json.Resources[id]!.Properties!;
    // Assess
    expect(props['Name']).toBe('/vpc-guard/policy');
    expect(props['Tier']).toBe('Standard');
    expect(JSON.parse(props['Value'] as string)).toEqual(expected);
  });

  it('creates the kill switch "on" (a first deployment writes nothing), accepting only "on" or "off"', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/vpc-guard/kill-switch',
      Value: 'on',
      AllowedPattern: '^(on|off)$',
    });
  });

  it('keeps findings in an encrypted table with point-in-time recovery, a TTL and the open-findings index', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'open-by-scope',
          KeySchema: [
            { AttributeName: 'scope', KeyType: 'HASH' },
            { AttributeName: 'vpcId', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('encrypts the topic with a rotated key, enforces TLS, and redrives every subscription', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: {
        'Fn::GetAtt': [logicalIdOf(json, 'AWS::KMS::Key', 'GuardTopicKey'), 'Arn'],
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'network-security@example.com',
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      Endpoint: { 'Fn::GetAtt': [functionId('GuardSlackNotifier'), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
    });
  });

  it('references the Slack secret by name and never creates it', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const secretReads = allStatements(json).filter((located) =>
      actionsOf(located.statement).includes('secretsmanager:GetSecretValue'),
    );
    expect(secretReads).toHaveLength(1);
    expect(JSON.stringify(secretReads[0]!.statement.Resource)).toContain(
      ':secret:vpc-guard/slack-webhook',
    );
    expect(JSON.stringify(secretReads[0]!.statement.Resource)).toContain('-??????');
  });

  it('wires the Config custom rule to the six VPC resource types, change-triggered and periodic', () => {
    const permission = logicalIdsOf(json, 'AWS::Lambda::Permission').find(
      (id) => json.Resources[id]!.Properties!['Principal'] === 'config.amazonaws.com',
    );
    expect(permission).toBeDefined();
    template.hasResource('AWS::Config::ConfigRule', {
      DependsOn: Match.arrayWith([permission!]),
      Properties: {
        ConfigRuleName: CONFIG_RULE_NAME,
        Scope: { ComplianceResourceTypes: [...CONFIG_RULE_RESOURCE_TYPES] },
        MaximumExecutionFrequency: 'Six_Hours',
        Source: {
          Owner: 'CUSTOM_LAMBDA',
          SourceIdentifier: { 'Fn::GetAtt': [functionId('GuardConfigRule'), 'Arn'] },
          SourceDetails: [
            { EventSource: 'aws.config', MessageType: 'ConfigurationItemChangeNotification' },
            {
              EventSource: 'aws.config',
              MessageType: 'OversizedConfigurationItemChangeNotification',
            },
            {
              EventSource: 'aws.config',
              MessageType: 'ScheduledNotification',
              MaximumExecutionFrequency: 'Six_Hours',
            },
          ],
        },
      },
    });
    // Config may invoke the function only for this account (confused deputy).
    expect(json.Resources[permission!]!.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionId('GuardConfigRule'), 'Arn'] },
      Principal: 'config.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
  });

  it('sends successful EC2 network calls from CloudTrail to api-event, with a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectEquals({
        source: ['aws.ec2'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['ec2.amazonaws.com'],
          eventName: [...EC2_API_CALL_EVENT_NAMES],
          errorCode: [{ exists: false }],
        },
      }),
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId('GuardApiEvent'), 'Arn'] },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
    expect(EC2_API_CALL_EVENT_NAMES).toHaveLength(11);
  });

  it("sends the rule's compliance changes to api-event", () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectEquals({
        source: ['aws.config'],
        'detail-type': ['Config Rules Compliance Change'],
        detail: {
          messageType: ['ComplianceChangeNotification'],
          configRuleName: [CONFIG_RULE_NAME],
        },
      }),
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId('GuardApiEvent'), 'Arn'] } })],
    });
  });

  it('runs the sweep on the configured schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(12 hours)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId('GuardSweep'), 'Arn'] },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
  });

  it('separates the evaluation role (config-rule, sweep) from the remediation role (api-event)', () => {
    // Prepare
    const evaluation = roleOfFunction('GuardConfigRule');
    const remediation = roleOfFunction('GuardApiEvent');
    const identity = allStatements(json).filter((located) => located.kind === 'identity');
    const actionsOfRole = (role: string) =>
      new Set(
        identity
          .filter((located) => located.roles.includes(role))
          .flatMap((l) => actionsOf(l.statement)),
      );
    // Assess
    expect(roleOfFunction('GuardSweep')).toBe(evaluation);
    expect(evaluation).not.toBe(remediation);
    for (const action of EC2_READ_ACTIONS) {
      expect(actionsOfRole(evaluation)).toContain(action);
      expect(actionsOfRole(remediation)).toContain(action);
    }
    expect(actionsOfRole(evaluation)).toContain('config:PutEvaluations');
    expect(actionsOfRole(evaluation)).toContain('sns:Publish');
    expect(actionsOfRole(evaluation)).toContain('securityhub:BatchImportFindings');
    expect(actionsOfRole(evaluation)).toContain('events:PutEvents');
    expect(actionsOfRole(evaluation)).toContain('ssm:GetParameter');
    for (const action of EC2_REMEDIATION_ACTIONS) {
      expect(actionsOfRole(remediation)).toContain(action);
      expect(actionsOfRole(evaluation)).not.toContain(action);
    }
  });

  it('allows no wildcard action anywhere: the only "*" actions deny requests without TLS', () => {
    const wildcards = wildcardActionStatements(json);
    expect(wildcards.filter((located) => !isTlsGuard(located.statement))).toEqual([]);
    expect(wildcards.every((located) => located.type === 'AWS::SQS::QueuePolicy')).toBe(true);
  });

  it('attaches no managed policy to any role', () => {
    for (const id of logicalIdsOf(json, 'AWS::IAM::Role')) {
      expect(json.Resources[id]!.Properties!['ManagedPolicyArns']).toBeUndefined();
    }
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  });

  it('grants the mutating EC2 actions to the remediation role and nothing else', () => {
    const remediation = roleOfFunction('GuardApiEvent');
    const mutating = allStatements(json).filter((located) =>
      actionsOf(located.statement).some((action) =>
        (EC2_REMEDIATION_ACTIONS as readonly string[]).includes(action),
      ),
    );
    expect(mutating.length).toBeGreaterThan(0);
    for (const located of mutating) {
      expect(located.kind).toBe('identity');
      expect(located.roles).toEqual([remediation]);
    }
  });

  it('binds creates, tags and security-group changes of remediation to the vpc-guard:managed tag', () => {
    const remediation = allStatements(json).filter((located) =>
      actionsOf(located.statement).some((action) =>
        (EC2_REMEDIATION_ACTIONS as readonly string[]).includes(action),
      ),
    );
    const bySid = (sid: string) => remediation.find((l) => l.statement.Sid === sid)!.statement;
    const createKeys = {
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['vpc-guard:managed', 'Name'] },
      Null: { 'aws:TagKeys': 'false' },
    };
    expect(bySid('CreateManagedEndpoints').Condition).toEqual({
      ...createKeys,
      StringLike: { 'ec2:VpceServiceName': { 'Fn::Sub': 'com.amazonaws.${AWS::Region}.*' } },
      StringEquals: { 'aws:RequestTag/vpc-guard:managed': 'true' },
    });
    expect(bySid('CreateManagedSecurityGroups').Condition).toEqual({
      ...createKeys,
      StringEquals: { 'aws:RequestTag/vpc-guard:managed': 'true' },
    });
    for (const sid of ['AttachManagedGroupsToNewEndpoints', 'OpenManagedSecurityGroups']) {
      expect(bySid(sid).Condition).toEqual({
        StringEquals: { 'ec2:ResourceTag/vpc-guard:managed': 'true' },
      });
    }
    expect(bySid('TagOnlyWhileCreating').Condition).toEqual({
      ...createKeys,
      StringEquals: { 'ec2:CreateAction': ['CreateVpcEndpoint', 'CreateSecurityGroup'] },
    });
    expect(bySid('MarkAddressesForRelease').Condition).toEqual({
      'ForAllValues:StringEquals': {
        'aws:TagKeys': ['vpc-guard:released-from', 'vpc-guard:released-from-vpc'],
      },
      Null: { 'aws:TagKeys': 'false' },
      StringLike: {
        'aws:RequestTag/vpc-guard:released-from': 'nat-*',
        'aws:RequestTag/vpc-guard:released-from-vpc': 'vpc-*',
      },
    });
    // Release is granted only when the deployment asks for it (releaseElasticIps).
    expect(
      remediation.filter(
        (l) =>
          l.statement.Effect === 'Allow' && actionsOf(l.statement).includes('ec2:ReleaseAddress'),
      ),
    ).toEqual([]);
    // A create call's own resource type appears only in the tag-bound statement.
    const created = {
      'ec2:CreateVpcEndpoint': 'vpc-endpoint',
      'ec2:CreateSecurityGroup': 'security-group',
    };
    for (const [action, type] of Object.entries(created)) {
      const unbound = remediation.filter(
        (l) =>
          actionsOf(l.statement).includes(action) &&
          l.statement.Condition === undefined &&
          JSON.stringify(l.statement.Resource).includes(`:${type}/*`),
      );
      expect(unbound).toEqual([]);
    }
  });
});

describe('GuardStack variants', () => {
  it('leaves out the Slack notifier when no secret is configured, still with no nag finding', () => {
    // Prepare
    const variant = createTestApp();
    const config = exampleConfig('standalone', {
      slackSecretName: undefined,
      regions: ['eu-west-1'],
    });
    // Act
    const template = Template.fromStack(addDeployment(variant, config).guardStacks[0]!);
    // Assess
    template.resourceCountIs('AWS::Lambda::Function', 6);
    template.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'lambda' }, 0);
    expect(nagFindings(variant)).toEqual([]);
  });

  it('reads the policy from S3 when configured, and publishes no policy parameter', () => {
    // Prepare
    const variant = createTestApp();
    const config = exampleConfig('standalone', {
      regions: ['eu-west-1'],
      policy: { source: 's3', bucket: 'network-policies', key: 'vpc-guard/policy.yaml' },
    });
    // Act
    const variantJson = Template.fromStack(
      addDeployment(variant, config).guardStacks[0]!,
    ).toJSON() as TemplateJson;
    // Assess
    const parameters = Object.values(variantJson.Resources).filter(
      (r) => r.Type === 'AWS::SSM::Parameter',
    );
    expect(parameters.map((p) => p.Properties!['Name'])).toEqual(['/vpc-guard/kill-switch']);
    // The sweep's run data (its own bucket) aside.
    const reads = allStatements(variantJson).filter(
      (l) =>
        actionsOf(l.statement).includes('s3:GetObject') &&
        !JSON.stringify(l.statement.Resource).includes('SweepRuns'),
    );
    expect(reads.map((l) => l.statement.Resource)).toEqual([
      {
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, ':s3:::network-policies/vpc-guard/policy.yaml'],
        ],
      },
      {
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, ':s3:::network-policies/vpc-guard/policy.yaml'],
        ],
      },
    ]);
    const apiEvent = Object.values(variantJson.Resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        String(r.Properties!['Description']).includes('EC2 API calls'),
    )!;
    expect(
      (apiEvent.Properties!['Environment'] as { Variables: Record<string, unknown> }).Variables[
        'POLICY_SOURCE'
      ],
    ).toBe('s3://network-policies/vpc-guard/policy.yaml');
    expect(nagFindings(variant)).toEqual([]);
  });

  it('throws when given a hub configuration', () => {
    const variant = createTestApp();
    expect(() => new GuardStack(variant, 'Guard', { config: exampleConfig('hub') })).toThrow(
      /expected a standalone configuration, got mode "hub"/,
    );
  });
});
