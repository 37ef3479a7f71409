import { Fn } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  MANAGED_TAG,
  NAME_TAG,
  PROTECTED_TAG,
  RELEASED_FROM_TAG,
  RELEASED_FROM_VPC_TAG,
} from '@vpc-guard/shared';

/**
 * The IAM actions vpc-guard needs, listed one by one (no `*` action anywhere), and the statements that
 * grant them. Standalone roles and the member role share these builders, so the two topologies
 * cannot drift apart.
 */

/** The tag vpc-guard writes on everything it creates (ARCHITECTURE.md, "Names that must stay stable"). */
export const MANAGED_TAG_KEY = MANAGED_TAG;

/** The tags `remove-nat` puts on the Elastic IPs of a NAT it deleted, so a later run may release them. */
export const RELEASE_MARK_TAG_KEYS = [RELEASED_FROM_TAG, RELEASED_FROM_VPC_TAG] as const;

/**
 * The read-only EC2 calls: collect (shared/src/snapshot/collect.ts: VPCs, subnets, route tables,
 * NAT, internet and egress-only gateways, endpoints, security groups, VPC DNS attributes, the
 * Elastic IPs marked for release), the describe-compare-act steps of remediation, and
 * DescribeRegions for `REGIONS=all`. Describe calls have no resource-level permissions, so their
 * resource is `*`.
 */
export const EC2_READ_ACTIONS = [
  'ec2:DescribeVpcs',
  'ec2:DescribeSubnets',
  'ec2:DescribeRouteTables',
  'ec2:DescribeNatGateways',
  'ec2:DescribeInternetGateways',
  'ec2:DescribeEgressOnlyInternetGateways',
  'ec2:DescribeVpcEndpoints',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeVpcAttribute',
  'ec2:DescribeAddresses',
  'ec2:DescribeRegions',
] as const;

/**
 * The tag that denies every vpc-guard write on the resource that carries it, whatever its value (the
 * planner honours it too). IAM matches the tag key in a condition key name case-insensitively.
 */
export const PROTECTED_TAG_KEY = PROTECTED_TAG;

/** The tags vpc-guard sets on what it creates (remediation/tags.ts: the managed tag and a Name). */
export const CREATE_TAG_KEYS = [MANAGED_TAG, NAME_TAG] as const;

/**
 * The mutating EC2 calls `apply` makes in the deployed functions (each action's `apply` in
 * shared/src/remediation/actions/), without `ReleaseAddress`, which a deployment grants only when
 * it asks for it ({@link EC2_RELEASE_ACTIONS}). Only the remediation role (standalone) and the
 * member role (hub mode) hold them.
 */
export const EC2_REMEDIATION_ACTIONS = [
  'ec2:CreateVpcEndpoint',
  'ec2:ModifyVpcEndpoint',
  'ec2:DeleteRoute',
  'ec2:DeleteNatGateway',
  'ec2:CreateSecurityGroup',
  'ec2:AuthorizeSecurityGroupIngress',
  'ec2:CreateTags',
] as const;

/** Granted with `releaseElasticIps: true` only: see {@link ec2RemediationStatements}. */
export const EC2_RELEASE_ACTIONS = ['ec2:ReleaseAddress'] as const;

/**
 * The calls only `rollback` makes (the inverse step kinds in shared/src/remediation/actions/). No
 * deployed role holds them: rollback runs from the CLI with the operator's own credentials, after
 * showing every write.
 */
export const EC2_ROLLBACK_ONLY_ACTIONS = [
  'ec2:CreateRoute',
  'ec2:CreateNatGateway',
  'ec2:DeleteVpcEndpoints',
  'ec2:DeleteSecurityGroup',
  'ec2:DeleteTags',
] as const;

/**
 * The writes AWS offers no condition key to narrow to what vpc-guard may do, by action and resource
 * type (Service Authorization Reference, Amazon EC2): DeleteRoute has no key for the destination or
 * target, DeleteNatGateway and ModifyVpcEndpoint act on the customer's own NAT gateways and
 * endpoints (that is the fix), and a create call names the customer's VPC, subnets and route tables
 * it attaches to. docs/DEPLOY.md says, per action, what guards them instead.
 */
export const UNCONDITIONABLE_EC2_WRITES: ReadonlyMap<string, readonly string[]> = new Map([
  ['ec2:DeleteRoute', ['route-table']],
  ['ec2:DeleteNatGateway', ['natgateway']],
  ['ec2:ModifyVpcEndpoint', ['vpc-endpoint', 'subnet', 'route-table']],
  ['ec2:CreateVpcEndpoint', ['vpc', 'subnet', 'route-table']],
  ['ec2:CreateSecurityGroup', ['vpc']],
]);

/**
 * AWS Config calls of the rule function (functions/config-rule/rule.ts): PutEvaluations (the
 * verdicts), GetResourceConfigHistory (an oversized item, AWS-FACTS.md) and
 * GetComplianceDetailsByConfigRule (the VPCs reported earlier, to mark the deleted ones
 * NOT_APPLICABLE). In hub mode the organization rule has a generated name in each member account, so
 * the resource is `*`.
 */
export const CONFIG_RULE_ACTIONS = [
  'config:PutEvaluations',
  'config:GetResourceConfigHistory',
  'config:GetComplianceDetailsByConfigRule',
] as const;

/** Which region EC2 ARNs cover: the stack's own (standalone) or every region (the global member role). */
export type ArnRegion = 'stack' | 'any';

function regionPart(region: ArnRegion): string {
  return region === 'stack' ? '${AWS::Region}' : '*';
}

/** The `Fn::Sub` text of the ARN of every EC2 resource of `type` in the account. */
export function ec2ArnTemplate(type: string, region: ArnRegion): string {
  return `arn:\${AWS::Partition}:ec2:${regionPart(region)}:\${AWS::AccountId}:${type}/*`;
}

function ec2Arns(region: ArnRegion, ...types: string[]): string[] {
  return types.map((type) => Fn.sub(ec2ArnTemplate(type, region)));
}

/**
 * The finding id cdk-nag's AwsSolutions-IAM5 reports for a wildcard resource written as an `Fn::Sub`
 * text (cdk-nag flattens `${X}` to `<X>`), to acknowledge exactly that resource.
 */
export function iam5ResourceFinding(subTemplate: string): string {
  return `AwsSolutions-IAM5[Resource::${subTemplate.replace(/\$\{/g, '<').replace(/\}/g, '>')}]`;
}

/** The resource types whose account-wide ARNs (`type/*`) the remediation statements use. */
export const REMEDIATION_RESOURCE_TYPES = [
  'vpc-endpoint',
  'vpc',
  'subnet',
  'security-group',
  'route-table',
  'natgateway',
  'elastic-ip',
] as const;

/** Describe calls (resource `*`: EC2 describes have no resource-level permissions). */
export function ec2ReadStatement(): PolicyStatement {
  return new PolicyStatement({
    sid: 'Ec2DescribeNetwork',
    actions: [...EC2_READ_ACTIONS],
    resources: ['*'],
  });
}

/** AWS Config evaluations (resource `*`: PutEvaluations has no resource-level permission). */
export function configRuleStatement(): PolicyStatement {
  return new PolicyStatement({
    sid: 'ConfigEvaluations',
    actions: [...CONFIG_RULE_ACTIONS],
    resources: ['*'],
  });
}

/** The `Fn::Sub` text of the account's own default Security Hub product. */
export function securityHubProductArnTemplate(region: ArnRegion): string {
  return `arn:\${AWS::Partition}:securityhub:${regionPart(region)}:\${AWS::AccountId}:product/\${AWS::AccountId}/default`;
}

/** Security Hub import into the account's own default product (the only product it may write). */
export function securityHubImportStatement(region: ArnRegion): PolicyStatement {
  return new PolicyStatement({
    sid: 'SecurityHubImportOwnFindings',
    actions: ['securityhub:BatchImportFindings'],
    resources: [Fn.sub(securityHubProductArnTemplate(region))],
  });
}

/** Options of {@link ec2RemediationStatements}. */
export interface RemediationPermissionOptions {
  /**
   * Grant `ec2:ReleaseAddress` on the addresses `remove-nat` marked. IAM cannot tell a mark
   * vpc-guard wrote from one the same role writes on any other unassociated address, so this is off
   * unless the deployment asks for it (docs/DEPLOY.md, "Who may do what").
   */
  readonly releaseElasticIps: boolean;
}

/**
 * The `ec2:VpceServiceName` patterns of the AWS services of the region (`com.amazonaws.<region>.*`);
 * a global role's, of any region. PrivateLink services of other accounts are named
 * `com.amazonaws.vpce.<region>.vpce-svc-...`, which the regional pattern excludes and the global
 * one is given a `StringNotLike` for.
 */
function awsServiceNameConditions(region: ArnRegion): Record<string, Record<string, unknown>> {
  if (region === 'stack') {
    return { StringLike: { 'ec2:VpceServiceName': Fn.sub('com.amazonaws.${AWS::Region}.*') } };
  }
  return {
    StringLike: { 'ec2:VpceServiceName': 'com.amazonaws.*' },
    StringNotLike: { 'ec2:VpceServiceName': 'com.amazonaws.vpce.*' },
  };
}

/**
 * The mutating EC2 calls of `apply`, each narrowed as far as EC2's condition keys allow, and one
 * Deny that every write honours. The per-action table in docs/DEPLOY.md mirrors this.
 *
 * - What vpc-guard creates (endpoints, security groups) must carry `vpc-guard:managed=true` and no
 *   tag but that and `Name` in the request; endpoints only to AWS services (`ec2:VpceServiceName`).
 *   CreateTags only as part of those creates (`ec2:CreateAction`), with the same keys.
 * - The security groups an endpoint is created with, and those opened on port 443, must carry the
 *   managed tag already (`ec2:ResourceTag`); ModifyVpcEndpoint cannot add a security group.
 * - Elastic IPs: CreateTags only of the release marks (`aws:TagKeys`), with values naming a NAT
 *   gateway and a VPC; ReleaseAddress only when the deployment asks for it (see
 *   {@link RemediationPermissionOptions}).
 * - {@link UNCONDITIONABLE_EC2_WRITES}: no condition key narrows them; they are limited to the
 *   account (and, standalone, the region) by ARN.
 * - `DenyWritesOnProtected`: every EC2 write, on any resource tagged `vpc-guard:protected`.
 */
export function ec2RemediationStatements(
  region: ArnRegion,
  options: RemediationPermissionOptions,
): PolicyStatement[] {
  const createKeys = {
    'ForAllValues:StringEquals': { 'aws:TagKeys': [...CREATE_TAG_KEYS] },
    Null: { 'aws:TagKeys': 'false' },
  };
  const managedResource = { StringEquals: { [`ec2:ResourceTag/${MANAGED_TAG_KEY}`]: 'true' } };
  const serviceNames = awsServiceNameConditions(region);
  const statements = [
    new PolicyStatement({
      sid: 'CreateManagedEndpoints',
      actions: ['ec2:CreateVpcEndpoint'],
      resources: ec2Arns(region, 'vpc-endpoint'),
      conditions: {
        ...createKeys,
        ...serviceNames,
        StringEquals: { [`aws:RequestTag/${MANAGED_TAG_KEY}`]: 'true' },
      },
    }),
    new PolicyStatement({
      sid: 'CreateManagedSecurityGroups',
      actions: ['ec2:CreateSecurityGroup'],
      resources: ec2Arns(region, 'security-group'),
      conditions: {
        ...createKeys,
        StringEquals: { [`aws:RequestTag/${MANAGED_TAG_KEY}`]: 'true' },
      },
    }),
    // The customer's resources a create call attaches its new resource to: no condition narrows them
    // (UNCONDITIONABLE_EC2_WRITES); the create itself is bound above.
    new PolicyStatement({
      sid: 'AttachNewEndpoints',
      actions: ['ec2:CreateVpcEndpoint'],
      resources: ec2Arns(region, 'vpc', 'subnet', 'route-table'),
    }),
    new PolicyStatement({
      sid: 'AttachManagedGroupsToNewEndpoints',
      actions: ['ec2:CreateVpcEndpoint'],
      resources: ec2Arns(region, 'security-group'),
      conditions: managedResource,
    }),
    new PolicyStatement({
      sid: 'AttachNewSecurityGroups',
      actions: ['ec2:CreateSecurityGroup'],
      resources: ec2Arns(region, 'vpc'),
    }),
    new PolicyStatement({
      sid: 'TagOnlyWhileCreating',
      actions: ['ec2:CreateTags'],
      resources: ec2Arns(region, 'vpc-endpoint', 'security-group'),
      conditions: {
        ...createKeys,
        StringEquals: { 'ec2:CreateAction': ['CreateVpcEndpoint', 'CreateSecurityGroup'] },
      },
    }),
    new PolicyStatement({
      sid: 'OpenManagedSecurityGroups',
      actions: ['ec2:AuthorizeSecurityGroupIngress'],
      resources: ec2Arns(region, 'security-group'),
      conditions: managedResource,
    }),
    new PolicyStatement({
      sid: 'MarkAddressesForRelease',
      actions: ['ec2:CreateTags'],
      resources: ec2Arns(region, 'elastic-ip'),
      conditions: {
        'ForAllValues:StringEquals': { 'aws:TagKeys': [...RELEASE_MARK_TAG_KEYS] },
        Null: { 'aws:TagKeys': 'false' },
        StringLike: {
          [`aws:RequestTag/${RELEASED_FROM_TAG}`]: 'nat-*',
          [`aws:RequestTag/${RELEASED_FROM_VPC_TAG}`]: 'vpc-*',
        },
      },
    }),
    new PolicyStatement({
      sid: 'FixCustomerEndpoints',
      actions: ['ec2:ModifyVpcEndpoint'],
      resources: ec2Arns(region, 'vpc-endpoint', 'subnet', 'route-table'),
    }),
    new PolicyStatement({
      sid: 'RemoveRoutes',
      actions: ['ec2:DeleteRoute'],
      resources: ec2Arns(region, 'route-table'),
    }),
    new PolicyStatement({
      sid: 'RemoveNatGateways',
      actions: ['ec2:DeleteNatGateway'],
      resources: ec2Arns(region, 'natgateway'),
    }),
  ];
  if (options.releaseElasticIps) {
    statements.push(
      new PolicyStatement({
        sid: 'ReleaseMarkedAddresses',
        actions: [...EC2_RELEASE_ACTIONS],
        resources: ec2Arns(region, 'elastic-ip'),
        conditions: {
          StringLike: {
            [`ec2:ResourceTag/${RELEASED_FROM_TAG}`]: 'nat-*',
            [`ec2:ResourceTag/${RELEASED_FROM_VPC_TAG}`]: 'vpc-*',
          },
        },
      }),
    );
  }
  statements.push(protectedDenyStatement());
  return statements;
}

/**
 * The explicit Deny of every EC2 write vpc-guard knows (those it holds and those only rollback
 * makes) on a resource that carries `vpc-guard:protected`, whatever its value. An explicit Deny wins
 * over any Allow, in this role or another policy.
 */
export function protectedDenyStatement(): PolicyStatement {
  return new PolicyStatement({
    sid: 'DenyWritesOnProtected',
    effect: Effect.DENY,
    actions: [...EC2_REMEDIATION_ACTIONS, ...EC2_RELEASE_ACTIONS, ...EC2_ROLLBACK_ONLY_ACTIONS],
    resources: ['*'],
    conditions: { Null: { [`ec2:ResourceTag/${PROTECTED_TAG_KEY}`]: 'false' } },
  });
}

/**
 * The cdk-nag IAM5 findings of {@link ec2RemediationStatements}, each with why the wildcard is
 * needed: vpc-guard acts on resources it discovers at run time, so ARNs end in `/*`.
 */
export function ec2RemediationFindings(region: ArnRegion): { id: string; reason: string }[] {
  return REMEDIATION_RESOURCE_TYPES.map((type) => ({
    id: iam5ResourceFinding(ec2ArnTemplate(type, region)),
    reason:
      `Remediation acts on ${type} resources discovered at run time, so the ARN ends in /*; it is ` +
      `bound to this account${region === 'stack' ? ' and region' : ''}; creates, tag writes and ` +
      `address releases are further bound by tag conditions (${MANAGED_TAG_KEY}, ` +
      `${RELEASED_FROM_TAG}), endpoint creates to AWS services, and every write is denied on ` +
      `resources tagged ${PROTECTED_TAG_KEY}.`,
  }));
}
