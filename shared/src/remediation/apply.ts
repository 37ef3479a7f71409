import { randomUUID } from 'node:crypto';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  CreateVpcEndpointCommand,
  DeleteNatGatewayCommand,
  DeleteRouteCommand,
  DescribeSecurityGroupsCommand,
  ReleaseAddressCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { classifyAwsError, describeAwsError } from '../aws/errors';
import { ENDPOINT_MUTATION_BUCKET, RateLimiterRegistry } from '../aws/rate-limiter';
import { buildVpcContexts, evaluate } from '../evaluate';
import type { GuardPolicy } from '../policy/schema';
import type { VpcContext } from '../rules/types';
import { collectNetworkSnapshot, type CollectOptions } from '../snapshot/collect';
import { RELEASED_FROM_TAG, RELEASED_FROM_VPC_TAG, type NetworkSnapshot } from '../snapshot/schema';
import {
  CallFailed,
  describeAllocation,
  modifyEndpoint,
  routeDestination,
  samePolicy,
  send,
} from './ec2-calls';
import { MANAGED_TAG, PROTECTED_TAG, isProtected, vpcFingerprint } from './plan';
import { narrowVpcPlan, replanVpc } from './plan-narrow';
import type { ActionParams, PlannedAction, RemediationPlan, RouteRef, VpcPlan } from './plan-model';
import {
  RECORD_SCHEMA_VERSION,
  summarizeOutcomes,
  type ActionOutcome,
  type ActionRecord,
  type CallRecord,
  type CreatedResource,
  IN_PROGRESS_DETAIL,
  type RecordJournal,
  type RemediationRecord,
} from './record';

/** What the writer needs from outside: AWS clients, the clock, and who is acting. */
export interface ApplyDependencies {
  /** The EC2 client for an account and region (an assumed member role, in hub mode). */
  readonly ec2For: (accountId: string, region: string) => EC2Client;
  /** The caller's identity for the record (STS GetCallerIdentity ARN). */
  readonly identity: string;
  readonly clock?: () => Date;
  /** Endpoint mutations share one bucket per account-region, sized to EC2's 4 / 0.3 per second. */
  readonly endpointLimiter?: RateLimiterRegistry;
  /** Replaceable for tests; the real collector by default. */
  readonly collect?: (options: CollectOptions) => Promise<NetworkSnapshot>;
  readonly runId?: string;
  /** Called as each action ends, for progress output. */
  readonly onAction?: (record: ActionRecord) => void;
  /**
   * Where the record is kept while the run goes: written at the start, before and after each write,
   * and as each action ends. @default - none: the record is only returned at the end
   */
  readonly journal?: RecordJournal;
}

/** Raised inside an action to end it early with an outcome that is not an error. */
class ActionEnded extends Error {
  constructor(
    readonly outcome: ActionOutcome,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ActionEnded';
  }
}

interface ActionScope {
  readonly ec2: EC2Client;
  readonly context: VpcContext;
  readonly dryRun: boolean;
  readonly limiter: { take(): Promise<void> };
  readonly clock: () => Date;
  readonly calls: CallRecord[];
  readonly created: CreatedResource[];
  readonly removedRoutes: RouteRef[];
  readonly before: Record<string, unknown>;
  readonly after: Record<string, unknown>;
  /** The VPC's vpc-guard security group, once known: shared by the VPC's actions in this run. */
  readonly managedGroup: { id?: string };
  /**
   * Set by an action that fixes no finding and so verifies itself with a describe after its write
   * (`release-elastic-ip`): the rescan by finding does not apply to it.
   */
  readonly verification: { outcome?: 'verified' | 'still-failing' };
  /** Journals the run with this action under way (see `send`). */
  readonly journal?: () => Promise<void>;
}

/**
 * Marks the Elastic IPs of a NAT gateway this run deleted, so a later run may release them once the
 * NAT is `deleted` (DeleteNatGateway does not release them, AWS-FACTS). A failure is reported, not
 * raised: the NAT is gone either way, and an unmarked address is merely never released by vpc-guard.
 */
async function markReleasedAddresses(
  scope: ActionScope,
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

/** The route now in the slot (table and destination) of a planned one, as the VPC was just described. */
function currentRoute(scope: ActionScope, route: RouteRef) {
  const table = scope.context.routeTables.find((t) => t.routeTableId === route.routeTableId);
  return table?.routes.find((r) => r.destination === route.destination);
}

/** Deletes a route and, unless in a dry run, records it as removed so rollback can recreate it. */
async function deleteRoute(scope: ActionScope, route: RouteRef): Promise<void> {
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

async function removeNat(scope: ActionScope, params: ParamsOf<'remove-nat'>): Promise<string> {
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

async function releaseElasticIp(
  scope: ActionScope,
  params: ParamsOf<'release-elastic-ip'>,
): Promise<string> {
  const { allocationId, publicIp, natGatewayId } = params;
  const address = await describeAllocation(scope, allocationId);
  const tags = Object.fromEntries(
    (address?.Tags ?? []).flatMap((t) => (t.Key ? [[t.Key, t.Value ?? '']] : [])),
  );
  Object.assign(scope.before, { allocationId, publicIp, natGatewayId, tags });
  if (!address) throw new ActionEnded('skipped', `Elastic IP ${allocationId} is already released`);
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
}

async function removeInternetRoute(
  scope: ActionScope,
  params: ParamsOf<'remove-internet-route'>,
): Promise<string> {
  const { route } = params;
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
}

async function ensureSecurityGroup(
  scope: ActionScope,
  params: ParamsOf<'create-endpoint'>,
): Promise<string | undefined> {
  if (!params.securityGroup) return undefined;
  const spec = params.securityGroup;
  const vpcId = scope.context.vpc.vpcId;
  // An earlier action of this run made (or found) the group after the VPC was described.
  if (scope.managedGroup.id) return scope.managedGroup.id;
  if ('reuse' in spec && scope.context.securityGroups.has(spec.reuse)) return spec.reuse;
  const managed = [...scope.context.securityGroups.values()].find(
    (g) => g.vpcId === vpcId && g.tags[MANAGED_TAG] === 'true',
  );
  if (managed) return managed.groupId;
  if (!('create' in spec))
    throw new ActionEnded(
      'blocked',
      `security group ${'reuse' in spec ? spec.reuse : ''} no longer exists: re-plan`,
    );
  const group = {
    GroupName: spec.create.groupName,
    Description: spec.create.description,
    VpcId: vpcId,
  };
  if (scope.dryRun) {
    await send(scope, 'CreateSecurityGroup', new CreateSecurityGroupCommand(group));
    return undefined;
  }
  let groupId: string | undefined;
  try {
    const created = await send<{ GroupId?: string }>(
      scope,
      'CreateSecurityGroup',
      new CreateSecurityGroupCommand({
        ...group,
        TagSpecifications: [
          {
            ResourceType: 'security-group',
            Tags: [
              { Key: MANAGED_TAG, Value: 'true' },
              { Key: 'Name', Value: spec.create.groupName },
            ],
          },
        ],
      }),
    );
    groupId = created?.GroupId;
    if (groupId) scope.created.push({ type: 'security-group', id: groupId });
  } catch (error) {
    // A previous, interrupted run created it: find it by name and reuse it.
    if (!(error instanceof CallFailed) || error.code !== 'InvalidGroup.Duplicate') throw error;
    const found = await send<{ SecurityGroups?: { GroupId?: string }[] }>(
      scope,
      'DescribeSecurityGroups',
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'group-name', Values: [spec.create.groupName] },
        ],
      }),
    );
    groupId = found?.SecurityGroups?.[0]?.GroupId;
  }
  if (!groupId) throw new ActionEnded('failed', 'security group creation returned no id');
  scope.managedGroup.id = groupId;
  const v4 = spec.create.ingressCidrs.filter((c) => !c.includes(':'));
  const v6 = spec.create.ingressCidrs.filter((c) => c.includes(':'));
  try {
    await send(
      scope,
      'AuthorizeSecurityGroupIngress',
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            IpRanges: v4.map((CidrIp) => ({
              CidrIp,
              Description: 'HTTPS from the VPC (vpc-guard)',
            })),
            Ipv6Ranges: v6.map((CidrIpv6) => ({
              CidrIpv6,
              Description: 'HTTPS from the VPC (vpc-guard)',
            })),
          },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof CallFailed) || error.code !== 'InvalidPermission.Duplicate') throw error;
  }
  return groupId;
}

async function createEndpoint(
  scope: ActionScope,
  params: ParamsOf<'create-endpoint'>,
): Promise<string> {
  const existing = scope.context.vpcEndpoints.find(
    (e) =>
      e.serviceName === params.serviceName &&
      e.type === params.type &&
      ['pending', 'available', 'pendingacceptance'].includes(e.state),
  );
  if (existing)
    throw new ActionEnded(
      'skipped',
      `${params.type} endpoint ${existing.vpcEndpointId} for ${params.service} already exists`,
    );
  if (
    params.privateDnsEnabled &&
    (scope.context.vpc.enableDnsSupport !== true || scope.context.vpc.enableDnsHostnames !== true)
  ) {
    throw new ActionEnded(
      'blocked',
      "the VPC's DNS attributes do not allow private DNS (enableDnsSupport and enableDnsHostnames must be on)",
    );
  }
  const groupId = await ensureSecurityGroup(scope, params);
  await scope.limiter.take();
  const output = await send<{ VpcEndpoint?: { VpcEndpointId?: string } }>(
    scope,
    'CreateVpcEndpoint',
    new CreateVpcEndpointCommand({
      VpcId: scope.context.vpc.vpcId,
      ServiceName: params.serviceName,
      VpcEndpointType: params.type,
      PolicyDocument: params.policyDocument,
      ClientToken: params.clientToken,
      ...(params.type === 'Interface'
        ? {
            SubnetIds: [...params.subnetIds],
            PrivateDnsEnabled: params.privateDnsEnabled,
            ...(groupId ? { SecurityGroupIds: [groupId] } : {}),
          }
        : { RouteTableIds: [...params.routeTableIds] }),
      TagSpecifications: [
        {
          ResourceType: 'vpc-endpoint',
          Tags: Object.entries(params.tags).map(([Key, Value]) => ({ Key, Value })),
        },
      ],
    }),
  );
  const endpointId = output?.VpcEndpoint?.VpcEndpointId;
  if (endpointId) scope.created.push({ type: 'vpc-endpoint', id: endpointId });
  return scope.dryRun
    ? `would create the ${params.service} endpoint`
    : `created ${params.type} endpoint ${endpointId ?? '?'} for ${params.service}`;
}

function liveEndpoint(scope: ActionScope, endpointId: string) {
  const endpoint = scope.context.vpcEndpoints.find((e) => e.vpcEndpointId === endpointId);
  if (!endpoint || !['pending', 'available'].includes(endpoint.state)) {
    throw new ActionEnded(
      'blocked',
      `endpoint ${endpointId} is ${endpoint ? endpoint.state : 'gone'}: re-plan`,
    );
  }
  return endpoint;
}

async function enablePrivateDns(
  scope: ActionScope,
  params: ParamsOf<'enable-private-dns'>,
): Promise<string> {
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
}

async function extendCoverage(
  scope: ActionScope,
  params: ParamsOf<'extend-endpoint-coverage'>,
): Promise<string> {
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
}

async function replacePolicy(
  scope: ActionScope,
  params: ParamsOf<'replace-endpoint-policy'>,
): Promise<string> {
  const endpoint = liveEndpoint(scope, params.endpointId);
  Object.assign(scope.before, {
    policyDocument: endpoint.policyDocument ?? null,
    endpointType: endpoint.type,
  });
  if (samePolicy(endpoint.policyDocument, params.policyDocument)) {
    throw new ActionEnded(
      'skipped',
      `${endpoint.vpcEndpointId} already has the ${params.service} template policy`,
    );
  }
  if (!samePolicy(endpoint.policyDocument, params.previousPolicyDocument)) {
    throw new ActionEnded(
      'blocked',
      `the policy of ${endpoint.vpcEndpointId} changed since the plan: re-plan`,
    );
  }
  await modifyEndpoint(scope, {
    VpcEndpointId: endpoint.vpcEndpointId,
    PolicyDocument: params.policyDocument,
  });
  return `replaced the policy of ${endpoint.vpcEndpointId}`;
}

/** What each executor is given: the params of its own action, so none re-checks which it got. */
type ParamsOf<A extends ActionParams['action']> = Extract<ActionParams, { readonly action: A }>;

const EXECUTORS: {
  readonly [A in ActionParams['action']]: (
    scope: ActionScope,
    params: ParamsOf<A>,
  ) => Promise<string>;
} = {
  'remove-nat': removeNat,
  'remove-internet-route': removeInternetRoute,
  'create-endpoint': createEndpoint,
  'enable-private-dns': enablePrivateDns,
  'extend-endpoint-coverage': extendCoverage,
  'replace-endpoint-policy': replacePolicy,
  'release-elastic-ip': releaseElasticIp,
};

function execute<A extends ActionParams['action']>(
  action: A,
  scope: ActionScope,
  params: ParamsOf<A>,
): Promise<string> {
  return EXECUTORS[action](scope, params);
}

function needsDnsAttributes(vpcPlan: VpcPlan): boolean {
  return vpcPlan.actions.some(
    (a) =>
      a.status === 'planned' &&
      (a.action === 'enable-private-dns' ||
        (a.params.action === 'create-endpoint' && a.params.privateDnsEnabled)),
  );
}

function endedRecord(action: PlannedAction, outcome: ActionOutcome, detail: string): ActionRecord {
  return {
    id: action.id,
    action: action.action,
    accountId: action.accountId,
    region: action.region,
    vpcId: action.vpcId,
    outcome,
    detail,
    calls: [],
    before: {},
    after: {},
    created: [],
    removedRoutes: [],
    remainingFindingKeys: action.findingKeys,
  };
}

/** Checks that the VPC is still what the plan saw, under the same profile; anything else fails closed. */
function verifyStillPlannable(
  vpcPlan: VpcPlan,
  snapshot: NetworkSnapshot,
  policy: GuardPolicy,
  now: Date,
): { context?: VpcContext; reason?: string } {
  if (!snapshot.vpcs.some((v) => v.vpcId === vpcPlan.vpcId))
    return { reason: `VPC ${vpcPlan.vpcId} no longer exists` };
  const [resolved] = buildVpcContexts(snapshot, policy, { now });
  if (!resolved) return { reason: `VPC ${vpcPlan.vpcId} could not be read` };
  const { context, profileProblem } = resolved;
  if (profileProblem) return { reason: `profile uncertain: ${profileProblem}` };
  if (context.profileName !== vpcPlan.profile)
    return {
      reason: `profile changed from "${vpcPlan.profile}" to "${context.profileName}" since the plan`,
    };
  if (context.exemption.state === 'valid')
    return { reason: `VPC is exempt until ${context.exemption.until}` };
  const mode = context.profile.remediation.mode;
  if (mode !== 'auto' && mode !== 'dry-run')
    return { reason: `profile "${context.profileName}" is now in ${mode} mode` };
  if (vpcFingerprint(context) !== vpcPlan.fingerprint)
    return { reason: 'the VPC changed since the plan: re-plan' };
  return { context };
}

async function applyVpc(
  vpcPlan: VpcPlan,
  policy: GuardPolicy,
  deps: Required<Pick<ApplyDependencies, 'collect' | 'ec2For'>> & {
    clock: () => Date;
    limiter: RateLimiterRegistry;
    budget: Map<string, number>;
    /** Journals the run: this VPC's records so far, and the action under way. */
    journal: (records: readonly ActionRecord[], inProgress?: ActionRecord) => Promise<void>;
  },
): Promise<ActionRecord[]> {
  const records: ActionRecord[] = [];
  const blockedInPlan = vpcPlan.actions.filter((a) => a.status === 'blocked');
  const planned = vpcPlan.actions.filter((a) => a.status === 'planned');
  for (const action of blockedInPlan)
    records.push(endedRecord(action, 'blocked', action.blockedReason ?? 'blocked in the plan'));
  if (planned.length === 0) return records;

  const ec2 = deps.ec2For(vpcPlan.accountId, vpcPlan.region);
  const withDns = needsDnsAttributes(vpcPlan) ? [vpcPlan.vpcId] : [];
  const collectVpc = () =>
    deps.collect({
      ec2,
      accountId: vpcPlan.accountId,
      region: vpcPlan.region,
      vpcIds: [vpcPlan.vpcId],
      dnsAttributesFor: withDns,
      now: deps.clock,
    });
  let snapshot: NetworkSnapshot;
  try {
    snapshot = await collectVpc();
  } catch (error) {
    const kind = classifyAwsError(error);
    for (const action of planned)
      records.push(
        endedRecord(
          action,
          'blocked',
          `could not describe the VPC before acting (${kind}: ${describeAwsError(error)}); nothing written`,
        ),
      );
    return records;
  }
  const check = verifyStillPlannable(vpcPlan, snapshot, policy, deps.clock());
  if (!check.context) {
    for (const action of planned)
      records.push(endedRecord(action, 'blocked', check.reason ?? 'not plannable'));
    return records;
  }
  const context = check.context;
  // The plan is a selection, never an instruction: only actions equal to what the policy plans now
  // from this describe run, with the parameters the policy computes; the rest is blocked.
  const narrowed = narrowVpcPlan(
    { ...vpcPlan, actions: planned },
    replanVpc(snapshot, policy, vpcPlan.vpcId, deps.clock()),
  );
  const runnable: PlannedAction[] = [];
  for (const action of narrowed.actions) {
    if (action.status === 'planned') runnable.push(action);
    else records.push(endedRecord(action, 'blocked', action.blockedReason ?? 'blocked'));
  }
  const cap = context.profile.remediation.maxChangesPerRun;
  const managedGroup: { id?: string } = {};
  const executed: { action: PlannedAction; record: ActionRecord }[] = [];
  let halted: string | undefined;
  for (const action of runnable) {
    if (halted) {
      records.push(endedRecord(action, 'blocked', halted));
      continue;
    }
    const used = deps.budget.get(vpcPlan.profile) ?? 0;
    if (used >= cap) {
      records.push(
        endedRecord(
          action,
          'blocked',
          `blast-radius cap reached (maxChangesPerRun ${cap} for profile "${vpcPlan.profile}")`,
        ),
      );
      continue;
    }
    // The policy decides, not the plan file: an action the profile no longer allows is not run, and
    // only an `auto` profile gets real writes (a plan edited to say `apply` stays a dry run).
    if (!context.profile.remediation.actions.includes(action.action)) {
      records.push(
        endedRecord(
          action,
          'blocked',
          `${action.action} is not in profiles.${vpcPlan.profile}.remediation.actions`,
        ),
      );
      continue;
    }
    const scope: ActionScope = {
      ec2,
      context,
      dryRun: action.execution === 'dry-run' || context.profile.remediation.mode !== 'auto',
      limiter: deps.limiter.for(vpcPlan.accountId, vpcPlan.region),
      clock: deps.clock,
      calls: [],
      created: [],
      removedRoutes: [],
      before: {},
      after: {},
      managedGroup,
      verification: {},
      journal: () =>
        deps.journal(records, {
          ...endedRecord(action, 'failed', IN_PROGRESS_DETAIL),
          calls: scope.calls,
          before: scope.before,
          after: scope.after,
          created: scope.created,
          removedRoutes: scope.removedRoutes,
        }),
    };
    let outcome: ActionOutcome;
    let detail: string;
    try {
      detail = await execute(action.params.action, scope, action.params);
      outcome = scope.dryRun ? 'would-succeed' : (scope.verification.outcome ?? 'verified');
      if (!scope.dryRun) deps.budget.set(vpcPlan.profile, used + 1);
    } catch (error) {
      if (error instanceof ActionEnded) {
        outcome = error.outcome;
        detail = error.detail;
      } else if (error instanceof CallFailed) {
        outcome =
          scope.dryRun && error.code === 'UnauthorizedOperation' ? 'unauthorized' : 'failed';
        detail = error.message;
        if (!scope.dryRun) {
          deps.budget.set(vpcPlan.profile, used + 1);
          // A write that succeeded before the failure means the state is no longer what the rest of
          // the plan assumed.
          const partWay = scope.calls.some(
            (c) => c.result === 'ok' && !c.operation.startsWith('Describe'),
          );
          halted = `not attempted: an earlier action in ${vpcPlan.vpcId} failed${partWay ? ' part-way' : ''} (${action.id})`;
        }
      } else {
        throw error;
      }
    }
    const record: ActionRecord = {
      ...endedRecord(action, outcome, detail),
      calls: scope.calls,
      before: scope.before,
      after: scope.after,
      created: scope.created,
      removedRoutes: scope.removedRoutes,
      remainingFindingKeys: outcome === 'verified' ? [] : action.findingKeys,
    };
    records.push(record);
    if (!scope.dryRun) await deps.journal(records);
    if (outcome === 'verified' && !scope.verification.outcome) executed.push({ action, record });
  }
  if (executed.length === 0) return records;

  // Verify: collect the VPC again and evaluate; an action is verified only if its findings are gone.
  let open: Set<string> | undefined;
  let rescanError: string | undefined;
  try {
    const after = await collectVpc();
    const evaluations = evaluate([after], policy, { now: deps.clock() });
    open = new Set(evaluations.flatMap((e) => e.findings.map((f) => f.key)));
  } catch (error) {
    rescanError = describeAwsError(error);
  }
  return records.map((record) => {
    const done = executed.find((e) => e.record === record);
    if (!done) return record;
    if (!open)
      return {
        ...record,
        outcome: 'still-failing' as const,
        detail: `${record.detail}; could not verify (${rescanError ?? 'rescan failed'})`,
        remainingFindingKeys: done.action.findingKeys,
      };
    const remaining = done.action.findingKeys.filter((key) => open.has(key));
    return remaining.length === 0
      ? { ...record, detail: `${record.detail}; verified by rescan` }
      : {
          ...record,
          outcome: 'still-failing' as const,
          detail: `${record.detail}; rescan still shows ${remaining.length} finding(s)`,
          remainingFindingKeys: remaining,
        };
  });
}

/**
 * Carries out a plan: the only code in vpc-guard that writes to AWS. For each VPC with planned
 * actions it describes the VPC again and refuses (blocked, no write) if the VPC, its profile, its
 * exemption or the policy mode changed since the plan; it plans the VPC again from the policy and
 * that describe and runs only the given plan's actions equal to it in every parameter (the plan
 * narrows, never widens: see `narrowVpcPlan`); then runs each action as describe-compare-act
 * (skipping what is already right), serialising endpoint mutations per account-region through a token
 * bucket, stopping at the blast-radius cap and after a failure within the VPC; then rescans the VPC
 * and marks each action `verified` or `still-failing`. `dry-run` actions send every call with
 * `DryRun: true`. With a `journal`, the record is written before the first call and before and after
 * each write, so a run that stops part-way leaves what it did. Returns the record of the run; never
 * throws for an AWS failure (a journal that cannot be written stops the run before its next write).
 */
export async function applyRemediation(
  plan: RemediationPlan,
  policy: GuardPolicy,
  deps: ApplyDependencies,
): Promise<RemediationRecord> {
  const clock = deps.clock ?? (() => new Date());
  const startedAt = clock().toISOString();
  const runId = deps.runId ?? randomUUID();
  const limiter = deps.endpointLimiter ?? new RateLimiterRegistry(ENDPOINT_MUTATION_BUCKET);
  const budget = new Map<string, number>();
  const actions: ActionRecord[] = [];
  const execution = plan.vpcs.some((v) => v.actions.some((a) => a.execution === 'apply'))
    ? 'apply'
    : 'dry-run';
  const recordOf = (list: readonly ActionRecord[]): RemediationRecord => ({
    schemaVersion: RECORD_SCHEMA_VERSION,
    runId,
    kind: 'apply',
    execution,
    startedAt,
    finishedAt: clock().toISOString(),
    identity: deps.identity,
    plan,
    actions: list,
    summary: summarizeOutcomes(list),
  });
  const journal = async (vpcRecords: readonly ActionRecord[], inProgress?: ActionRecord) => {
    if (!deps.journal) return;
    const list = [...actions, ...vpcRecords, ...(inProgress ? [inProgress] : [])];
    await deps.journal.write({ ...recordOf(list), status: 'running' });
  };
  // The journal exists before the first AWS call: a run that cannot keep its record does not start.
  await journal([]);
  for (const vpcPlan of plan.vpcs) {
    const records = await applyVpc(vpcPlan, policy, {
      collect: deps.collect ?? collectNetworkSnapshot,
      ec2For: deps.ec2For,
      clock,
      limiter,
      budget,
      journal,
    });
    for (const record of records) deps.onAction?.(record);
    actions.push(...records);
  }
  return recordOf(actions);
}
