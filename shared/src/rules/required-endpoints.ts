import type { RequiredEndpoint } from '../policy/schema';
import type { VpcEndpoint } from '../snapshot/schema';
import type { RuleResult, VpcContext } from './types';
import { LIVE_ENDPOINT_STATES, endpointServiceName } from './vpc-topology';

/** A required endpoint of the profile and the VPC's endpoints for its service. */
export interface RequiredEndpointMatch {
  readonly required: RequiredEndpoint;
  /** `com.amazonaws.<region>.<service>` */
  readonly serviceName: string;
  /** Endpoints for the service of the required type, any state. */
  readonly ofType: readonly VpcEndpoint[];
  /** Those of them that are pending or available. */
  readonly live: readonly VpcEndpoint[];
  /** Endpoints for the service of another type (an Interface s3 endpoint where Gateway is required). */
  readonly otherType: readonly VpcEndpoint[];
}

/**
 * Matches each required endpoint to the VPC's endpoints by exact service name: `ec2` never matches
 * `ec2messages`, and an endpoint of another region's service never counts.
 */
export function matchRequiredEndpoints(context: VpcContext): readonly RequiredEndpointMatch[] {
  // Two rules ask for the same context: match once.
  const known = matches.get(context);
  if (known) return known;
  const result = computeMatches(context);
  matches.set(context, result);
  return result;
}

const matches = new WeakMap<VpcContext, readonly RequiredEndpointMatch[]>();

function computeMatches(context: VpcContext): RequiredEndpointMatch[] {
  const byService = new Map<string, VpcEndpoint[]>();
  for (const endpoint of context.vpcEndpoints) {
    const list = byService.get(endpoint.serviceName);
    if (list) list.push(endpoint);
    else byService.set(endpoint.serviceName, [endpoint]);
  }
  return context.profile.endpoints.required.map((required) => {
    const serviceName = endpointServiceName(context.region, required.service);
    const all = byService.get(serviceName) ?? [];
    const ofType = all.filter((endpoint) => endpoint.type === required.type);
    return {
      required,
      serviceName,
      ofType,
      live: ofType.filter((endpoint) => LIVE_ENDPOINT_STATES.has(endpoint.state)),
      otherType: all.filter((endpoint) => endpoint.type !== required.type),
    };
  });
}

/**
 * The outcome of the endpoint rules for a profile that requires no endpoints, or undefined when it
 * requires some.
 */
export function noRequiredEndpoints(context: VpcContext): RuleResult | undefined {
  if (context.profile.endpoints.required.length > 0) return undefined;
  return {
    compliance: 'NOT_APPLICABLE',
    findings: [],
    reason: `profile "${context.profileName}" requires no endpoints`,
  };
}
