import type {
  Address,
  AttachmentStatus,
  EgressOnlyInternetGateway,
  InternetGateway,
  IpPermission,
  NatGateway,
  Route as Ec2Route,
  RouteOrigin,
  RouteTable,
  SecurityGroup,
  State as Ec2EndpointState,
  Subnet,
  Tag,
  Vpc,
  VpcEndpoint,
} from '@aws-sdk/client-ec2';
import type { Route, SecurityGroupRule, Tags } from '@vpc-guard/shared';
import { privateDnsNameOf } from './endpoint-services';
import { derivedId } from './ids';
import type {
  AddressRecord,
  GatewayRecord,
  NatGatewayRecord,
  RouteTableRecord,
  SecurityGroupRecord,
  SubnetRecord,
  VpcEndpointRecord,
  VpcRecord,
} from './state';

/*
 * Records -> the shapes the SDK returns (PascalCase, as `DescribeXxxCommandOutput` types them).
 * Empty tag sets are left out, as EC2 leaves out an empty `tagSet`, so callers must cope with both.
 */

export function toWireTags(tags: Tags): Tag[] | undefined {
  const entries = Object.entries(tags);
  return entries.length === 0 ? undefined : entries.map(([Key, Value]) => ({ Key, Value }));
}

/** `Tags: [{Key, Value}]` -> a plain map. */
export function fromWireTags(tags: readonly Tag[] | undefined): Tags {
  const result: Tags = {};
  for (const tag of tags ?? []) {
    if (tag.Key !== undefined) {
      result[tag.Key] = tag.Value ?? '';
    }
  }
  return result;
}

export function toWireVpc(vpc: VpcRecord): Vpc {
  return {
    VpcId: vpc.vpcId,
    OwnerId: vpc.ownerId,
    State: vpc.state,
    CidrBlock: vpc.cidrBlocks[0],
    CidrBlockAssociationSet: vpc.cidrBlocks.map((cidr) => ({
      AssociationId: derivedId('vpc-cidr-assoc', vpc.vpcId, cidr),
      CidrBlock: cidr,
      CidrBlockState: { State: 'associated' },
    })),
    Ipv6CidrBlockAssociationSet:
      vpc.ipv6CidrBlocks.length === 0
        ? undefined
        : vpc.ipv6CidrBlocks.map((cidr) => ({
            AssociationId: derivedId('vpc-cidr-assoc', vpc.vpcId, cidr),
            Ipv6CidrBlock: cidr,
            Ipv6CidrBlockState: { State: 'associated' },
            Ipv6Pool: 'Amazon',
          })),
    IsDefault: vpc.isDefault,
    InstanceTenancy: 'default',
    DhcpOptionsId: derivedId('dopt', vpc.ownerId).slice(0, 13),
    Tags: toWireTags(vpc.tags),
  };
}

function usableAddresses(cidr: string | undefined): number | undefined {
  const prefix = cidr ? Number(cidr.split('/')[1]) : NaN;
  // EC2 reserves five addresses in every subnet.
  return Number.isNaN(prefix) ? undefined : Math.max(0, 2 ** (32 - prefix) - 5);
}

export function toWireSubnet(subnet: SubnetRecord, region: string): Subnet {
  return {
    SubnetId: subnet.subnetId,
    SubnetArn: `arn:aws:ec2:${region}:${subnet.ownerId}:subnet/${subnet.subnetId}`,
    VpcId: subnet.vpcId,
    OwnerId: subnet.ownerId,
    State: 'available',
    AvailabilityZone: subnet.availabilityZone,
    AvailabilityZoneId: subnet.availabilityZoneId,
    CidrBlock: subnet.cidrBlock,
    AvailableIpAddressCount: usableAddresses(subnet.cidrBlock),
    Ipv6CidrBlockAssociationSet: subnet.ipv6CidrBlocks.map((cidr) => ({
      AssociationId: derivedId('subnet-cidr-assoc', subnet.subnetId, cidr),
      Ipv6CidrBlock: cidr,
      Ipv6CidrBlockState: { State: 'associated' },
    })),
    Ipv6Native: false,
    AssignIpv6AddressOnCreation: false,
    DefaultForAz: false,
    MapPublicIpOnLaunch: subnet.mapPublicIpOnLaunch,
    Tags: toWireTags(subnet.tags),
  };
}

const ORIGIN_ON_WIRE: Readonly<Record<Route['origin'], RouteOrigin>> = {
  createroutetable: 'CreateRouteTable',
  createroute: 'CreateRoute',
  enablevgwroutepropagation: 'EnableVgwRoutePropagation',
};

/** Where a route's destination goes on the wire: prefix list, IPv6 or IPv4 field. */
function destinationField(
  destination: string,
): 'DestinationPrefixListId' | 'DestinationIpv6CidrBlock' | 'DestinationCidrBlock' {
  if (destination.startsWith('pl-')) {
    return 'DestinationPrefixListId';
  }
  return destination.includes(':') ? 'DestinationIpv6CidrBlock' : 'DestinationCidrBlock';
}

export function toWireRoute(route: Route): Ec2Route {
  const wire: Ec2Route = {
    [destinationField(route.destination)]: route.destination,
    State: route.state,
    Origin: ORIGIN_ON_WIRE[route.origin],
  };
  const { type, id } = route.target;
  switch (type) {
    case 'local':
    case 'igw':
    case 'vgw':
    case 'vpce':
      // Gateway endpoints appear as GatewayId vpce-..., like internet and virtual private gateways.
      wire.GatewayId = id;
      break;
    case 'nat':
      wire.NatGatewayId = id;
      break;
    case 'eigw':
      wire.EgressOnlyInternetGatewayId = id;
      break;
    case 'tgw':
      wire.TransitGatewayId = id;
      break;
    case 'pcx':
      wire.VpcPeeringConnectionId = id;
      break;
    case 'eni':
      wire.NetworkInterfaceId = id;
      break;
    case 'cagw':
      wire.CarrierGatewayId = id;
      break;
    case 'lgw':
      wire.LocalGatewayId = id;
      break;
    case 'other':
      if (id.startsWith('i-')) {
        wire.InstanceId = id;
      } else {
        wire.CoreNetworkArn = id;
      }
      break;
  }
  return wire;
}

export function toWireRouteTable(table: RouteTableRecord): RouteTable {
  const associations: NonNullable<RouteTable['Associations']> = [];
  if (table.main) {
    associations.push({
      Main: true,
      RouteTableAssociationId: derivedId('rtbassoc', table.routeTableId, 'main'),
      RouteTableId: table.routeTableId,
      AssociationState: { State: 'associated' },
    });
  }
  for (const subnetId of table.subnetIds) {
    associations.push({
      Main: false,
      RouteTableAssociationId: derivedId('rtbassoc', table.routeTableId, subnetId),
      RouteTableId: table.routeTableId,
      SubnetId: subnetId,
      AssociationState: { State: 'associated' },
    });
  }
  for (const gatewayId of table.gatewayIds) {
    associations.push({
      Main: false,
      RouteTableAssociationId: derivedId('rtbassoc', table.routeTableId, gatewayId),
      RouteTableId: table.routeTableId,
      GatewayId: gatewayId,
      AssociationState: { State: 'associated' },
    });
  }
  return {
    RouteTableId: table.routeTableId,
    VpcId: table.vpcId,
    OwnerId: table.ownerId,
    Associations: associations,
    PropagatingVgws: [],
    Routes: table.routes.map(toWireRoute),
    Tags: toWireTags(table.tags),
  };
}

export function toWireNatGateway(
  nat: NatGatewayRecord,
  zoneOf: (subnetId: string) => string | undefined,
): NatGateway {
  return {
    NatGatewayId: nat.natGatewayId,
    VpcId: nat.vpcId,
    SubnetId: nat.subnetId,
    State: nat.state,
    ConnectivityType: nat.connectivityType,
    CreateTime: new Date(nat.createTime),
    DeleteTime: nat.deleteTime ? new Date(nat.deleteTime) : undefined,
    NatGatewayAddresses: nat.addresses.map((address) => ({
      AllocationId: address.allocationId,
      PublicIp: address.publicIp,
      PrivateIp: address.privateIp,
      NetworkInterfaceId: address.networkInterfaceId,
      AssociationId: address.allocationId ? derivedId('eipassoc', address.allocationId) : undefined,
      IsPrimary: address.isPrimary,
      Status: 'succeeded',
      AvailabilityZone: zoneOf(nat.subnetId),
    })),
    Tags: toWireTags(nat.tags),
  };
}

function toWireGateway(gateway: GatewayRecord): InternetGateway {
  return {
    OwnerId: gateway.ownerId,
    // EC2 reports an attached internet gateway as `available`, a value the SDK enum lacks.
    Attachments: gateway.attachments.map((attachment) => ({
      VpcId: attachment.vpcId,
      State: attachment.state as AttachmentStatus,
    })),
    Tags: toWireTags(gateway.tags),
  };
}

export function toWireInternetGateway(igw: GatewayRecord): InternetGateway {
  return { InternetGatewayId: igw.gatewayId, ...toWireGateway(igw) };
}

export function toWireEgressOnlyInternetGateway(eigw: GatewayRecord): EgressOnlyInternetGateway {
  const { Attachments, Tags } = toWireGateway(eigw);
  return { EgressOnlyInternetGatewayId: eigw.gatewayId, Attachments, Tags };
}

export function toWireVpcEndpoint(
  endpoint: VpcEndpointRecord,
  region: string,
  groupName: (groupId: string) => string,
): VpcEndpoint {
  const isInterface = endpoint.type === 'Interface';
  const serviceDns = privateDnsNameOf(endpoint.serviceName, region);
  return {
    VpcEndpointId: endpoint.vpcEndpointId,
    VpcEndpointType: endpoint.type,
    VpcId: endpoint.vpcId,
    OwnerId: endpoint.ownerId,
    ServiceName: endpoint.serviceName,
    // EC2 returns endpoint states in lower case although the SDK's enum spells them capitalised.
    State: endpoint.state as Ec2EndpointState,
    PolicyDocument: endpoint.policyDocument,
    RouteTableIds: [...endpoint.routeTableIds],
    SubnetIds: [...endpoint.subnetIds],
    Groups: endpoint.securityGroupIds.map((groupId) => ({
      GroupId: groupId,
      GroupName: groupName(groupId),
    })),
    IpAddressType: 'ipv4',
    DnsOptions: isInterface ? { DnsRecordIpType: 'ipv4' } : undefined,
    PrivateDnsEnabled: endpoint.privateDnsEnabled,
    RequesterManaged: false,
    NetworkInterfaceIds: endpoint.subnetIds.map((subnetId) =>
      derivedId('eni', endpoint.vpcEndpointId, subnetId),
    ),
    DnsEntries: isInterface
      ? [
          {
            DnsName: `${endpoint.vpcEndpointId}.${serviceDns.replace('.amazonaws.com', '.vpce.amazonaws.com')}`,
          },
          ...(endpoint.privateDnsEnabled ? [{ DnsName: serviceDns }] : []),
        ]
      : [],
    CreationTimestamp: new Date(endpoint.creationTimestamp),
    Tags: toWireTags(endpoint.tags) ?? [],
  };
}

function toWireIpPermission(rule: SecurityGroupRule, ownerId: string): IpPermission {
  return {
    IpProtocol: rule.ipProtocol,
    FromPort: rule.fromPort,
    ToPort: rule.toPort,
    IpRanges: rule.ipv4Ranges.map((CidrIp) => ({ CidrIp })),
    Ipv6Ranges: rule.ipv6Ranges.map((CidrIpv6) => ({ CidrIpv6 })),
    PrefixListIds: rule.prefixListIds.map((PrefixListId) => ({ PrefixListId })),
    UserIdGroupPairs: rule.sourceSecurityGroupIds.map((GroupId) => ({ GroupId, UserId: ownerId })),
  };
}

export function toWireSecurityGroup(group: SecurityGroupRecord, region: string): SecurityGroup {
  return {
    GroupId: group.groupId,
    GroupName: group.groupName,
    Description: group.description,
    VpcId: group.vpcId,
    OwnerId: group.ownerId,
    SecurityGroupArn: `arn:aws:ec2:${region}:${group.ownerId}:security-group/${group.groupId}`,
    IpPermissions: group.ingress.map((rule) => toWireIpPermission(rule, group.ownerId)),
    // Every group EC2 creates allows all outbound traffic until told otherwise.
    IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    Tags: toWireTags(group.tags),
  };
}

export function toWireAddress(address: AddressRecord, ownerId: string, region: string): Address {
  const associated = address.networkInterfaceId !== undefined;
  return {
    AllocationId: address.allocationId,
    PublicIp: address.publicIp,
    Domain: 'vpc',
    AssociationId: associated ? derivedId('eipassoc', address.allocationId) : undefined,
    NetworkInterfaceId: address.networkInterfaceId,
    NetworkInterfaceOwnerId: associated ? ownerId : undefined,
    PrivateIpAddress: address.privateIpAddress,
    PublicIpv4Pool: 'amazon',
    NetworkBorderGroup: region,
    Tags: toWireTags(address.tags),
  };
}
