import { createHash } from 'node:crypto';
import { HOURS_PER_MONTH, pricingFor } from '../cost/pricing';
import { renderEndpointPolicy } from '../endpoint-policy/templates';
import { buildVpcContexts, type Evaluation, type Finding } from '../evaluate';
import type { GuardPolicy, RemediationAction } from '../policy/schema';
import {
  DEFAULT_DESTINATIONS,
  routeTableBySubnet,
  shortServiceName,
  workloadZones,
} from '../rules/vpc-topology';
import type { VpcContext } from '../rules/types';
import {
  RELEASED_FROM_TAG,
  RELEASED_FROM_VPC_TAG,
  type ElasticIp,
  type NetworkSnapshot,
  type Subnet,
} from '../snapshot/schema';
import {
  PLAN_SCHEMA_VERSION,
  type ActionParams,
  type PlannedAction,
  type RemediationPlan,
  type VpcPlan,
} from './plan-model';

/** The tag vpc-guard puts on everything it creates; rollback removes only what carries it. */
export const MANAGED_TAG = 'vpc-guard:managed';
/** The security group vpc-guard creates for interface endpoints it creates. */
export const MANAGED_SECURITY_GROUP_NAME = 'vpc-guard-endpoints';
/**
 * The tag that puts a resource (VPC, NAT gateway, route table, endpoint, security group, Elastic IP)
 * out of vpc-guard's reach, whatever its value: the planner blocks every action that would write to
 * it, the writer checks it again from its own describe, and the remediation role denies the write.
 */
export const PROTECTED_TAG = 'vpc-guard:protected';
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

/**
 * The resources an action would write to that carry {@link PROTECTED_TAG}, as `kind id`, read from
 * the VPC's described state: the VPC itself, the NAT gateway, every route table whose routes it
 * changes (a gateway endpoint writes routes into its tables), the endpoint it modifies, and the
 * subnets and security group a new or extended endpoint is placed in (EC2 authorizes those too). Elastic IPs
 * are not in a VPC's context: the writer checks them from its own describe.
 */
export function protectedResourcesOf(context: VpcContext, params: ActionParams): string[] {
  const found: string[] = [];
  if (isProtected(context.vpc.tags)) found.push(`VPC ${context.vpc.vpcId}`);
  const tables = new Map(context.routeTables.map((t) => [t.routeTableId, t]));
  const table = (id: string) => {
    if (isProtected(tables.get(id)?.tags ?? {})) found.push(`route table ${id}`);
  };
  const subnet = (id: string) => {
    const placed = context.subnets.find((s) => s.subnetId === id);
    if (isProtected(placed?.tags ?? {})) found.push(`subnet ${id}`);
  };
  const endpoint = (id: string) => {
    const live = context.vpcEndpoints.find((e) => e.vpcEndpointId === id);
    if (isProtected(live?.tags ?? {})) found.push(`endpoint ${id}`);
  };
  switch (params.action) {
    case 'remove-nat': {
      const nat = context.natGateways.find((n) => n.natGatewayId === params.natGatewayId);
      if (isProtected(nat?.tags ?? {})) found.push(`NAT gateway ${params.natGatewayId}`);
      for (const id of new Set(params.routes.map((r) => r.routeTableId))) table(id);
      break;
    }
    case 'remove-internet-route':
      table(params.route.routeTableId);
      break;
    case 'create-endpoint':
      for (const id of params.routeTableIds) table(id);
      for (const id of params.subnetIds) subnet(id);
      if (params.securityGroup && 'reuse' in params.securityGroup) {
        const group = context.securityGroups.get(params.securityGroup.reuse);
        if (isProtected(group?.tags ?? {})) found.push(`security group ${group!.groupId}`);
      }
      break;
    case 'enable-private-dns':
    case 'replace-endpoint-policy':
      endpoint(params.endpointId);
      break;
    case 'extend-endpoint-coverage':
      endpoint(params.endpointId);
      for (const id of params.addRouteTableIds) table(id);
      for (const id of params.addSubnetIds) subnet(id);
      break;
    case 'release-elastic-ip':
      break;
  }
  return found;
}

function protectedReason(resources: readonly string[]): string | undefined {
  return resources.length > 0
    ? `${resources.join(', ')} ${resources.length === 1 ? 'is' : 'are'} tagged ${PROTECTED_TAG}: vpc-guard never writes to ${resources.length === 1 ? 'it' : 'them'}`
    : undefined;
}

export interface PlanInput {
  readonly snapshots: readonly NetworkSnapshot[];
  readonly evaluations: readonly Evaluation[];
  readonly policy: GuardPolicy;
  readonly now: Date;
}

/** Actions that put the VPC's endpoints in place; they run before egress is removed. */
export const ENDPOINT_FIXES: ReadonlySet<RemediationAction> = new Set([
  'create-endpoint',
  'extend-endpoint-coverage',
  'enable-private-dns',
]);

/** Removing a live NAT or internet route takes egress away (a blackhole route carries none). */
function cutsEgress(draft: Draft): boolean {
  if (draft.action === 'remove-nat') return true;
  if (draft.action !== 'remove-internet-route') return false;
  return draft.findings.some((finding) => finding.evidence['state'] !== 'blackhole');
}

/** Order of execution inside a VPC: give workloads their endpoints before their egress is cut. */
const ACTION_ORDER: readonly RemediationAction[] = [
  'create-endpoint',
  'extend-endpoint-coverage',
  'enable-private-dns',
  'replace-endpoint-policy',
  'remove-internet-route',
  'remove-nat',
  'release-elastic-ip',
];

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A stable JSON text: object keys sorted, so equal data always digests the same. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : item,
  );
}

/** Digest of the policy a plan was made with. */
export function policyDigest(policy: GuardPolicy): string {
  return sha256(canonical(policy)).slice(0, 16);
}

/**
 * Digest of what vpc-guard acts on in a VPC. `pending` and `available` count as one state, so an
 * endpoint finishing its creation is not a change.
 */
export function vpcFingerprint(context: VpcContext): string {
  const live = (state: string) => (state === 'pending' ? 'available' : state);
  return sha256(
    canonical({
      subnets: context.subnets.map((s) => [s.subnetId, s.availabilityZoneId]).sort(),
      routeTables: context.routeTables
        .map((t) => ({
          id: t.routeTableId,
          main: t.main,
          subnets: [...t.subnetIds].sort(),
          routes: t.routes.map((r) => [r.destination, r.target.type, r.target.id, r.state]).sort(),
        }))
        .sort((a, b) => a.id.localeCompare(b.id)),
      nats: context.natGateways
        .filter((n) => n.state === 'pending' || n.state === 'available')
        .map((n) => n.natGatewayId)
        .sort(),
      endpoints: context.vpcEndpoints
        .map((e) => ({
          id: e.vpcEndpointId,
          state: live(e.state),
          policy: e.policyDocument ?? null,
          dns: e.privateDnsEnabled,
          subnets: [...e.subnetIds].sort(),
          tables: [...e.routeTableIds].sort(),
        }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    }),
  ).slice(0, 16);
}

/**
 * The ClientToken for CreateVpcEndpoint: derived from account, VPC, service, type and policy digest
 * (AWS-FACTS: the SDK does not fill it; at most 64 ASCII characters). A retry of the same plan reuses
 * it, so EC2 returns the endpoint it already made instead of making another.
 */
export function endpointClientToken(
  accountId: string,
  vpcId: string,
  service: string,
  type: string,
  digest: string,
): string {
  return `vpcguard-${sha256(`${accountId}|${vpcId}|${service}|${type}|${digest}`).slice(0, 40)}`;
}

function hasInternetRoute(subnet: Subnet, tables: ReturnType<typeof routeTableBySubnet>): boolean {
  const table = tables.get(subnet.subnetId);
  return (
    table?.routes.some(
      (route) =>
        DEFAULT_DESTINATIONS.has(route.destination) &&
        ['igw', 'nat', 'eigw'].includes(route.target.type),
    ) ?? false
  );
}

/**
 * One subnet per AZ for interface endpoint ENIs: prefer subnets whose route table has no internet
 * route (private subnets), then the lowest id, so the choice is deterministic.
 */
function pickSubnetPerZone(context: VpcContext, zoneIds: ReadonlySet<string>): Subnet[] {
  const tables = routeTableBySubnet(context);
  const publicRank = new Map(
    context.subnets.map((s) => [s.subnetId, Number(hasInternetRoute(s, tables))]),
  );
  const byZone = new Map<string, Subnet>();
  const ranked = [...context.subnets].sort(
    (a, b) =>
      publicRank.get(a.subnetId)! - publicRank.get(b.subnetId)! ||
      a.subnetId.localeCompare(b.subnetId),
  );
  for (const subnet of ranked) {
    if (zoneIds.has(subnet.availabilityZoneId) && !byZone.has(subnet.availabilityZoneId)) {
      byZone.set(subnet.availabilityZoneId, subnet);
    }
  }
  return [...byZone.values()].sort((a, b) => a.availabilityZone.localeCompare(b.availabilityZone));
}

interface Draft {
  readonly action: RemediationAction;
  readonly subject: string;
  readonly findings: readonly Finding[];
  /** Why, when no finding says it (an action that tidies up after an earlier fix). */
  readonly reason?: string;
  readonly summary: string;
  readonly preconditions: readonly string[];
  readonly expectedEffect: string;
  readonly monthlyCostChangeUsd: number;
  readonly params: ActionParams;
  /** A reason this action cannot run whatever the profile allows (e.g. VPC DNS attributes off). */
  readonly blockedReason?: string;
}

function dnsBlocker(context: VpcContext): string | undefined {
  const { enableDnsSupport, enableDnsHostnames } = context.vpc;
  if (enableDnsSupport === undefined || enableDnsHostnames === undefined) {
    return 'the VPC DNS attributes were not collected (collect with them before enabling private DNS)';
  }
  const off = [
    !enableDnsSupport && 'enableDnsSupport',
    !enableDnsHostnames && 'enableDnsHostnames',
  ].filter(Boolean);
  return off.length > 0
    ? `the VPC's ${off.join(' and ')} ${off.length === 1 ? 'is' : 'are'} off: private DNS cannot be enabled`
    : undefined;
}

function draftCreateEndpoint(
  context: VpcContext,
  finding: Finding,
  policy: GuardPolicy,
  digest: string,
): Draft | undefined {
  const service = String(finding.evidence['service']);
  const required = context.profile.endpoints.required.find((r) => r.service === service);
  if (!required) return undefined;
  const { region, accountId, vpc } = context;
  const serviceName = `com.amazonaws.${region}.${service}`;
  const policyDocument = renderEndpointPolicy(context.profile.endpointPolicy.template, {
    organizationId: policy.organization.id,
    region,
    service,
    type: required.type,
  });
  const clientToken = endpointClientToken(accountId, vpc.vpcId, service, required.type, digest);
  const tags = { [MANAGED_TAG]: 'true', Name: `vpc-guard-${service}` };
  if (required.type === 'Gateway') {
    const tables = routeTableBySubnet(context);
    const tableIds = [...new Set(context.subnets.map((s) => tables.get(s.subnetId)?.routeTableId))]
      .filter((id): id is string => id !== undefined)
      .sort();
    return {
      action: 'create-endpoint',
      subject: service,
      findings: [finding],
      summary: `+ gateway endpoint ${service} on ${tableIds.join(', ')} (${context.profile.endpointPolicy.template} policy)`,
      preconditions: [
        `no ${service} Gateway endpoint in ${vpc.vpcId}`,
        ...tableIds.map((id) => `route table ${id} exists`),
      ],
      expectedEffect: `a Gateway endpoint for ${service} on every route table that serves subnets`,
      monthlyCostChangeUsd: 0,
      params: {
        action: 'create-endpoint',
        service,
        serviceName,
        type: 'Gateway',
        subnetIds: [],
        routeTableIds: tableIds,
        securityGroup: null,
        privateDnsEnabled: false,
        policyDocument,
        clientToken,
        tags,
      },
    };
  }
  const allZones = workloadZones(context.subnets);
  const zones =
    context.profile.endpoints.coverage === 'every-workload-az'
      ? new Set(allZones.map((z) => z.zoneId))
      : new Set(allZones.slice(0, 1).map((z) => z.zoneId));
  const subnets = pickSubnetPerZone(context, zones);
  const privateDns = (required.privateDns ?? context.profile.endpoints.privateDns) === 'required';
  const managed = [...context.securityGroups.values()].find(
    (group) => group.vpcId === vpc.vpcId && group.tags[MANAGED_TAG] === 'true',
  );
  const cidrs = [...vpc.cidrBlocks, ...vpc.ipv6CidrBlocks];
  return {
    action: 'create-endpoint',
    subject: service,
    findings: [finding],
    summary: `+ interface endpoint ${service} in ${subnets.map((s) => s.availabilityZone).join(', ')}${privateDns ? ' with private DNS' : ''} (${context.profile.endpointPolicy.template} policy)`,
    preconditions: [
      `no ${service} Interface endpoint in ${vpc.vpcId}`,
      ...subnets.map((s) => `subnet ${s.subnetId} exists`),
      ...(privateDns ? ['VPC enableDnsSupport and enableDnsHostnames are on'] : []),
    ],
    expectedEffect: `an available Interface endpoint for ${service} in ${subnets.length} AZ${subnets.length === 1 ? '' : 's'}`,
    monthlyCostChangeUsd: finding.cost?.monthlyUsd ?? 0,
    params: {
      action: 'create-endpoint',
      service,
      serviceName,
      type: 'Interface',
      subnetIds: subnets.map((s) => s.subnetId),
      routeTableIds: [],
      securityGroup: managed
        ? { reuse: managed.groupId }
        : {
            create: {
              groupName: MANAGED_SECURITY_GROUP_NAME,
              description: 'vpc-guard: HTTPS from the VPC to its interface endpoints',
              ingressCidrs: cidrs,
            },
          },
      privateDnsEnabled: privateDns,
      policyDocument,
      clientToken,
      tags,
    },
    ...(privateDns && dnsBlocker(context) ? { blockedReason: dnsBlocker(context)! } : {}),
    ...(subnets.length === 0
      ? { blockedReason: 'the VPC has no subnet to place the endpoint in' }
      : {}),
  };
}

/** An Elastic IP vpc-guard marked when it deleted its NAT gateway, with that NAT's id. */
interface ReleasableAddress {
  readonly address: ElasticIp;
  readonly natGatewayId: string;
}

/** NAT states in which the NAT still holds its addresses, or may again: not yet time to release. */
const NAT_HOLDS_ADDRESSES: ReadonlySet<string> = new Set(['pending', 'available', 'deleting']);

/**
 * The snapshot's marked Elastic IPs that may be released now, by the VPC their NAT gateway was in.
 * Addresses are regional: the `vpc-guard:released-from-vpc` tag says which VPC (and so which
 * profile) decides. An address waits while its NAT is still live in the snapshot (a `deleting` NAT
 * holds it until `deleted`, AWS-FACTS) and is left alone once associated again (someone uses it).
 */
function releasableAddresses(snapshot: NetworkSnapshot): Map<string, ReleasableAddress[]> {
  const nats = new Map(snapshot.natGateways.map((nat) => [nat.natGatewayId, nat]));
  const byVpc = new Map<string, ReleasableAddress[]>();
  for (const address of snapshot.elasticIps) {
    const natGatewayId = address.tags[RELEASED_FROM_TAG];
    if (!natGatewayId) continue;
    const nat = nats.get(natGatewayId);
    const vpcId = address.tags[RELEASED_FROM_VPC_TAG] || nat?.vpcId;
    if (!vpcId || (nat && NAT_HOLDS_ADDRESSES.has(nat.state))) continue;
    if (address.associationId !== undefined || address.networkInterfaceId !== undefined) continue;
    const list = byVpc.get(vpcId) ?? [];
    list.push({ address, natGatewayId });
    byVpc.set(vpcId, list);
  }
  return byVpc;
}

function draftRelease(context: VpcContext, { address, natGatewayId }: ReleasableAddress): Draft {
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

function draftsFor(
  context: VpcContext,
  evaluation: Evaluation,
  policy: GuardPolicy,
  digest: string,
  releasable: readonly ReleasableAddress[],
): Draft[] {
  const drafts: Draft[] = releasable.map((candidate) => draftRelease(context, candidate));
  const endpoints = new Map(context.vpcEndpoints.map((e) => [e.vpcEndpointId, e]));
  const natDrafts = new Map<string, Draft>();
  for (const finding of evaluation.findings) {
    const evidence = finding.evidence;
    switch (finding.fix?.action) {
      case 'remove-nat': {
        if (finding.ruleId !== 'nat-gateway-forbidden') break; // NAT routes travel with the NAT's action
        const nat = context.natGateways.find((n) => n.natGatewayId === finding.resourceId);
        if (!nat) break;
        const routes = context.routeTables.flatMap((table) =>
          table.routes
            .filter((r) => r.target.type === 'nat' && r.target.id === nat.natGatewayId)
            .map((r) => ({
              routeTableId: table.routeTableId,
              destination: r.destination,
              target: r.target,
            })),
        );
        const draft: Draft = {
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
            allocationIds: nat.allocationIds,
            publicIps: nat.publicIps,
            routes,
          },
        };
        natDrafts.set(nat.natGatewayId, draft);
        drafts.push(draft);
        break;
      }
      case 'remove-internet-route': {
        const table = context.routeTables.find((t) => t.routeTableId === evidence['routeTableId']);
        const route = table?.routes.find((r) => r.destination === evidence['destination']);
        if (!table || !route) break;
        drafts.push({
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
        });
        break;
      }
      case 'create-endpoint': {
        const draft = draftCreateEndpoint(context, finding, policy, digest);
        if (draft) drafts.push(draft);
        break;
      }
      case 'enable-private-dns': {
        const endpointId = finding.resourceId;
        const service = String(evidence['service']);
        const blocker = dnsBlocker(context);
        drafts.push({
          action: 'enable-private-dns',
          subject: service,
          findings: [finding],
          summary: `~ private DNS on for ${endpointId} (${service})`,
          preconditions: [
            `${endpointId} is available with private DNS off`,
            'VPC enableDnsSupport and enableDnsHostnames are on',
          ],
          expectedEffect: `${endpointId} has private DNS enabled`,
          monthlyCostChangeUsd: 0,
          params: { action: 'enable-private-dns', endpointId, service },
          ...(blocker ? { blockedReason: blocker } : {}),
        });
        break;
      }
      case 'extend-endpoint-coverage': {
        const endpoint = endpoints.get(finding.resourceId);
        if (!endpoint) break;
        const service = String(evidence['service']);
        if (endpoint.type === 'Gateway') {
          const missing = (evidence['missingRouteTables'] as { routeTableId: string }[]).map(
            (t) => t.routeTableId,
          );
          drafts.push({
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
          });
        } else {
          const missingNames = new Set(evidence['missingZones'] as string[]);
          const zoneIds = new Set(
            context.subnets
              .filter((s) => missingNames.has(s.availabilityZone))
              .map((s) => s.availabilityZoneId),
          );
          const subnets = pickSubnetPerZone(context, zoneIds);
          drafts.push({
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
          });
        }
        break;
      }
      case 'replace-endpoint-policy': {
        const endpoint = endpoints.get(finding.resourceId);
        if (!endpoint || (endpoint.type !== 'Interface' && endpoint.type !== 'Gateway')) break;
        const service = shortServiceName(context.region, endpoint.serviceName);
        const common = {
          action: 'replace-endpoint-policy' as const,
          subject: endpoint.vpcEndpointId,
          findings: [finding],
          preconditions: [
            `${endpoint.vpcEndpointId} still has the policy that was judged (compared by content)`,
          ],
          expectedEffect: `${endpoint.vpcEndpointId} passes endpoint-policy-too-broad`,
          monthlyCostChangeUsd: 0,
        };
        if (service === undefined) {
          drafts.push({
            ...common,
            summary: `~ policy of ${endpoint.vpcEndpointId} (${endpoint.serviceName})`,
            params: {
              action: 'replace-endpoint-policy',
              endpointId: endpoint.vpcEndpointId,
              service: endpoint.serviceName,
              endpointType: endpoint.type,
              policyDocument: '',
              previousPolicyDocument: endpoint.policyDocument ?? null,
            },
            blockedReason:
              'not an AWS service endpoint of this region: vpc-guard has no template for it',
          });
          break;
        }
        drafts.push({
          ...common,
          summary: `~ policy of ${endpoint.vpcEndpointId} (${service}) -> ${context.profile.endpointPolicy.template} template`,
          params: {
            action: 'replace-endpoint-policy',
            endpointId: endpoint.vpcEndpointId,
            service,
            endpointType: endpoint.type,
            policyDocument: renderEndpointPolicy(context.profile.endpointPolicy.template, {
              organizationId: policy.organization.id,
              region: context.region,
              service,
              type: endpoint.type,
            }),
            previousPolicyDocument: endpoint.policyDocument ?? null,
          },
        });
        break;
      }
      default:
        break;
    }
  }
  // An internet-route finding for a NAT route is fixed by the NAT's removal: record it there.
  for (const finding of evaluation.findings) {
    if (finding.ruleId !== 'internet-route-forbidden' || finding.fix?.action !== 'remove-nat')
      continue;
    const target = (finding.evidence['target'] as { id?: string } | undefined)?.id;
    const draft = target ? natDrafts.get(target) : undefined;
    if (draft) (draft.findings as Finding[]).push(finding);
  }
  return drafts.sort(
    (a, b) =>
      ACTION_ORDER.indexOf(a.action) - ACTION_ORDER.indexOf(b.action) ||
      a.subject.localeCompare(b.subject),
  );
}

/**
 * Plans the remediation of every evaluated VPC. Pure: same input, same plan. Honours each profile's
 * mode (`off` and `notify` plan nothing; `dry-run` plans DryRun calls; `auto` plans changes), its
 * allowed actions and its `maxChangesPerRun` (counted per profile across the run, worst findings
 * first). Exempt VPCs and VPCs whose profile is uncertain get no action: uncertainty fails closed.
 * A VPC whose vpc-guard tags cannot be read (see {@link vpcIntentProblem}) gets every action blocked
 * with the reason, and an action that would write to a resource tagged {@link PROTECTED_TAG} is
 * blocked too.
 * An Elastic IP left by a NAT gateway vpc-guard deleted is released in a later run, once that NAT is
 * gone from the snapshot and the address is unassociated, under the profile of the VPC the NAT was
 * in; such a VPC gets a plan even when it is otherwise compliant.
 */
export function planRemediation(input: PlanInput): RemediationPlan {
  const { policy, now } = input;
  const digest = policyDigest(policy);
  const evaluations = new Map(
    input.evaluations.map((e) => [`${e.accountId}/${e.region}/${e.vpcId}`, e]),
  );
  const budget = new Map<string, number>();
  const vpcs: VpcPlan[] = [];
  for (const snapshot of input.snapshots) {
    const releasableByVpc = releasableAddresses(snapshot);
    for (const { context, profileProblem } of buildVpcContexts(snapshot, policy, { now })) {
      const key = `${context.accountId}/${context.region}/${context.vpc.vpcId}`;
      const evaluation = evaluations.get(key);
      const releasable = releasableByVpc.get(context.vpc.vpcId) ?? [];
      if (!evaluation || (evaluation.compliance === 'COMPLIANT' && releasable.length === 0))
        continue;
      const settings = context.profile.remediation;
      const base = {
        accountId: context.accountId,
        region: context.region,
        vpcId: context.vpc.vpcId,
        vpcName: evaluation.vpcName,
        profile: context.profileName,
        mode: settings.mode,
        fingerprint: vpcFingerprint(context),
      };
      const notes: string[] = [];
      if (evaluation.compliance === 'NOT_APPLICABLE')
        notes.push(`exempt: ${evaluation.annotation}`);
      else if (profileProblem) notes.push(`profile uncertain, nothing planned: ${profileProblem}`);
      else if (settings.mode === 'off' || settings.mode === 'notify') {
        notes.push(
          evaluation.compliance === 'COMPLIANT'
            ? `profile "${context.profileName}" is in ${settings.mode} mode: ${releasable.length} Elastic IP(s) left by a removed NAT gateway stay allocated`
            : `profile "${context.profileName}" is in ${settings.mode} mode: findings are reported, not fixed`,
        );
      }
      if (notes.length > 0) {
        vpcs.push({ ...base, actions: [], notes });
        continue;
      }
      const allowed = new Set(settings.actions);
      // Tags that leave the operator's intent unclear: findings are reported, nothing is written.
      const uncertain = vpcIntentProblem(context, policy);
      if (uncertain) notes.push(`intent uncertain, nothing is written: ${uncertain}`);
      const actions: PlannedAction[] = [];
      for (const draft of draftsFor(context, evaluation, policy, digest, releasable)) {
        const used = budget.get(context.profileName) ?? 0;
        // The profile's action list first: neither a tag fix nor a DNS attribute would unblock an
        // action it does not allow (and the DNS attributes are not even read for it), so the reason
        // must say so. Then doubt and protection: nothing else could unblock them.
        let blockedReason = !allowed.has(draft.action)
          ? `${draft.action} is not in profiles.${context.profileName}.remediation.actions`
          : uncertain
            ? `intent uncertain: ${uncertain}; fix the tag to let vpc-guard act`
            : (protectedReason(protectedResourcesOf(context, draft.params)) ?? draft.blockedReason);
        if (!blockedReason && cutsEgress(draft)) {
          // Workloads that lose their NAT or internet route reach AWS only through endpoints: cutting
          // egress while a required endpoint fix is held back would cut them off AWS APIs.
          const held = actions.filter(
            (a) => ENDPOINT_FIXES.has(a.action) && a.status === 'blocked',
          );
          if (held.length > 0) {
            blockedReason = `${held.length} endpoint fix${held.length === 1 ? ' is' : 'es are'} blocked in this VPC (${held.map((a) => a.action).join(', ')}): egress is removed only once the required endpoints are in place`;
          }
        }
        if (!blockedReason && used >= settings.maxChangesPerRun) {
          blockedReason = `over the blast-radius cap: profiles.${context.profileName}.remediation.maxChangesPerRun is ${settings.maxChangesPerRun}; the next run continues`;
        }
        if (!blockedReason) budget.set(context.profileName, used + 1);
        actions.push({
          id: `${key}/${draft.action}/${draft.subject}`,
          action: draft.action,
          accountId: context.accountId,
          region: context.region,
          vpcId: context.vpc.vpcId,
          status: blockedReason ? 'blocked' : 'planned',
          ...(blockedReason ? { blockedReason } : {}),
          execution: settings.mode === 'auto' ? 'apply' : 'dry-run',
          summary: draft.summary,
          findingKeys: draft.findings.map((f) => f.key),
          reason: draft.reason ?? draft.findings.map((f) => f.message).join('; '),
          preconditions: draft.preconditions,
          expectedEffect: draft.expectedEffect,
          monthlyCostChangeUsd: Math.round(draft.monthlyCostChangeUsd * 100) / 100,
          params: draft.params,
        });
      }
      const unfixed = evaluation.findings.filter((f) => f.fix === null).length;
      if (unfixed > 0)
        notes.push(`${unfixed} finding${unfixed === 1 ? ' has' : 's have'} no automatic fix`);
      vpcs.push({ ...base, actions, notes });
    }
  }
  vpcs.sort(
    (a, b) =>
      a.accountId.localeCompare(b.accountId) ||
      a.region.localeCompare(b.region) ||
      a.vpcId.localeCompare(b.vpcId),
  );
  const all = vpcs.flatMap((v) => v.actions);
  const planned = all.filter((a) => a.status === 'planned');
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    createdAt: now.toISOString(),
    organizationId: policy.organization.id,
    policyDigest: digest,
    vpcs,
    totals: {
      actions: all.length,
      planned: planned.length,
      blocked: all.length - planned.length,
      monthlyCostChangeUsd:
        Math.round(planned.reduce((t, a) => t + a.monthlyCostChangeUsd, 0) * 100) / 100,
    },
  };
}
