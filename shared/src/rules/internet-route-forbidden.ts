import type { Route } from '../snapshot/schema';
import type { Rule, RuleFinding, Severity } from './types';
import { DEFAULT_DESTINATIONS, routeTablesServingSubnets } from './vpc-topology';

/** Targets that lead to the internet. */
const INTERNET_TARGETS = new Set(['igw', 'nat', 'eigw']);

/** Private and shared address space: a route there through a (private) NAT is not internet egress. */
const NON_INTERNET_PREFIXES = [
  /^10\./,
  /^192\.168\./,
  /^172\.(1[6-9]|2\d|3[01])\./,
  /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./,
  /^f[cd][0-9a-f]{2}:/i,
];

function leadsToInternet(route: Route): boolean {
  if (!INTERNET_TARGETS.has(route.target.type)) return false;
  // An internet gateway only ever reaches the internet, whatever the destination (0.0.0.0/1 and
  // 128.0.0.0/1 are as open as 0.0.0.0/0). A NAT route to private space is routing, not egress.
  if (route.target.type !== 'nat') return true;
  return (
    DEFAULT_DESTINATIONS.has(route.destination) ||
    !NON_INTERNET_PREFIXES.some((p) => p.test(route.destination))
  );
}

const TARGET_NAMES: Readonly<Record<string, string>> = {
  igw: 'internet gateway',
  nat: 'NAT gateway',
  eigw: 'egress-only internet gateway',
};

/**
 * `internet-route-forbidden`: a route table that serves subnets (explicitly or as the main table)
 * with a route to the internet (IGW, NAT, egress-only IGW) where the profile forbids internet routes.
 * A blackhole default route is reported at low severity, so a half-removed NAT never looks clean.
 */
export const internetRouteForbidden: Rule = {
  id: 'internet-route-forbidden',
  title: 'Internet route where the profile forbids egress',
  description:
    'Flags routes to internet gateways, NAT gateways and egress-only internet gateways in route tables that serve subnets, where the profile sets egress.internetRoute: forbidden; blackhole default routes are reported too.',
  evaluate(context) {
    if (context.profile.egress.internetRoute === 'allowed') {
      return {
        compliance: 'NOT_APPLICABLE',
        findings: [],
        reason: `profile "${context.profileName}" allows internet routes`,
      };
    }
    const findings: RuleFinding[] = [];
    // A route to a NAT that nat-gateway-forbidden flags goes with that NAT's removal; any other
    // internet route (an allowed NAT, a NAT already deleting) is removed on its own.
    const forbiddenNats = new Set(
      context.profile.egress.natGateway === 'forbidden'
        ? context.natGateways
            .filter((nat) => nat.state === 'pending' || nat.state === 'available')
            .map((nat) => nat.natGatewayId)
        : [],
    );
    for (const { table, subnets } of routeTablesServingSubnets(context)) {
      for (const route of table.routes) {
        const isDefault = DEFAULT_DESTINATIONS.has(route.destination);
        const blackhole = route.state === 'blackhole';
        if (blackhole ? !isDefault : !leadsToInternet(route)) continue;
        const severity: Severity = blackhole ? 'low' : isDefault ? 'high' : 'medium';
        const target = TARGET_NAMES[route.target.type] ?? route.target.type;
        const served = `${subnets.length} subnet${subnets.length === 1 ? '' : 's'}${table.main ? ' (main table)' : ''}`;
        findings.push({
          severity,
          resourceId: table.routeTableId,
          subject: `${table.routeTableId}/${route.destination}`,
          message: blackhole
            ? `Route table ${table.routeTableId} keeps a blackhole default route ${route.destination} -> ${route.target.id} serving ${served}; remove it to finish the egress removal`
            : `Route table ${table.routeTableId} sends ${route.destination} to ${target} ${route.target.id} for ${served}; profile "${context.profileName}" forbids internet routes`,
          evidence: {
            routeTableId: table.routeTableId,
            main: table.main,
            destination: route.destination,
            target: route.target,
            state: route.state,
            subnets: subnets.map((subnet) => ({
              subnetId: subnet.subnetId,
              availabilityZone: subnet.availabilityZone,
            })),
          },
          fix: forbiddenNats.has(route.target.id)
            ? {
                action: 'remove-nat',
                summary: `Removed with NAT gateway ${route.target.id} (remove-nat deletes its routes first)`,
              }
            : {
                action: 'remove-internet-route',
                summary: `Delete route ${route.destination} -> ${route.target.id} from ${table.routeTableId}`,
              },
          cost: null,
        });
      }
    }
    return { compliance: findings.length > 0 ? 'NON_COMPLIANT' : 'COMPLIANT', findings };
  },
};
