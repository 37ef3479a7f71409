import { Fn } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { MANAGED_TAG, RELEASED_FROM_TAG, RELEASED_FROM_VPC_TAG } from '@vpc-guard/shared';

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
 * Every mutating EC2 call of shared/src/remediation (apply.ts and rollback.ts). Only the remediation
 * role (standalone) and the member role (hub mode) hold them.
 */
export const EC2_REMEDIATION_ACTIONS = [
  'ec2:CreateVpcEndpoint',
  'ec2:ModifyVpcEndpoint',
  'ec2:DeleteVpcEndpoints',
  'ec2:CreateRoute',
  'ec2:DeleteRoute',
  'ec2:CreateNatGateway',
  'ec2:DeleteNatGateway',
  'ec2:CreateSecurityGroup',
  'ec2:AuthorizeSecurityGroupIngress',
  'ec2:DeleteSecurityGroup',
  'ec2:ReleaseAddress',
  'ec2:CreateTags',
  'ec2:DeleteTags',
] as const;

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

/**
 * The mutating EC2 calls, each narrowed as far as EC2's condition keys allow:
 *
 * - What vpc-guard creates (endpoints, security groups, NAT gateways on rollback) must carry
 *   `vpc-guard:managed=true` in the request (`aws:RequestTag`); the resources it attaches them to
 *   (VPC, subnets, route tables, security groups, an Elastic IP) are in separate statements, since
 *   they carry no request tag.
 * - What vpc-guard deletes only because it created it (endpoints and security groups, on rollback)
 *   must carry the tag already (`ec2:ResourceTag`); so must the security groups it opens port 443 on.
 * - CreateTags only as part of those create calls (`ec2:CreateAction`), or, on Elastic IPs, only the
 *   release marks (`aws:TagKeys`); DeleteTags only those marks; ReleaseAddress only on addresses
 *   that carry the mark (the NAT gateway vpc-guard deleted).
 * - ModifyVpcEndpoint, the route calls and DeleteNatGateway act on the customer's own endpoints,
 *   route tables and NAT gateways (that is the remediation): no tag can narrow them; they are
 *   limited to the account (and, standalone, the region) by ARN.
 */
export function ec2RemediationStatements(region: ArnRegion): PolicyStatement[] {
  const managedRequest = { StringEquals: { [`aws:RequestTag/${MANAGED_TAG_KEY}`]: 'true' } };
  const managedResource = { StringEquals: { [`ec2:ResourceTag/${MANAGED_TAG_KEY}`]: 'true' } };
  return [
    new PolicyStatement({
      sid: 'CreateManagedResources',
      actions: ['ec2:CreateVpcEndpoint', 'ec2:CreateSecurityGroup', 'ec2:CreateNatGateway'],
      resources: ec2Arns(region, 'vpc-endpoint', 'security-group', 'natgateway'),
      conditions: managedRequest,
    }),
    // The resources a create call attaches its new resource to, one statement per call, so that no
    // create action is granted on its own resource type without the tag condition above.
    new PolicyStatement({
      sid: 'AttachNewEndpoints',
      actions: ['ec2:CreateVpcEndpoint'],
      resources: ec2Arns(region, 'vpc', 'subnet', 'route-table', 'security-group'),
    }),
    new PolicyStatement({
      sid: 'AttachNewSecurityGroups',
      actions: ['ec2:CreateSecurityGroup'],
      resources: ec2Arns(region, 'vpc'),
    }),
    new PolicyStatement({
      sid: 'AttachNewNatGateways',
      actions: ['ec2:CreateNatGateway'],
      resources: ec2Arns(region, 'subnet', 'elastic-ip'),
    }),
    new PolicyStatement({
      sid: 'TagOnlyWhileCreating',
      actions: ['ec2:CreateTags'],
      resources: ec2Arns(region, 'vpc-endpoint', 'security-group', 'natgateway'),
      conditions: {
        StringEquals: {
          'ec2:CreateAction': ['CreateVpcEndpoint', 'CreateSecurityGroup', 'CreateNatGateway'],
        },
      },
    }),
    new PolicyStatement({
      sid: 'ChangeOnlyManagedResources',
      actions: [
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:DeleteSecurityGroup',
        'ec2:DeleteVpcEndpoints',
      ],
      resources: ec2Arns(region, 'security-group', 'vpc-endpoint'),
      conditions: managedResource,
    }),
    new PolicyStatement({
      sid: 'MarkAddressesForRelease',
      actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
      resources: ec2Arns(region, 'elastic-ip'),
      conditions: {
        'ForAllValues:StringEquals': { 'aws:TagKeys': [...RELEASE_MARK_TAG_KEYS] },
        Null: { 'aws:TagKeys': 'false' },
      },
    }),
    new PolicyStatement({
      sid: 'ReleaseMarkedAddresses',
      actions: ['ec2:ReleaseAddress'],
      resources: ec2Arns(region, 'elastic-ip'),
      conditions: { StringLike: { [`ec2:ResourceTag/${RELEASED_FROM_TAG}`]: 'nat-*' } },
    }),
    new PolicyStatement({
      sid: 'FixCustomerEndpoints',
      actions: ['ec2:ModifyVpcEndpoint'],
      resources: ec2Arns(region, 'vpc-endpoint', 'route-table', 'subnet', 'security-group'),
    }),
    new PolicyStatement({
      sid: 'FixRoutesAndNatGateways',
      actions: ['ec2:CreateRoute', 'ec2:DeleteRoute', 'ec2:DeleteNatGateway'],
      resources: ec2Arns(region, 'route-table', 'natgateway'),
    }),
  ];
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
      `bound to this account${region === 'stack' ? ' and region' : ''}, and creates, tag writes, ` +
      `deletes and address releases are further bound by tag conditions (${MANAGED_TAG_KEY}, ` +
      `${RELEASED_FROM_TAG}).`,
  }));
}
