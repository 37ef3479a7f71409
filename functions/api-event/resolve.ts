import {
  paginateDescribeInternetGateways,
  paginateDescribeNatGateways,
  paginateDescribeRouteTables,
  paginateDescribeSubnets,
  paginateDescribeVpcEndpoints,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { collectPages } from '@vpc-guard/shared';
import { findIds, type Ec2IdKind } from '../runtime/resource-ids';
import { VPC_SOURCES, type CloudTrailDetail, type UserIdentity } from './schema';

/**
 * From an event to the VPCs it touched, and whether vpc-guard itself made the change.
 */

/** Turns an ARN pattern with `*` wildcards into an anchored regular expression. */
function patternRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** `arn:aws:sts::1:assumed-role/Name/session` -> `arn:aws:iam::1:role/Name` (the path is not in it). */
function roleOfAssumedRole(arn: string): string | undefined {
  const match = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return match ? `arn:${match[1]}:iam::${match[2]}:role/${match[3]}` : undefined;
}

/**
 * The identity's role or assumed-role ARN when it matches one of vpc-guard's own (`patterns`, `*` as
 * wildcard), so that the function ignores the changes it made itself (no remediation loop). The
 * session issuer's ARN is checked first: it carries the role's path.
 */
export function ownIdentityMatch(
  identity: UserIdentity,
  patterns: readonly string[],
): string | undefined {
  const candidates = [
    identity.sessionContext?.sessionIssuer?.arn,
    identity.arn,
    identity.arn ? roleOfAssumedRole(identity.arn) : undefined,
  ].filter((arn): arn is string => typeof arn === 'string' && arn !== '');
  const expressions = patterns.map(patternRegExp);
  return candidates.find((arn) => expressions.some((expression) => expression.test(arn)));
}

/** What a CloudTrail record says about its VPCs: named outright, or to be looked up by resource. */
export interface VpcReferences {
  /** VPC ids found in the record. */
  readonly vpcIds: readonly string[];
  /** Resources to describe when the record names no VPC. */
  readonly lookups: Readonly<Partial<Record<Ec2IdKind, readonly string[]>>>;
}

/** The VPCs a record names, or failing that the resources to describe for them. Pure. */
export function vpcReferences(detail: CloudTrailDetail): VpcReferences {
  const both = [detail.responseElements, detail.requestParameters];
  const vpcIds = [...new Set(both.flatMap((part) => findIds(part, 'vpc')))];
  if (vpcIds.length > 0) return { vpcIds, lookups: {} };
  // The first kind the record holds is enough: every resource of the call is in the same VPC.
  for (const kind of VPC_SOURCES[detail.eventName].lookup) {
    const ids = [...new Set(both.flatMap((part) => findIds(part, kind)))];
    if (ids.length > 0) return { vpcIds: [], lookups: { [kind]: ids } };
  }
  return { vpcIds: [], lookups: {} };
}

/**
 * Describes the resources of `lookups` (all at once: one round trip) and returns their VPCs. Filters,
 * not id lists, so a resource deleted meanwhile is absent instead of an error; NAT gateways are read
 * in any state, since a deleted one still names its VPC for a while.
 */
export async function lookUpVpcs(
  ec2: EC2Client,
  lookups: VpcReferences['lookups'],
): Promise<string[]> {
  const page = { client: ec2 };
  const filter = (name: string, values: readonly string[] | undefined) =>
    values && values.length > 0 ? [{ Name: name, Values: [...values] }] : undefined;
  const reads: Promise<(string | undefined)[]>[] = [];
  const subnets = filter('subnet-id', lookups.subnet);
  if (subnets) {
    reads.push(
      collectPages(paginateDescribeSubnets(page, { Filters: subnets }), (p) =>
        p.Subnets?.map((s) => s.VpcId),
      ),
    );
  }
  const tables = filter('route-table-id', lookups.routeTable);
  if (tables) {
    reads.push(
      collectPages(paginateDescribeRouteTables(page, { Filters: tables }), (p) =>
        p.RouteTables?.map((t) => t.VpcId),
      ),
    );
  }
  const nats = filter('nat-gateway-id', lookups.natGateway);
  if (nats) {
    reads.push(
      collectPages(paginateDescribeNatGateways(page, { Filter: nats }), (p) =>
        p.NatGateways?.map((n) => n.VpcId),
      ),
    );
  }
  const endpoints = filter('vpc-endpoint-id', lookups.vpcEndpoint);
  if (endpoints) {
    reads.push(
      collectPages(paginateDescribeVpcEndpoints(page, { Filters: endpoints }), (p) =>
        p.VpcEndpoints?.map((e) => e.VpcId),
      ),
    );
  }
  const gateways = filter('internet-gateway-id', lookups.internetGateway);
  if (gateways) {
    reads.push(
      collectPages(paginateDescribeInternetGateways(page, { Filters: gateways }), (p) =>
        p.InternetGateways?.flatMap((g) => (g.Attachments ?? []).map((a) => a.VpcId)),
      ),
    );
  }
  const found = (await Promise.all(reads)).flat();
  return [...new Set(found.filter((id): id is string => typeof id === 'string'))].sort();
}
