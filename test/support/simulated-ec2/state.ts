import {
  NetworkSnapshotSchema,
  RELEASED_FROM_TAG,
  SNAPSHOT_SCHEMA_VERSION,
  type NetworkSnapshot,
  type Route,
  type SecurityGroupRule,
  type Tags,
  type VpcEndpoint,
} from '@vpc-guard/shared';
import {
  endpointServiceCatalog,
  type EndpointServiceCatalog,
  type EndpointServiceDefinition,
} from './endpoint-services';
import { derivedId } from './ids';
import { toWireAddress } from './wire';

/*
 * The records below are the snapshot model plus what EC2 shows that a snapshot leaves out (owner,
 * network interfaces, addresses, client tokens). Every optional snapshot field is made concrete when
 * loaded, so describe answers are complete and `toSnapshot` reads like a full collection.
 */

export interface VpcRecord {
  vpcId: string;
  ownerId: string;
  state: 'pending' | 'available';
  cidrBlocks: string[];
  ipv6CidrBlocks: string[];
  isDefault: boolean;
  tags: Tags;
  enableDnsSupport: boolean;
  enableDnsHostnames: boolean;
}

export interface SubnetRecord {
  subnetId: string;
  vpcId: string;
  ownerId: string;
  availabilityZone: string;
  availabilityZoneId: string;
  cidrBlock: string | undefined;
  ipv6CidrBlocks: string[];
  mapPublicIpOnLaunch: boolean;
  tags: Tags;
}

export interface RouteTableRecord {
  routeTableId: string;
  vpcId: string;
  ownerId: string;
  main: boolean;
  subnetIds: string[];
  gatewayIds: string[];
  routes: Route[];
  tags: Tags;
}

interface NatAddressRecord {
  allocationId: string | undefined;
  publicIp: string | undefined;
  privateIp: string | undefined;
  networkInterfaceId: string;
  isPrimary: boolean;
}

type NatGatewayState = 'pending' | 'failed' | 'available' | 'deleting' | 'deleted';

export interface NatGatewayRecord {
  natGatewayId: string;
  vpcId: string;
  subnetId: string;
  state: NatGatewayState;
  connectivityType: 'public' | 'private';
  addresses: NatAddressRecord[];
  createTime: string;
  deleteTime: string | undefined;
  tags: Tags;
}

export interface GatewayRecord {
  gatewayId: string;
  ownerId: string;
  attachments: {
    vpcId: string;
    state: 'attaching' | 'attached' | 'detaching' | 'detached' | 'available';
  }[];
  tags: Tags;
}

export interface VpcEndpointRecord {
  vpcEndpointId: string;
  vpcId: string;
  ownerId: string;
  serviceName: string;
  type: VpcEndpoint['type'];
  state: VpcEndpoint['state'];
  policyDocument: string | undefined;
  privateDnsEnabled: boolean;
  subnetIds: string[];
  routeTableIds: string[];
  securityGroupIds: string[];
  tags: Tags;
  creationTimestamp: string;
}

export interface SecurityGroupRecord {
  groupId: string;
  vpcId: string;
  ownerId: string;
  groupName: string;
  description: string;
  ingress: SecurityGroupRule[];
  tags: Tags;
}

export interface AddressRecord {
  allocationId: string;
  publicIp: string;
  /** Set while a NAT gateway holds the address (until the NAT is `deleted`). */
  natGatewayId: string | undefined;
  networkInterfaceId: string | undefined;
  privateIpAddress: string | undefined;
  tags: Tags;
}

export interface AvailabilityZoneRecord {
  zoneName: string;
  zoneId: string;
}

interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly resourceId: string;
}

interface Transition {
  remaining: number;
  readonly settle: () => void;
}

const DIRECTION_CODES: Readonly<Record<string, string>> = {
  north: 'n',
  south: 's',
  east: 'e',
  west: 'w',
  central: 'c',
  northeast: 'ne',
  northwest: 'nw',
  southeast: 'se',
  southwest: 'sw',
};

/** `us-east-1` -> `use1`, `ap-southeast-2` -> `apse2`: the prefix of EC2's zone ids. */
function zoneIdPrefix(region: string): string {
  const parts = region.split('-');
  const number = parts.at(-1) ?? '';
  const middle = parts
    .slice(1, -1)
    .map((part) => DIRECTION_CODES[part] ?? part.charAt(0))
    .join('');
  return `${parts[0] ?? ''}${middle}${number}`;
}

/** The state of one account in one region. */
export class RegionState {
  readonly vpcs = new Map<string, VpcRecord>();
  readonly subnets = new Map<string, SubnetRecord>();
  readonly routeTables = new Map<string, RouteTableRecord>();
  readonly natGateways = new Map<string, NatGatewayRecord>();
  readonly internetGateways = new Map<string, GatewayRecord>();
  readonly egressOnlyInternetGateways = new Map<string, GatewayRecord>();
  readonly vpcEndpoints = new Map<string, VpcEndpointRecord>();
  readonly securityGroups = new Map<string, SecurityGroupRecord>();
  readonly addresses = new Map<string, AddressRecord>();
  readonly availabilityZones: AvailabilityZoneRecord[] = [];
  readonly endpointServices: EndpointServiceCatalog;
  /** ClientToken -> what it created, per operation (EC2 keeps tokens per account and region). */
  readonly clientTokens = new Map<string, Map<string, IdempotencyRecord>>();
  private readonly prefixLists = new Map<string, string>();
  private transitions: Transition[] = [];

  constructor(
    readonly accountId: string,
    readonly region: string,
    services: readonly EndpointServiceDefinition[],
  ) {
    this.endpointServices = endpointServiceCatalog(region, services);
  }

  /** Loads a (parsed) snapshot. Absent optional fields take EC2's defaults. */
  static fromSnapshot(
    snapshot: NetworkSnapshot,
    services: readonly EndpointServiceDefinition[],
  ): RegionState {
    const state = new RegionState(snapshot.accountId, snapshot.region, services);
    const owner = snapshot.accountId;
    for (const vpc of snapshot.vpcs) {
      state.vpcs.set(vpc.vpcId, {
        vpcId: vpc.vpcId,
        ownerId: vpc.ownerId ?? owner,
        state: vpc.state,
        cidrBlocks: [...vpc.cidrBlocks],
        ipv6CidrBlocks: [...vpc.ipv6CidrBlocks],
        isDefault: vpc.isDefault,
        tags: { ...vpc.tags },
        // EC2's defaults: DNS resolution on; DNS hostnames on only in a default VPC.
        enableDnsSupport: vpc.enableDnsSupport ?? true,
        enableDnsHostnames: vpc.enableDnsHostnames ?? vpc.isDefault,
      });
    }
    for (const subnet of snapshot.subnets) {
      state.subnets.set(subnet.subnetId, {
        ...subnet,
        ownerId: owner,
        cidrBlock: subnet.cidrBlock,
        ipv6CidrBlocks: [...subnet.ipv6CidrBlocks],
        tags: { ...subnet.tags },
      });
    }
    for (const table of snapshot.routeTables) {
      state.routeTables.set(table.routeTableId, {
        routeTableId: table.routeTableId,
        vpcId: table.vpcId,
        ownerId: owner,
        main: table.main,
        subnetIds: [...table.subnetIds],
        gatewayIds: [...table.gatewayIds],
        routes: table.routes.map((route) => ({ ...route, target: { ...route.target } })),
        tags: { ...table.tags },
      });
    }
    for (const nat of snapshot.natGateways) {
      const count = Math.max(nat.allocationIds.length, nat.publicIps.length, nat.privateIps.length);
      const addresses: NatAddressRecord[] = [];
      for (let index = 0; index < count; index += 1) {
        addresses.push({
          allocationId: nat.allocationIds[index],
          publicIp: nat.publicIps[index],
          privateIp: nat.privateIps[index],
          networkInterfaceId: derivedId('eni', nat.natGatewayId, String(index)),
          isPrimary: index === 0,
        });
      }
      state.natGateways.set(nat.natGatewayId, {
        natGatewayId: nat.natGatewayId,
        vpcId: nat.vpcId,
        subnetId: nat.subnetId,
        state: nat.state,
        connectivityType: nat.connectivityType,
        addresses,
        createTime: nat.createTime ?? snapshot.collectedAt,
        deleteTime:
          nat.state === 'deleted' || nat.state === 'deleting' ? snapshot.collectedAt : undefined,
        tags: { ...nat.tags },
      });
      // The NAT's Elastic IPs are allocated in the account: describable, and held while the NAT lives.
      for (const address of addresses) {
        if (
          address.allocationId &&
          address.publicIp &&
          !state.addresses.has(address.allocationId)
        ) {
          const held = nat.state !== 'deleted' && nat.state !== 'failed';
          state.addresses.set(address.allocationId, {
            allocationId: address.allocationId,
            publicIp: address.publicIp,
            natGatewayId: held ? nat.natGatewayId : undefined,
            networkInterfaceId: held ? address.networkInterfaceId : undefined,
            privateIpAddress: held ? address.privateIp : undefined,
            tags: {},
          });
        }
      }
    }
    // Marked addresses: tags (and an association a NAT above does not explain) come from here.
    for (const address of snapshot.elasticIps) {
      const known = state.addresses.get(address.allocationId);
      if (known) {
        Object.assign(known.tags, address.tags);
        continue;
      }
      state.addresses.set(address.allocationId, {
        allocationId: address.allocationId,
        publicIp: address.publicIp,
        natGatewayId: undefined,
        networkInterfaceId:
          address.networkInterfaceId ??
          (address.associationId ? derivedId('eni', address.allocationId) : undefined),
        privateIpAddress: undefined,
        tags: { ...address.tags },
      });
    }
    for (const igw of snapshot.internetGateways) {
      state.internetGateways.set(igw.internetGatewayId, {
        gatewayId: igw.internetGatewayId,
        ownerId: owner,
        attachments: igw.attachments.map((attachment) => ({ ...attachment })),
        tags: { ...igw.tags },
      });
    }
    for (const eigw of snapshot.egressOnlyInternetGateways) {
      state.egressOnlyInternetGateways.set(eigw.egressOnlyInternetGatewayId, {
        gatewayId: eigw.egressOnlyInternetGatewayId,
        ownerId: owner,
        attachments: eigw.attachments.map((attachment) => ({ ...attachment })),
        tags: { ...eigw.tags },
      });
    }
    for (const endpoint of snapshot.vpcEndpoints) {
      state.vpcEndpoints.set(endpoint.vpcEndpointId, {
        vpcEndpointId: endpoint.vpcEndpointId,
        vpcId: endpoint.vpcId,
        ownerId: owner,
        serviceName: endpoint.serviceName,
        type: endpoint.type,
        state: endpoint.state,
        policyDocument: endpoint.policyDocument,
        privateDnsEnabled: endpoint.privateDnsEnabled,
        subnetIds: [...endpoint.subnetIds],
        routeTableIds: [...endpoint.routeTableIds],
        securityGroupIds: [...endpoint.securityGroupIds],
        tags: { ...endpoint.tags },
        creationTimestamp: endpoint.creationTimestamp ?? snapshot.collectedAt,
      });
    }
    for (const group of snapshot.securityGroups) {
      state.securityGroups.set(group.groupId, {
        groupId: group.groupId,
        vpcId: group.vpcId,
        ownerId: owner,
        groupName: group.groupName,
        description: group.description,
        ingress: group.ingress.map((rule) => structuredClone(rule)),
        tags: { ...group.tags },
      });
    }
    state.learnPrefixLists();
    state.deriveAvailabilityZones();
    return state;
  }

  /** An empty region (enabled, no VPCs): what a sweep finds in most regions. */
  static empty(
    accountId: string,
    region: string,
    services: readonly EndpointServiceDefinition[],
  ): RegionState {
    const state = new RegionState(accountId, region, services);
    state.deriveAvailabilityZones();
    return state;
  }

  /** The current state as a NetworkSnapshot (validated by NetworkSnapshotSchema). */
  toSnapshot(collectedAt: string): NetworkSnapshot {
    return NetworkSnapshotSchema.parse({
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      accountId: this.accountId,
      region: this.region,
      collectedAt,
      vpcs: [...this.vpcs.values()].map((vpc) => ({
        vpcId: vpc.vpcId,
        ownerId: vpc.ownerId,
        state: vpc.state,
        cidrBlocks: [...vpc.cidrBlocks],
        ipv6CidrBlocks: [...vpc.ipv6CidrBlocks],
        isDefault: vpc.isDefault,
        tags: { ...vpc.tags },
        enableDnsSupport: vpc.enableDnsSupport,
        enableDnsHostnames: vpc.enableDnsHostnames,
      })),
      subnets: [...this.subnets.values()].map(({ ownerId: _owner, ...subnet }) =>
        structuredClone(subnet),
      ),
      routeTables: [...this.routeTables.values()].map(({ ownerId: _owner, ...table }) =>
        structuredClone(table),
      ),
      natGateways: [...this.natGateways.values()].map((nat) => ({
        natGatewayId: nat.natGatewayId,
        vpcId: nat.vpcId,
        subnetId: nat.subnetId,
        state: nat.state,
        connectivityType: nat.connectivityType,
        allocationIds: nat.addresses.flatMap((address) =>
          address.allocationId ? [address.allocationId] : [],
        ),
        publicIps: nat.addresses.flatMap((address) => (address.publicIp ? [address.publicIp] : [])),
        privateIps: nat.addresses.flatMap((address) =>
          address.privateIp ? [address.privateIp] : [],
        ),
        createTime: nat.createTime,
        tags: { ...nat.tags },
      })),
      internetGateways: [...this.internetGateways.values()].map((igw) => ({
        internetGatewayId: igw.gatewayId,
        attachments: igw.attachments.map((attachment) => ({ ...attachment })),
        tags: { ...igw.tags },
      })),
      egressOnlyInternetGateways: [...this.egressOnlyInternetGateways.values()].map((eigw) => ({
        egressOnlyInternetGatewayId: eigw.gatewayId,
        attachments: eigw.attachments.map((attachment) => ({ ...attachment })),
        tags: { ...eigw.tags },
      })),
      vpcEndpoints: [...this.vpcEndpoints.values()].map(({ ownerId: _owner, ...endpoint }) =>
        structuredClone(endpoint),
      ),
      securityGroups: [...this.securityGroups.values()].map(({ ownerId: _owner, ...group }) =>
        structuredClone(group),
      ),
      // As the collector reads them: only the addresses vpc-guard marked for release.
      elasticIps: [...this.addresses.values()]
        .filter((address) => address.tags[RELEASED_FROM_TAG] !== undefined)
        .map((address) => {
          const wire = toWireAddress(address, this.accountId, this.region);
          return {
            allocationId: address.allocationId,
            publicIp: address.publicIp,
            ...(wire.AssociationId ? { associationId: wire.AssociationId } : {}),
            ...(address.networkInterfaceId
              ? { networkInterfaceId: address.networkInterfaceId }
              : {}),
            tags: { ...address.tags },
          };
        }),
    });
  }

  /**
   * Runs `settle` after `calls` further API calls in this region (0: at the next call). This is how
   * asynchronous EC2 work (an endpoint becoming available, a NAT finishing its deletion) plays out.
   */
  schedule(calls: number, settle: () => void): void {
    this.transitions.push({ remaining: Math.max(0, calls), settle });
  }

  /** Called before each API call in this region: settles the transitions that are due. */
  tick(): void {
    const due: Transition[] = [];
    const pending: Transition[] = [];
    for (const transition of this.transitions) {
      if (transition.remaining <= 0) {
        due.push(transition);
      } else {
        transition.remaining -= 1;
        pending.push(transition);
      }
    }
    this.transitions = pending;
    due.forEach((transition) => transition.settle());
  }

  /** Settles every pending transition now (`SimulatedAccount.advance`). */
  settleAll(): void {
    while (this.transitions.length > 0) {
      const due = this.transitions;
      this.transitions = [];
      due.forEach((transition) => transition.settle());
    }
  }

  /** The managed prefix list EC2 uses for a gateway service's routes (`pl-` + 8 hex digits). */
  prefixListFor(serviceName: string): string {
    let id = this.prefixLists.get(serviceName);
    if (!id) {
      id = `pl-${derivedId('pl', this.region, serviceName).slice(3, 11)}`;
      this.prefixLists.set(serviceName, id);
    }
    return id;
  }

  /** The zone record of a zone name, if the region has it. */
  zoneNamed(zoneName: string): AvailabilityZoneRecord | undefined {
    return this.availabilityZones.find((zone) => zone.zoneName === zoneName);
  }

  /** A loaded snapshot may already route a service's prefix list: keep using that id. */
  private learnPrefixLists(): void {
    for (const table of this.routeTables.values()) {
      for (const route of table.routes) {
        const endpoint =
          route.target.type === 'vpce' ? this.vpcEndpoints.get(route.target.id) : undefined;
        if (
          endpoint &&
          route.destination.startsWith('pl-') &&
          !this.prefixLists.has(endpoint.serviceName)
        ) {
          this.prefixLists.set(endpoint.serviceName, route.destination);
        }
      }
    }
  }

  /** Zones the subnets use, plus `a`, `b` and `c` so that new resources have room. */
  private deriveAvailabilityZones(): void {
    for (const subnet of this.subnets.values()) {
      if (!this.zoneNamed(subnet.availabilityZone)) {
        this.availabilityZones.push({
          zoneName: subnet.availabilityZone,
          zoneId: subnet.availabilityZoneId,
        });
      }
    }
    const prefix = zoneIdPrefix(this.region);
    let nextZoneNumber = 1;
    for (const letter of ['a', 'b', 'c']) {
      const zoneName = `${this.region}${letter}`;
      if (this.zoneNamed(zoneName)) {
        continue;
      }
      while (
        this.availabilityZones.some((zone) => zone.zoneId === `${prefix}-az${nextZoneNumber}`)
      ) {
        nextZoneNumber += 1;
      }
      this.availabilityZones.push({ zoneName, zoneId: `${prefix}-az${nextZoneNumber}` });
      nextZoneNumber += 1;
    }
    this.availabilityZones.sort((left, right) => left.zoneName.localeCompare(right.zoneName));
  }
}
