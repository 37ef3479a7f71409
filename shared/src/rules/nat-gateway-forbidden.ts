import { natGatewayMonthlyCost } from '../cost/pricing';
import type { Route } from '../snapshot/schema';
import type { Rule, RuleFinding } from './types';

/** NAT states that mean the NAT exists or is coming: what the profile forbids. */
const LIVE_NAT_STATES = new Set(['pending', 'available']);

interface RouteToNat {
  readonly routeTableId: string;
  readonly destination: string;
  readonly state: Route['state'];
}

/**
 * `nat-gateway-forbidden`: a NAT gateway in a VPC whose profile forbids NAT. The evidence carries what
 * removing it safely needs: its subnet and addresses, and every route that points at it (deleting the
 * NAT alone would leave those routes as blackholes).
 */
export const natGatewayForbidden: Rule = {
  id: 'nat-gateway-forbidden',
  title: 'NAT gateway where the profile forbids egress',
  description:
    'Flags NAT gateways (pending or available) in VPCs whose profile sets egress.natGateway: forbidden, with the routes that point at them.',
  evaluate(context) {
    if (context.profile.egress.natGateway === 'allowed') {
      return {
        compliance: 'NOT_APPLICABLE',
        findings: [],
        reason: `profile "${context.profileName}" allows NAT gateways`,
      };
    }
    const live = context.natGateways.filter((nat) => LIVE_NAT_STATES.has(nat.state));
    if (live.length === 0) return { compliance: 'COMPLIANT', findings: [] };
    const subnetZones = new Map(context.subnets.map((s) => [s.subnetId, s.availabilityZone]));
    // One pass over the routes for all NATs, in table and route order.
    const routesByNat = new Map<string, RouteToNat[]>();
    for (const table of context.routeTables) {
      for (const route of table.routes) {
        if (route.target.type !== 'nat') continue;
        const entry = {
          routeTableId: table.routeTableId,
          destination: route.destination,
          state: route.state,
        };
        const list = routesByNat.get(route.target.id);
        if (list) list.push(entry);
        else routesByNat.set(route.target.id, [entry]);
      }
    }
    const findings: RuleFinding[] = [];
    for (const nat of live) {
      const routes = routesByNat.get(nat.natGatewayId) ?? [];
      const addresses = nat.publicIps.length > 0 ? nat.publicIps.join(', ') : 'no public IP';
      findings.push({
        // A private NAT reaches only other networks, not the internet: still forbidden, less severe.
        severity: nat.connectivityType === 'public' ? 'high' : 'medium',
        resourceId: nat.natGatewayId,
        subject: nat.natGatewayId,
        message:
          `${nat.connectivityType === 'public' ? 'Public' : 'Private'} NAT gateway ${nat.natGatewayId} (${addresses}) ` +
          `in ${nat.subnetId} is forbidden by profile "${context.profileName}"; ` +
          `${routes.length} route${routes.length === 1 ? '' : 's'} point${routes.length === 1 ? 's' : ''} at it`,
        evidence: {
          natGatewayId: nat.natGatewayId,
          state: nat.state,
          connectivityType: nat.connectivityType,
          subnetId: nat.subnetId,
          availabilityZone: subnetZones.get(nat.subnetId) ?? null,
          allocationIds: nat.allocationIds,
          publicIps: nat.publicIps,
          privateIps: nat.privateIps,
          routes,
        },
        fix: {
          action: 'remove-nat',
          summary:
            routes.length > 0
              ? `Delete the ${routes.length} route${routes.length === 1 ? '' : 's'} that target ${nat.natGatewayId}, then delete the NAT gateway (its Elastic IP is kept until released separately)`
              : `Delete NAT gateway ${nat.natGatewayId} (its Elastic IP is kept until released separately)`,
        },
        cost: natGatewayMonthlyCost(context.region, nat.publicIps.length),
      });
    }
    return { compliance: 'NON_COMPLIANT', findings };
  },
};
