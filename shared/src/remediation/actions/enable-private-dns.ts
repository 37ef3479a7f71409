import * as z from 'zod';
import { modifyEndpoint } from '../ec2-calls';
import { ActionEnded, type Ending, type StepScope } from '../engine';
import { endpointCallProblems, modifiedEndpointId } from '../record-facts';
import {
  describeEndpoint,
  describeLiveEndpoint,
  dnsBlocker,
  liveEndpoint,
  named,
} from './endpoints';
import type { RemediationActionDefinition } from './types';

/**
 * `enable-private-dns`: turns private DNS on for an interface endpoint whose profile requires it,
 * so the service's default DNS name resolves to the endpoint inside the VPC. Blocked while the VPC's
 * `enableDnsSupport` or `enableDnsHostnames` is off. Its inverse turns it off again.
 */

const EnablePrivateDnsParamsSchema = z.strictObject({
  action: z.literal('enable-private-dns'),
  endpointId: z.string().min(1),
  service: z.string().min(1),
});
export type EnablePrivateDnsParams = z.infer<typeof EnablePrivateDnsParamsSchema>;

/** The rollback step that turns private DNS back off. */
export interface DisablePrivateDnsParams {
  readonly action: 'disable-private-dns';
  readonly endpointId: string;
  readonly service: string | null;
}

async function disablePrivateDns(scope: StepScope, p: DisablePrivateDnsParams): Promise<Ending> {
  const endpoint = await describeLiveEndpoint(scope, p.endpointId);
  Object.assign(scope.before, { privateDnsEnabled: endpoint.PrivateDnsEnabled ?? false });
  if (!endpoint.PrivateDnsEnabled)
    throw new ActionEnded('skipped', `private DNS is already off for ${p.endpointId}`);
  await modifyEndpoint(scope, { VpcEndpointId: p.endpointId, PrivateDnsEnabled: false });
  if (scope.dryRun)
    return { outcome: 'would-succeed', detail: `would turn private DNS off for ${p.endpointId}` };
  const after = await describeEndpoint(scope, p.endpointId);
  Object.assign(scope.after, { privateDnsEnabled: after?.PrivateDnsEnabled ?? null });
  return after?.PrivateDnsEnabled === false
    ? { outcome: 'verified', detail: `turned private DNS off for ${p.endpointId}` }
    : {
        outcome: 'still-failing',
        detail: `asked EC2 to turn private DNS off for ${p.endpointId}, but it is not off`,
      };
}

export const enablePrivateDns: RemediationActionDefinition<
  'enable-private-dns',
  typeof EnablePrivateDnsParamsSchema,
  DisablePrivateDnsParams,
  DisablePrivateDnsParams
> = {
  name: 'enable-private-dns',
  paramsSchema: EnablePrivateDnsParamsSchema,
  fixesEndpoint: true,

  plan: ({ context, findings }) =>
    findings.flatMap((finding) => {
      if (finding.fix?.action !== 'enable-private-dns') return [];
      const endpointId = finding.resourceId;
      const service = String(finding.evidence['service']);
      const blocker = dnsBlocker(context);
      return [
        {
          action: 'enable-private-dns' as const,
          subject: service,
          findings: [finding],
          summary: `~ private DNS on for ${endpointId} (${service})`,
          preconditions: [
            `${endpointId} is available with private DNS off`,
            'VPC enableDnsSupport and enableDnsHostnames are on',
          ],
          expectedEffect: `${endpointId} has private DNS enabled`,
          monthlyCostChangeUsd: 0,
          params: { action: 'enable-private-dns' as const, endpointId, service },
          ...(blocker ? { blockedReason: blocker } : {}),
        },
      ];
    }),

  probeProtected: (params, probe) => probe.endpoint(params.endpointId),
  subject: (params) => params.endpointId,
  summarize: (params) => `~ private DNS on for ${params.endpointId}`,
  needsDnsAttributes: () => true,

  async apply(scope, params) {
    const endpoint = liveEndpoint(scope, params.endpointId);
    Object.assign(scope.before, { privateDnsEnabled: endpoint.privateDnsEnabled });
    if (endpoint.privateDnsEnabled)
      throw new ActionEnded('skipped', `private DNS is already on for ${endpoint.vpcEndpointId}`);
    if (
      scope.context.vpc.enableDnsSupport !== true ||
      scope.context.vpc.enableDnsHostnames !== true
    ) {
      throw new ActionEnded(
        'blocked',
        "the VPC's enableDnsSupport and enableDnsHostnames must be on before private DNS",
      );
    }
    await modifyEndpoint(scope, {
      VpcEndpointId: endpoint.vpcEndpointId,
      PrivateDnsEnabled: true,
    });
    return `enabled private DNS on ${endpoint.vpcEndpointId}`;
  },

  inverse: {
    problems: endpointCallProblems,
    steps({ record, planned }) {
      const endpointId = modifiedEndpointId(record)!;
      const service = planned?.service ?? null;
      return [
        {
          action: 'disable-private-dns',
          subject: endpointId,
          summary: `~ private DNS off for ${named(endpointId, service)}`,
          preconditions: [`${endpointId} exists with private DNS on`],
          params: { action: 'disable-private-dns', endpointId, service },
        },
      ];
    },
    kinds: { 'disable-private-dns': { run: disablePrivateDns } },
  },
};
