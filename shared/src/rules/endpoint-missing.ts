import { gatewayEndpointMonthlyCost, interfaceEndpointMonthlyCost } from '../cost/pricing';
import { matchRequiredEndpoints, noRequiredEndpoints } from './required-endpoints';
import type { Rule, RuleFinding } from './types';
import { workloadZones } from './vpc-topology';

/**
 * `endpoint-missing`: a service the profile requires has no endpoint of the required type at all.
 * (An endpoint that exists but is failed, rejected or deleted is `endpoint-misconfigured`.)
 */
export const endpointMissing: Rule = {
  id: 'endpoint-missing',
  title: 'Required VPC endpoint missing',
  description:
    "Flags services in the profile's endpoints.required list that have no VPC endpoint of the required type (matched on the exact service name).",
  evaluate(context) {
    const notApplicable = noRequiredEndpoints(context);
    if (notApplicable) return notApplicable;
    const missing = matchRequiredEndpoints(context).filter((match) => match.ofType.length === 0);
    if (missing.length === 0) return { compliance: 'COMPLIANT', findings: [] };
    const zones = workloadZones(context.subnets);
    // One array for every finding of the VPC: evidence is read, never changed.
    const zoneNames = Object.freeze(zones.map((zone) => zone.zoneName));
    const azCount =
      context.profile.endpoints.coverage === 'every-workload-az' ? Math.max(zones.length, 1) : 1;
    const findings: RuleFinding[] = [];
    for (const match of missing) {
      const { service, type } = match.required;
      const wrongType = match.otherType.map((endpoint) => ({
        endpointId: endpoint.vpcEndpointId,
        type: endpoint.type,
        state: endpoint.state,
      }));
      const privateDns =
        (match.required.privateDns ?? context.profile.endpoints.privateDns) === 'required';
      findings.push({
        severity: 'medium',
        resourceId: context.vpc.vpcId,
        subject: service,
        message:
          `Required ${type} endpoint for ${service} (${match.serviceName}) is missing` +
          (wrongType.length > 0
            ? `; found ${wrongType.map((w) => `${w.type} ${w.endpointId}`).join(', ')} of the wrong type`
            : ''),
        evidence: {
          service,
          serviceName: match.serviceName,
          requiredType: type,
          wrongTypeEndpoints: wrongType,
          workloadZones: zoneNames,
        },
        fix: {
          action: 'create-endpoint',
          summary:
            type === 'Gateway'
              ? `Create a Gateway endpoint for ${service} on every route table that serves subnets, with the ${context.profile.endpointPolicy.template} policy`
              : `Create an Interface endpoint for ${service} in ${azCount} AZ${azCount === 1 ? '' : 's'}${privateDns ? ' with private DNS' : ''} and the ${context.profile.endpointPolicy.template} policy`,
        },
        cost:
          type === 'Gateway'
            ? gatewayEndpointMonthlyCost(context.region)
            : interfaceEndpointMonthlyCost(context.region, azCount),
      });
    }
    return { compliance: 'NON_COMPLIANT', findings };
  },
};
