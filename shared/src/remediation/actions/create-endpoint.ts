import { createHash } from 'node:crypto';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcEndpointCommand,
  DeleteSecurityGroupCommand,
  DeleteVpcEndpointsCommand,
  DescribeSecurityGroupsCommand,
  paginateDescribeVpcEndpoints,
  type VpcEndpoint as Ec2VpcEndpoint,
} from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { awsErrorCode, describeAwsError } from '../../aws/errors';
import { renderEndpointPolicy } from '../../endpoint-policy/templates';
import type { Finding } from '../../evaluate';
import type { GuardPolicy } from '../../policy/schema';
import type { VpcContext } from '../../rules/types';
import { routeTableBySubnet, workloadZones } from '../../rules/vpc-topology';
import { CallFailed, describeGroup, send } from '../ec2-calls';
import { ActionEnded, inRecordVpc, type ApplyScope, type Ending, type StepScope } from '../engine';
import {
  MANAGED_SECURITY_GROUP_NAME,
  MANAGED_TAG,
  NAME_TAG,
  createdEndpointTags,
  tagValue,
} from '../tags';
import {
  describeEndpoint,
  dnsBlocker,
  endpointState,
  isLive,
  named,
  pickSubnetPerZone,
} from './endpoints';
import type { Draft, RemediationActionDefinition, StepDraft } from './types';

/**
 * `create-endpoint`: creates a VPC endpoint the profile requires and the VPC lacks, with the
 * profile's policy template: a Gateway endpoint on every route table that serves subnets, or an
 * Interface endpoint with one ENI per workload AZ behind vpc-guard's security group (reused, or
 * created admitting TCP 443 from the VPC). Its inverse deletes the endpoints and then the security
 * groups the run created, and only those carrying `vpc-guard:managed=true`.
 */

const CreateEndpointParamsSchema = z.strictObject({
  action: z.literal('create-endpoint'),
  service: z.string().min(1),
  serviceName: z.string().min(1),
  type: z.enum(['Interface', 'Gateway']),
  /** Interface: one subnet per workload AZ. */
  subnetIds: z.array(z.string()),
  /** Gateway: every route table that serves subnets. */
  routeTableIds: z.array(z.string()),
  /** Interface: reuse vpc-guard's group in the VPC, or create one admitting TCP 443 from the VPC. */
  securityGroup: z
    .union([
      z.strictObject({ reuse: z.string().min(1) }),
      z.strictObject({
        create: z.strictObject({
          groupName: z.string().min(1),
          description: z.string(),
          ingressCidrs: z.array(z.string()),
        }),
      }),
    ])
    .nullable(),
  privateDnsEnabled: z.boolean(),
  policyDocument: z.string(),
  /** Deterministic: the same VPC, service and policy give the same token, so a retry never duplicates. */
  clientToken: z.string().min(1).max(64),
  tags: z.record(z.string(), z.string()),
});
export type CreateEndpointParams = z.infer<typeof CreateEndpointParamsSchema>;

/** The rollback step that deletes an endpoint the run created. */
export interface DeleteCreatedEndpointParams {
  readonly action: 'delete-created-endpoint';
  readonly endpointId: string;
  readonly service: string | null;
}

/** The rollback step that deletes a security group the run created (after its endpoints). */
export interface DeleteCreatedSecurityGroupParams {
  readonly action: 'delete-created-security-group';
  readonly groupId: string;
}

type CreateEndpointStep = DeleteCreatedEndpointParams | DeleteCreatedSecurityGroupParams;

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
  const hash = createHash('sha256').update(`${accountId}|${vpcId}|${service}|${type}|${digest}`);
  return `vpcguard-${hash.digest('hex').slice(0, 40)}`;
}

function draft(
  context: VpcContext,
  finding: Finding,
  policy: GuardPolicy,
  digest: string,
): Draft<CreateEndpointParams> | undefined {
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
  const tags = createdEndpointTags(service);
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

async function ensureSecurityGroup(
  scope: ApplyScope,
  params: CreateEndpointParams,
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
              { Key: NAME_TAG, Value: spec.create.groupName },
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

async function apply(scope: ApplyScope, params: CreateEndpointParams): Promise<string> {
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

async function deleteCreatedEndpoint(
  scope: StepScope,
  p: DeleteCreatedEndpointParams,
): Promise<Ending> {
  const endpoint = await describeEndpoint(scope, p.endpointId);
  Object.assign(scope.before, { state: endpointState(endpoint) });
  if (!isLive(endpoint))
    throw new ActionEnded('skipped', `${p.endpointId} is already ${endpointState(endpoint)}`);
  inRecordVpc(scope, p.endpointId, endpoint);
  if (tagValue(endpoint.Tags, MANAGED_TAG) !== 'true') {
    throw new ActionEnded(
      'blocked',
      `${p.endpointId} does not carry ${MANAGED_TAG}=true: vpc-guard deletes only what it created`,
    );
  }
  await scope.limiter.take();
  const output = await send<{
    Unsuccessful?: { ResourceId?: string; Error?: { Code?: string; Message?: string } }[];
  }>(
    scope,
    'DeleteVpcEndpoints',
    new DeleteVpcEndpointsCommand({ VpcEndpointIds: [p.endpointId] }),
  );
  if (scope.dryRun) return { outcome: 'would-succeed', detail: `would delete ${p.endpointId}` };
  // DeleteVpcEndpoints reports a failure per endpoint, not as an error of the call.
  const failure = output?.Unsuccessful?.find((u) => u.ResourceId === p.endpointId)?.Error;
  if (failure?.Code?.endsWith('NotFound'))
    throw new ActionEnded('skipped', `${p.endpointId} was already gone`);
  if (failure)
    throw new CallFailed(
      failure.Code,
      `DeleteVpcEndpoints: ${failure.Code ?? 'error'}: ${failure.Message ?? ''}`,
    );
  const after = await describeEndpoint(scope, p.endpointId);
  Object.assign(scope.after, { state: endpointState(after) });
  return isLive(after)
    ? {
        outcome: 'still-failing',
        detail: `asked to delete ${p.endpointId}, but it is still ${endpointState(after)}`,
      }
    : { outcome: 'verified', detail: `deleted ${p.endpointId} (now ${endpointState(after)})` };
}

/** Endpoints of the VPC that still reference the group (every page). */
async function endpointsUsing(scope: StepScope, groupId: string): Promise<Ec2VpcEndpoint[]> {
  const found: Ec2VpcEndpoint[] = [];
  try {
    for await (const page of paginateDescribeVpcEndpoints(
      { client: scope.ec2, pageSize: 1000 },
      { Filters: [{ Name: 'vpc-id', Values: [scope.step.vpcId] }] },
    )) {
      for (const endpoint of page.VpcEndpoints ?? []) {
        if ((endpoint.Groups ?? []).some((g) => g.GroupId === groupId)) found.push(endpoint);
      }
    }
  } catch (error) {
    throw new CallFailed(awsErrorCode(error), `DescribeVpcEndpoints: ${describeAwsError(error)}`);
  }
  return found;
}

async function deleteCreatedSecurityGroup(
  scope: StepScope,
  p: DeleteCreatedSecurityGroupParams,
): Promise<Ending> {
  const group = await describeGroup(scope, p.groupId);
  Object.assign(scope.before, { exists: group !== undefined });
  if (!group) throw new ActionEnded('skipped', `${p.groupId} is already gone`);
  inRecordVpc(scope, p.groupId, group);
  if (tagValue(group.Tags, MANAGED_TAG) !== 'true') {
    throw new ActionEnded(
      'blocked',
      `${p.groupId} does not carry ${MANAGED_TAG}=true: vpc-guard deletes only what it created`,
    );
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      await send(
        scope,
        'DeleteSecurityGroup',
        new DeleteSecurityGroupCommand({ GroupId: p.groupId }),
      );
      break;
    } catch (error) {
      if (!(error instanceof CallFailed) || error.code !== 'DependencyViolation') throw error;
      const users = await endpointsUsing(scope, p.groupId);
      const live = users.filter((e) => isLive(e));
      const keeping = scope.dryRun
        ? live.filter((e) => !scope.run.endpointsDeleted.has(e.VpcEndpointId ?? ''))
        : live;
      if (keeping.length > 0) {
        throw new ActionEnded(
          'blocked',
          `${p.groupId} is still used by ${keeping.map((e) => e.VpcEndpointId).join(', ')}, which this rollback does not delete`,
        );
      }
      if (scope.dryRun) {
        throw new ActionEnded(
          'skipped',
          `not tried in a dry run: ${p.groupId} is used by ${live.map((e) => e.VpcEndpointId).join(', ')}, which the rollback deletes first`,
        );
      }
      if (attempt >= scope.waitAttempts) {
        const deleting = users.map((e) => e.VpcEndpointId).join(', ');
        throw new ActionEnded(
          'still-failing',
          `EC2 still refuses to delete ${p.groupId} after ${attempt} attempts (DependencyViolation${deleting ? `; ${deleting} still deleting` : ''}): rerun the rollback to finish`,
        );
      }
      // A deleting endpoint keeps its network interfaces, and so the group, for a while.
      await scope.sleep(scope.waitIntervalMs);
    }
  }
  if (scope.dryRun) return { outcome: 'would-succeed', detail: `would delete ${p.groupId}` };
  const after = await describeGroup(scope, p.groupId);
  Object.assign(scope.after, { exists: after !== undefined });
  return after
    ? { outcome: 'still-failing', detail: `deleted ${p.groupId}, but EC2 still lists it` }
    : { outcome: 'verified', detail: `deleted security group ${p.groupId}` };
}

export const createEndpoint: RemediationActionDefinition<
  'create-endpoint',
  typeof CreateEndpointParamsSchema,
  CreateEndpointStep,
  CreateEndpointStep
> = {
  name: 'create-endpoint',
  paramsSchema: CreateEndpointParamsSchema,
  fixesEndpoint: true,

  plan: ({ context, findings, policy, policyDigest }) =>
    findings.flatMap((finding) => {
      if (finding.fix?.action !== 'create-endpoint') return [];
      const planned = draft(context, finding, policy, policyDigest);
      return planned ? [planned] : [];
    }),

  probeProtected(params, probe) {
    for (const id of params.routeTableIds) probe.routeTable(id);
    for (const id of params.subnetIds) probe.subnet(id);
    if (params.securityGroup && 'reuse' in params.securityGroup) {
      probe.securityGroup(params.securityGroup.reuse);
    }
  },
  subject: (params) => params.serviceName,
  summarize: (params) => `+ ${params.type} endpoint ${params.serviceName}`,
  needsDnsAttributes: (params) => params.privateDnsEnabled,
  apply,

  inverse: {
    problems: () => [],
    steps({ record, planned, runId }): StepDraft<CreateEndpointStep>[] {
      const service = planned?.service ?? null;
      const endpoints = record.created.filter((c) => c.type === 'vpc-endpoint');
      const groups = record.created.filter((c) => c.type === 'security-group');
      return [
        ...endpoints.map(({ id }): StepDraft<CreateEndpointStep> => ({
          action: 'delete-created-endpoint',
          subject: id,
          summary: `- endpoint ${named(id, service)} (created by run ${runId})`,
          preconditions: [`${id} carries ${MANAGED_TAG}=true`],
          params: { action: 'delete-created-endpoint', endpointId: id, service },
        })),
        // After the endpoints: EC2 refuses to delete a group an endpoint still uses.
        ...groups.map(({ id }): StepDraft<CreateEndpointStep> => ({
          action: 'delete-created-security-group',
          subject: id,
          summary: `- security group ${id} (created by run ${runId})`,
          preconditions: [
            `${id} carries ${MANAGED_TAG}=true`,
            `no endpoint uses ${id} any more (deleting ones are waited for, a bounded number of times)`,
          ],
          params: { action: 'delete-created-security-group', groupId: id },
        })),
      ];
    },
    kinds: {
      'delete-created-endpoint': {
        run: deleteCreatedEndpoint,
        prepare: (params, run) => run.endpointsDeleted.add(params.endpointId),
      },
      'delete-created-security-group': { run: deleteCreatedSecurityGroup },
    },
  },
};
