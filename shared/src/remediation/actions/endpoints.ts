import {
  DescribeVpcEndpointsCommand,
  type VpcEndpoint as Ec2VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { DEFAULT_DESTINATIONS, routeTableBySubnet } from '../../rules/vpc-topology';
import type { VpcContext } from '../../rules/types';
import type { Subnet } from '../../snapshot/schema';
import { look, type CallScope } from '../ec2-calls';
import { ActionEnded, inRecordVpc, type ApplyScope, type StepScope } from '../engine';

/**
 * What the four endpoint actions (`create-endpoint`, `extend-endpoint-coverage`, `enable-private-dns`,
 * `replace-endpoint-policy`) share: where an interface endpoint's ENIs go, the VPC's DNS prerequisite
 * for private DNS, and the endpoint as the VPC was just described (apply) or as EC2 describes it now
 * (rollback).
 */

function hasInternetRoute(subnet: Subnet, tables: ReturnType<typeof routeTableBySubnet>): boolean {
  const table = tables.get(subnet.subnetId);
  return (
    table?.routes.some(
      (route) =>
        DEFAULT_DESTINATIONS.has(route.destination) &&
        ['igw', 'nat', 'eigw'].includes(route.target.type),
    ) ?? false
  );
}

/**
 * One subnet per AZ for interface endpoint ENIs: prefer subnets whose route table has no internet
 * route (private subnets), then the lowest id, so the choice is deterministic.
 */
export function pickSubnetPerZone(context: VpcContext, zoneIds: ReadonlySet<string>): Subnet[] {
  const tables = routeTableBySubnet(context);
  const publicRank = new Map(
    context.subnets.map((s) => [s.subnetId, Number(hasInternetRoute(s, tables))]),
  );
  const byZone = new Map<string, Subnet>();
  const ranked = [...context.subnets].sort(
    (a, b) =>
      publicRank.get(a.subnetId)! - publicRank.get(b.subnetId)! ||
      a.subnetId.localeCompare(b.subnetId),
  );
  for (const subnet of ranked) {
    if (zoneIds.has(subnet.availabilityZoneId) && !byZone.has(subnet.availabilityZoneId)) {
      byZone.set(subnet.availabilityZoneId, subnet);
    }
  }
  return [...byZone.values()].sort((a, b) => a.availabilityZone.localeCompare(b.availabilityZone));
}

/** Why private DNS cannot be enabled in the VPC (its DNS attributes), if it cannot. */
export function dnsBlocker(context: VpcContext): string | undefined {
  const { enableDnsSupport, enableDnsHostnames } = context.vpc;
  if (enableDnsSupport === undefined || enableDnsHostnames === undefined) {
    return 'the VPC DNS attributes were not collected (collect with them before enabling private DNS)';
  }
  const off = [
    !enableDnsSupport && 'enableDnsSupport',
    !enableDnsHostnames && 'enableDnsHostnames',
  ].filter(Boolean);
  return off.length > 0
    ? `the VPC's ${off.join(' and ')} ${off.length === 1 ? 'is' : 'are'} off: private DNS cannot be enabled`
    : undefined;
}

/** The endpoint as the VPC was just described; the action is blocked unless it is pending or available. */
export function liveEndpoint(scope: ApplyScope, endpointId: string) {
  const endpoint = scope.context.vpcEndpoints.find((e) => e.vpcEndpointId === endpointId);
  if (!endpoint || !['pending', 'available'].includes(endpoint.state)) {
    throw new ActionEnded(
      'blocked',
      `endpoint ${endpointId} is ${endpoint ? endpoint.state : 'gone'}: re-plan`,
    );
  }
  return endpoint;
}

/** An endpoint id with its service, when the record's plan names it. */
export function named(id: string, service: string | null | undefined): string {
  return service ? `${id} (${service})` : id;
}

const GONE_ENDPOINT_STATES = new Set(['deleting', 'deleted', 'failed', 'rejected', 'expired']);

/** The endpoint as EC2 describes it now; undefined once gone. */
export async function describeEndpoint(
  scope: CallScope,
  endpointId: string,
): Promise<Ec2VpcEndpoint | undefined> {
  // A filter, not VpcEndpointIds: an endpoint that is gone is then an empty answer, not an error.
  const output = await look<{ VpcEndpoints?: Ec2VpcEndpoint[] }>(
    scope,
    'DescribeVpcEndpoints',
    new DescribeVpcEndpointsCommand({
      Filters: [{ Name: 'vpc-endpoint-id', Values: [endpointId] }],
    }),
  );
  return output?.VpcEndpoints?.find((e) => e.VpcEndpointId === endpointId);
}

/** The endpoint's state in lower case, `gone` when EC2 no longer lists it. */
export function endpointState(endpoint: Ec2VpcEndpoint | undefined): string {
  // EC2 documents PascalCase states and returns lower case: normalise.
  return endpoint ? (endpoint.State ?? 'pending').toLowerCase() : 'gone';
}

/** True for an endpoint that is neither gone nor going. */
export function isLive(endpoint: Ec2VpcEndpoint | undefined): endpoint is Ec2VpcEndpoint {
  return endpoint !== undefined && !GONE_ENDPOINT_STATES.has(endpointState(endpoint));
}

/** The endpoint as EC2 describes it now; the step is blocked when it was removed after the run. */
export async function describeLiveEndpoint(
  scope: StepScope,
  endpointId: string,
  consequence = '',
): Promise<Ec2VpcEndpoint> {
  const endpoint = await describeEndpoint(scope, endpointId);
  if (!isLive(endpoint)) {
    throw new ActionEnded(
      'blocked',
      `${endpointId} is ${endpointState(endpoint)}: it was removed after the run${consequence}`,
    );
  }
  inRecordVpc(scope, endpointId, endpoint);
  return endpoint;
}
