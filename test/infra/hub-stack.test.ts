import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { addDeployment, type Deployment } from '../../infra/lib/deployment';
import { CONFIG_RULE_NAME, CONFIG_RULE_RESOURCE_TYPES } from '../../infra/lib/guard-events';
import { HUB_ROLE_NAMES, HubStack } from '../../infra/lib/hub-stack';
import {
  actionsOf,
  allStatements,
  createTestApp,
  exampleConfig,
  TEST_ORGANIZATION_ID,
  isTlsGuard,
  logicalIdOf,
  logicalIdsOf,
  nagFindings,
  runtimeConfigsOf,
  wildcardActionStatements,
  type TemplateJson,
} from './support';

let app: ReturnType<typeof createTestApp>;
let deployment: Deployment;
let template: Template;
let json: TemplateJson;

beforeAll(() => {
  // Prepare / Act: the hub example (hub, member template, rollout), synthesized once.
  app = createTestApp();
  deployment = addDeployment(app, exampleConfig('hub'));
  template = Template.fromStack(deployment.hubStack!);
  json = template.toJSON() as TemplateJson;
}, 120_000);

function functionId(prefix: string): string {
  return logicalIdOf(json, 'AWS::Lambda::Function', prefix);
}

describe('HubStack', () => {
  it('lives in the hub account and region and deploys before the rollout', () => {
    const hub = deployment.hubStack!;
    expect([hub.stackName, hub.account, hub.region]).toEqual([
      'VpcGuardHub',
      '222222222222',
      'us-east-1',
    ]);
    expect(deployment.orgRolloutStack!.dependencies).toContain(hub);
    expect(deployment.stacks).toEqual([hub, deployment.orgRolloutStack]);
  });

  it('has no unacknowledged cdk-nag finding in any stack of the hub deployment', () => {
    expect(nagFindings(app)).toEqual([]);
  });

  it('runs a central event bus that admits PutEvents from the organization only', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'vpc-guard' });
    const policies = logicalIdsOf(json, 'AWS::Events::EventBusPolicy');
    expect(policies).toHaveLength(1);
    expect(json.Resources[policies[0]!]!.Properties!['Statement']).toEqual({
      Sid: 'cdk-OrganizationMembersPutEvents',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'events:PutEvents',
      Resource: { 'Fn::GetAtt': [logicalIdOf(json, 'AWS::Events::EventBus', 'Bus'), 'Arn'] },
      Condition: { StringEquals: { 'aws:PrincipalOrgID': TEST_ORGANIZATION_ID } },
    });
  });

  it('sends the EC2 calls forwarded to its bus to api-event, with a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalIdOf(json, 'AWS::Events::EventBus', 'Bus') },
      EventPattern: Match.objectLike({
        source: ['aws.ec2'],
        'detail-type': ['AWS API Call via CloudTrail'],
      }),
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId('GuardApiEvent'), 'Arn'] },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId('GuardSweep'), 'Arn'] } })],
    });
  });

  it('sends the Config compliance changes forwarded to its bus to api-event, with a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalIdOf(json, 'AWS::Events::EventBus', 'Bus') },
      EventPattern: {
        source: ['aws.config'],
        'detail-type': ['Config Rules Compliance Change'],
        detail: {
          messageType: ['ComplianceChangeNotification'],
          configRuleName: [{ prefix: `OrgConfigRule-${CONFIG_RULE_NAME}-` }],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId('GuardApiEvent'), 'Arn'] },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
  });

  it('deploys the organization custom Config rule on the hub function', () => {
    const permission = logicalIdsOf(json, 'AWS::Lambda::Permission').find(
      (id) => json.Resources[id]!.Properties!['Principal'] === 'config.amazonaws.com',
    );
    template.hasResource('AWS::Config::OrganizationConfigRule', {
      DependsOn: Match.arrayWith([permission!]),
      Properties: {
        OrganizationConfigRuleName: CONFIG_RULE_NAME,
        OrganizationCustomRuleMetadata: Match.objectLike({
          LambdaFunctionArn: { 'Fn::GetAtt': [functionId('GuardConfigRule'), 'Arn'] },
          OrganizationConfigRuleTriggerTypes: [
            'ConfigurationItemChangeNotification',
            'OversizedConfigurationItemChangeNotification',
            'ScheduledNotification',
          ],
          ResourceTypesScope: [...CONFIG_RULE_RESOURCE_TYPES],
          MaximumExecutionFrequency: 'TwentyFour_Hours',
        }),
      },
    });
  });

  it('names its function roles, which the member role trusts', () => {
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: HUB_ROLE_NAMES.evaluation });
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: HUB_ROLE_NAMES.remediation });
  });

  it('reaches member accounts only through the member role of organization accounts', () => {
    const assume = allStatements(json).filter((l) =>
      actionsOf(l.statement).includes('sts:AssumeRole'),
    );
    const identity = assume.filter((l) => l.kind === 'identity');
    expect(identity.length).toBeGreaterThan(0);
    for (const located of identity) {
      expect(located.statement.Resource).toEqual({
        'Fn::Sub': 'arn:${AWS::Partition}:iam::*:role/VpcGuardMember',
      });
      expect(located.statement.Condition).toEqual({
        StringEquals: { 'aws:ResourceOrgID': TEST_ORGANIZATION_ID },
      });
    }
  });

  it('holds no EC2 permission itself: reads and changes go through the member role', () => {
    const ec2 = allStatements(json).filter((l) =>
      actionsOf(l.statement).some((action) => action.startsWith('ec2:')),
    );
    expect(ec2).toEqual([]);
  });

  it('allows no wildcard action anywhere: the only "*" actions deny requests without TLS', () => {
    const wildcards = wildcardActionStatements(json);
    expect(wildcards.filter((located) => !isTlsGuard(located.statement))).toEqual([]);
  });

  it('publishes the external id the functions read', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/vpc-guard/external-id',
      Value: 'vpc-guard-3f9c2a7e',
    });
  });

  it('gives each function a hub-mode environment its cold start accepts', () => {
    for (const { name, config } of runtimeConfigsOf(json)) {
      if (name === 'slack-notifier') continue;
      expect(config.mode).toBe('hub');
      expect(config.memberRoleName).toBe('VpcGuardMember');
      expect(config.externalIdParameter).toBe('/vpc-guard/external-id');
      expect(config.memberAccounts).toEqual({ kind: 'organization' });
      expect(config.regions).toEqual({
        kind: 'list',
        regions: ['us-east-1', 'eu-west-1', 'eu-central-1'],
      });
      expect(config.ownRoleArns).toContain('arn:*:iam::*:role/VpcGuardMember');
    }
  });

  it('leaves the excluded accounts out of the organization Config rule and the functions', () => {
    // Prepare / Act
    const other = createTestApp();
    const excluded = ['444444444444', '999999999999'];
    const stack = new HubStack(other, 'Hub', {
      env: { account: '222222222222', region: 'us-east-1' },
      config: exampleConfig('hub', { excludedAccounts: excluded }),
    });
    const otherJson = Template.fromStack(stack).toJSON() as TemplateJson;

    // Assess
    const rule = Object.values(otherJson.Resources).find(
      (r) => r.Type === 'AWS::Config::OrganizationConfigRule',
    )!;
    expect(rule.Properties!['ExcludedAccounts']).toEqual(excluded);
    for (const { name, config } of runtimeConfigsOf(otherJson)) {
      if (name === 'slack-notifier') continue;
      expect(config.excludedAccounts).toEqual(excluded);
    }
  });

  it('excludes no account by default', () => {
    const rule = Object.values(json.Resources).find(
      (r) => r.Type === 'AWS::Config::OrganizationConfigRule',
    )!;
    expect(rule.Properties!['ExcludedAccounts']).toBeUndefined();
    for (const { config } of runtimeConfigsOf(json)) expect(config.excludedAccounts).toEqual([]);
  });

  it('throws when given a standalone configuration', () => {
    const other = createTestApp();
    expect(() => new HubStack(other, 'Hub', { config: exampleConfig('standalone') })).toThrow(
      /expected a hub configuration, got mode "standalone"/,
    );
  });
});
