import type { RouteTable, Subnet, VpcEndpoint } from '../snapshot/schema';
import type { VpcContext } from './types';

/** Default routes: everything that is not more specific goes here. */
export const DEFAULT_DESTINATIONS: ReadonlySet<string> = new Set(['0.0.0.0/0', '::/0']);

/** The full service name of a short one: `s3` in us-east-1 is `com.amazonaws.us-east-1.s3`. */
export function endpointServiceName(region: string, service: string): string {
  return `com.amazonaws.${region}.${service}`;
}

/**
 * The short service of an endpoint's service name, or undefined when the endpoint is not for an AWS
 * service of this region (a PrivateLink partner service, another region). Exact, never a substring:
 * `com.amazonaws.us-east-1.ec2messages` is `ec2messages`, not `ec2`.
 */
export function shortServiceName(region: string, serviceName: string): string | undefined {
  const prefix = `com.amazonaws.${region}.`;
  return serviceName.startsWith(prefix) ? serviceName.slice(prefix.length) : undefined;
}

/**
 * Several rules ask the same questions of one VPC; these derived views are computed once per context
 * (keyed by the context object, so nothing outlives it) to keep evaluation linear and light on garbage.
 */
function memoised<K extends object, V>(compute: (key: K) => V): (key: K) => V {
  const results = new WeakMap<K, V>();
  return (key) => {
    let value = results.get(key);
    if (value === undefined) {
      value = compute(key);
      results.set(key, value);
    }
    return value;
  };
}

/** The route table that serves each subnet: its explicit association, else the main table. */
export function routeTableBySubnet(
  context: Pick<VpcContext, 'subnets' | 'routeTables'>,
): ReadonlyMap<string, RouteTable> {
  return routeTableBySubnetOf(context);
}

const routeTableBySubnetOf = memoised((context: Pick<VpcContext, 'subnets' | 'routeTables'>) => {
  const main = context.routeTables.find((table) => table.main);
  const explicit = new Map<string, RouteTable>();
  for (const table of context.routeTables) {
    for (const subnetId of table.subnetIds) explicit.set(subnetId, table);
  }
  const served = new Map<string, RouteTable>();
  for (const subnet of context.subnets) {
    const table = explicit.get(subnet.subnetId) ?? main;
    if (table) served.set(subnet.subnetId, table);
  }
  return served;
});

/** Route tables that serve at least one subnet, with the subnets each serves, in table-id order. */
export function routeTablesServingSubnets(
  context: Pick<VpcContext, 'subnets' | 'routeTables'>,
): readonly { table: RouteTable; subnets: Subnet[] }[] {
  return routeTablesServingSubnetsOf(context);
}

const routeTablesServingSubnetsOf = memoised(
  (context: Pick<VpcContext, 'subnets' | 'routeTables'>) => {
    const bySubnet = routeTableBySubnet(context);
    const served = new Map<string, { table: RouteTable; subnets: Subnet[] }>();
    for (const subnet of context.subnets) {
      const table = bySubnet.get(subnet.subnetId);
      if (!table) continue;
      const entry = served.get(table.routeTableId);
      if (entry) entry.subnets.push(subnet);
      else served.set(table.routeTableId, { table, subnets: [subnet] });
    }
    return [...served.values()].sort((a, b) =>
      a.table.routeTableId.localeCompare(b.table.routeTableId),
    );
  },
);

/** The AZs where the VPC has subnets ("workload AZs"), by AZ id with its name, sorted by name. */
export function workloadZones(
  subnets: readonly Subnet[],
): readonly { zoneId: string; zoneName: string }[] {
  return workloadZonesOf(subnets);
}

const workloadZonesOf = memoised((subnets: readonly Subnet[]) => {
  const zones = new Map<string, string>();
  for (const subnet of subnets) zones.set(subnet.availabilityZoneId, subnet.availabilityZone);
  return [...zones.entries()]
    .map(([zoneId, zoneName]) => ({ zoneId, zoneName }))
    .sort((a, b) => a.zoneName.localeCompare(b.zoneName));
});

/** Each subnet's AZ id. */
export const zoneIdBySubnet: (subnets: readonly Subnet[]) => ReadonlyMap<string, string> = memoised(
  (subnets: readonly Subnet[]) => new Map(subnets.map((s) => [s.subnetId, s.availabilityZoneId])),
);

/** Endpoint states that count as present: the endpoint exists or is being created. */
export const LIVE_ENDPOINT_STATES: ReadonlySet<VpcEndpoint['state']> = new Set([
  'pending',
  'available',
  'pendingacceptance',
]);
