/**
 * The resource types the Config rule is scoped to: a change to any of them is a change to its VPC. The
 * stacks scope the rule to exactly these, and the config-rule function accepts exactly these, so one
 * list serves both and they cannot drift apart.
 */
export const CONFIG_RESOURCE_TYPES = [
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::RouteTable',
  'AWS::EC2::NatGateway',
  'AWS::EC2::InternetGateway',
  'AWS::EC2::VPCEndpoint',
] as const;

/** One of {@link CONFIG_RESOURCE_TYPES}. */
export type ConfigResourceType = (typeof CONFIG_RESOURCE_TYPES)[number];
