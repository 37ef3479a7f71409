import { partitionOf } from '../aws/shapes';

/**
 * ARNs of the EC2 resources vpc-guard reports on, for Security Hub resources and EventBridge event
 * resources. EC2 ARNs have the form `arn:<partition>:ec2:<region>:<account>:<type>/<id>`.
 */

/** An EC2 resource kind: its ARN type and its ASFF resource type (`Other` where ASFF has none). */
interface Ec2ResourceKind {
  readonly arnType: string;
  readonly asffType: string;
}

// ASFF has resource types for VPCs, subnets, route tables and security groups, but none for NAT
// gateways, VPC endpoints or internet gateways: those are `Other` (ASFF `Resources.Type`).
const KINDS: readonly (readonly [prefix: string, kind: Ec2ResourceKind])[] = [
  ['vpce-', { arnType: 'vpc-endpoint', asffType: 'Other' }],
  ['vpc-', { arnType: 'vpc', asffType: 'AwsEc2Vpc' }],
  ['nat-', { arnType: 'natgateway', asffType: 'Other' }],
  ['rtb-', { arnType: 'route-table', asffType: 'AwsEc2RouteTable' }],
  ['subnet-', { arnType: 'subnet', asffType: 'AwsEc2Subnet' }],
  ['sg-', { arnType: 'security-group', asffType: 'AwsEc2SecurityGroup' }],
  ['igw-', { arnType: 'internet-gateway', asffType: 'Other' }],
  ['eigw-', { arnType: 'egress-only-internet-gateway', asffType: 'Other' }],
];

/** The kind of an EC2 resource id (`nat-0a1...`), or null when the prefix is not one vpc-guard knows. */
export function ec2ResourceKind(resourceId: string): Ec2ResourceKind | null {
  return KINDS.find(([prefix]) => resourceId.startsWith(prefix))?.[1] ?? null;
}

/** The ARN of an EC2 resource; an unknown kind keeps its id as the resource part. */
export function ec2ResourceArn(accountId: string, region: string, resourceId: string): string {
  const kind = ec2ResourceKind(resourceId);
  const resource = kind ? `${kind.arnType}/${resourceId}` : resourceId;
  return `arn:${partitionOf(region)}:ec2:${region}:${accountId}:${resource}`;
}
