import {
  paginateDescribeInternetGateways,
  paginateDescribeNatGateways,
  paginateDescribeRouteTables,
  paginateDescribeSubnets,
  paginateDescribeVpcEndpoints,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { collectPages, parseArn, roleArnOfAssumedRole, type ArnParts } from '@vpc-guard/shared';
import { findIds, type Ec2IdKind } from '../runtime/resource-ids';
import { VPC_SOURCES, type CloudTrailDetail, type UserIdentity } from './schema';

/**
 * From an event to the VPCs it touched, and whether vpc-guard itself made the change.
 */

/** An ARN in its parts, the resource split on `/`: `role/path/name` -> `['role', 'path', 'name']`. */
interface SplitArn extends Omit<ArnParts, 'resource'> {
  readonly resource: readonly string[];
}

/**
 * Splits an ARN (or an ARN pattern) into its parts, or undefined when it is not one or names no
 * resource. The resource keeps every `:` it holds, so `user/a:role/X` stays a user's resource and
 * can never pass for a role.
 */
function splitArn(arn: string): SplitArn | undefined {
  const parts = parseArn(arn);
  if (parts === undefined || parts.resource === '') return undefined;
  return { ...parts, resource: parts.resource.split('/') };
}

/** One segment of a pattern: `*` stands for any run of characters within that segment only. */
function segmentMatches(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const expression = pattern
    .split('*')
    .map((piece) => piece.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^:/]*');
  return new RegExp(`^${expression}$`).test(value);
}

/**
 * True when `arn` is an IAM role (or a session of one) that `pattern` names: partition, service,
 * region, account, and every segment of `role/path/name` matched one for one (the path and the name are anchored; a `*` never
 * crosses a `:` or a `/`).
 */
function roleArnMatches(pattern: SplitArn, arn: SplitArn): boolean {
  const kind = arn.resource[0];
  return (
    ((kind === 'role' && arn.service === 'iam') ||
      (kind === 'assumed-role' && arn.service === 'sts')) &&
    arn.region === '' &&
    arn.resource.every((segment) => !segment.includes(':')) &&
    pattern.resource.length === arn.resource.length &&
    segmentMatches(pattern.partition, arn.partition) &&
    segmentMatches(pattern.service, arn.service) &&
    segmentMatches(pattern.region, arn.region) &&
    segmentMatches(pattern.account, arn.account) &&
    pattern.resource.every((segment, index) => segmentMatches(segment, arn.resource[index]!))
  );
}

/**
 * The role ARN of the identity when it matches one of vpc-guard's own (`patterns`, `*` standing for
 * part of one ARN segment), so that the function ignores the changes it made itself (no remediation
 * loop). Only role sessions count: the session issuer's ARN first (it carries the role's path), then
 * the assumed-role ARN. An IAM user, whatever its name, is never taken for vpc-guard.
 */
export function ownIdentityMatch(
  identity: UserIdentity,
  patterns: readonly string[],
): string | undefined {
  const issuer = identity.sessionContext?.sessionIssuer;
  const candidates = [
    issuer?.type === undefined || issuer.type === 'Role' ? issuer?.arn : undefined,
    identity.arn ? roleArnOfAssumedRole(identity.arn) : undefined,
    identity.type === 'AssumedRole' ? identity.arn : undefined,
  ].filter((arn): arn is string => typeof arn === 'string' && arn !== '');
  const parsedPatterns = patterns
    .map(splitArn)
    .filter((pattern): pattern is SplitArn => pattern !== undefined);
  return candidates.find((arn) => {
    const parts = splitArn(arn);
    return parts !== undefined && parsedPatterns.some((pattern) => roleArnMatches(pattern, parts));
  });
}

/** Resource types whose changes are mapped to their VPC by describing the resource. */
const LOOKUP_KINDS: ReadonlyMap<string, Ec2IdKind> = new Map([
  ['AWS::EC2::Subnet', 'subnet'],
  ['AWS::EC2::RouteTable', 'routeTable'],
  ['AWS::EC2::NatGateway', 'natGateway'],
  ['AWS::EC2::InternetGateway', 'internetGateway'],
  ['AWS::EC2::VPCEndpoint', 'vpcEndpoint'],
]);

/** The EC2 id kind to describe for a Config resource type, or undefined for a type not mapped. */
export function lookupKindOf(resourceType: string): Ec2IdKind | undefined {
  return LOOKUP_KINDS.get(resourceType);
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
