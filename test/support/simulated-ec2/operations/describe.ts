import type {
  DescribeAddressesRequest,
  DescribeAddressesResult,
  DescribeAvailabilityZonesRequest,
  DescribeAvailabilityZonesResult,
  DescribeEgressOnlyInternetGatewaysRequest,
  DescribeEgressOnlyInternetGatewaysResult,
  DescribeInternetGatewaysRequest,
  DescribeInternetGatewaysResult,
  DescribeNatGatewaysRequest,
  DescribeNatGatewaysResult,
  DescribeRegionsRequest,
  DescribeRegionsResult,
  DescribeRouteTablesRequest,
  DescribeRouteTablesResult,
  DescribeSecurityGroupsRequest,
  DescribeSecurityGroupsResult,
  DescribeSubnetsRequest,
  DescribeSubnetsResult,
  DescribeVpcAttributeRequest,
  DescribeVpcAttributeResult,
  DescribeVpcEndpointsRequest,
  DescribeVpcEndpointsResult,
  DescribeVpcEndpointServicesRequest,
  DescribeVpcEndpointServicesResult,
  DescribeVpcsRequest,
  DescribeVpcsResult,
  Filter,
} from '@aws-sdk/client-ec2';
import { fault } from '../errors';
import { applyFilters, type FilterSpec } from '../filters';
import { privateDnsNameOf } from '../endpoint-services';
import { derivedId } from '../ids';
import { paginate } from '../pagination';
import type {
  AddressRecord,
  AvailabilityZoneRecord,
  GatewayRecord,
  NatGatewayRecord,
  RegionState,
  RouteTableRecord,
  SecurityGroupRecord,
  SubnetRecord,
  VpcEndpointRecord,
  VpcRecord,
} from '../state';
import {
  toWireAddress,
  toWireEgressOnlyInternetGateway,
  toWireInternetGateway,
  toWireNatGateway,
  toWireRoute,
  toWireRouteTable,
  toWireSecurityGroup,
  toWireSubnet,
  toWireVpc,
  toWireVpcEndpoint,
} from '../wire';
import {
  checkIdList,
  defineOperation,
  findOrThrow,
  required,
  stopIfDryRun,
  type OperationContext,
  RESOURCE_KINDS,
} from './context';

/*
 * Filter names are EC2's documented ones for each Describe call; anything else is rejected with
 * `InvalidParameterValue`, as EC2 does.
 */

const byTags = <T extends { tags: Readonly<Record<string, string>> }>(item: T) => item.tags;

const VPC_FILTERS: FilterSpec<VpcRecord> = {
  tags: byTags,
  fields: {
    'vpc-id': (vpc) => vpc.vpcId,
    state: (vpc) => vpc.state,
    'is-default': (vpc) => vpc.isDefault,
    'owner-id': (vpc) => vpc.ownerId,
    cidr: (vpc) => vpc.cidrBlocks[0],
    'cidr-block-association.cidr-block': (vpc) => vpc.cidrBlocks,
    'cidr-block-association.state': (vpc) => vpc.cidrBlocks.map(() => 'associated'),
    'cidr-block-association.association-id': (vpc) =>
      vpc.cidrBlocks.map((cidr) => derivedId('vpc-cidr-assoc', vpc.vpcId, cidr)),
    'ipv6-cidr-block-association.ipv6-cidr-block': (vpc) => vpc.ipv6CidrBlocks,
    'dhcp-options-id': (vpc) => derivedId('dopt', vpc.ownerId).slice(0, 13),
  },
};

const SUBNET_FILTERS: FilterSpec<SubnetRecord> = {
  tags: byTags,
  fields: {
    'subnet-id': (subnet) => subnet.subnetId,
    'vpc-id': (subnet) => subnet.vpcId,
    'availability-zone': (subnet) => subnet.availabilityZone,
    'availability-zone-id': (subnet) => subnet.availabilityZoneId,
    'cidr-block': (subnet) => subnet.cidrBlock,
    cidr: (subnet) => subnet.cidrBlock,
    cidrBlock: (subnet) => subnet.cidrBlock,
    state: () => 'available',
    'owner-id': (subnet) => subnet.ownerId,
    'default-for-az': () => false,
    'map-public-ip-on-launch': (subnet) => subnet.mapPublicIpOnLaunch,
    'ipv6-cidr-block-association.ipv6-cidr-block': (subnet) => subnet.ipv6CidrBlocks,
  },
};

const routeField =
  (field: keyof ReturnType<typeof toWireRoute>) =>
  (table: RouteTableRecord): string[] =>
    table.routes
      .map((route) => toWireRoute(route)[field])
      .filter((value) => typeof value === 'string');

const ROUTE_TABLE_FILTERS: FilterSpec<RouteTableRecord> = {
  tags: byTags,
  fields: {
    'route-table-id': (table) => table.routeTableId,
    'vpc-id': (table) => table.vpcId,
    'owner-id': (table) => table.ownerId,
    // `association.main=false` matches tables with any non-main association, as in EC2.
    'association.main': (table) => [
      ...(table.main ? [true] : []),
      ...(table.subnetIds.length + table.gatewayIds.length > 0 ? [false] : []),
    ],
    'association.subnet-id': (table) => table.subnetIds,
    'association.gateway-id': (table) => table.gatewayIds,
    'association.route-table-id': (table) =>
      table.main || table.subnetIds.length + table.gatewayIds.length > 0
        ? table.routeTableId
        : undefined,
    'association.route-table-association-id': (table) =>
      toWireRouteTable(table).Associations?.map(
        (association) => association.RouteTableAssociationId,
      ),
    'association.association-state': (table) =>
      toWireRouteTable(table).Associations?.map(() => 'associated'),
    'route.destination-cidr-block': routeField('DestinationCidrBlock'),
    'route.destination-ipv6-cidr-block': routeField('DestinationIpv6CidrBlock'),
    'route.destination-prefix-list-id': routeField('DestinationPrefixListId'),
    'route.gateway-id': routeField('GatewayId'),
    'route.nat-gateway-id': routeField('NatGatewayId'),
    'route.egress-only-internet-gateway-id': routeField('EgressOnlyInternetGatewayId'),
    'route.transit-gateway-id': routeField('TransitGatewayId'),
    'route.vpc-peering-connection-id': routeField('VpcPeeringConnectionId'),
    'route.instance-id': routeField('InstanceId'),
    'route.state': routeField('State'),
    'route.origin': routeField('Origin'),
  },
};

const NAT_GATEWAY_FILTERS: FilterSpec<NatGatewayRecord> = {
  tags: byTags,
  fields: {
    'nat-gateway-id': (nat) => nat.natGatewayId,
    state: (nat) => nat.state,
    'subnet-id': (nat) => nat.subnetId,
    'vpc-id': (nat) => nat.vpcId,
  },
};

const INTERNET_GATEWAY_FILTERS: FilterSpec<GatewayRecord> = {
  tags: byTags,
  fields: {
    'internet-gateway-id': (igw) => igw.gatewayId,
    'owner-id': (igw) => igw.ownerId,
    'attachment.vpc-id': (igw) => igw.attachments.map((attachment) => attachment.vpcId),
    'attachment.state': (igw) => igw.attachments.map((attachment) => attachment.state),
  },
};

// EC2 documents only the tag filters for DescribeEgressOnlyInternetGateways.
const EGRESS_ONLY_INTERNET_GATEWAY_FILTERS: FilterSpec<GatewayRecord> = {
  tags: byTags,
  fields: {},
};

const VPC_ENDPOINT_FILTERS = (region: string): FilterSpec<VpcEndpointRecord> => ({
  tags: byTags,
  fields: {
    'vpc-id': (endpoint) => endpoint.vpcId,
    'service-name': (endpoint) => endpoint.serviceName,
    'vpc-endpoint-id': (endpoint) => endpoint.vpcEndpointId,
    'vpc-endpoint-state': (endpoint) => endpoint.state,
    'vpc-endpoint-type': (endpoint) => endpoint.type,
    'ip-address-type': () => 'ipv4',
    'service-region': () => region,
  },
});

const SECURITY_GROUP_FILTERS: FilterSpec<SecurityGroupRecord> = {
  tags: byTags,
  fields: {
    'group-id': (group) => group.groupId,
    'group-name': (group) => group.groupName,
    'vpc-id': (group) => group.vpcId,
    'owner-id': (group) => group.ownerId,
    description: (group) => group.description,
    'ip-permission.protocol': (group) => group.ingress.map((rule) => rule.ipProtocol),
    'ip-permission.from-port': (group) => group.ingress.map((rule) => rule.fromPort),
    'ip-permission.to-port': (group) => group.ingress.map((rule) => rule.toPort),
    'ip-permission.cidr': (group) => group.ingress.flatMap((rule) => rule.ipv4Ranges),
    'ip-permission.ipv6-cidr': (group) => group.ingress.flatMap((rule) => rule.ipv6Ranges),
    'ip-permission.prefix-list-id': (group) => group.ingress.flatMap((rule) => rule.prefixListIds),
    'ip-permission.group-id': (group) =>
      group.ingress.flatMap((rule) => rule.sourceSecurityGroupIds),
    'egress.ip-permission.protocol': () => '-1',
    'egress.ip-permission.cidr': () => '0.0.0.0/0',
  },
};

const ADDRESS_FILTERS = (state: RegionState): FilterSpec<AddressRecord> => ({
  tags: byTags,
  fields: {
    'allocation-id': (address) => address.allocationId,
    'association-id': (address) =>
      toWireAddress(address, state.accountId, state.region).AssociationId,
    domain: () => 'vpc',
    'network-interface-id': (address) => address.networkInterfaceId,
    'network-interface-owner-id': (address) =>
      address.networkInterfaceId ? state.accountId : undefined,
    'private-ip-address': (address) => address.privateIpAddress,
    'public-ip': (address) => address.publicIp,
    'network-border-group': () => state.region,
    'public-ipv4-pool': () => 'amazon',
  },
});

const ZONE_FILTERS = (region: string): FilterSpec<AvailabilityZoneRecord> => ({
  fields: {
    'zone-name': (zone) => zone.zoneName,
    'zone-id': (zone) => zone.zoneId,
    state: () => 'available',
    'region-name': () => region,
    'zone-type': () => 'availability-zone',
    'group-name': () => region,
    'opt-in-status': () => 'opt-in-not-required',
  },
});

const REGION_FILTERS: FilterSpec<string> = {
  fields: {
    'region-name': (region) => region,
    endpoint: (region) => `ec2.${region}.amazonaws.com`,
    'opt-in-status': () => 'opt-in-not-required',
  },
};

/**
 * Filters, then pages, then (only once the request is known valid) answers a DryRun. The filters
 * are read from `Filters`, or from `Filter` where EC2 spells it so (DescribeNatGateways).
 */
function describePage<T>(
  context: OperationContext,
  input: {
    Filters?: Filter[] | undefined;
    Filter?: Filter[] | undefined;
    DryRun?: boolean | undefined;
    MaxResults?: number | undefined;
    NextToken?: string | undefined;
  },
  items: Iterable<T>,
  spec: FilterSpec<T>,
  keep: (item: T) => boolean = () => true,
): { page: T[]; nextToken: string | undefined } {
  const filtered = applyFilters([...items].filter(keep), input.Filters ?? input.Filter, spec);
  const result = paginate(context.operation, filtered, input, context.pageSize);
  stopIfDryRun(input);
  return result;
}

const describeVpcs = defineOperation<DescribeVpcsRequest, DescribeVpcsResult>(
  false,
  'describe',
  (context, input) => {
    const wanted = checkIdList(input.VpcIds, context.state.vpcs, RESOURCE_KINDS.vpc);
    const { page, nextToken } = describePage(
      context,
      input,
      context.state.vpcs.values(),
      VPC_FILTERS,
      (vpc) => !wanted || wanted.has(vpc.vpcId),
    );
    return { Vpcs: page.map(toWireVpc), NextToken: nextToken };
  },
);

const describeSubnets = defineOperation<DescribeSubnetsRequest, DescribeSubnetsResult>(
  false,
  'describe',
  (context, input) => {
    const wanted = checkIdList(input.SubnetIds, context.state.subnets, RESOURCE_KINDS.subnet);
    const { page, nextToken } = describePage(
      context,
      input,
      context.state.subnets.values(),
      SUBNET_FILTERS,
      (subnet) => !wanted || wanted.has(subnet.subnetId),
    );
    return {
      Subnets: page.map((subnet) => toWireSubnet(subnet, context.state.region)),
      NextToken: nextToken,
    };
  },
);

const describeRouteTables = defineOperation<DescribeRouteTablesRequest, DescribeRouteTablesResult>(
  false,
  'describe',
  (context, input) => {
    const wanted = checkIdList(
      input.RouteTableIds,
      context.state.routeTables,
      RESOURCE_KINDS.routeTable,
    );
    const { page, nextToken } = describePage(
      context,
      input,
      context.state.routeTables.values(),
      ROUTE_TABLE_FILTERS,
      (table) => !wanted || wanted.has(table.routeTableId),
    );
    return { RouteTables: page.map(toWireRouteTable), NextToken: nextToken };
  },
);

const describeNatGateways = defineOperation<DescribeNatGatewaysRequest, DescribeNatGatewaysResult>(
  false,
  'describe',
  (context, input) => {
    const ids = input.NatGatewayIds ?? [];
    const missing = ids.filter((id) => !context.state.natGateways.has(id));
    if (missing.length > 0) {
      throw fault('NatGatewayNotFound', `NAT gateway ${missing.join(', ')} was not found`);
    }
    const wanted = ids.length > 0 ? new Set(ids) : undefined;
    const { page, nextToken } = describePage(
      context,
      input,
      context.state.natGateways.values(),
      NAT_GATEWAY_FILTERS,
      (nat) => !wanted || wanted.has(nat.natGatewayId),
    );
    const zoneOf = (subnetId: string) => context.state.subnets.get(subnetId)?.availabilityZone;
    return { NatGateways: page.map((nat) => toWireNatGateway(nat, zoneOf)), NextToken: nextToken };
  },
);

const describeInternetGateways = defineOperation<
  DescribeInternetGatewaysRequest,
  DescribeInternetGatewaysResult
>(false, 'describe', (context, input) => {
  const wanted = checkIdList(
    input.InternetGatewayIds,
    context.state.internetGateways,
    RESOURCE_KINDS.internetGateway,
  );
  const { page, nextToken } = describePage(
    context,
    input,
    context.state.internetGateways.values(),
    INTERNET_GATEWAY_FILTERS,
    (igw) => !wanted || wanted.has(igw.gatewayId),
  );
  return { InternetGateways: page.map(toWireInternetGateway), NextToken: nextToken };
});

const describeEgressOnlyInternetGateways = defineOperation<
  DescribeEgressOnlyInternetGatewaysRequest,
  DescribeEgressOnlyInternetGatewaysResult
>(false, 'describe', (context, input) => {
  const wanted = checkIdList(
    input.EgressOnlyInternetGatewayIds,
    context.state.egressOnlyInternetGateways,
    RESOURCE_KINDS.egressOnlyInternetGateway,
  );
  const { page, nextToken } = describePage(
    context,
    input,
    context.state.egressOnlyInternetGateways.values(),
    EGRESS_ONLY_INTERNET_GATEWAY_FILTERS,
    (eigw) => !wanted || wanted.has(eigw.gatewayId),
  );
  return {
    EgressOnlyInternetGateways: page.map(toWireEgressOnlyInternetGateway),
    NextToken: nextToken,
  };
});

const describeVpcEndpoints = defineOperation<
  DescribeVpcEndpointsRequest,
  DescribeVpcEndpointsResult
>(false, 'describe', (context, input) => {
  const { state } = context;
  const wanted = checkIdList(input.VpcEndpointIds, state.vpcEndpoints, RESOURCE_KINDS.vpcEndpoint);
  const { page, nextToken } = describePage(
    context,
    input,
    state.vpcEndpoints.values(),
    VPC_ENDPOINT_FILTERS(state.region),
    (endpoint) => !wanted || wanted.has(endpoint.vpcEndpointId),
  );
  // A group the account no longer has still shows by id, as EC2 keeps the reference.
  const groupName = (groupId: string) => state.securityGroups.get(groupId)?.groupName ?? groupId;
  return {
    VpcEndpoints: page.map((endpoint) => toWireVpcEndpoint(endpoint, state.region, groupName)),
    NextToken: nextToken,
  };
});

interface OfferedService {
  readonly serviceName: string;
  readonly type: 'Interface' | 'Gateway';
}

const ENDPOINT_SERVICE_FILTERS = (region: string): FilterSpec<OfferedService> => ({
  fields: {
    'service-name': (offered) => offered.serviceName,
    'service-type': (offered) => offered.type,
    'service-region': () => region,
    owner: () => 'amazon',
  },
});

/** The catalogue of services, one detail per service and endpoint type, as EC2 lists them. */
const describeVpcEndpointServices = defineOperation<
  DescribeVpcEndpointServicesRequest,
  DescribeVpcEndpointServicesResult
>(false, 'describe', (context, input) => {
  const { state } = context;
  for (const name of input.ServiceNames ?? []) {
    if (!state.endpointServices.has(name)) {
      throw fault('InvalidServiceName', `The Vpc Endpoint Service '${name}' does not exist`);
    }
  }
  const offered = [...state.endpointServices].flatMap(([serviceName, types]) =>
    types.map((type) => ({ serviceName, type })),
  );
  const selected = applyFilters(
    offered.filter(
      (service) => !input.ServiceNames?.length || input.ServiceNames.includes(service.serviceName),
    ),
    input.Filters,
    ENDPOINT_SERVICE_FILTERS(state.region),
  );
  stopIfDryRun(input);
  return {
    ServiceNames: [...new Set(selected.map((service) => service.serviceName))],
    ServiceDetails: selected.map(({ serviceName, type }) => ({
      ServiceName: serviceName,
      ServiceId: derivedId('vpce-svc', serviceName, type),
      ServiceType: [{ ServiceType: type }],
      ServiceRegion: state.region,
      AvailabilityZones: state.availabilityZones.map((zone) => zone.zoneName),
      AvailabilityZoneIds: state.availabilityZones.map((zone) => zone.zoneId),
      Owner: 'amazon',
      BaseEndpointDnsNames: [
        privateDnsNameOf(serviceName, state.region).replace(
          '.amazonaws.com',
          '.vpce.amazonaws.com',
        ),
      ],
      PrivateDnsName:
        type === 'Interface' ? privateDnsNameOf(serviceName, state.region) : undefined,
      VpcEndpointPolicySupported: true,
      AcceptanceRequired: false,
      ManagesVpcEndpoints: false,
      SupportedIpAddressTypes: ['ipv4'],
    })),
  };
});

const describeSecurityGroups = defineOperation<
  DescribeSecurityGroupsRequest,
  DescribeSecurityGroupsResult
>(false, 'describe', (context, input) => {
  const { state } = context;
  const wanted = checkIdList(input.GroupIds, state.securityGroups, RESOURCE_KINDS.securityGroup);
  // Group names select groups of the default VPC only (EC2-Classic's legacy); elsewhere use a filter.
  const defaultVpc = [...state.vpcs.values()].find((vpc) => vpc.isDefault);
  const names =
    input.GroupNames && input.GroupNames.length > 0 ? new Set(input.GroupNames) : undefined;
  for (const name of names ?? []) {
    const found = [...state.securityGroups.values()].some(
      (group) => group.groupName === name && group.vpcId === defaultVpc?.vpcId,
    );
    if (!found) {
      throw fault(
        'InvalidGroup.NotFound',
        `The security group '${name}' does not exist in default VPC`,
      );
    }
  }
  const { page, nextToken } = describePage(
    context,
    input,
    state.securityGroups.values(),
    SECURITY_GROUP_FILTERS,
    (group) =>
      (!wanted || wanted.has(group.groupId)) &&
      (!names || (names.has(group.groupName) && group.vpcId === defaultVpc?.vpcId)),
  );
  return {
    SecurityGroups: page.map((group) => toWireSecurityGroup(group, state.region)),
    NextToken: nextToken,
  };
});

const describeVpcAttribute = defineOperation<
  DescribeVpcAttributeRequest,
  DescribeVpcAttributeResult
>(false, 'describe', (context, input) => {
  const vpcId = required(input.VpcId, 'VpcId');
  const attribute = required(input.Attribute, 'Attribute');
  const vpc = findOrThrow(context.state.vpcs, vpcId, RESOURCE_KINDS.vpc);
  stopIfDryRun(input);
  switch (attribute) {
    case 'enableDnsSupport':
      return { VpcId: vpcId, EnableDnsSupport: { Value: vpc.enableDnsSupport } };
    case 'enableDnsHostnames':
      return { VpcId: vpcId, EnableDnsHostnames: { Value: vpc.enableDnsHostnames } };
    case 'enableNetworkAddressUsageMetrics':
      return { VpcId: vpcId, EnableNetworkAddressUsageMetrics: { Value: false } };
    default:
      throw fault(
        'InvalidParameterValue',
        `Value (${String(attribute)}) for parameter attribute is invalid.`,
      );
  }
});

const describeRegions = defineOperation<DescribeRegionsRequest, DescribeRegionsResult>(
  false,
  'describe',
  (context, input) => {
    const regions = context.enabledRegions();
    const names = input.RegionNames && input.RegionNames.length > 0 ? input.RegionNames : undefined;
    for (const name of names ?? []) {
      if (!regions.includes(name)) {
        throw fault('InvalidParameterValue', `Invalid region: ${name}`);
      }
    }
    const selected = applyFilters(
      regions.filter((region) => !names || names.includes(region)),
      input.Filters,
      REGION_FILTERS,
    );
    stopIfDryRun(input);
    return {
      Regions: selected.map((region) => ({
        RegionName: region,
        Endpoint: `ec2.${region}.amazonaws.com`,
        OptInStatus: 'opt-in-not-required',
      })),
    };
  },
);

const describeAvailabilityZones = defineOperation<
  DescribeAvailabilityZonesRequest,
  DescribeAvailabilityZonesResult
>(false, 'describe', (context, input) => {
  const { state } = context;
  for (const name of input.ZoneNames ?? []) {
    if (!state.zoneNamed(name)) {
      throw fault('InvalidParameterValue', `Invalid availability zone: [${name}]`);
    }
  }
  for (const id of input.ZoneIds ?? []) {
    if (!state.availabilityZones.some((zone) => zone.zoneId === id)) {
      throw fault('InvalidParameterValue', `Invalid availability zone ID: [${id}]`);
    }
  }
  const zones = applyFilters(
    state.availabilityZones.filter(
      (zone) =>
        (!input.ZoneNames?.length || input.ZoneNames.includes(zone.zoneName)) &&
        (!input.ZoneIds?.length || input.ZoneIds.includes(zone.zoneId)),
    ),
    input.Filters,
    ZONE_FILTERS(state.region),
  );
  stopIfDryRun(input);
  return {
    AvailabilityZones: zones.map((zone) => ({
      ZoneName: zone.zoneName,
      ZoneId: zone.zoneId,
      State: 'available',
      RegionName: state.region,
      ZoneType: 'availability-zone',
      GroupName: state.region,
      NetworkBorderGroup: state.region,
      OptInStatus: 'opt-in-not-required',
      Messages: [],
    })),
  };
});

const describeAddresses = defineOperation<DescribeAddressesRequest, DescribeAddressesResult>(
  false,
  'describe',
  (context, input) => {
    const { state } = context;
    const missing = (input.AllocationIds ?? []).filter((id) => !state.addresses.has(id));
    if (missing.length > 0) {
      throw fault(
        'InvalidAllocationID.NotFound',
        `The allocation IDs '${missing.join(', ')}' do not exist`,
      );
    }
    const knownIps = new Set([...state.addresses.values()].map((address) => address.publicIp));
    const missingIps = (input.PublicIps ?? []).filter((ip) => !knownIps.has(ip));
    if (missingIps.length > 0) {
      throw fault('InvalidAddress.NotFound', `Address '${missingIps.join(', ')}' not found.`);
    }
    const addresses = applyFilters(
      [...state.addresses.values()].filter(
        (address) =>
          (!input.AllocationIds?.length || input.AllocationIds.includes(address.allocationId)) &&
          (!input.PublicIps?.length || input.PublicIps.includes(address.publicIp)),
      ),
      input.Filters,
      ADDRESS_FILTERS(state),
    );
    stopIfDryRun(input);
    return {
      Addresses: addresses.map((address) => toWireAddress(address, state.accountId, state.region)),
    };
  },
);

/** The read-only operations, by EC2 operation name. */
export const DESCRIBE_OPERATIONS = {
  DescribeVpcs: describeVpcs,
  DescribeSubnets: describeSubnets,
  DescribeRouteTables: describeRouteTables,
  DescribeNatGateways: describeNatGateways,
  DescribeInternetGateways: describeInternetGateways,
  DescribeEgressOnlyInternetGateways: describeEgressOnlyInternetGateways,
  DescribeVpcEndpoints: describeVpcEndpoints,
  DescribeVpcEndpointServices: describeVpcEndpointServices,
  DescribeSecurityGroups: describeSecurityGroups,
  DescribeVpcAttribute: describeVpcAttribute,
  DescribeRegions: describeRegions,
  DescribeAvailabilityZones: describeAvailabilityZones,
  DescribeAddresses: describeAddresses,
};
