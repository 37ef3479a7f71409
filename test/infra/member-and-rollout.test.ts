import { Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AssetManifestArtifact } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HubConfig } from '../../infra/lib/deployment-config';
import { EC2_API_CALL_EVENT_NAMES } from '../../infra/lib/guard-events';
import {
  EC2_READ_ACTIONS,
  EC2_REMEDIATION_ACTIONS,
  MANAGED_TAG_KEY,
} from '../../infra/lib/guard-permissions';
import { synthesizeMemberTemplate, type MemberTemplate } from '../../infra/lib/member-stack';
import { OrgRolloutStack, TEMPLATE_BODY_MAX_BYTES } from '../../infra/lib/org-rollout-stack';
import {
  actionsOf,
  allStatements,
  createTestApp,
  exampleConfig,
  logicalIdOf,
  nagFindings,
  wildcardActionStatements,
  type TemplateJson,
} from './support';

let app: ReturnType<typeof createTestApp>;
let hub: HubConfig;
let member: MemberTemplate;
let memberJson: TemplateJson;
let rollout: Template;

beforeAll(() => {
  // Prepare / Act: the member template in its own stage, and the StackSet that carries it.
  app = createTestApp();
  const config = exampleConfig('hub');
  hub = config.hub!;
  member = synthesizeMemberTemplate(app, { hub, securityHub: true });
  memberJson = member.template as TemplateJson;
  const stack = new OrgRolloutStack(app, 'Rollout', {
    env: { account: hub.rollout.account, region: hub.rollout.region },
    hub,
    regions: config.regions,
    memberTemplate: member.template,
  });
  rollout = Template.fromStack(stack);
}, 120_000);

describe('MemberStack (the StackSet template)', () => {
  it('has no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(app)).toEqual([]);
  });

  it('is asset-free: no code, no file asset, no bootstrap parameter or rule, no CDK metadata', () => {
    // Assess: the template itself.
    const text = JSON.stringify(memberJson);
    expect(Object.keys(memberJson['Parameters'] as object)).toEqual(['ExternalId']);
    expect(memberJson['Rules']).toBeUndefined();
    expect(text).not.toMatch(/cdk-hnb659fds|AssetParameters|aws:asset:|BootstrapVersion/);
    const types = Object.values(memberJson.Resources).map((resource) => resource.Type);
    expect(types).not.toContain('AWS::CDK::Metadata');
    expect(types).not.toContain('AWS::Lambda::Function');
    expect(Object.values(memberJson.Resources).every((r) => r.Metadata === undefined)).toBe(true);
    // Assess: the cloud assembly of its stage holds no asset to publish.
    const assembly = Stage.of(member.stack)!.synth();
    const assetManifests = assembly.artifacts.filter(
      (artifact): artifact is AssetManifestArtifact => artifact instanceof AssetManifestArtifact,
    );
    for (const manifest of assetManifests) {
      expect(manifest.contents.files ?? {}).toEqual({});
      expect(manifest.contents.dockerImages ?? {}).toEqual({});
    }
  });

  it('creates the member role once, in the home region (IAM is global)', () => {
    const roleId = logicalIdOf(memberJson, 'AWS::IAM::Role', 'MemberRole');
    const role = memberJson.Resources[roleId]!;
    expect(role.Properties!['RoleName']).toBe('VpcGuardMember');
    expect(role.Condition).toBe('IsMemberRoleRegion');
    expect(memberJson['Conditions']).toEqual({
      IsMemberRoleRegion: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] },
    });
  });

  it('trusts only the hub function roles, with the external id', () => {
    const roleId = logicalIdOf(memberJson, 'AWS::IAM::Role', 'MemberRole');
    expect(memberJson.Resources[roleId]!.Properties!['AssumeRolePolicyDocument']).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: {
            AWS: {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::222222222222:root']],
            },
          },
          Condition: {
            StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } },
            ArnEquals: {
              'aws:PrincipalArn': [
                { 'Fn::Sub': 'arn:${AWS::Partition}:iam::222222222222:role/VpcGuardHubEvaluation' },
                {
                  'Fn::Sub': 'arn:${AWS::Partition}:iam::222222222222:role/VpcGuardHubRemediation',
                },
              ],
            },
          },
        },
      ],
    });
  });

  it('lets the member role describe, report and make only the guarded remediation calls', () => {
    const roleId = logicalIdOf(memberJson, 'AWS::IAM::Role', 'MemberRole');
    const statements = allStatements(memberJson).filter(
      (l) => l.kind === 'identity' && l.roles.includes(roleId),
    );
    const actions = new Set(
      statements
        .filter((l) => l.statement.Effect === 'Allow')
        .flatMap((l) => actionsOf(l.statement)),
    );
    for (const action of [...EC2_READ_ACTIONS, ...EC2_REMEDIATION_ACTIONS]) {
      expect(actions).toContain(action);
    }
    expect(actions).toContain('config:PutEvaluations');
    expect(actions).toContain('securityhub:BatchImportFindings');
    const ec2Mutations = [...actions].filter(
      (a) => a.startsWith('ec2:') && !(EC2_READ_ACTIONS as readonly string[]).includes(a),
    );
    expect(ec2Mutations.sort()).toEqual([...EC2_REMEDIATION_ACTIONS].sort());
    const created = statements.find((l) => l.statement.Sid === 'CreateManagedEndpoints')!;
    expect(created.statement.Condition).toMatchObject({
      StringEquals: { [`aws:RequestTag/${MANAGED_TAG_KEY}`]: 'true' },
      StringLike: { 'ec2:VpceServiceName': 'com.amazonaws.*' },
      StringNotLike: { 'ec2:VpceServiceName': 'com.amazonaws.vpce.*' },
    });
  });

  it('allows no wildcard action', () => {
    expect(wildcardActionStatements(memberJson)).toEqual([]);
  });

  it('forwards the EC2 API-call pattern to the hub bus with a role that may only put events there', () => {
    const hubBus = {
      'Fn::Sub': 'arn:${AWS::Partition}:events:us-east-1:222222222222:event-bus/vpc-guard',
    };
    const rule = Object.values(memberJson.Resources).find((r) => r.Type === 'AWS::Events::Rule')!;
    const forwardRole = logicalIdOf(memberJson, 'AWS::IAM::Role', 'ForwardRole');
    expect(rule.Properties).toEqual({
      Description: expect.any(String) as unknown,
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['ec2.amazonaws.com'],
          eventName: [...EC2_API_CALL_EVENT_NAMES],
          errorCode: [{ exists: false }],
        },
      },
      Targets: [{ Arn: hubBus, Id: 'Target0', RoleArn: { 'Fn::GetAtt': [forwardRole, 'Arn'] } }],
    });
    const forwardStatements = allStatements(memberJson).filter(
      (l) => l.kind === 'identity' && l.roles.includes(forwardRole),
    );
    expect(forwardStatements.map((l) => l.statement)).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: hubBus },
    ]);
  });
  it("forwards the organization Config rule's compliance changes to the hub bus with the same role", () => {
    const hubBus = {
      'Fn::Sub': 'arn:${AWS::Partition}:events:us-east-1:222222222222:event-bus/vpc-guard',
    };
    const forwardRole = logicalIdOf(memberJson, 'AWS::IAM::Role', 'ForwardRole');
    const ruleId = logicalIdOf(memberJson, 'AWS::Events::Rule', 'ForwardConfigComplianceChanges');
    expect(memberJson.Resources[ruleId]!.Properties).toEqual({
      Description: expect.any(String) as unknown,
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.config'],
        'detail-type': ['Config Rules Compliance Change'],
        detail: {
          messageType: ['ComplianceChangeNotification'],
          // Config names the rule it puts in a member account OrgConfigRule-<name>-<suffix>.
          configRuleName: [{ prefix: 'OrgConfigRule-vpc-guard-' }],
        },
      },
      Targets: [{ Arn: hubBus, Id: 'Target0', RoleArn: { 'Fn::GetAtt': [forwardRole, 'Arn'] } }],
    });
    expect(
      Object.values(memberJson.Resources).filter((r) => r.Type === 'AWS::Events::Rule'),
    ).toHaveLength(2);
  });
});

describe('OrgRolloutStack', () => {
  it('has no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(app)).toEqual([]);
  });

  it('deploys the member template as a service-managed StackSet with auto-deployment', () => {
    rollout.resourceCountIs('AWS::CloudFormation::StackSet', 1);
    rollout.hasResourceProperties('AWS::CloudFormation::StackSet', {
      StackSetName: 'vpc-guard-member',
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      CallAs: 'DELEGATED_ADMIN',
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      OperationPreferences: {
        FailureTolerancePercentage: 10,
        MaxConcurrentPercentage: 25,
        RegionConcurrencyType: 'PARALLEL',
      },
      StackInstancesGroup: [
        {
          DeploymentTargets: { OrganizationalUnitIds: ['ou-ab12-workload1', 'ou-ab12-sandbox01'] },
          Regions: ['us-east-1', 'eu-west-1', 'eu-central-1'],
        },
      ],
      Parameters: [{ ParameterKey: 'ExternalId', ParameterValue: 'vpc-guard-3f9c2a7e' }],
    });
  });

  it('carries exactly the synthesized member template, within the TemplateBody limit', () => {
    const stackSet = Object.values((rollout.toJSON() as TemplateJson).Resources).find(
      (r) => r.Type === 'AWS::CloudFormation::StackSet',
    )!;
    const body = stackSet.Properties!['TemplateBody'] as string;
    expect(JSON.parse(body)).toEqual(member.template);
    expect(Buffer.byteLength(body)).toBeLessThan(TEMPLATE_BODY_MAX_BYTES);
  });

  it('reads the external id from its parameter at deploy time when the configuration has none', () => {
    // Prepare
    const other = createTestApp();
    const config = exampleConfig('hub', { externalId: undefined });
    const otherMember = synthesizeMemberTemplate(other, { hub: config.hub! });
    // Act
    const stack = new OrgRolloutStack(other, 'Rollout', {
      env: { account: '222222222222', region: 'us-east-1' },
      hub: config.hub!,
      regions: config.regions,
      memberTemplate: otherMember.template,
    });
    const template = Template.fromStack(stack);
    // Assess
    template.hasParameter('ExternalIdValue', {
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/vpc-guard/external-id',
    });
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      Parameters: [{ ParameterKey: 'ExternalId', ParameterValue: { Ref: 'ExternalIdValue' } }],
    });
  });
});
