import { CreateRouteCommand, DeleteRouteCommand, type RouteTable } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { routeTargetOf } from '../../snapshot/collect';
import type { RouteTarget } from '../../snapshot/schema';
import { describeNat, describeRouteTable, routeDestination, send } from '../ec2-calls';
import { ActionEnded, inRecordVpc, type ApplyScope, type Ending, type StepScope } from '../engine';
import { RouteRefSchema, type RouteRef } from '../plan-model';
import type { ActionRecord } from '../record';
import { mayHaveTakenEffect } from '../record-facts';
import type { RemediationActionDefinition, StepDraft } from './types';

/**
 * `remove-internet-route`: deletes a default route to the internet (internet gateway, NAT, egress-only
 * gateway) from a route table whose VPC may not have egress. Its inverse recreates the route, and
 * only where the record's own calls show vpc-guard deleted it; `remove-nat` reuses that step for the
 * routes to the NAT it removes.
 */

const RemoveInternetRouteParamsSchema = z.strictObject({
  action: z.literal('remove-internet-route'),
  route: RouteRefSchema,
});
export type RemoveInternetRouteParams = z.infer<typeof RemoveInternetRouteParamsSchema>;

/** The rollback step that puts a removed route back. */
export interface RecreateRouteParams {
  readonly action: 'recreate-route';
  readonly route: RouteRef;
  /** Set when the route must target the NAT gateway recreated in place of this (deleted) one. */
  readonly viaRecreatedNatOf: string | null;
}

/** The route now in the slot (table and destination) of a planned one, as the VPC was just described. */
export function currentRoute(scope: ApplyScope, route: RouteRef) {
  const table = scope.context.routeTables.find((t) => t.routeTableId === route.routeTableId);
  return table?.routes.find((r) => r.destination === route.destination);
}

/** Deletes a route and, unless in a dry run, records it as removed so rollback can recreate it. */
export async function deleteRoute(scope: ApplyScope, route: RouteRef): Promise<void> {
  // Listed before the call, so the journal's intent names it; taken back when EC2 refuses.
  if (!scope.dryRun) scope.removedRoutes.push(route);
  try {
    await send(
      scope,
      'DeleteRoute',
      new DeleteRouteCommand({
        RouteTableId: route.routeTableId,
        ...routeDestination(route.destination),
      }),
    );
  } catch (error) {
    if (!scope.dryRun) scope.removedRoutes.pop();
    throw error;
  }
}

/** CreateRoute's target parameter for a route target; undefined for what CreateRoute cannot make. */
function routeTargetParameter(target: RouteTarget): Record<string, string> | undefined {
  switch (target.type) {
    case 'igw':
    case 'vgw':
      return { GatewayId: target.id };
    case 'nat':
      return { NatGatewayId: target.id };
    case 'eigw':
      return { EgressOnlyInternetGatewayId: target.id };
    case 'tgw':
      return { TransitGatewayId: target.id };
    case 'pcx':
      return { VpcPeeringConnectionId: target.id };
    case 'eni':
      return { NetworkInterfaceId: target.id };
    case 'cagw':
      return { CarrierGatewayId: target.id };
    case 'lgw':
      return { LocalGatewayId: target.id };
    case 'vpce':
      // Gateway-endpoint routes are made by ModifyVpcEndpoint; this is a Gateway Load Balancer one.
      return { VpcEndpointId: target.id };
    case 'other':
      if (target.id.startsWith('i-')) return { InstanceId: target.id };
      if (target.id.startsWith('arn:')) return { CoreNetworkArn: target.id };
      return undefined;
    case 'local':
      return undefined;
  }
}

/** The step that recreates a removed route (blocked for a target CreateRoute cannot make). */
export function routeStep(
  route: RouteRef,
  viaRecreatedNatOf: string | null,
  runId: string,
): StepDraft<RecreateRouteParams> {
  const target = viaRecreatedNatOf
    ? `the NAT gateway recreated for ${viaRecreatedNatOf}`
    : route.target.id;
  const draft = {
    action: 'recreate-route' as const,
    subject: `${route.routeTableId}/${route.destination}`,
    summary: `+ route ${route.destination} -> ${target} in ${route.routeTableId}`,
    preconditions: [
      `${route.routeTableId} has no route for ${route.destination} (or already the same one)`,
      viaRecreatedNatOf
        ? `the NAT gateway recreated for ${viaRecreatedNatOf} is available`
        : `${route.target.id} still exists`,
    ],
    params: { action: 'recreate-route' as const, route, viaRecreatedNatOf },
  };
  if (!routeTargetParameter(route.target)) {
    return {
      ...draft,
      status: 'blocked',
      reason: `run ${runId} removed a route to a ${route.target.type} target (${route.target.id}), which CreateRoute cannot recreate`,
    };
  }
  return draft;
}

/** A removed route that was already a blackhole: nothing to recreate, `why` says how we know. */
export function blackholeRouteStep(
  route: RouteRef,
  runId: string,
  why: string,
): StepDraft<RecreateRouteParams> {
  return {
    ...routeStep(route, null, runId),
    status: 'skipped',
    reason: `${why}: EC2 cannot recreate it, and it carried no traffic`,
  };
}

/**
 * A route is recreated only where the action's own calls show vpc-guard deleted it (a DeleteRoute of
 * that table and destination that took effect or may have): `removedRoutes` alone is not enough.
 */
export function checkRouteWasDeleted<R extends { readonly action: string }>(
  draft: StepDraft<R>,
  record: ActionRecord,
  runId: string,
): StepDraft<R> {
  const params = draft.params as R | RecreateRouteParams;
  if (params.action !== 'recreate-route' || (draft.status ?? 'planned') !== 'planned') return draft;
  const { route } = params as RecreateRouteParams;
  const destination = Object.entries(routeDestination(route.destination));
  const deleted = record.calls.some(
    (call) =>
      call.operation === 'DeleteRoute' &&
      mayHaveTakenEffect(call) &&
      call.input['RouteTableId'] === route.routeTableId &&
      destination.every(([key, value]) => call.input[key] === value),
  );
  return deleted
    ? draft
    : {
        ...draft,
        status: 'blocked',
        reason: `the record of run ${runId} lists ${route.destination} in ${route.routeTableId} as removed, but shows no DeleteRoute of it: not recreating a route vpc-guard is not shown to have removed`,
      };
}

function routeAt(table: RouteTable, destination: string) {
  const route = (table.Routes ?? []).find(
    (r) =>
      (r.DestinationCidrBlock ?? r.DestinationIpv6CidrBlock ?? r.DestinationPrefixListId) ===
      destination,
  );
  return route
    ? { target: routeTargetOf(route), state: route.State === 'blackhole' ? 'blackhole' : 'active' }
    : undefined;
}

async function recreateRoute(scope: StepScope, p: RecreateRouteParams): Promise<Ending> {
  const { route } = p;
  let target = route.target;
  if (p.viaRecreatedNatOf) {
    const replacement = scope.run.recreatedNats.get(p.viaRecreatedNatOf);
    if (!replacement?.natGatewayId) {
      const reason =
        replacement?.reason ?? `the recreate-nat step for ${p.viaRecreatedNatOf} did not run`;
      throw new ActionEnded(
        scope.dryRun ? 'skipped' : 'blocked',
        scope.dryRun
          ? `not tried in a dry run: the route needs the NAT gateway the recreate-nat step would create`
          : `no NAT gateway replaces ${p.viaRecreatedNatOf} yet (${reason})`,
      );
    }
    target = { type: 'nat', id: replacement.natGatewayId };
  }
  const table = await describeRouteTable(scope, route.routeTableId);
  if (!table)
    throw new ActionEnded('blocked', `route table ${route.routeTableId} no longer exists`);
  inRecordVpc(scope, route.routeTableId, table);
  if (!p.viaRecreatedNatOf && target.type === 'nat') {
    // A route back to a NAT gateway that is still there: it must be a live one of the same VPC.
    const nat = await describeNat(scope, target.id);
    if (!nat || !['pending', 'available'].includes(nat.State ?? '')) {
      throw new ActionEnded(
        'blocked',
        `NAT gateway ${target.id} is ${nat?.State ?? 'gone'}: a route to it would be a blackhole`,
      );
    }
    inRecordVpc(scope, target.id, nat, { written: false });
  }
  const current = routeAt(table, route.destination);
  Object.assign(scope.before, {
    currentTarget: current?.target ?? null,
    state: current?.state ?? null,
  });
  if (current) {
    if (current.target.id === target.id && current.state === 'active')
      throw new ActionEnded(
        'skipped',
        `${route.routeTableId} already routes ${route.destination} to ${target.id}`,
      );
    throw new ActionEnded(
      'blocked',
      `${route.routeTableId} now routes ${route.destination} to ${current.target.id}${current.state === 'blackhole' ? ' (blackhole)' : ''}: not replacing a route vpc-guard did not make`,
    );
  }
  await send(
    scope,
    'CreateRoute',
    new CreateRouteCommand({
      RouteTableId: route.routeTableId,
      ...routeDestination(route.destination),
      ...routeTargetParameter(target),
    }),
  );
  if (scope.dryRun)
    return {
      outcome: 'would-succeed',
      detail: `would route ${route.destination} to ${target.id} in ${route.routeTableId}`,
    };
  const after = await describeRouteTable(scope, route.routeTableId);
  const now = after ? routeAt(after, route.destination) : undefined;
  Object.assign(scope.after, { target: now?.target ?? null, state: now?.state ?? null });
  return now?.target.id === target.id && now.state === 'active'
    ? {
        outcome: 'verified',
        detail: `recreated ${route.destination} -> ${target.id} in ${route.routeTableId}`,
      }
    : {
        outcome: 'still-failing',
        detail: `created ${route.destination} -> ${target.id} in ${route.routeTableId}, but EC2 does not show it active`,
      };
}

export const removeInternetRoute: RemediationActionDefinition<
  'remove-internet-route',
  typeof RemoveInternetRouteParamsSchema,
  RecreateRouteParams,
  RecreateRouteParams
> = {
  name: 'remove-internet-route',
  paramsSchema: RemoveInternetRouteParamsSchema,
  // A blackhole route carries no egress: removing only such routes cuts nothing.
  cutsEgress: (draft) =>
    draft.findings.some((finding) => finding.evidence['state'] !== 'blackhole'),

  plan({ context, findings }) {
    return findings.flatMap((finding) => {
      if (finding.fix?.action !== 'remove-internet-route') return [];
      const { evidence } = finding;
      const table = context.routeTables.find((t) => t.routeTableId === evidence['routeTableId']);
      const route = table?.routes.find((r) => r.destination === evidence['destination']);
      if (!table || !route) return [];
      return [
        {
          action: 'remove-internet-route',
          subject: `${table.routeTableId}/${route.destination}`,
          findings: [finding],
          summary: `- route ${route.destination} -> ${route.target.id} in ${table.routeTableId}${route.state === 'blackhole' ? ' (blackhole)' : ''}`,
          preconditions: [
            `route ${route.destination} in ${table.routeTableId} targets ${route.target.id}`,
          ],
          expectedEffect: `${table.routeTableId} has no route for ${route.destination}`,
          monthlyCostChangeUsd: 0,
          params: {
            action: 'remove-internet-route',
            route: {
              routeTableId: table.routeTableId,
              destination: route.destination,
              target: route.target,
            },
          },
        },
      ];
    });
  },

  probeProtected: (params, probe) => probe.routeTable(params.route.routeTableId),
  subject: (params) => `${params.route.routeTableId} ${params.route.destination}`,
  summarize: (params) =>
    `- route ${params.route.destination} -> ${params.route.target.id} in ${params.route.routeTableId}`,

  async apply(scope, { route }) {
    const current = currentRoute(scope, route);
    Object.assign(scope.before, {
      route,
      currentTarget: current?.target ?? null,
      state: current?.state ?? null,
    });
    if (!current)
      throw new ActionEnded(
        'skipped',
        `route ${route.destination} is no longer in ${route.routeTableId}`,
      );
    if (current.target.id !== route.target.id) {
      throw new ActionEnded(
        'blocked',
        `route ${route.destination} in ${route.routeTableId} now targets ${current.target.id}, not ${route.target.id}: re-plan`,
      );
    }
    await deleteRoute(scope, route);
    return `deleted route ${route.destination} -> ${route.target.id} from ${route.routeTableId}`;
  },

  inverse: {
    problems: () => [],
    steps({ record, runId }) {
      const wasBlackhole = record.before['state'] === 'blackhole';
      return record.removedRoutes.map((route) =>
        wasBlackhole
          ? blackholeRouteStep(
              route,
              runId,
              `the route was a blackhole (${route.target.id} was gone before run ${runId})`,
            )
          : checkRouteWasDeleted(routeStep(route, null, runId), record, runId),
      );
    },
    kinds: { 'recreate-route': { run: recreateRoute } },
  },
};
