import * as z from 'zod';
import { modifyEndpoint } from '../ec2-calls';
import { ActionEnded, type Ending, type StepScope } from '../engine';
import { endpointCallProblems, modifiedEndpointId, problemsOf } from '../record-facts';
import {
  describeEndpoint,
  describeLiveEndpoint,
  liveEndpoint,
  named,
  pickSubnetPerZone,
} from './endpoints';
import type { Draft, RemediationActionDefinition } from './types';

/**
 * `extend-endpoint-coverage`: adds what an existing endpoint misses: the route tables that serve
 * subnets (Gateway), or an ENI in each workload AZ it is not in (Interface). Its inverse removes
 * exactly what the run added.
 */

const ExtendEndpointCoverageParamsSchema = z.strictObject({
  action: z.literal('extend-endpoint-coverage'),
  endpointId: z.string().min(1),
  service: z.string().min(1),
  addSubnetIds: z.array(z.string()),
  addRouteTableIds: z.array(z.string()),
});
export type ExtendEndpointCoverageParams = z.infer<typeof ExtendEndpointCoverageParamsSchema>;

/** The rollback step that removes what the run added to an endpoint. */
export interface ShrinkEndpointCoverageParams {
  readonly action: 'shrink-endpoint-coverage';
  readonly endpointId: string;
  readonly service: string | null;
  readonly removeSubnetIds: readonly string[];
  readonly removeRouteTableIds: readonly string[];
}

/** What `after` must hold to shrink coverage back. */
const CoverageAfterSchema = z.object({
  addedSubnetIds: z.array(z.string()),
  addedRouteTableIds: z.array(z.string()),
});

async function shrinkCoverage(scope: StepScope, p: ShrinkEndpointCoverageParams): Promise<Ending> {
  const endpoint = await describeLiveEndpoint(scope, p.endpointId);
  const subnets = endpoint.SubnetIds ?? [];
  const tables = endpoint.RouteTableIds ?? [];
  Object.assign(scope.before, { subnetIds: subnets, routeTableIds: tables });
  const removeSubnetIds = p.removeSubnetIds.filter((id) => subnets.includes(id));
  const removeRouteTableIds = p.removeRouteTableIds.filter((id) => tables.includes(id));
  if (removeSubnetIds.length + removeRouteTableIds.length === 0)
    throw new ActionEnded('skipped', `${p.endpointId} no longer covers what the run added`);
  await modifyEndpoint(scope, {
    VpcEndpointId: p.endpointId,
    ...(removeSubnetIds.length ? { RemoveSubnetIds: removeSubnetIds } : {}),
    ...(removeRouteTableIds.length ? { RemoveRouteTableIds: removeRouteTableIds } : {}),
  });
  const removed = [...removeSubnetIds, ...removeRouteTableIds].join(', ');
  if (scope.dryRun)
    return { outcome: 'would-succeed', detail: `would remove ${removed} from ${p.endpointId}` };
  const after = await describeEndpoint(scope, p.endpointId);
  const left = [...(after?.SubnetIds ?? []), ...(after?.RouteTableIds ?? [])];
  Object.assign(scope.after, {
    subnetIds: after?.SubnetIds ?? [],
    routeTableIds: after?.RouteTableIds ?? [],
  });
  const remaining = [...removeSubnetIds, ...removeRouteTableIds].filter((id) => left.includes(id));
  return remaining.length === 0
    ? { outcome: 'verified', detail: `removed ${removed} from ${p.endpointId}` }
    : { outcome: 'still-failing', detail: `${p.endpointId} still covers ${remaining.join(', ')}` };
}

export const extendEndpointCoverage: RemediationActionDefinition<
  'extend-endpoint-coverage',
  typeof ExtendEndpointCoverageParamsSchema,
  ShrinkEndpointCoverageParams,
  ShrinkEndpointCoverageParams
> = {
  name: 'extend-endpoint-coverage',
  paramsSchema: ExtendEndpointCoverageParamsSchema,
  fixesEndpoint: true,

  plan({ context, findings }) {
    const endpoints = new Map(context.vpcEndpoints.map((e) => [e.vpcEndpointId, e]));
    return findings.flatMap((finding): Draft<ExtendEndpointCoverageParams>[] => {
      if (finding.fix?.action !== 'extend-endpoint-coverage') return [];
      const endpoint = endpoints.get(finding.resourceId);
      if (!endpoint) return [];
      const { evidence } = finding;
      const service = String(evidence['service']);
      if (endpoint.type === 'Gateway') {
        const missing = (evidence['missingRouteTables'] as { routeTableId: string }[]).map(
          (t) => t.routeTableId,
        );
        return [
          {
            action: 'extend-endpoint-coverage',
            subject: `${service}/route-tables`,
            findings: [finding],
            summary: `~ ${endpoint.vpcEndpointId} (${service}) + route tables ${missing.join(', ')}`,
            preconditions: [
              `${endpoint.vpcEndpointId} is available`,
              ...missing.map((id) => `route table ${id} exists`),
            ],
            expectedEffect: `${endpoint.vpcEndpointId} is on every route table that serves subnets`,
            monthlyCostChangeUsd: 0,
            params: {
              action: 'extend-endpoint-coverage',
              endpointId: endpoint.vpcEndpointId,
              service,
              addSubnetIds: [],
              addRouteTableIds: missing,
            },
          },
        ];
      }
      const missingNames = new Set(evidence['missingZones'] as string[]);
      const zoneIds = new Set(
        context.subnets
          .filter((s) => missingNames.has(s.availabilityZone))
          .map((s) => s.availabilityZoneId),
      );
      const subnets = pickSubnetPerZone(context, zoneIds);
      return [
        {
          action: 'extend-endpoint-coverage',
          subject: `${service}/coverage`,
          findings: [finding],
          summary: `~ ${endpoint.vpcEndpointId} (${service}) + ${subnets.map((s) => `${s.subnetId} (${s.availabilityZone})`).join(', ')}`,
          preconditions: [
            `${endpoint.vpcEndpointId} is available`,
            ...subnets.map((s) => `subnet ${s.subnetId} exists`),
          ],
          expectedEffect: `${endpoint.vpcEndpointId} has an ENI in every workload AZ`,
          monthlyCostChangeUsd: finding.cost?.monthlyUsd ?? 0,
          params: {
            action: 'extend-endpoint-coverage',
            endpointId: endpoint.vpcEndpointId,
            service,
            addSubnetIds: subnets.map((s) => s.subnetId),
            addRouteTableIds: [],
          },
        },
      ];
    });
  },

  probeProtected(params, probe) {
    probe.endpoint(params.endpointId);
    for (const id of params.addRouteTableIds) probe.routeTable(id);
    for (const id of params.addSubnetIds) probe.subnet(id);
  },
  subject: (params) => params.endpointId,
  summarize: (params) =>
    `~ ${params.endpointId} + ${[...params.addSubnetIds, ...params.addRouteTableIds].join(', ')}`,

  async apply(scope, params) {
    const endpoint = liveEndpoint(scope, params.endpointId);
    const addSubnetIds = params.addSubnetIds.filter((id) => !endpoint.subnetIds.includes(id));
    const addRouteTableIds = params.addRouteTableIds.filter(
      (id) => !endpoint.routeTableIds.includes(id),
    );
    Object.assign(scope.before, {
      subnetIds: endpoint.subnetIds,
      routeTableIds: endpoint.routeTableIds,
    });
    if (addSubnetIds.length === 0 && addRouteTableIds.length === 0) {
      throw new ActionEnded('skipped', `${endpoint.vpcEndpointId} already covers them`);
    }
    await modifyEndpoint(scope, {
      VpcEndpointId: endpoint.vpcEndpointId,
      ...(addSubnetIds.length ? { AddSubnetIds: addSubnetIds } : {}),
      ...(addRouteTableIds.length ? { AddRouteTableIds: addRouteTableIds } : {}),
    });
    Object.assign(scope.after, {
      addedSubnetIds: addSubnetIds,
      addedRouteTableIds: addRouteTableIds,
    });
    return `added ${[...addSubnetIds, ...addRouteTableIds].join(', ')} to ${endpoint.vpcEndpointId}`;
  },

  inverse: {
    problems: (facts) => [
      ...problemsOf(CoverageAfterSchema, facts.after, 'after'),
      ...endpointCallProblems(facts),
    ],
    steps({ record, planned }) {
      const endpointId = modifiedEndpointId(record)!;
      const service = planned?.service ?? null;
      const after = CoverageAfterSchema.parse(record.after);
      const removed = [...after.addedSubnetIds, ...after.addedRouteTableIds];
      if (removed.length === 0) return [];
      return [
        {
          action: 'shrink-endpoint-coverage',
          subject: endpointId,
          summary: `~ ${named(endpointId, service)} - ${removed.join(', ')}`,
          preconditions: [`${endpointId} exists`],
          params: {
            action: 'shrink-endpoint-coverage',
            endpointId,
            service,
            removeSubnetIds: after.addedSubnetIds,
            removeRouteTableIds: after.addedRouteTableIds,
          },
        },
      ];
    },
    kinds: { 'shrink-endpoint-coverage': { run: shrinkCoverage } },
  },
};
