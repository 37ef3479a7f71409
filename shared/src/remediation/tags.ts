import type { GuardPolicy } from '../policy/schema';
import type { VpcContext } from '../rules/types';

/**
 * The tags vpc-guard writes, and what the ones it reads mean. One module, so the planner, the
 * actions, rollback, the collector and the IAM conditions of the remediation role
 * (`infra/lib/guard-permissions.ts`) cannot drift apart: renaming one here renames it everywhere,
 * and a deployed role whose conditions name another key would deny every write.
 */

/** The tag vpc-guard puts on everything it creates; rollback removes only what carries it. */
export const MANAGED_TAG = 'vpc-guard:managed';

/**
 * The tag that puts a resource (VPC, NAT gateway, route table, endpoint, security group, Elastic IP)
 * out of vpc-guard's reach, whatever its value: the planner blocks every action that would write to
 * it, the writer checks it again from its own describe, and the remediation role denies the write.
 */
export const PROTECTED_TAG = 'vpc-guard:protected';

/** The tag on a NAT gateway recreated by rollback: the id of the NAT it replaces. */
export const REPLACES_TAG = 'vpc-guard:replaces';

/**
 * The tag vpc-guard puts on each Elastic IP allocation of a NAT gateway it deletes: the NAT's id.
 * DeleteNatGateway does not release the address (AWS-FACTS), and nothing else marks it as left over
 * by vpc-guard, so this tag is what makes it eligible for `release-elastic-ip`, and nothing else is.
 */
export const RELEASED_FROM_TAG = 'vpc-guard:released-from';

/**
 * The companion tag: the VPC of that NAT gateway. An unassociated address names no VPC, and a deleted
 * NAT drops out of DescribeNatGateways after a while, so without it the address could not be planned
 * under its VPC's profile.
 */
export const RELEASED_FROM_VPC_TAG = 'vpc-guard:released-from-vpc';

/** The `Name` tag of what vpc-guard creates (the IAM condition on create allows it and the managed tag). */
export const NAME_TAG = 'Name';

/** The security group vpc-guard creates for interface endpoints it creates. */
export const MANAGED_SECURITY_GROUP_NAME = 'vpc-guard-endpoints';

/** The tags of an endpoint vpc-guard creates for a service. */
export function createdEndpointTags(service: string): Record<string, string> {
  return { [MANAGED_TAG]: 'true', [NAME_TAG]: `vpc-guard-${service}` };
}

/** The tags of a NAT gateway rollback recreates in place of the one a run deleted. */
export function recreatedNatTags(replacedNatGatewayId: string): Record<string, string> {
  return {
    [MANAGED_TAG]: 'true',
    [REPLACES_TAG]: replacedNatGatewayId,
    [NAME_TAG]: `vpc-guard-restored-${replacedNatGatewayId}`,
  };
}

/** Tag keys vpc-guard reads or writes are in its namespace; a key in it that it cannot read is a doubt. */
const GUARD_TAG_PREFIX = 'vpc-guard:';

/** How a tag key is compared for intent: trimmed and case-folded, so `VPC-Guard:Protected ` counts. */
function foldTagKey(key: string): string {
  return key.trim().toLowerCase();
}

/**
 * True when the tags carry {@link PROTECTED_TAG}, compared trimmed and case-folded (a protection
 * written with other capitals still protects: a doubt about protection is resolved by protecting).
 */
export function isProtected(tags: Readonly<Record<string, string>>): boolean {
  return Object.keys(tags).some((key) => foldTagKey(key) === PROTECTED_TAG);
}

/** Why an action is blocked when it would write to protected resources (`kind id` each), if it is. */
export function protectedReason(resources: readonly string[]): string | undefined {
  return resources.length > 0
    ? `${resources.join(', ')} ${resources.length === 1 ? 'is' : 'are'} tagged ${PROTECTED_TAG}: vpc-guard never writes to ${resources.length === 1 ? 'it' : 'them'}`
    : undefined;
}

/** EC2's tag list as a record built with own properties only (a key `__proto__` stays data). */
export function tagsOf(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

/** The value of one tag in EC2's tag list. */
export function tagValue(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
  key: string,
): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

/**
 * What an action may find protected in a VPC's described state, as `kind id`: each probe adds the
 * resource when it carries {@link PROTECTED_TAG}. Actions say which resources they write to.
 */
export interface ProtectionProbe {
  readonly found: string[];
  routeTable(id: string): void;
  subnet(id: string): void;
  endpoint(id: string): void;
  natGateway(id: string): void;
  securityGroup(id: string): void;
}

/** A probe over a VPC's context, starting with the VPC itself. */
export function protectionProbe(context: VpcContext): ProtectionProbe {
  const found: string[] = [];
  if (isProtected(context.vpc.tags)) found.push(`VPC ${context.vpc.vpcId}`);
  const tables = new Map(context.routeTables.map((t) => [t.routeTableId, t]));
  return {
    found,
    routeTable(id) {
      if (isProtected(tables.get(id)?.tags ?? {})) found.push(`route table ${id}`);
    },
    subnet(id) {
      const placed = context.subnets.find((s) => s.subnetId === id);
      if (isProtected(placed?.tags ?? {})) found.push(`subnet ${id}`);
    },
    endpoint(id) {
      const live = context.vpcEndpoints.find((e) => e.vpcEndpointId === id);
      if (isProtected(live?.tags ?? {})) found.push(`endpoint ${id}`);
    },
    natGateway(id) {
      const nat = context.natGateways.find((n) => n.natGatewayId === id);
      if (isProtected(nat?.tags ?? {})) found.push(`NAT gateway ${id}`);
    },
    securityGroup(id) {
      const group = context.securityGroups.get(id);
      if (group && isProtected(group.tags)) found.push(`security group ${group.groupId}`);
    },
  };
}

/**
 * What the VPC's own tags leave unclear about the operator's intent, or undefined when they are
 * clear: an exemption tag that is present but cannot be read (it may have been meant to exempt), a
 * `vpc-guard:` tag vpc-guard does not know (a misspelt exemption or protection), a known key written
 * with other capitals or spaces, or `vpc-guard:managed` with a value other than `true`. An unknown
 * profile name is the profile resolution's own doubt and is reported there. Findings are still
 * reported for such a VPC; nothing is written to it.
 */
export function vpcIntentProblem(context: VpcContext, policy: GuardPolicy): string | undefined {
  const problems: string[] = [];
  const { exemption, exemptionTag } = context;
  if (exemption.state === 'malformed') {
    problems.push(`tag ${exemptionTag} cannot be read (${exemption.problem})`);
  }
  const known = [policy.assign.tag, policy.exemptions.tag, PROTECTED_TAG, MANAGED_TAG];
  const folded = new Set(known.map(foldTagKey));
  for (const [key, value] of Object.entries(context.vpc.tags)) {
    const fold = foldTagKey(key);
    if (known.includes(key)) {
      if (key === MANAGED_TAG && value !== 'true') {
        problems.push(`tag ${MANAGED_TAG}="${value}" cannot be read (expected "true")`);
      }
      continue;
    }
    if (folded.has(fold)) {
      problems.push(
        `tag "${key}" is not spelt as vpc-guard reads it (${known.find((k) => foldTagKey(k) === fold)})`,
      );
    } else if (fold.startsWith(GUARD_TAG_PREFIX)) {
      problems.push(
        `tag "${key}" is not a tag vpc-guard knows (expected one of ${known.join(', ')})`,
      );
    }
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}
