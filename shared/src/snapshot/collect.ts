import {
  DescribeAddressesCommand,
  DescribeVpcAttributeCommand,
  paginateDescribeEgressOnlyInternetGateways,
  paginateDescribeInternetGateways,
  paginateDescribeNatGateways,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  paginateDescribeVpcEndpoints,
  paginateDescribeVpcs,
  type EC2Client,
  type Filter,
  type Route as Ec2Route,
  type RouteTable as Ec2RouteTable,
  type SecurityGroup as Ec2SecurityGroup,
  type Tag,
} from '@aws-sdk/client-ec2';
import { awsErrorCode } from '../aws/errors';
import { VpcGuardError, parseOrThrow } from '../errors';
import { MANAGED_TAG, RELEASED_FROM_TAG, RELEASED_FROM_VPC_TAG } from '../remediation/tags';
import {
  NetworkSnapshotSchema,
  SNAPSHOT_SCHEMA_VERSION,
  type NetworkSnapshot,
  type NetworkSnapshotInput,
  type RouteTarget,
} from './schema';

export interface CollectOptions {
  readonly ec2: EC2Client;
  readonly accountId: string;
  readonly region: string;
  /** Collect only these VPCs (event handling). Every VPC of the region when left out. */
  readonly vpcIds?: readonly string[];
  /**
   * VPCs whose DNS attributes to read (one `DescribeVpcAttribute` pair per VPC): only where a decision
   * needs them, e.g. before enabling private DNS. None for a plain scan.
   */
  readonly dnsAttributesFor?: readonly string[];
  /** The clock, for `collectedAt`. */
  readonly now?: () => Date;
  /**
   * The account `ec2`'s credentials belong to (STS), read alongside the collection: a snapshot is
   * never labelled `accountId` with what another account's credentials read.
   * @default - not checked (the caller vouches for the credentials)
   */
  readonly callerAccountId?: () => Promise<string>;
}

/** What one account's credentials read was about to be labelled with another account id. */
export class AccountMismatchError extends VpcGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AccountMismatchError';
  }
}

/** Every item of a paginated describe, in page order: `pick` reads one page's list. */
export async function collectPages<P, T>(
  pages: AsyncIterable<P>,
  pick: (page: P) => readonly T[] | undefined,
): Promise<T[]> {
  const items: T[] = [];
  for await (const page of pages) items.push(...(pick(page) ?? []));
  return items;
}

function tagsOf(tags: readonly Tag[] | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const tag of tags ?? []) {
    if (tag.Key === undefined) continue;
    // A tag key is data: `__proto__` is an own entry like any other, never the object's prototype.
    Object.defineProperty(result, tag.Key, {
      value: tag.Value ?? '',
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return result;
}

function iso(date: Date | undefined): string | undefined {
  return date ? date.toISOString() : undefined;
}

/** The typed target of a route, from whichever of EC2's target fields is set. */
export function routeTargetOf(route: Ec2Route): RouteTarget {
  if (route.NatGatewayId) return { type: 'nat', id: route.NatGatewayId };
  if (route.EgressOnlyInternetGatewayId)
    return { type: 'eigw', id: route.EgressOnlyInternetGatewayId };
  if (route.TransitGatewayId) return { type: 'tgw', id: route.TransitGatewayId };
  if (route.VpcPeeringConnectionId) return { type: 'pcx', id: route.VpcPeeringConnectionId };
  if (route.CarrierGatewayId) return { type: 'cagw', id: route.CarrierGatewayId };
  if (route.LocalGatewayId) return { type: 'lgw', id: route.LocalGatewayId };
  const gateway = route.GatewayId;
  if (gateway === 'local') return { type: 'local', id: 'local' };
  if (gateway?.startsWith('igw-')) return { type: 'igw', id: gateway };
  if (gateway?.startsWith('vgw-')) return { type: 'vgw', id: gateway };
  if (gateway?.startsWith('vpce-')) return { type: 'vpce', id: gateway };
  if (route.NetworkInterfaceId) return { type: 'eni', id: route.NetworkInterfaceId };
  if (gateway) return { type: 'other', id: gateway };
  return { type: 'other', id: route.CoreNetworkArn ?? route.InstanceId ?? 'unknown' };
}

function mapRouteTable(table: Ec2RouteTable) {
  const associations = table.Associations ?? [];
  return {
    routeTableId: table.RouteTableId!,
    vpcId: table.VpcId!,
    main: associations.some((association) => association.Main === true),
    subnetIds: associations.flatMap((a) => (a.SubnetId ? [a.SubnetId] : [])),
    gatewayIds: associations.flatMap((a) => (a.GatewayId ? [a.GatewayId] : [])),
    routes: (table.Routes ?? []).map((route) => ({
      destination:
        route.DestinationCidrBlock ??
        route.DestinationIpv6CidrBlock ??
        route.DestinationPrefixListId ??
        'unknown',
      target: routeTargetOf(route),
      state: route.State === 'blackhole' ? ('blackhole' as const) : ('active' as const),
      origin: (route.Origin ?? 'CreateRoute').toLowerCase() as 'createroute',
    })),
    tags: tagsOf(table.Tags),
  };
}

function mapSecurityGroup(group: Ec2SecurityGroup) {
  return {
    groupId: group.GroupId!,
    vpcId: group.VpcId!,
    groupName: group.GroupName ?? '',
    description: group.Description ?? '',
    ingress: (group.IpPermissions ?? []).map((permission) => ({
      ipProtocol: permission.IpProtocol ?? '-1',
      ...(permission.FromPort === undefined ? {} : { fromPort: permission.FromPort }),
      ...(permission.ToPort === undefined ? {} : { toPort: permission.ToPort }),
      ipv4Ranges: (permission.IpRanges ?? []).flatMap((r) => (r.CidrIp ? [r.CidrIp] : [])),
      ipv6Ranges: (permission.Ipv6Ranges ?? []).flatMap((r) => (r.CidrIpv6 ? [r.CidrIpv6] : [])),
      prefixListIds: (permission.PrefixListIds ?? []).flatMap((p) =>
        p.PrefixListId ? [p.PrefixListId] : [],
      ),
      sourceSecurityGroupIds: (permission.UserIdGroupPairs ?? []).flatMap((p) =>
        p.GroupId ? [p.GroupId] : [],
      ),
    })),
    tags: tagsOf(group.Tags),
  };
}

/** EC2 accepts at most 200 values in one filter. */
const SECURITY_GROUP_BATCH = 200;

/** NAT states worth collecting: deleted NATs linger in describe results for a while (AWS-FACTS). */
const NAT_STATES = ['pending', 'available', 'deleting', 'failed'];

/**
 * Reads the network of one account and region into a {@link NetworkSnapshot}. One paginated call per
 * resource type, all at once, so the number of calls grows with pages, not with VPCs. A scoped
 * collection (`vpcIds`) filters each call on `vpc-id`. Security groups are kept only for those
 * attached to endpoints, plus the ones vpc-guard manages (it reuses them): a scoped collection reads
 * the groups of its VPCs alongside everything else (an endpoint's groups are in its VPC), so one VPC
 * costs one round trip; a region-wide one reads the managed groups, then the endpoints' groups by id
 * (a second round trip, rather than every group of the region). Elastic IPs only for those vpc-guard
 * marked when it deleted their NAT gateway (one unpaginated call). The result is validated: an AWS
 * response that breaks an assumption fails loudly here, not as a wrong verdict later.
 */
export async function collectNetworkSnapshot(options: CollectOptions): Promise<NetworkSnapshot> {
  const { ec2, accountId, region, vpcIds } = options;
  const collectedAt = (options.now ?? (() => new Date()))().toISOString();
  const scoped = vpcIds !== undefined && vpcIds.length > 0;
  const scope: Filter[] = scoped ? [{ Name: 'vpc-id', Values: [...vpcIds] }] : [];
  const page = { client: ec2, pageSize: 1000 };
  const caller = options.callerAccountId?.();
  caller?.catch(() => undefined);

  const [
    allVpcs,
    subnets,
    routeTables,
    natGateways,
    internetGateways,
    egressOnly,
    endpoints,
    firstGroups,
    addresses,
    dns,
  ] = await Promise.all([
    collectPages(paginateDescribeVpcs(page, { Filters: scope }), (p) => p.Vpcs),
    collectPages(paginateDescribeSubnets(page, { Filters: scope }), (p) => p.Subnets),
    collectPages(
      paginateDescribeRouteTables({ ...page, pageSize: 100 }, { Filters: scope }),
      (p) => p.RouteTables,
    ),
    collectPages(
      paginateDescribeNatGateways(page, {
        Filter: [...scope, { Name: 'state', Values: NAT_STATES }],
      }),
      (p) => p.NatGateways,
    ),
    collectPages(
      paginateDescribeInternetGateways(page, {
        Filters: scoped ? [{ Name: 'attachment.vpc-id', Values: [...vpcIds] }] : [],
      }),
      (p) => p.InternetGateways,
    ),
    // No vpc filter exists for egress-only gateways: read them all, keep the attached ones below.
    collectPages(
      paginateDescribeEgressOnlyInternetGateways({ ...page, pageSize: 255 }, {}),
      (p) => p.EgressOnlyInternetGateways,
    ),
    collectPages(paginateDescribeVpcEndpoints(page, { Filters: scope }), (p) => p.VpcEndpoints),
    // Scoped: every group of the VPCs. Region-wide: only the managed ones (endpoint groups below).
    collectPages(
      paginateDescribeSecurityGroups(page, {
        Filters: scoped ? scope : [{ Name: `tag:${MANAGED_TAG}`, Values: ['true'] }],
      }),
      (p) => p.SecurityGroups,
    ),
    readReleasedAddresses(ec2, vpcIds),
    readVpcDnsAttributes(ec2, options.dnsAttributesFor ?? []),
  ]);
  if (caller) {
    const callerAccount = await caller;
    if (callerAccount !== accountId) {
      throw new AccountMismatchError(
        `the credentials used for ${accountId}/${region} belong to account ${callerAccount}: what they read is not labelled ${accountId}`,
      );
    }
  }
  // A VPC another account owns (a shared VPC seen by a participant) is its owner's to judge and
  // change: it is left out rather than labelled with this account.
  const vpcs = allVpcs.filter((vpc) => vpc.OwnerId === undefined || vpc.OwnerId === accountId);

  const endpointGroupIds = new Set(
    endpoints.flatMap((e) => (e.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : []))),
  );
  let managedGroups: Ec2SecurityGroup[];
  let endpointGroups: Ec2SecurityGroup[];
  if (scoped) {
    const isManaged = (group: Ec2SecurityGroup) =>
      (group.Tags ?? []).some((tag) => tag.Key === MANAGED_TAG && tag.Value === 'true');
    managedGroups = firstGroups.filter(isManaged);
    endpointGroups = firstGroups.filter(
      (group) => !isManaged(group) && endpointGroupIds.has(group.GroupId ?? ''),
    );
  } else {
    managedGroups = firstGroups;
    const managedIds = new Set(managedGroups.map((group) => group.GroupId));
    endpointGroups = await readGroupsById(
      ec2,
      [...endpointGroupIds].filter((id) => !managedIds.has(id)),
    );
  }

  const collectedVpcIds = new Set(vpcs.map((vpc) => vpc.VpcId));
  const snapshot: NetworkSnapshotInput = {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    accountId,
    region,
    collectedAt,
    ...(scoped ? { scope: { vpcIds: [...vpcIds] } } : {}),
    vpcs: vpcs.map((vpc) => {
      const attributes = dns.get(vpc.VpcId!);
      return {
        vpcId: vpc.VpcId!,
        ...(vpc.OwnerId ? { ownerId: vpc.OwnerId } : {}),
        state: vpc.State === 'pending' ? ('pending' as const) : ('available' as const),
        cidrBlocks: (vpc.CidrBlockAssociationSet ?? [])
          .filter((a) => a.CidrBlockState?.State === 'associated' || a.CidrBlockState === undefined)
          .flatMap((a) => (a.CidrBlock ? [a.CidrBlock] : []))
          .concat(vpc.CidrBlockAssociationSet?.length ? [] : vpc.CidrBlock ? [vpc.CidrBlock] : []),
        ipv6CidrBlocks: (vpc.Ipv6CidrBlockAssociationSet ?? [])
          .filter((a) => a.Ipv6CidrBlockState?.State === 'associated')
          .flatMap((a) => (a.Ipv6CidrBlock ? [a.Ipv6CidrBlock] : [])),
        isDefault: vpc.IsDefault ?? false,
        tags: tagsOf(vpc.Tags),
        ...(attributes ?? {}),
      };
    }),
    subnets: subnets
      .filter((subnet) => collectedVpcIds.has(subnet.VpcId))
      .map((subnet) => ({
        subnetId: subnet.SubnetId!,
        vpcId: subnet.VpcId!,
        availabilityZone: subnet.AvailabilityZone!,
        availabilityZoneId: subnet.AvailabilityZoneId!,
        ...(subnet.CidrBlock ? { cidrBlock: subnet.CidrBlock } : {}),
        ipv6CidrBlocks: (subnet.Ipv6CidrBlockAssociationSet ?? []).flatMap((a) =>
          a.Ipv6CidrBlock ? [a.Ipv6CidrBlock] : [],
        ),
        mapPublicIpOnLaunch: subnet.MapPublicIpOnLaunch ?? false,
        tags: tagsOf(subnet.Tags),
      })),
    routeTables: routeTables.filter((table) => collectedVpcIds.has(table.VpcId)).map(mapRouteTable),
    natGateways: natGateways
      .filter((nat) => collectedVpcIds.has(nat.VpcId))
      .map((nat) => ({
        natGatewayId: nat.NatGatewayId!,
        vpcId: nat.VpcId!,
        subnetId: nat.SubnetId!,
        state: nat.State as 'available',
        connectivityType:
          nat.ConnectivityType === 'private' ? ('private' as const) : ('public' as const),
        allocationIds: (nat.NatGatewayAddresses ?? []).flatMap((a) =>
          a.AllocationId ? [a.AllocationId] : [],
        ),
        publicIps: (nat.NatGatewayAddresses ?? []).flatMap((a) => (a.PublicIp ? [a.PublicIp] : [])),
        privateIps: (nat.NatGatewayAddresses ?? []).flatMap((a) =>
          a.PrivateIp ? [a.PrivateIp] : [],
        ),
        ...(nat.CreateTime ? { createTime: iso(nat.CreateTime) } : {}),
        tags: tagsOf(nat.Tags),
      })),
    internetGateways: internetGateways
      .map((gateway) => ({
        internetGatewayId: gateway.InternetGatewayId!,
        attachments: (gateway.Attachments ?? [])
          .filter((a) => collectedVpcIds.has(a.VpcId))
          .map((a) => ({ vpcId: a.VpcId!, state: (a.State ?? 'attached') as 'attached' })),
        tags: tagsOf(gateway.Tags),
      }))
      .filter((gateway) => gateway.attachments.length > 0),
    egressOnlyInternetGateways: egressOnly
      .map((gateway) => ({
        egressOnlyInternetGatewayId: gateway.EgressOnlyInternetGatewayId!,
        attachments: (gateway.Attachments ?? [])
          .filter((a) => collectedVpcIds.has(a.VpcId))
          .map((a) => ({ vpcId: a.VpcId!, state: (a.State ?? 'attached') as 'attached' })),
        tags: tagsOf(gateway.Tags),
      }))
      .filter((gateway) => gateway.attachments.length > 0),
    vpcEndpoints: endpoints
      .filter((endpoint) => collectedVpcIds.has(endpoint.VpcId))
      .map((endpoint) => ({
        vpcEndpointId: endpoint.VpcEndpointId!,
        vpcId: endpoint.VpcId!,
        serviceName: endpoint.ServiceName!,
        type: endpoint.VpcEndpointType as 'Interface',
        // EC2 documents PascalCase states and returns lower case: normalise.
        state: (endpoint.State ?? 'pending').toLowerCase() as 'available',
        ...(endpoint.PolicyDocument ? { policyDocument: endpoint.PolicyDocument } : {}),
        privateDnsEnabled: endpoint.PrivateDnsEnabled ?? false,
        subnetIds: endpoint.SubnetIds ?? [],
        routeTableIds: endpoint.RouteTableIds ?? [],
        securityGroupIds: (endpoint.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : [])),
        tags: tagsOf(endpoint.Tags),
        ...(endpoint.CreationTimestamp
          ? { creationTimestamp: iso(endpoint.CreationTimestamp) }
          : {}),
      })),
    securityGroups: [...managedGroups, ...endpointGroups]
      .filter((group) => collectedVpcIds.has(group.VpcId))
      .map(mapSecurityGroup),
    elasticIps: addresses.map((address) => ({
      allocationId: address.AllocationId!,
      publicIp: address.PublicIp!,
      ...(address.AssociationId ? { associationId: address.AssociationId } : {}),
      ...(address.NetworkInterfaceId ? { networkInterfaceId: address.NetworkInterfaceId } : {}),
      tags: tagsOf(address.Tags),
    })),
  };
  return parseOrThrow(NetworkSnapshotSchema, snapshot, `EC2 responses for ${accountId}/${region}`);
}

/**
 * Security groups by id, in batches of {@link SECURITY_GROUP_BATCH} run concurrently, each paginated
 * like any other describe call. Filtered on `group-id` rather than `GroupIds`: a group deleted
 * meanwhile is then absent, not an error.
 */
async function readGroupsById(ec2: EC2Client, groupIds: readonly string[]) {
  const batches: string[][] = [];
  for (let start = 0; start < groupIds.length; start += SECURITY_GROUP_BATCH) {
    batches.push(groupIds.slice(start, start + SECURITY_GROUP_BATCH));
  }
  const groups = await Promise.all(
    batches.map((batch) =>
      collectPages(
        paginateDescribeSecurityGroups(
          { client: ec2, pageSize: 1000 },
          { Filters: [{ Name: 'group-id', Values: batch }] },
        ),
        (p) => p.SecurityGroups,
      ),
    ),
  );
  return groups.flat();
}

/**
 * The Elastic IPs vpc-guard marked when it deleted their NAT gateway: one DescribeAddresses call
 * (the API has no pagination), filtered on the tag so the rest of the region's addresses are never
 * read. A scoped collection also filters on the VPC the NAT was in.
 */
async function readReleasedAddresses(ec2: EC2Client, vpcIds: readonly string[] | undefined) {
  const output = await ec2.send(
    new DescribeAddressesCommand({
      Filters: [
        { Name: 'tag-key', Values: [RELEASED_FROM_TAG] },
        ...(vpcIds && vpcIds.length > 0
          ? [{ Name: `tag:${RELEASED_FROM_VPC_TAG}`, Values: [...vpcIds] }]
          : []),
      ],
    }),
  );
  return output.Addresses ?? [];
}

/** A VPC's DNS attributes, which decide whether an interface endpoint may have private DNS. */
export interface VpcDnsAttributes {
  readonly enableDnsSupport: boolean;
  readonly enableDnsHostnames: boolean;
}

/**
 * Reads the DNS attributes of the given VPCs: two `DescribeVpcAttribute` calls per VPC (the API takes one
 * VPC and one attribute at a time), all at once. Only for VPCs where a decision needs them. A VPC
 * that no longer exists has none (it is absent from the result, as from the collection).
 */
export async function readVpcDnsAttributes(
  ec2: EC2Client,
  vpcIds: readonly string[],
): Promise<Map<string, VpcDnsAttributes>> {
  const read = await Promise.all(
    vpcIds.map(async (vpcId) => {
      let support;
      let hostnames;
      try {
        [support, hostnames] = await Promise.all([
          ec2.send(
            new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsSupport' }),
          ),
          ec2.send(
            new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' }),
          ),
        ]);
      } catch (error) {
        if (awsErrorCode(error) === 'InvalidVpcID.NotFound') return undefined;
        throw error;
      }
      return [
        vpcId,
        {
          enableDnsSupport: support.EnableDnsSupport?.Value ?? false,
          enableDnsHostnames: hostnames.EnableDnsHostnames?.Value ?? false,
        },
      ] as const;
    }),
  );
  return new Map(read.filter((entry) => entry !== undefined));
}
