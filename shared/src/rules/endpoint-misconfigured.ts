import { gatewayEndpointMonthlyCost, interfaceEndpointMonthlyCost } from '../cost/pricing';
import type { SecurityGroup, VpcEndpoint } from '../snapshot/schema';
import {
  matchRequiredEndpoints,
  noRequiredEndpoints,
  type RequiredEndpointMatch,
} from './required-endpoints';
import type { Rule, RuleFinding, VpcContext } from './types';
import { routeTablesServingSubnets, workloadZones, zoneIdBySubnet } from './vpc-topology';

function ids(endpoints: readonly VpcEndpoint[]): string[] {
  return endpoints.map((endpoint) => endpoint.vpcEndpointId);
}

/** Present, but not usable: every endpoint of the service is failed, rejected, expired or deleted. */
function checkState(context: VpcContext, match: RequiredEndpointMatch): RuleFinding | undefined {
  if (match.live.length > 0) return undefined;
  const { service, type } = match.required;
  const states = match.ofType.map((endpoint) => `${endpoint.vpcEndpointId} ${endpoint.state}`);
  return {
    severity: 'medium',
    resourceId: match.ofType[0]?.vpcEndpointId ?? context.vpc.vpcId,
    subject: `${service}/state`,
    message: `${type} endpoint for ${service} is not usable: ${states.join(', ')}`,
    evidence: {
      service,
      endpoints: match.ofType.map((endpoint) => ({
        endpointId: endpoint.vpcEndpointId,
        state: endpoint.state,
      })),
    },
    fix: { action: 'create-endpoint', summary: `Create a new ${type} endpoint for ${service}` },
    cost: null,
  };
}

function checkPrivateDns(
  context: VpcContext,
  match: RequiredEndpointMatch,
): RuleFinding | undefined {
  const { service } = match.required;
  const required =
    (match.required.privateDns ?? context.profile.endpoints.privateDns) === 'required';
  if (!required || match.live.some((endpoint) => endpoint.privateDnsEnabled)) return undefined;
  const { enableDnsSupport, enableDnsHostnames } = context.vpc;
  // Private DNS needs both VPC attributes (AWS-FACTS: "Private DNS on an interface endpoint needs ...").
  const blockers = [
    enableDnsSupport === false ? 'enableDnsSupport' : undefined,
    enableDnsHostnames === false ? 'enableDnsHostnames' : undefined,
  ].filter((name): name is string => name !== undefined);
  const [endpoint] = match.live;
  return {
    severity: 'medium',
    resourceId: endpoint!.vpcEndpointId,
    subject: `${service}/private-dns`,
    message:
      `Interface endpoint ${endpoint!.vpcEndpointId} (${service}) has private DNS off, so clients resolve the public ${service} endpoint` +
      (blockers.length > 0
        ? `; the VPC's ${blockers.join(' and ')} ${blockers.length === 1 ? 'is' : 'are'} off`
        : ''),
    evidence: {
      service,
      endpointIds: ids(match.live),
      vpcDns: {
        enableDnsSupport: enableDnsSupport ?? 'unknown',
        enableDnsHostnames: enableDnsHostnames ?? 'unknown',
      },
      blockedBy: blockers,
    },
    fix: {
      action: 'enable-private-dns',
      summary:
        blockers.length > 0
          ? `Blocked until the VPC's ${blockers.join(' and ')} ${blockers.length === 1 ? 'is' : 'are'} turned on; then enable private DNS on ${endpoint!.vpcEndpointId}`
          : `Enable private DNS on ${endpoint!.vpcEndpointId}`,
    },
    cost: null,
  };
}

function checkZoneCoverage(
  context: VpcContext,
  match: RequiredEndpointMatch,
): RuleFinding | undefined {
  if (context.profile.endpoints.coverage !== 'every-workload-az') return undefined;
  const { service } = match.required;
  const zoneOfSubnet = zoneIdBySubnet(context.subnets);
  const covered = new Set<string>();
  for (const endpoint of match.live) {
    for (const subnetId of endpoint.subnetIds) {
      const zone = zoneOfSubnet.get(subnetId);
      if (zone) covered.add(zone);
    }
  }
  const zones = workloadZones(context.subnets);
  const missing = zones.filter((zone) => !covered.has(zone.zoneId));
  if (missing.length === 0) return undefined;
  const names = missing.map((zone) => zone.zoneName);
  return {
    severity: 'medium',
    resourceId: match.live[0]!.vpcEndpointId,
    subject: `${service}/coverage`,
    message: `Interface endpoint for ${service} is in ${covered.size} of ${zones.length} workload AZs; missing ${names.join(', ')} (cross-AZ traffic, and an AZ outage cuts ${service} off)`,
    evidence: {
      service,
      endpointIds: ids(match.live),
      coveredZones: zones.filter((zone) => covered.has(zone.zoneId)).map((zone) => zone.zoneName),
      missingZones: names,
    },
    fix: {
      action: 'extend-endpoint-coverage',
      summary: `Add a subnet in ${names.join(', ')} to ${match.live[0]!.vpcEndpointId}`,
    },
    cost: interfaceEndpointMonthlyCost(context.region, missing.length),
  };
}

function checkRouteTables(
  context: VpcContext,
  match: RequiredEndpointMatch,
): RuleFinding | undefined {
  const { service } = match.required;
  const associated = new Set(match.live.flatMap((endpoint) => endpoint.routeTableIds));
  const missing = routeTablesServingSubnets(context).filter(
    ({ table }) => !associated.has(table.routeTableId),
  );
  if (missing.length === 0) return undefined;
  const tableIds = missing.map(({ table }) => table.routeTableId);
  const subnetCount = missing.reduce((total, entry) => total + entry.subnets.length, 0);
  return {
    severity: 'medium',
    resourceId: match.live[0]!.vpcEndpointId,
    subject: `${service}/route-tables`,
    message: `Gateway endpoint for ${service} is not on ${tableIds.join(', ')}, which serve${tableIds.length === 1 ? 's' : ''} ${subnetCount} subnet${subnetCount === 1 ? '' : 's'}: their ${service} traffic bypasses the endpoint`,
    evidence: {
      service,
      endpointIds: ids(match.live),
      missingRouteTables: missing.map(({ table, subnets }) => ({
        routeTableId: table.routeTableId,
        main: table.main,
        subnetIds: subnets.map((subnet) => subnet.subnetId),
      })),
    },
    fix: {
      action: 'extend-endpoint-coverage',
      summary: `Associate ${match.live[0]!.vpcEndpointId} with ${tableIds.join(', ')}`,
    },
    cost: gatewayEndpointMonthlyCost(context.region),
  };
}

function allows443(groups: readonly SecurityGroup[]): boolean {
  return groups.some((group) =>
    group.ingress.some((rule) => {
      if (rule.ipProtocol === '-1') return true;
      if (rule.ipProtocol !== 'tcp' && rule.ipProtocol !== '6') return false;
      return (rule.fromPort ?? 0) <= 443 && (rule.toPort ?? 65535) >= 443;
    }),
  );
}

/** An interface endpoint whose security groups admit nothing on 443 cannot be used at all. */
function checkSecurityGroups(
  context: VpcContext,
  match: RequiredEndpointMatch,
): RuleFinding | undefined {
  const { service } = match.required;
  for (const endpoint of match.live) {
    const groups = endpoint.securityGroupIds.map((id) => context.securityGroups.get(id));
    // Judge only what was collected: an unknown group may well allow 443.
    if (groups.length === 0 || groups.some((group) => group === undefined)) continue;
    const known = groups as SecurityGroup[];
    if (allows443(known)) continue;
    return {
      severity: 'medium',
      resourceId: endpoint.vpcEndpointId,
      subject: `${service}/security-groups`,
      message: `Interface endpoint ${endpoint.vpcEndpointId} (${service}): its security groups ${endpoint.securityGroupIds.join(', ')} allow no inbound TCP 443, so clients cannot reach it`,
      evidence: {
        service,
        endpointId: endpoint.vpcEndpointId,
        securityGroupIds: endpoint.securityGroupIds,
      },
      fix: null,
      cost: null,
    };
  }
  return undefined;
}

/**
 * `endpoint-misconfigured`: a required endpoint exists but does not do its job: failed, rejected or
 * deleted; private DNS off where required (naming the VPC DNS attributes that prevent it, when known);
 * not in every workload AZ; a gateway endpoint missing a route table that serves subnets; security
 * groups that admit nothing on 443.
 */
export const endpointMisconfigured: Rule = {
  id: 'endpoint-misconfigured',
  title: 'Required VPC endpoint misconfigured',
  description:
    'Flags required endpoints that are failed, rejected or deleted, lack private DNS, do not cover every workload AZ, miss route tables that serve subnets, or admit no HTTPS.',
  evaluate(context) {
    const notApplicable = noRequiredEndpoints(context);
    if (notApplicable) return notApplicable;
    const findings: RuleFinding[] = [];
    for (const match of matchRequiredEndpoints(context)) {
      if (match.ofType.length === 0) continue; // endpoint-missing reports it
      const checks =
        match.required.type === 'Gateway'
          ? [checkState, checkRouteTables]
          : [checkState, checkPrivateDns, checkZoneCoverage, checkSecurityGroups];
      for (const check of checks) {
        const finding = check(context, match);
        if (finding) findings.push(finding);
        // Nothing else can be judged on an endpoint that is not live.
        if (check === checkState && finding) break;
      }
    }
    return { compliance: findings.length > 0 ? 'NON_COMPLIANT' : 'COMPLIANT', findings };
  },
};
