import { ReleaseAddressCommand } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { HOURS_PER_MONTH, pricingFor } from '../../cost/pricing';
import type { VpcContext } from '../../rules/types';
import type { ElasticIp, NetworkSnapshot } from '../../snapshot/schema';
import { describeAllocation, send } from '../ec2-calls';
import { ActionEnded, type StepScope } from '../engine';
import { problemsOf } from '../record-facts';
import {
  PROTECTED_TAG,
  RELEASED_FROM_TAG,
  RELEASED_FROM_VPC_TAG,
  isProtected,
  protectedReason,
} from '../tags';
import type { Draft, Leftover, RemediationActionDefinition } from './types';

/**
 * `release-elastic-ip`: releases an Elastic IP a NAT gateway vpc-guard deleted left allocated (and
 * billed). No finding asks for it: it is planned in a later run from the address's
 * `vpc-guard:released-from` mark, once that NAT is gone and the address unassociated, under the
 * profile of the VPC the NAT was in. It verifies itself with a describe. Its inverse is always
 * blocked: a released address cannot be taken back as it was.
 */

const ReleaseElasticIpParamsSchema = z.strictObject({
  action: z.literal('release-elastic-ip'),
  allocationId: z.string().min(1),
  publicIp: z.string().min(1),
  /** The deleted NAT gateway, as the address's `vpc-guard:released-from` tag names it. */
  natGatewayId: z.string().min(1),
});
export type ReleaseElasticIpParams = z.infer<typeof ReleaseElasticIpParamsSchema>;

/**
 * The inverse of `release-elastic-ip`, always blocked: a released address cannot be taken back as it
 * was (see `releasedAddressReason`). Present so the rollback says so.
 */
export interface RestoreElasticIpParams {
  readonly action: 'restore-elastic-ip';
  readonly allocationId: string;
  readonly publicIp: string;
  readonly natGatewayId: string;
}

/** What `before` must hold to report a released Elastic IP. */
const ReleaseBeforeSchema = z.object({
  allocationId: z.string().min(1),
  publicIp: z.string().min(1),
  natGatewayId: z.string().min(1),
});

/** NAT states in which the NAT still holds its addresses, or may again: not yet time to release. */
const NAT_HOLDS_ADDRESSES: ReadonlySet<string> = new Set(['pending', 'available', 'deleting']);

function draftRelease(
  context: VpcContext,
  address: ElasticIp,
  natGatewayId: string,
): Draft<ReleaseElasticIpParams> {
  const { pricing } = pricingFor(context.region);
  const monthlyUsd = HOURS_PER_MONTH * pricing.publicIpv4HourUsd;
  const { allocationId, publicIp } = address;
  return {
    action: 'release-elastic-ip',
    subject: allocationId,
    findings: [],
    reason: `vpc-guard deleted NAT gateway ${natGatewayId}, which left Elastic IP ${publicIp} allocated, unassociated and billed ($${monthlyUsd.toFixed(2)}/mo)`,
    summary: `- Elastic IP ${publicIp} (${allocationId}) left by NAT gateway ${natGatewayId}`,
    preconditions: [
      `${allocationId} is not associated`,
      `${allocationId} still carries ${RELEASED_FROM_TAG}=${natGatewayId}`,
    ],
    expectedEffect: `${allocationId} is released: DescribeAddresses no longer lists it`,
    monthlyCostChangeUsd: -monthlyUsd,
    params: { action: 'release-elastic-ip', allocationId, publicIp, natGatewayId },
    ...(isProtected(address.tags)
      ? { blockedReason: protectedReason([`Elastic IP ${allocationId}`])! }
      : {}),
  };
}

/**
 * The snapshot's marked Elastic IPs that may be released now, by the VPC their NAT gateway was in.
 * Addresses are regional: the `vpc-guard:released-from-vpc` tag says which VPC (and so which
 * profile) decides. An address waits while its NAT is still live in the snapshot (a `deleting` NAT
 * holds it until `deleted`, AWS-FACTS) and is left alone once associated again (someone uses it).
 */
function releasableAddresses(
  snapshot: NetworkSnapshot,
): Map<string, Leftover<ReleaseElasticIpParams>[]> {
  const nats = new Map(snapshot.natGateways.map((nat) => [nat.natGatewayId, nat]));
  const byVpc = new Map<string, Leftover<ReleaseElasticIpParams>[]>();
  for (const address of snapshot.elasticIps) {
    const natGatewayId = address.tags[RELEASED_FROM_TAG];
    if (!natGatewayId) continue;
    const nat = nats.get(natGatewayId);
    const vpcId = address.tags[RELEASED_FROM_VPC_TAG] || nat?.vpcId;
    if (!vpcId || (nat && NAT_HOLDS_ADDRESSES.has(nat.state))) continue;
    if (address.associationId !== undefined || address.networkInterfaceId !== undefined) continue;
    const list = byVpc.get(vpcId) ?? [];
    list.push({ draft: (context) => draftRelease(context, address, natGatewayId) });
    byVpc.set(vpcId, list);
  }
  return byVpc;
}

/**
 * Why a released Elastic IP is not restored. AllocateAddress makes a new address; EC2 can recover a
 * released one only by asking for it (`Address`), only while no other account has it, and then under
 * a new allocation id without its tags (EC2 User Guide, "Release an Elastic IP address"). So nothing
 * that pointed at the old allocation would follow: a person decides whether to try.
 */
function releasedAddressReason(releasedBy: string, publicIp: string, allocationId: string): string {
  return `${releasedBy} released Elastic IP ${publicIp} (${allocationId}); a released address cannot be restored as it was: AllocateAddress gives a new address, and recovering ${publicIp} (AllocateAddress with Address=${publicIp}) works only if no other account took it, under a new allocation id without its tags; vpc-guard does not attempt it`;
}

/** Planned only as blocked; a plan edited to run it is refused all the same. */
function refuseElasticIpRestore(scope: StepScope, p: RestoreElasticIpParams): Promise<never> {
  return Promise.reject(
    new ActionEnded(
      'blocked',
      releasedAddressReason(scope.step.undoes, p.publicIp, p.allocationId),
    ),
  );
}

export const releaseElasticIp: RemediationActionDefinition<
  'release-elastic-ip',
  typeof ReleaseElasticIpParamsSchema,
  RestoreElasticIpParams,
  RestoreElasticIpParams
> = {
  name: 'release-elastic-ip',
  paramsSchema: ReleaseElasticIpParamsSchema,

  // No finding asks for it: only what an earlier run left.
  plan: () => [],
  leftovers: {
    find: releasableAddresses,
    note: (count) => `${count} Elastic IP(s) left by a removed NAT gateway stay allocated`,
  },

  // Elastic IPs are not in a VPC's context: the planner checks the address's tags when drafting,
  // and the writer checks them again from its own describe.
  probeProtected: () => undefined,
  subject: (params) => params.allocationId,
  summarize: (params) => `- Elastic IP ${params.publicIp} (${params.allocationId})`,

  async apply(scope, { allocationId, publicIp, natGatewayId }) {
    const address = await describeAllocation(scope, allocationId);
    const tags = Object.fromEntries(
      (address?.Tags ?? []).flatMap((t) => (t.Key ? [[t.Key, t.Value ?? '']] : [])),
    );
    Object.assign(scope.before, { allocationId, publicIp, natGatewayId, tags });
    if (!address)
      throw new ActionEnded('skipped', `Elastic IP ${allocationId} is already released`);
    if (address.AssociationId || address.NetworkInterfaceId) {
      throw new ActionEnded(
        'blocked',
        `Elastic IP ${allocationId} is associated again (${address.AssociationId ?? address.NetworkInterfaceId}): someone uses it, not releasing it`,
      );
    }
    if (tags[RELEASED_FROM_TAG] !== natGatewayId) {
      throw new ActionEnded(
        'blocked',
        `Elastic IP ${allocationId} no longer carries ${RELEASED_FROM_TAG}=${natGatewayId}: someone claimed it since the plan, not releasing it`,
      );
    }
    if (isProtected(tags)) {
      throw new ActionEnded(
        'blocked',
        `Elastic IP ${allocationId} is tagged ${PROTECTED_TAG}: vpc-guard never writes to it`,
      );
    }
    await send(scope, 'ReleaseAddress', new ReleaseAddressCommand({ AllocationId: allocationId }));
    if (scope.dryRun) return `would release Elastic IP ${publicIp} (${allocationId})`;
    // Verified by a describe, not by a rescan: the action fixes no finding a rescan could clear.
    const after = await describeAllocation(scope, allocationId);
    Object.assign(scope.after, { released: after === undefined });
    scope.verification.outcome = after ? 'still-failing' : 'verified';
    return after
      ? `asked EC2 to release Elastic IP ${publicIp} (${allocationId}), but DescribeAddresses still lists it`
      : `released Elastic IP ${publicIp} (${allocationId}) left by NAT gateway ${natGatewayId}; verified by DescribeAddresses`;
  },

  inverse: {
    problems: (facts) => problemsOf(ReleaseBeforeSchema, facts.before, 'before'),
    steps({ record, runId }) {
      const before = ReleaseBeforeSchema.parse(record.before);
      return [
        {
          action: 'restore-elastic-ip',
          subject: before.allocationId,
          status: 'blocked',
          reason: releasedAddressReason(`run ${runId}`, before.publicIp, before.allocationId),
          summary: `+ Elastic IP ${before.publicIp} (${before.allocationId}), released by run ${runId}`,
          preconditions: [`${before.publicIp} is not allocated to another account`],
          params: { action: 'restore-elastic-ip', ...before },
        },
      ];
    },
    kinds: { 'restore-elastic-ip': { run: refuseElasticIpRestore } },
  },
};
