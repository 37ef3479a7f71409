import * as z from 'zod';
import {
  AccountIdSchema,
  EgressOnlyInternetGatewayIdSchema,
  ElasticIpAllocationIdSchema,
  InternetGatewayIdSchema,
  NatGatewayIdSchema,
  RegionSchema,
  RouteTableIdSchema,
  SecurityGroupIdSchema,
  SubnetIdSchema,
  VpcEndpointIdSchema,
  VpcIdSchema,
} from '../aws/shapes';

/**
 * NetworkSnapshot: everything vpc-guard knows about the network of one account in one region, at one
 * moment. Produced by `collectNetworkSnapshot` (live AWS) or read from a file; consumed by the pure
 * steps (evaluate, plan). Field names follow EC2's own, in camelCase; enum values are normalised to
 * lower case because EC2 itself is not consistent about case (endpoint states, for one).
 */

export const SNAPSHOT_SCHEMA_VERSION = 1;

const Ipv4CidrSchema = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'expected an IPv4 CIDR such as "10.0.0.0/16"');
const Ipv6CidrSchema = z
  .string()
  .regex(/^[0-9a-fA-F:]+\/\d{1,3}$/, 'expected an IPv6 CIDR such as "2600:1f18::/56"');

/** Tags as a plain map, key to value (EC2 returns a list of `{ Key, Value }`). */
export const TagsSchema = z.record(z.string(), z.string()).default({});

export const VpcSchema = z.object({
  vpcId: VpcIdSchema,
  ownerId: AccountIdSchema.optional(),
  state: z.enum(['pending', 'available']).default('available'),
  cidrBlocks: z.array(Ipv4CidrSchema).min(1),
  ipv6CidrBlocks: z.array(Ipv6CidrSchema).default([]),
  isDefault: z.boolean().default(false),
  tags: TagsSchema,
  /** `enableDnsSupport`; absent when not collected (a plain scan does not ask). */
  enableDnsSupport: z.boolean().optional(),
  /** `enableDnsHostnames`; absent when not collected. */
  enableDnsHostnames: z.boolean().optional(),
});

export const SubnetSchema = z.object({
  subnetId: SubnetIdSchema,
  vpcId: VpcIdSchema,
  availabilityZone: z.string().min(1),
  availabilityZoneId: z.string().min(1),
  cidrBlock: Ipv4CidrSchema.optional(),
  ipv6CidrBlocks: z.array(Ipv6CidrSchema).default([]),
  mapPublicIpOnLaunch: z.boolean().default(false),
  tags: TagsSchema,
});

export const ROUTE_TARGET_TYPES = [
  'local',
  'igw',
  'nat',
  'eigw',
  'tgw',
  'vpce',
  'pcx',
  'eni',
  'vgw',
  'cagw',
  'lgw',
  'other',
] as const;

/** Where a route sends traffic. `id` is the gateway, NAT, endpoint, ... id (`local` for local). */
export const RouteTargetSchema = z.object({
  type: z.enum(ROUTE_TARGET_TYPES),
  id: z.string().min(1),
});

export const RouteSchema = z.object({
  /** An IPv4 or IPv6 CIDR, or a managed prefix list id (`pl-...`, used by gateway endpoints). */
  destination: z.string().min(1),
  target: RouteTargetSchema,
  state: z.enum(['active', 'blackhole']).default('active'),
  origin: z
    .enum(['createroutetable', 'createroute', 'enablevgwroutepropagation'])
    .default('createroute'),
});

export const RouteTableSchema = z.object({
  routeTableId: RouteTableIdSchema,
  vpcId: VpcIdSchema,
  /** True for the VPC's main route table: it serves every subnet without an explicit association. */
  main: z.boolean().default(false),
  /** Subnets explicitly associated with this table. */
  subnetIds: z.array(SubnetIdSchema).default([]),
  /** Gateway (edge) associations: internet or virtual private gateways. */
  gatewayIds: z.array(z.string()).default([]),
  routes: z.array(RouteSchema).default([]),
  tags: TagsSchema,
});

export const NatGatewaySchema = z.object({
  natGatewayId: NatGatewayIdSchema,
  vpcId: VpcIdSchema,
  subnetId: SubnetIdSchema,
  state: z.enum(['pending', 'failed', 'available', 'deleting', 'deleted']),
  connectivityType: z.enum(['public', 'private']).default('public'),
  allocationIds: z.array(z.string()).default([]),
  publicIps: z.array(z.string()).default([]),
  privateIps: z.array(z.string()).default([]),
  createTime: z.iso.datetime({ offset: true }).optional(),
  tags: TagsSchema,
});

export const GatewayAttachmentSchema = z.object({
  vpcId: VpcIdSchema,
  state: z
    .enum(['attaching', 'attached', 'detaching', 'detached', 'available'])
    .default('attached'),
});

export const InternetGatewaySchema = z.object({
  internetGatewayId: InternetGatewayIdSchema,
  attachments: z.array(GatewayAttachmentSchema).default([]),
  tags: TagsSchema,
});

export const EgressOnlyInternetGatewaySchema = z.object({
  egressOnlyInternetGatewayId: EgressOnlyInternetGatewayIdSchema,
  attachments: z.array(GatewayAttachmentSchema).default([]),
  tags: TagsSchema,
});

export const VPC_ENDPOINT_STATES = [
  'pendingacceptance',
  'pending',
  'available',
  'deleting',
  'deleted',
  'rejected',
  'failed',
  'expired',
  'partial',
] as const;

export const VpcEndpointSchema = z.object({
  vpcEndpointId: VpcEndpointIdSchema,
  vpcId: VpcIdSchema,
  /** e.g. `com.amazonaws.us-east-1.s3` */
  serviceName: z.string().min(1),
  type: z.enum(['Interface', 'Gateway', 'GatewayLoadBalancer', 'Resource', 'ServiceNetwork']),
  state: z.enum(VPC_ENDPOINT_STATES),
  /** The policy document exactly as EC2 returns it (a JSON string); absent when the service has none. */
  policyDocument: z.string().optional(),
  privateDnsEnabled: z.boolean().default(false),
  subnetIds: z.array(SubnetIdSchema).default([]),
  routeTableIds: z.array(RouteTableIdSchema).default([]),
  securityGroupIds: z.array(SecurityGroupIdSchema).default([]),
  tags: TagsSchema,
  creationTimestamp: z.iso.datetime({ offset: true }).optional(),
});

export const SecurityGroupRuleSchema = z.object({
  /** `-1` for all protocols, otherwise `tcp`, `udp`, `icmp` or a protocol number. */
  ipProtocol: z.string().min(1),
  fromPort: z.number().int().optional(),
  toPort: z.number().int().optional(),
  ipv4Ranges: z.array(z.string()).default([]),
  ipv6Ranges: z.array(z.string()).default([]),
  prefixListIds: z.array(z.string()).default([]),
  sourceSecurityGroupIds: z.array(z.string()).default([]),
});

export const SecurityGroupSchema = z.object({
  groupId: SecurityGroupIdSchema,
  vpcId: VpcIdSchema,
  groupName: z.string(),
  description: z.string().default(''),
  ingress: z.array(SecurityGroupRuleSchema).default([]),
  tags: TagsSchema,
});

/**
 * An Elastic IP allocation vpc-guard marked with `vpc-guard:released-from` (`RELEASED_FROM_TAG` of
 * remediation/tags.ts) when it deleted the NAT gateway that held it. Only such addresses are collected: Elastic IPs are regional, and vpc-guard
 * has no business with the others.
 */
export const ElasticIpSchema = z.object({
  allocationId: ElasticIpAllocationIdSchema,
  publicIp: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}$/, 'expected an IPv4 address such as "203.0.113.10"'),
  /** Set while the address is associated (with a NAT gateway, an instance, a network interface). */
  associationId: z.string().min(1).optional(),
  networkInterfaceId: z.string().min(1).optional(),
  tags: TagsSchema,
});

export const NetworkSnapshotSchema = z
  .object({
    schemaVersion: z.literal(SNAPSHOT_SCHEMA_VERSION),
    accountId: AccountIdSchema,
    region: RegionSchema,
    collectedAt: z.iso.datetime({ offset: true }),
    /** Set when the snapshot covers only some VPCs (event-driven collection); absent for a full region. */
    scope: z.object({ vpcIds: z.array(VpcIdSchema).min(1) }).optional(),
    vpcs: z.array(VpcSchema).default([]),
    subnets: z.array(SubnetSchema).default([]),
    routeTables: z.array(RouteTableSchema).default([]),
    natGateways: z.array(NatGatewaySchema).default([]),
    internetGateways: z.array(InternetGatewaySchema).default([]),
    egressOnlyInternetGateways: z.array(EgressOnlyInternetGatewaySchema).default([]),
    vpcEndpoints: z.array(VpcEndpointSchema).default([]),
    /** Only the security groups attached to endpoints (and those vpc-guard manages). */
    securityGroups: z.array(SecurityGroupSchema).default([]),
    /**
     * Elastic IPs of NAT gateways vpc-guard deleted (tagged `vpc-guard:released-from`), region-wide:
     * an address belongs to no VPC, its tags say which one it came from.
     */
    elasticIps: z.array(ElasticIpSchema).default([]),
  })
  .superRefine((snapshot, ctx) => {
    const vpcIds = new Set(snapshot.vpcs.map((vpc) => vpc.vpcId));
    const check = (items: readonly { vpcId: string }[], field: string) => {
      items.forEach((item, index) => {
        if (!vpcIds.has(item.vpcId)) {
          ctx.addIssue({
            code: 'custom',
            path: [field, index, 'vpcId'],
            message: `expected the id of a VPC listed in "vpcs", got "${item.vpcId}"`,
          });
        }
      });
    };
    check(snapshot.subnets, 'subnets');
    check(snapshot.routeTables, 'routeTables');
    check(snapshot.natGateways, 'natGateways');
    check(snapshot.vpcEndpoints, 'vpcEndpoints');
    const seen = new Set<string>();
    snapshot.vpcs.forEach((vpc, index) => {
      if (seen.has(vpc.vpcId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['vpcs', index, 'vpcId'],
          message: `expected each VPC once, got "${vpc.vpcId}" again`,
        });
      }
      seen.add(vpc.vpcId);
    });
  });

export type NetworkSnapshot = z.infer<typeof NetworkSnapshotSchema>;
export type NetworkSnapshotInput = z.input<typeof NetworkSnapshotSchema>;
export type Vpc = z.infer<typeof VpcSchema>;
export type Subnet = z.infer<typeof SubnetSchema>;
export type Route = z.infer<typeof RouteSchema>;
export type RouteTarget = z.infer<typeof RouteTargetSchema>;
export type RouteTargetType = RouteTarget['type'];
export type RouteTable = z.infer<typeof RouteTableSchema>;
export type NatGateway = z.infer<typeof NatGatewaySchema>;
export type InternetGateway = z.infer<typeof InternetGatewaySchema>;
export type EgressOnlyInternetGateway = z.infer<typeof EgressOnlyInternetGatewaySchema>;
export type VpcEndpoint = z.infer<typeof VpcEndpointSchema>;
export type VpcEndpointState = VpcEndpoint['state'];
export type SecurityGroup = z.infer<typeof SecurityGroupSchema>;
export type SecurityGroupRule = z.infer<typeof SecurityGroupRuleSchema>;
export type ElasticIp = z.infer<typeof ElasticIpSchema>;
export type Tags = z.infer<typeof TagsSchema>;
