import { createHash } from 'node:crypto';
import {
  CreateNatGatewayCommand,
  CreateTagsCommand,
  DeleteNatGatewayCommand,
  DeleteTagsCommand,
  type NatGateway,
} from '@aws-sdk/client-ec2';
import * as z from 'zod';
import type { Finding } from '../../evaluate';
import {
  CallFailed,
  describeAllocation,
  describeNat,
  describeNats,
  describeSubnet,
  send,
} from '../ec2-calls';
import {
  ActionEnded,
  inRecordVpc,
  poll,
  type ApplyScope,
  type Ending,
  type StepScope,
} from '../engine';
import { RouteRefSchema, type RouteRef } from '../plan-model';
import { problemsOf, succeeded } from '../record-facts';
import {
  RELEASED_FROM_TAG,
  RELEASED_FROM_VPC_TAG,
  REPLACES_TAG,
  recreatedNatTags,
  tagValue,
} from '../tags';
import {
  blackholeRouteStep,
  checkRouteWasDeleted,
  currentRoute,
  deleteRoute,
  routeStep,
  type RecreateRouteParams,
} from './remove-internet-route';
import type { Draft, RemediationActionDefinition, StepDraft } from './types';

/**
 * `remove-nat`: deletes a NAT gateway in a VPC whose profile forbids egress, after the routes that
 * target it (so none is left as a blackhole). Its Elastic IPs stay allocated and are marked
 * `vpc-guard:released-from`, for `release-elastic-ip` to release once the NAT is gone. Its inverse
 * recreates the routes, and with `--recreate-nat` a NAT gateway in the same subnet with the same
 * address first.
 */

const RemoveNatParamsSchema = z.strictObject({
  action: z.literal('remove-nat'),
  natGatewayId: z.string().min(1),
  subnetId: z.string().min(1),
  connectivityType: z.enum(['public', 'private']),
  allocationIds: z.array(z.string()),
  publicIps: z.array(z.string()),
  /** Routes that target the NAT: deleted first, so none is left as a blackhole. */
  routes: z.array(RouteRefSchema),
});
export type RemoveNatParams = z.infer<typeof RemoveNatParamsSchema>;

/** The rollback step that creates a NAT gateway in place of the one a run deleted. */
export interface RecreateNatParams {
  readonly action: 'recreate-nat';
  /** The NAT gateway the run deleted. */
  readonly natGatewayId: string;
  readonly subnetId: string;
  readonly connectivityType: 'public' | 'private';
  /** The Elastic IP the deleted NAT held (a public NAT); the run kept it allocated. */
  readonly allocationId: string | null;
  /** Derived from the run id and the NAT id, so a retried rollback never makes a second NAT. */
  readonly clientToken: string;
  readonly tags: Readonly<Record<string, string>>;
  /** The routes that pointed at the deleted NAT, recreated by the steps that follow. */
  readonly routes: readonly RouteRef[];
}

/** What `before` must hold to recreate a deleted NAT gateway. */
const NatBeforeSchema = z.object({
  natGatewayId: z.string().min(1),
  subnetId: z.string().min(1),
  connectivityType: z.enum(['public', 'private']),
  allocationIds: z.array(z.string()),
  natState: z.string().optional(),
});

/**
 * The ClientToken of a recreated NAT gateway: from the run and the NAT it replaces, so a rerun of
 * the same rollback gets the same NAT back from EC2 instead of a second one (at most 64 characters).
 */
export function natClientToken(runId: string, natGatewayId: string): string {
  return `vpcguard-rb-${createHash('sha256').update(`${runId}|${natGatewayId}`).digest('hex').slice(0, 40)}`;
}

/**
 * Marks the Elastic IPs of a NAT gateway this run deleted, so a later run may release them once the
 * NAT is `deleted` (DeleteNatGateway does not release them, AWS-FACTS). A failure is reported, not
 * raised: the NAT is gone either way, and an unmarked address is merely never released by vpc-guard.
 */
async function markReleasedAddresses(
  scope: ApplyScope,
  natGatewayId: string,
  allocationIds: readonly string[],
): Promise<string> {
  if (allocationIds.length === 0) return '';
  const list = allocationIds.join(', ');
  try {
    await send(
      scope,
      'CreateTags',
      new CreateTagsCommand({
        Resources: [...allocationIds],
        Tags: [
          { Key: RELEASED_FROM_TAG, Value: natGatewayId },
          { Key: RELEASED_FROM_VPC_TAG, Value: scope.context.vpc.vpcId },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof CallFailed)) throw error;
    Object.assign(scope.after, { markedAllocationIds: [] });
    return scope.dryRun
      ? `; marking Elastic IP ${list} for release would fail (${error.message})`
      : `; Elastic IP ${list} kept but not marked for release (${error.message}): release-elastic-ip will not touch it`;
  }
  if (scope.dryRun) return `; would mark Elastic IP ${list} for a later release`;
  Object.assign(scope.after, { markedAllocationIds: [...allocationIds] });
  return `; Elastic IP ${list} kept, marked ${RELEASED_FROM_TAG}=${natGatewayId} for a later release`;
}

async function apply(scope: ApplyScope, params: RemoveNatParams): Promise<string> {
  const nat = scope.context.natGateways.find((n) => n.natGatewayId === params.natGatewayId);
  Object.assign(scope.before, {
    natGatewayId: params.natGatewayId,
    subnetId: params.subnetId,
    connectivityType: params.connectivityType,
    allocationIds: params.allocationIds,
    publicIps: params.publicIps,
    natState: nat?.state ?? 'absent',
  });
  for (const route of params.routes) {
    const current = currentRoute(scope, route);
    // Describe, compare, act: delete only a route that still points at this NAT.
    if (!current || current.target.id !== params.natGatewayId) continue;
    await deleteRoute(scope, route);
  }
  if (!nat || (nat.state !== 'available' && nat.state !== 'pending')) {
    if (scope.removedRoutes.length === 0 && !scope.dryRun) {
      throw new ActionEnded(
        'skipped',
        `NAT gateway ${params.natGatewayId} is already ${nat?.state ?? 'gone'}`,
      );
    }
    return `removed ${scope.removedRoutes.length} routes; NAT gateway already ${nat?.state ?? 'gone'}`;
  }
  await send(
    scope,
    'DeleteNatGateway',
    new DeleteNatGatewayCommand({ NatGatewayId: params.natGatewayId }),
  );
  // The addresses the NAT holds now, as just described; the plan's list if the describe had none.
  const allocationIds = nat.allocationIds.length > 0 ? nat.allocationIds : params.allocationIds;
  const marked = await markReleasedAddresses(scope, params.natGatewayId, allocationIds);
  if (scope.dryRun) return `would delete NAT gateway ${params.natGatewayId}${marked}`;
  return `deleted ${scope.removedRoutes.length} route(s) and NAT gateway ${params.natGatewayId}${marked || '; no Elastic IP'}`;
}

/**
 * The NAT gateway rollback brought back holds the address again: drop the marks `remove-nat` left on
 * it, so `release-elastic-ip` never releases it should that NAT go some other way later. A failure
 * is reported in the detail, not raised: the NAT is restored either way.
 */
async function unmarkReleased(scope: StepScope, allocationId: string | null): Promise<string> {
  if (!allocationId) return '';
  const address = await describeAllocation(scope, allocationId);
  if (tagValue(address?.Tags, RELEASED_FROM_TAG) === undefined) return '';
  try {
    await send(
      scope,
      'DeleteTags',
      new DeleteTagsCommand({
        Resources: [allocationId],
        Tags: [{ Key: RELEASED_FROM_TAG }, { Key: RELEASED_FROM_VPC_TAG }],
      }),
    );
  } catch (error) {
    if (!(error instanceof CallFailed)) throw error;
    return `; ${allocationId} still carries ${RELEASED_FROM_TAG} (${error.message}): remove the tag by hand`;
  }
  return `; removed ${RELEASED_FROM_TAG} from ${allocationId}`;
}

async function waitForNat(scope: StepScope, natGatewayId: string): Promise<Ending> {
  const result = await poll(
    scope,
    () => describeNat(scope, natGatewayId),
    (nat) => nat?.State !== 'pending',
  );
  const state = result.value?.State ?? 'gone';
  Object.assign(scope.after, {
    natGatewayId,
    state,
    subnetId: result.value?.SubnetId ?? null,
    allocationIds: (result.value?.NatGatewayAddresses ?? []).flatMap((a) =>
      a.AllocationId ? [a.AllocationId] : [],
    ),
  });
  if (state === 'available') {
    return { outcome: 'verified', detail: `NAT gateway ${natGatewayId} is available` };
  }
  if (state === 'pending') {
    return {
      outcome: 'still-failing',
      detail: `NAT gateway ${natGatewayId} is still pending after ${result.attempts} checks: rerun the rollback to finish (the same ClientToken returns the same NAT)`,
    };
  }
  const why = result.value?.FailureMessage ? `: ${result.value.FailureMessage}` : '';
  return { outcome: 'failed', detail: `NAT gateway ${natGatewayId} is ${state}${why}` };
}

async function recreateNat(scope: StepScope, p: RecreateNatParams): Promise<Ending> {
  const remember = (natGatewayId: string | undefined, reason: string) =>
    scope.run.recreatedNats.set(p.natGatewayId, {
      ...(natGatewayId ? { natGatewayId } : {}),
      reason,
    });
  remember(undefined, `the recreate-nat step for ${p.natGatewayId} did not finish`);
  const subnet = await describeSubnet(scope, p.subnetId);
  if (!subnet) throw new ActionEnded('blocked', `subnet ${p.subnetId} no longer exists`);
  inRecordVpc(scope, p.subnetId, subnet);
  // Describe, compare: a NAT in the subnet that replaces this one (by tag) or holds its address.
  const live = await describeNats(scope, [
    { Name: 'subnet-id', Values: [p.subnetId] },
    { Name: 'state', Values: ['pending', 'available'] },
  ]);
  const existing = live.find(
    (n) =>
      tagValue(n.Tags, REPLACES_TAG) === p.natGatewayId ||
      (p.allocationId !== null &&
        (n.NatGatewayAddresses ?? []).some((a) => a.AllocationId === p.allocationId)),
  );
  if (existing?.NatGatewayId) {
    const id = existing.NatGatewayId;
    Object.assign(scope.before, { existing: id });
    const ready = await waitForNat(scope, id);
    if (ready.outcome !== 'verified') {
      remember(undefined, ready.detail);
      return ready;
    }
    remember(id, 'already there');
    const unmarked = scope.dryRun ? '' : await unmarkReleased(scope, p.allocationId);
    return {
      outcome: 'skipped',
      detail: `NAT gateway ${id} in ${p.subnetId} already replaces ${p.natGatewayId}${unmarked}`,
    };
  }
  if (p.connectivityType === 'public' && p.allocationId) {
    // A later release-elastic-ip run may have released it: CreateNatGateway would only fail on it.
    const address = await describeAllocation(scope, p.allocationId);
    Object.assign(scope.before, { allocationExists: address !== undefined });
    if (!address) {
      throw new ActionEnded(
        'blocked',
        `the original allocation ${p.allocationId} of ${p.natGatewayId} is gone (released since, e.g. by release-elastic-ip): a NAT gateway with the same address cannot be recreated; create one with a new address by hand if it is needed`,
      );
    }
  }
  // The deleted NAT holds its Elastic IP until it is `deleted` (AWS-FACTS: deletion is asynchronous).
  const old = await poll(
    scope,
    () => describeNat(scope, p.natGatewayId),
    (nat) => nat?.State !== 'deleting',
  );
  const oldState = old.value?.State ?? 'gone';
  Object.assign(scope.before, { replacedState: oldState });
  if (oldState === 'deleting') {
    throw new ActionEnded(
      'still-failing',
      `${p.natGatewayId} is still deleting after ${old.attempts} checks and holds ${p.allocationId ?? 'its address'}: rerun the rollback later`,
    );
  }
  if (oldState === 'available' || oldState === 'pending') {
    throw new ActionEnded(
      'blocked',
      `${p.natGatewayId} is ${oldState} again: nothing to recreate; re-plan the rollback`,
    );
  }
  const output = await send<{ NatGateway?: NatGateway }>(
    scope,
    'CreateNatGateway',
    new CreateNatGatewayCommand({
      SubnetId: p.subnetId,
      ConnectivityType: p.connectivityType,
      ...(p.connectivityType === 'public' && p.allocationId
        ? { AllocationId: p.allocationId }
        : {}),
      ClientToken: p.clientToken,
      TagSpecifications: [
        {
          ResourceType: 'natgateway',
          Tags: Object.entries(p.tags).map(([Key, Value]) => ({ Key, Value })),
        },
      ],
    }),
  );
  if (scope.dryRun) {
    remember(undefined, 'a dry run does not create it');
    return {
      outcome: 'would-succeed',
      detail: `would create a NAT gateway in ${p.subnetId}${p.allocationId ? ` with ${p.allocationId}` : ''}`,
    };
  }
  const id = output?.NatGateway?.NatGatewayId;
  if (!id) throw new ActionEnded('failed', 'CreateNatGateway returned no NAT gateway id');
  scope.created.push({ type: 'nat-gateway', id });
  const ready = await waitForNat(scope, id);
  if (ready.outcome === 'verified') {
    remember(id, 'recreated');
    const unmarked = await unmarkReleased(scope, p.allocationId);
    return {
      outcome: 'verified',
      detail: `created NAT gateway ${id} in ${p.subnetId}${p.allocationId ? ` with ${p.allocationId}` : ''} in place of ${p.natGatewayId}; available${unmarked}`,
    };
  }
  remember(undefined, ready.detail);
  return ready;
}

type RemoveNatStep = RecreateNatParams | RecreateRouteParams;

export const removeNat: RemediationActionDefinition<
  'remove-nat',
  typeof RemoveNatParamsSchema,
  RemoveNatStep,
  RecreateNatParams
> = {
  name: 'remove-nat',
  paramsSchema: RemoveNatParamsSchema,
  cutsEgress: () => true,

  plan({ context, findings }) {
    const drafts: Draft<RemoveNatParams>[] = [];
    const byNat = new Map<string, Draft<RemoveNatParams>>();
    for (const finding of findings) {
      // NAT routes travel with the NAT's action.
      if (finding.fix?.action !== 'remove-nat' || finding.ruleId !== 'nat-gateway-forbidden')
        continue;
      const nat = context.natGateways.find((n) => n.natGatewayId === finding.resourceId);
      if (!nat) continue;
      const routes = context.routeTables.flatMap((table) =>
        table.routes
          .filter((r) => r.target.type === 'nat' && r.target.id === nat.natGatewayId)
          .map((r) => ({
            routeTableId: table.routeTableId,
            destination: r.destination,
            target: r.target,
          })),
      );
      const draft: Draft<RemoveNatParams> = {
        action: 'remove-nat',
        subject: nat.natGatewayId,
        findings: [finding],
        summary: `- NAT gateway ${nat.natGatewayId} in ${nat.subnetId}${routes.length ? ` and ${routes.length} route${routes.length === 1 ? '' : 's'} to it (${routes.map((r) => `${r.routeTableId} ${r.destination}`).join(', ')})` : ''}; Elastic IP kept`,
        preconditions: [
          `NAT gateway ${nat.natGatewayId} is pending or available`,
          ...routes.map(
            (r) => `route ${r.destination} in ${r.routeTableId} targets ${nat.natGatewayId}`,
          ),
        ],
        expectedEffect: `no route targets ${nat.natGatewayId}; the NAT gateway is deleting or deleted`,
        monthlyCostChangeUsd: -(finding.cost?.monthlyUsd ?? 0),
        params: {
          action: 'remove-nat',
          natGatewayId: nat.natGatewayId,
          subnetId: nat.subnetId,
          connectivityType: nat.connectivityType,
          allocationIds: [...nat.allocationIds],
          publicIps: [...nat.publicIps],
          routes,
        },
      };
      byNat.set(nat.natGatewayId, draft);
      drafts.push(draft);
    }
    // An internet-route finding for a NAT route is fixed by the NAT's removal: record it there.
    for (const finding of findings) {
      if (finding.ruleId !== 'internet-route-forbidden' || finding.fix?.action !== 'remove-nat')
        continue;
      const target = (finding.evidence['target'] as { id?: string } | undefined)?.id;
      const draft = target ? byNat.get(target) : undefined;
      if (draft) (draft.findings as Finding[]).push(finding);
    }
    return drafts;
  },

  probeProtected(params, probe) {
    probe.natGateway(params.natGatewayId);
    for (const id of new Set(params.routes.map((r) => r.routeTableId))) probe.routeTable(id);
  },
  subject: (params) => params.natGatewayId,
  summarize: (params) =>
    `- NAT gateway ${params.natGatewayId} and ${params.routes.length} route(s) to it`,
  apply,

  inverse: {
    problems: (facts) =>
      succeeded(facts, 'DeleteNatGateway')
        ? problemsOf(NatBeforeSchema, facts.before, 'before')
        : [],

    steps({ record, runId, recreateNat }): StepDraft<RemoveNatStep>[] {
      const routes = record.removedRoutes;
      const checked = (draft: StepDraft<RecreateRouteParams>) =>
        checkRouteWasDeleted(draft, record, runId);
      if (!succeeded(record, 'DeleteNatGateway')) {
        // The NAT was not deleted by this run: its routes can point at it again, if it still lives.
        const natState =
          typeof record.before['natState'] === 'string' ? record.before['natState'] : '';
        const dead = natState !== '' && natState !== 'pending' && natState !== 'available';
        return routes.map((route) =>
          dead
            ? blackholeRouteStep(
                route,
                runId,
                `the route pointed at ${route.target.id}, already ${natState} before run ${runId} (a blackhole)`,
              )
            : checked(routeStep(route, null, runId)),
        );
      }
      const before = NatBeforeSchema.parse(record.before);
      const allocationId = before.allocationIds[0] ?? null;
      const routeList =
        routes.map((r) => `${r.routeTableId} ${r.destination}`).join(', ') || 'none';
      const natStep: StepDraft<RecreateNatParams> = {
        action: 'recreate-nat',
        subject: before.natGatewayId,
        summary: `+ NAT gateway in ${before.subnetId}${allocationId ? ` with ${allocationId}` : ''} (${before.connectivityType}), replacing ${before.natGatewayId}`,
        preconditions: [
          `${before.natGatewayId} is deleted (it no longer holds ${allocationId ?? 'its address'})`,
          ...(allocationId ? [`${allocationId} is allocated and not associated`] : []),
          `subnet ${before.subnetId} exists`,
        ],
        params: {
          action: 'recreate-nat',
          natGatewayId: before.natGatewayId,
          subnetId: before.subnetId,
          connectivityType: before.connectivityType,
          allocationId,
          clientToken: natClientToken(runId, before.natGatewayId),
          tags: recreatedNatTags(before.natGatewayId),
          routes,
        },
      };
      if (!recreateNat) {
        return [
          {
            ...natStep,
            status: 'blocked',
            reason: `run ${runId} deleted NAT gateway ${before.natGatewayId}; its ${routes.length} route(s) (${routeList}) cannot point at a deleted NAT: rerun with --recreate-nat to create a NAT gateway in ${before.subnetId}${allocationId ? ` with ${allocationId}` : ''} and recreate them`,
          },
        ];
      }
      if (before.connectivityType === 'public' && !allocationId) {
        return [
          {
            ...natStep,
            status: 'blocked',
            reason: `the record has no Elastic IP allocation for public NAT gateway ${before.natGatewayId}`,
          },
        ];
      }
      return [
        natStep,
        ...routes.map((route) => checked(routeStep(route, before.natGatewayId, runId))),
      ];
    },

    kinds: { 'recreate-nat': { run: recreateNat } },
  },
};
