import type {
  CreateRouteRequest,
  CreateRouteResult,
  DeleteRouteRequest,
  ReplaceRouteRequest,
} from '@aws-sdk/client-ec2';
import type { Route, RouteTarget } from '@vpc-guard/shared';
import { fault } from '../errors';
import type { RegionState, RouteTableRecord } from '../state';
import {
  findOrThrow,
  notFound,
  isIpv4Cidr,
  isIpv6Cidr,
  stopIfDryRun,
  defineOperation,
  required,
  RESOURCE_KINDS,
} from './context';

interface DestinationInput {
  readonly DestinationCidrBlock?: string | undefined;
  readonly DestinationIpv6CidrBlock?: string | undefined;
  readonly DestinationPrefixListId?: string | undefined;
}

type TargetInput = Pick<
  CreateRouteRequest,
  | 'GatewayId'
  | 'NatGatewayId'
  | 'EgressOnlyInternetGatewayId'
  | 'TransitGatewayId'
  | 'VpcPeeringConnectionId'
  | 'NetworkInterfaceId'
  | 'InstanceId'
  | 'CarrierGatewayId'
  | 'LocalGatewayId'
  | 'VpcEndpointId'
  | 'CoreNetworkArn'
>;

const TARGET_PARAMETERS = [
  'GatewayId',
  'NatGatewayId',
  'EgressOnlyInternetGatewayId',
  'TransitGatewayId',
  'VpcPeeringConnectionId',
  'NetworkInterfaceId',
  'InstanceId',
  'CarrierGatewayId',
  'LocalGatewayId',
  'VpcEndpointId',
  'CoreNetworkArn',
] as const satisfies readonly (keyof TargetInput)[];

/*
 * Targets the simulator does not model as resources (transit and virtual private gateways, peering
 * connections, network interfaces, instances) are accepted when their id is well formed.
 */
const UNMODELLED_TARGETS: Partial<
  Record<
    (typeof TARGET_PARAMETERS)[number],
    { prefix: string; type: RouteTarget['type']; malformed: string }
  >
> = {
  TransitGatewayId: { prefix: 'tgw', type: 'tgw', malformed: 'InvalidTransitGatewayID.Malformed' },
  VpcPeeringConnectionId: {
    prefix: 'pcx',
    type: 'pcx',
    malformed: 'InvalidVpcPeeringConnectionID.Malformed',
  },
  NetworkInterfaceId: {
    prefix: 'eni',
    type: 'eni',
    malformed: 'InvalidNetworkInterfaceID.Malformed',
  },
  InstanceId: { prefix: 'i', type: 'other', malformed: 'InvalidInstanceID.Malformed' },
  CarrierGatewayId: {
    prefix: 'cagw',
    type: 'cagw',
    malformed: 'InvalidCarrierGatewayID.Malformed',
  },
  LocalGatewayId: { prefix: 'lgw', type: 'lgw', malformed: 'InvalidLocalGatewayID.Malformed' },
};

function routeTableOf(state: RegionState, id: string | undefined): RouteTableRecord {
  return findOrThrow(state.routeTables, required(id, 'RouteTableId'), RESOURCE_KINDS.routeTable);
}

/** Exactly one destination, well formed. */
function destinationOf(input: DestinationInput): string {
  const given: [parameter: string, value: string][] = [];
  if (input.DestinationCidrBlock !== undefined) {
    given.push(['destinationCidrBlock', input.DestinationCidrBlock]);
  }
  if (input.DestinationIpv6CidrBlock !== undefined) {
    given.push(['destinationIpv6CidrBlock', input.DestinationIpv6CidrBlock]);
  }
  if (input.DestinationPrefixListId !== undefined) {
    given.push(['destinationPrefixListId', input.DestinationPrefixListId]);
  }
  if (given.length === 0) {
    throw fault(
      'MissingParameter',
      'The request must contain exactly one of: destinationCidrBlock, destinationIpv6CidrBlock, destinationPrefixListId',
    );
  }
  if (given.length > 1) {
    throw fault(
      'InvalidParameterCombination',
      'Only one of the route destination parameters may be given.',
    );
  }
  const [parameter, value] = given[0]!;
  const valid =
    parameter === 'destinationCidrBlock'
      ? isIpv4Cidr(value)
      : parameter === 'destinationIpv6CidrBlock'
        ? isIpv6Cidr(value)
        : /^pl-[0-9a-f]{8,17}$/.test(value);
  if (!valid) {
    throw fault(
      'InvalidParameterValue',
      `Value (${value}) for parameter ${parameter} is invalid. This is not a valid CIDR block.`,
    );
  }
  return value;
}

/** A route a gateway endpoint placed changes only through ModifyVpcEndpoint. */
function rejectIfManagedByEndpoint(state: RegionState, route: Route, destination: string): void {
  if (route.target.type === 'vpce' && state.vpcEndpoints.get(route.target.id)?.type === 'Gateway') {
    throw fault(
      'InvalidParameterValue',
      `The route to ${destination} is managed by the VPC endpoint ${route.target.id}.`,
    );
  }
}

/** Exactly one target, existing and in the route table's VPC where the simulator models it. */
function targetOf(
  state: RegionState,
  table: RouteTableRecord,
  input: TargetInput,
  destination: string,
  allowLocal: boolean,
): RouteTarget {
  const given = TARGET_PARAMETERS.filter((parameter) => input[parameter] !== undefined);
  if (given.length !== 1) {
    throw fault(
      given.length === 0 ? 'MissingParameter' : 'InvalidParameterCombination',
      `The request must contain exactly one of: ${TARGET_PARAMETERS.map((parameter) => parameter.charAt(0).toLowerCase() + parameter.slice(1)).join(', ')}`,
    );
  }
  const parameter = given[0]!;
  const id = input[parameter]!;
  const differentNetworks = () =>
    fault(
      'InvalidParameterValue',
      `route table ${table.routeTableId} and network gateway ${id} belong to different networks`,
    );
  const gatewayNotFound = () =>
    fault('InvalidGatewayID.NotFound', `The gateway ID '${id}' does not exist`);
  switch (parameter) {
    case 'GatewayId': {
      if (id === 'local') {
        if (!allowLocal) {
          throw fault(
            'InvalidParameterValue',
            `cannot create a route with target local in route table ${table.routeTableId}`,
          );
        }
        return { type: 'local', id };
      }
      if (id.startsWith('igw-')) {
        const igw = state.internetGateways.get(id);
        if (!igw) {
          throw gatewayNotFound();
        }
        if (!igw.attachments.some((attachment) => attachment.vpcId === table.vpcId)) {
          throw differentNetworks();
        }
        return { type: 'igw', id };
      }
      if (/^vgw-[0-9a-f]{8,17}$/.test(id)) {
        return { type: 'vgw', id };
      }
      if (id.startsWith('vpce-') && state.vpcEndpoints.has(id)) {
        throw fault(
          'InvalidParameterValue',
          `Routes to the gateway endpoint ${id} are managed with ModifyVpcEndpoint.`,
        );
      }
      throw gatewayNotFound();
    }
    case 'NatGatewayId': {
      const nat = state.natGateways.get(id);
      if (!nat || nat.state === 'deleted' || nat.state === 'deleting' || nat.state === 'failed') {
        throw notFound(RESOURCE_KINDS.natGateway, id);
      }
      if (nat.vpcId !== table.vpcId) {
        throw differentNetworks();
      }
      return { type: 'nat', id };
    }
    case 'EgressOnlyInternetGatewayId': {
      const eigw = state.egressOnlyInternetGateways.get(id);
      if (!eigw) {
        throw gatewayNotFound();
      }
      if (!eigw.attachments.some((attachment) => attachment.vpcId === table.vpcId)) {
        throw differentNetworks();
      }
      if (!destination.includes(':')) {
        throw fault(
          'InvalidParameterValue',
          'An egress-only internet gateway can only be the target of an IPv6 route.',
        );
      }
      return { type: 'eigw', id };
    }
    case 'VpcEndpointId': {
      const endpoint = state.vpcEndpoints.get(id);
      if (!endpoint || endpoint.type !== 'GatewayLoadBalancer') {
        throw notFound(RESOURCE_KINDS.vpcEndpoint, id);
      }
      return { type: 'vpce', id };
    }
    case 'CoreNetworkArn':
      return { type: 'other', id };
    default: {
      const unmodelled = UNMODELLED_TARGETS[parameter]!;
      if (!new RegExp(`^${unmodelled.prefix}-[0-9a-f]{8,17}$`).test(id)) {
        throw fault(unmodelled.malformed, `Invalid id: "${id}"`);
      }
      return { type: unmodelled.type, id };
    }
  }
}

const createRoute = defineOperation<CreateRouteRequest, CreateRouteResult>(
  true,
  'mutate',
  (context, input) => {
    const { state } = context;
    const table = routeTableOf(state, input.RouteTableId);
    const destination = destinationOf(input);
    const target = targetOf(state, table, input, destination, false);
    // A blackhole route still occupies its destination: it has to be replaced or deleted first.
    if (table.routes.some((route) => route.destination === destination)) {
      throw fault('RouteAlreadyExists', `The route identified by ${destination} already exists.`);
    }
    stopIfDryRun(input);
    table.routes.push({ destination, target, state: 'active', origin: 'createroute' });
    return { Return: true };
  },
);

const replaceRoute = defineOperation<ReplaceRouteRequest, object>(
  true,
  'mutate',
  (context, input) => {
    const { state } = context;
    const table = routeTableOf(state, input.RouteTableId);
    const destination = destinationOf(input);
    const route = table.routes.find((candidate) => candidate.destination === destination);
    if (!route) {
      throw fault(
        'InvalidParameterValue',
        `There is no route defined for '${destination}' in the route table. Use CreateRoute instead.`,
      );
    }
    rejectIfManagedByEndpoint(state, route, destination);
    const target: RouteTarget =
      input.LocalTarget === true
        ? { type: 'local', id: 'local' }
        : targetOf(state, table, input, destination, route.target.type === 'local');
    stopIfDryRun(input);
    route.target = target;
    route.state = 'active';
    if (route.origin !== 'createroutetable') {
      route.origin = 'createroute';
    }
    return {};
  },
);

const deleteRoute = defineOperation<DeleteRouteRequest, object>(
  true,
  'mutate',
  (context, input) => {
    const { state } = context;
    const table = routeTableOf(state, input.RouteTableId);
    const destination = destinationOf(input);
    const route = table.routes.find((candidate) => candidate.destination === destination);
    if (!route) {
      throw fault(
        'InvalidRoute.NotFound',
        `no route with destination ${destination} in route table ${table.routeTableId}`,
      );
    }
    if (route.target.type === 'local') {
      throw fault(
        'InvalidParameterValue',
        `cannot remove local route ${destination} in route table ${table.routeTableId}`,
      );
    }
    rejectIfManagedByEndpoint(state, route, destination);
    stopIfDryRun(input);
    table.routes = table.routes.filter((candidate) => candidate !== route);
    return {};
  },
);

export const ROUTE_OPERATIONS = {
  CreateRoute: createRoute,
  ReplaceRoute: replaceRoute,
  DeleteRoute: deleteRoute,
};
