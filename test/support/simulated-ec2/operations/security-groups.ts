import type {
  AuthorizeSecurityGroupIngressRequest,
  AuthorizeSecurityGroupIngressResult,
  CreateSecurityGroupRequest,
  CreateSecurityGroupResult,
  DeleteSecurityGroupRequest,
  DeleteSecurityGroupResult,
  IpPermission,
  SecurityGroupRule as Ec2SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import type { SecurityGroupRule } from '@vpc-guard/shared';
import { fault } from '../errors';
import type { RegionState, SecurityGroupRecord } from '../state';
import { toWireTags } from '../wire';
import {
  defineOperation,
  findOrThrow,
  notFound,
  required,
  stopIfDryRun,
  tagsFromSpecifications,
  type OperationContext,
  RESOURCE_KINDS,
} from './context';

/** A group by id, or by name in the default VPC (the only place EC2 still looks names up). */
function groupOf(
  state: RegionState,
  groupId: string | undefined,
  groupName: string | undefined,
): SecurityGroupRecord {
  if (groupId !== undefined) {
    return findOrThrow(state.securityGroups, groupId, RESOURCE_KINDS.securityGroup);
  }
  const name = required(groupName, 'GroupId');
  const defaultVpc = [...state.vpcs.values()].find((vpc) => vpc.isDefault);
  const group = [...state.securityGroups.values()].find(
    (candidate) => candidate.groupName === name && candidate.vpcId === defaultVpc?.vpcId,
  );
  if (!group) {
    throw fault(
      'InvalidGroup.NotFound',
      `The security group '${name}' does not exist in default VPC`,
    );
  }
  return group;
}

const createSecurityGroup = defineOperation<CreateSecurityGroupRequest, CreateSecurityGroupResult>(
  true,
  'mutate',
  (context, input) => {
    const { state } = context;
    const groupName = required(input.GroupName, 'GroupName');
    const description = required(input.Description, 'GroupDescription');
    let vpcId = input.VpcId;
    if (vpcId === undefined) {
      vpcId = [...state.vpcs.values()].find((vpc) => vpc.isDefault)?.vpcId;
      if (vpcId === undefined) {
        throw fault('VPCIdNotSpecified', 'No default VPC for this user');
      }
    }
    findOrThrow(state.vpcs, vpcId, RESOURCE_KINDS.vpc);
    if (groupName.startsWith('sg-')) {
      throw fault('InvalidParameterValue', 'Group names may not be in the format sg-*.');
    }
    if (groupName.length > 255) {
      throw fault('InvalidParameterValue', 'Group names may be at most 255 characters long.');
    }
    const duplicate = [...state.securityGroups.values()].some(
      (group) => group.vpcId === vpcId && group.groupName === groupName,
    );
    if (duplicate) {
      throw fault(
        'InvalidGroup.Duplicate',
        `The security group '${groupName}' already exists for VPC '${vpcId}'`,
      );
    }
    const tags = tagsFromSpecifications(input.TagSpecifications, 'security-group');
    stopIfDryRun(input);
    const group: SecurityGroupRecord = {
      groupId: context.ids.next('sg'),
      vpcId,
      ownerId: state.accountId,
      groupName,
      description,
      ingress: [],
      tags,
    };
    state.securityGroups.set(group.groupId, group);
    return {
      GroupId: group.groupId,
      Tags: toWireTags(tags),
      SecurityGroupArn: `arn:aws:ec2:${state.region}:${state.accountId}:security-group/${group.groupId}`,
    };
  },
);

const PROTOCOL_ALIASES: Readonly<Record<string, string>> = {
  all: '-1',
  '6': 'tcp',
  '17': 'udp',
  '1': 'icmp',
  '58': 'icmpv6',
};

/** One source of one permission: the unit EC2 compares for `InvalidPermission.Duplicate`. */
interface PermissionEntry {
  readonly protocol: string;
  readonly fromPort: number | undefined;
  readonly toPort: number | undefined;
  readonly kind: 'cidr' | 'ipv6' | 'prefix-list' | 'group';
  readonly source: string;
}

function entriesOfRule(rule: SecurityGroupRule): PermissionEntry[] {
  const base = { protocol: rule.ipProtocol, fromPort: rule.fromPort, toPort: rule.toPort };
  return [
    ...rule.ipv4Ranges.map((source) => ({ ...base, kind: 'cidr' as const, source })),
    ...rule.ipv6Ranges.map((source) => ({ ...base, kind: 'ipv6' as const, source })),
    ...rule.prefixListIds.map((source) => ({ ...base, kind: 'prefix-list' as const, source })),
    ...rule.sourceSecurityGroupIds.map((source) => ({ ...base, kind: 'group' as const, source })),
  ];
}

function entryKey(entry: PermissionEntry): string {
  return [entry.protocol, entry.fromPort, entry.toPort, entry.kind, entry.source].join('|');
}

function ruleOfPermission(permission: IpPermission): SecurityGroupRule {
  const raw = required(permission.IpProtocol, 'IpPermissions.IpProtocol').toLowerCase();
  const protocol = PROTOCOL_ALIASES[raw] ?? raw;
  if (!['tcp', 'udp', 'icmp', 'icmpv6', '-1'].includes(protocol) && !/^\d{1,3}$/.test(protocol)) {
    throw fault(
      'InvalidParameterValue',
      `Invalid value '${raw}' for IP protocol. Unknown protocol.`,
    );
  }
  const ported = protocol === 'tcp' || protocol === 'udp';
  if (ported && (permission.FromPort === undefined || permission.ToPort === undefined)) {
    throw fault(
      'InvalidParameterValue',
      `Invalid value for portRange. Must specify both from and to ports with TCP/UDP.`,
    );
  }
  return {
    ipProtocol: protocol,
    fromPort: protocol === '-1' ? undefined : permission.FromPort,
    toPort: protocol === '-1' ? undefined : permission.ToPort,
    ipv4Ranges: (permission.IpRanges ?? []).flatMap((range) =>
      range.CidrIp ? [range.CidrIp] : [],
    ),
    ipv6Ranges: (permission.Ipv6Ranges ?? []).flatMap((range) =>
      range.CidrIpv6 ? [range.CidrIpv6] : [],
    ),
    prefixListIds: (permission.PrefixListIds ?? []).flatMap((entry) =>
      entry.PrefixListId ? [entry.PrefixListId] : [],
    ),
    sourceSecurityGroupIds: (permission.UserIdGroupPairs ?? []).flatMap((pair) =>
      pair.GroupId ? [pair.GroupId] : [],
    ),
  };
}

function describeEntry(entry: PermissionEntry): string {
  return `peer: ${entry.source}, ${entry.protocol === '-1' ? 'ALL' : entry.protocol.toUpperCase()}, from port: ${entry.fromPort ?? 'ALL'}, to port: ${entry.toPort ?? 'ALL'}, ALLOW`;
}

const authorizeSecurityGroupIngress = defineOperation<
  AuthorizeSecurityGroupIngressRequest,
  AuthorizeSecurityGroupIngressResult
>(true, 'mutate', (context, input) => {
  const { state } = context;
  const group = groupOf(state, input.GroupId, input.GroupName);
  const permissions: IpPermission[] =
    input.IpPermissions && input.IpPermissions.length > 0
      ? input.IpPermissions
      : [
          {
            IpProtocol: input.IpProtocol,
            FromPort: input.FromPort,
            ToPort: input.ToPort,
            IpRanges: input.CidrIp ? [{ CidrIp: input.CidrIp }] : undefined,
          },
        ];
  const rules = permissions.map(ruleOfPermission);
  const existing = new Set(group.ingress.flatMap(entriesOfRule).map(entryKey));
  const added: PermissionEntry[] = [];
  for (const entry of rules.flatMap(entriesOfRule)) {
    if (entry.kind === 'group' && !state.securityGroups.has(entry.source)) {
      throw notFound(RESOURCE_KINDS.securityGroup, entry.source);
    }
    if (existing.has(entryKey(entry))) {
      throw fault(
        'InvalidPermission.Duplicate',
        `the specified rule "${describeEntry(entry)}" already exists`,
      );
    }
    existing.add(entryKey(entry));
    added.push(entry);
  }
  if (added.length === 0) {
    throw fault(
      'MissingParameter',
      'The request must contain at least one source (IpRanges, Ipv6Ranges, PrefixListIds or UserIdGroupPairs).',
    );
  }
  stopIfDryRun(input);
  group.ingress.push(...rules);
  const securityGroupRules: Ec2SecurityGroupRule[] = added.map((entry) => ({
    SecurityGroupRuleId: context.ids.next('sgr'),
    GroupId: group.groupId,
    GroupOwnerId: group.ownerId,
    IsEgress: false,
    IpProtocol: entry.protocol,
    FromPort: entry.fromPort ?? -1,
    ToPort: entry.toPort ?? -1,
    CidrIpv4: entry.kind === 'cidr' ? entry.source : undefined,
    CidrIpv6: entry.kind === 'ipv6' ? entry.source : undefined,
    PrefixListId: entry.kind === 'prefix-list' ? entry.source : undefined,
    ReferencedGroupInfo:
      entry.kind === 'group' ? { GroupId: entry.source, UserId: group.ownerId } : undefined,
  }));
  return { Return: true, SecurityGroupRules: securityGroupRules };
});

function dependents(context: OperationContext, group: SecurityGroupRecord): string[] {
  const { state } = context;
  const endpoints = [...state.vpcEndpoints.values()]
    .filter((endpoint) => endpoint.securityGroupIds.includes(group.groupId))
    .map((endpoint) => endpoint.vpcEndpointId);
  const referencing = [...state.securityGroups.values()]
    .filter(
      (other) =>
        other.groupId !== group.groupId &&
        other.ingress.some((rule) => rule.sourceSecurityGroupIds.includes(group.groupId)),
    )
    .map((other) => other.groupId);
  return [...endpoints, ...referencing];
}

const deleteSecurityGroup = defineOperation<DeleteSecurityGroupRequest, DeleteSecurityGroupResult>(
  true,
  'mutate',
  (context, input) => {
    const group = groupOf(context.state, input.GroupId, input.GroupName);
    if (group.groupName === 'default') {
      throw fault(
        'CannotDelete',
        `the specified group: "${group.groupId}" name: "default" cannot be deleted by a user`,
      );
    }
    if (dependents(context, group).length > 0) {
      throw fault('DependencyViolation', `resource ${group.groupId} has a dependent object`);
    }
    stopIfDryRun(input);
    context.state.securityGroups.delete(group.groupId);
    return { Return: true, GroupId: group.groupId };
  },
);

export const SECURITY_GROUP_OPERATIONS = {
  CreateSecurityGroup: createSecurityGroup,
  AuthorizeSecurityGroupIngress: authorizeSecurityGroupIngress,
  DeleteSecurityGroup: deleteSecurityGroup,
};
