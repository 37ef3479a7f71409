import type {
  CreateVpcEndpointRequest,
  CreateVpcEndpointResult,
  DeleteVpcEndpointsRequest,
  DeleteVpcEndpointsResult,
  ModifyVpcEndpointRequest,
  ModifyVpcEndpointResult,
} from '@aws-sdk/client-ec2';
import { fault } from '../errors';
import { privateDnsNameOf } from '../endpoint-services';
import type { RegionState, VpcEndpointRecord, VpcRecord } from '../state';
import { toWireVpcEndpoint } from '../wire';
import {
  defineOperation,
  findOrThrow,
  notFound,
  rememberClientToken,
  replayedRecord,
  required,
  stopIfDryRun,
  tagsFromSpecifications,
  type OperationContext,
  RESOURCE_KINDS,
} from './context';

/**
 * The policy EC2 attaches when a request gives none: full access (AWS-FACTS.md, "Endpoint policies").
 * EC2 serialises it with the 2008-10-17 policy version.
 */
export const DEFAULT_ENDPOINT_POLICY = JSON.stringify({
  Version: '2008-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
});

// AWS-FACTS.md: an endpoint policy is at most 20,480 characters.
const MAX_POLICY_LENGTH = 20_480;

const GONE_STATES: ReadonlySet<VpcEndpointRecord['state']> = new Set(['deleting', 'deleted']);

function liveEndpoint(state: RegionState, id: string): VpcEndpointRecord {
  const endpoint = findOrThrow(state.vpcEndpoints, id, RESOURCE_KINDS.vpcEndpoint);
  if (GONE_STATES.has(endpoint.state)) {
    throw notFound(RESOURCE_KINDS.vpcEndpoint, id);
  }
  return endpoint;
}

function wire(context: OperationContext, endpoint: VpcEndpointRecord) {
  const { state } = context;
  return toWireVpcEndpoint(
    endpoint,
    state.region,
    (groupId) => state.securityGroups.get(groupId)?.groupName ?? groupId,
  );
}

/**
 * Checks a policy document the way EC2 does: JSON, within the size limit, and for gateway
 * endpoints every statement open to `Principal: "*"` (AWS-FACTS.md: gateway endpoints scope with
 * conditions, not principals).
 */
function validatePolicy(document: string, type: VpcEndpointRecord['type']): void {
  if (document.length > MAX_POLICY_LENGTH) {
    throw fault(
      'InvalidPolicyDocument',
      `The Policy Document exceeds the maximum length of ${MAX_POLICY_LENGTH}.`,
    );
  }
  let policy: unknown;
  try {
    policy = JSON.parse(document);
  } catch (error) {
    throw fault(
      'InvalidPolicyDocument',
      `The Policy Document is not valid. ${(error as Error).message}`,
    );
  }
  if (!policy || typeof policy !== 'object' || Array.isArray(policy) || !('Statement' in policy)) {
    throw fault(
      'InvalidPolicyDocument',
      'The Policy Document is not valid. It must be an object with a Statement.',
    );
  }
  if (type === 'Gateway') {
    const statements = policy.Statement;
    const list: unknown[] = Array.isArray(statements) ? statements : [statements];
    for (const statement of list) {
      const principal = (statement as { Principal?: unknown } | null)?.Principal;
      const open = principal === '*' || (principal as { AWS?: unknown } | undefined)?.AWS === '*';
      if (!open) {
        throw fault(
          'InvalidPolicyDocument',
          'The Policy Document is not valid. Gateway endpoint policies must allow Principal "*" and scope access with conditions.',
        );
      }
    }
  }
}

/** Private DNS needs the VPC's DNS attributes and no other endpoint claiming the same name. */
function checkPrivateDns(
  state: RegionState,
  vpc: VpcRecord,
  serviceName: string,
  selfId: string | undefined,
): void {
  if (!vpc.enableDnsSupport || !vpc.enableDnsHostnames) {
    throw fault(
      'InvalidParameter',
      `Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for ${vpc.vpcId}`,
    );
  }
  const conflicting = [...state.vpcEndpoints.values()].some(
    (other) =>
      other.vpcEndpointId !== selfId &&
      other.vpcId === vpc.vpcId &&
      other.serviceName === serviceName &&
      other.privateDnsEnabled &&
      !GONE_STATES.has(other.state),
  );
  if (conflicting) {
    throw fault(
      'InvalidParameter',
      `private-dns-enabled cannot be set because there is already a conflicting DNS domain for ${privateDnsNameOf(serviceName, state.region)} in the VPC ${vpc.vpcId}`,
    );
  }
}

/** Subnets of an interface endpoint: in the VPC, at most one per availability zone. */
function checkSubnets(state: RegionState, vpcId: string, subnetIds: readonly string[]): void {
  const zones = new Map<string, string>();
  for (const subnetId of subnetIds) {
    const subnet = findOrThrow(state.subnets, subnetId, RESOURCE_KINDS.subnet);
    if (subnet.vpcId !== vpcId) {
      throw fault(
        'InvalidParameter',
        `The subnet ID '${subnetId}' does not belong to the VPC '${vpcId}'.`,
      );
    }
    if (zones.has(subnet.availabilityZone)) {
      throw fault(
        'DuplicateSubnetsInSameZone',
        `Found another VPC endpoint subnet in the availability zone of ${subnetId}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service.`,
      );
    }
    zones.set(subnet.availabilityZone, subnetId);
  }
}

function checkSecurityGroups(state: RegionState, vpcId: string, groupIds: readonly string[]): void {
  for (const groupId of groupIds) {
    const group = findOrThrow(state.securityGroups, groupId, RESOURCE_KINDS.securityGroup);
    if (group.vpcId !== vpcId) {
      throw fault(
        'InvalidParameter',
        `Security group ${groupId} and VPC ${vpcId} belong to different networks.`,
      );
    }
  }
}

/** Route tables of a gateway endpoint: in the VPC, and not already routing the service's prefix list. */
function checkGatewayRouteTables(
  state: RegionState,
  vpcId: string,
  tableIds: readonly string[],
  serviceName: string,
): void {
  const prefixList = state.prefixListFor(serviceName);
  for (const tableId of tableIds) {
    const table = findOrThrow(state.routeTables, tableId, RESOURCE_KINDS.routeTable);
    if (table.vpcId !== vpcId) {
      throw fault(
        'InvalidParameter',
        `The route table ${tableId} does not belong to the VPC ${vpcId}.`,
      );
    }
    if (table.routes.some((route) => route.destination === prefixList)) {
      throw fault(
        'RouteAlreadyExists',
        `route table ${tableId} already has a route with destination-prefix-list-id ${prefixList}`,
      );
    }
  }
}

function addGatewayRoutes(
  state: RegionState,
  endpoint: VpcEndpointRecord,
  tableIds: readonly string[],
): void {
  const prefixList = state.prefixListFor(endpoint.serviceName);
  for (const tableId of tableIds) {
    state.routeTables.get(tableId)?.routes.push({
      destination: prefixList,
      target: { type: 'vpce', id: endpoint.vpcEndpointId },
      state: 'active',
      origin: 'createroute',
    });
  }
}

function removeGatewayRoutes(
  state: RegionState,
  endpointId: string,
  tableIds: readonly string[],
): void {
  for (const tableId of tableIds) {
    const table = state.routeTables.get(tableId);
    if (table) {
      table.routes = table.routes.filter(
        (route) => !(route.target.type === 'vpce' && route.target.id === endpointId),
      );
    }
  }
}

function rejectIf(condition: boolean, message: string): void {
  if (condition) {
    throw fault('InvalidParameter', message);
  }
}

/** Each id once, in the order given. */
function distinct(ids: readonly string[] | undefined): string[] {
  return [...new Set(ids ?? [])];
}

/** One Add/Remove pair of ModifyVpcEndpoint parameters. */
interface ListChange {
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

function listChange(
  add: readonly string[] | undefined,
  remove: readonly string[] | undefined,
): ListChange {
  return { add: distinct(add), remove: distinct(remove) };
}

function isEmpty(change: ListChange): boolean {
  return change.add.length + change.remove.length === 0;
}

/** A list after a change: removed ids gone, ids it did not hold yet appended. */
function changedList(current: readonly string[], change: ListChange): string[] {
  return [
    ...current.filter((id) => !change.remove.includes(id)),
    ...change.add.filter((id) => !current.includes(id)),
  ];
}

/** EC2 refuses to remove what the endpoint is not associated with. */
function checkRemovable(
  endpoint: VpcEndpointRecord,
  current: readonly string[],
  change: ListChange,
  noun: string,
): void {
  for (const id of change.remove) {
    rejectIf(
      !current.includes(id),
      `The ${noun} ${id} is not associated with ${endpoint.vpcEndpointId}.`,
    );
  }
}

const createVpcEndpoint = defineOperation<CreateVpcEndpointRequest, CreateVpcEndpointResult>(
  true,
  'endpoint',
  (context, input) => {
    const { state } = context;
    const vpcId = required(input.VpcId, 'VpcId');
    const serviceName = required(input.ServiceName, 'ServiceName');
    const existing = replayedRecord(context, input, state.vpcEndpoints);
    if (existing) {
      return { VpcEndpoint: wire(context, existing), ClientToken: input.ClientToken };
    }
    const vpc = findOrThrow(state.vpcs, vpcId, RESOURCE_KINDS.vpc);
    const offered = state.endpointServices.get(serviceName);
    if (!offered) {
      throw fault('InvalidServiceName', `The Vpc Endpoint Service '${serviceName}' does not exist`);
    }
    // EC2's default endpoint type is Gateway.
    const type = input.VpcEndpointType ?? 'Gateway';
    if (type !== 'Gateway' && type !== 'Interface') {
      throw fault('InvalidParameter', `The simulator does not model ${type} endpoints.`);
    }
    if (!offered.includes(type)) {
      throw fault(
        'InvalidParameter',
        `The Vpc Endpoint Service '${serviceName}' does not support endpoint type ${type}.`,
      );
    }
    const policyDocument = input.PolicyDocument ?? DEFAULT_ENDPOINT_POLICY;
    validatePolicy(policyDocument, type);
    const tags = tagsFromSpecifications(input.TagSpecifications, 'vpc-endpoint');
    const routeTableIds = distinct(input.RouteTableIds);
    const subnetIds = distinct(input.SubnetIds);
    let securityGroupIds: string[] = [];
    let privateDnsEnabled = false;
    if (type === 'Gateway') {
      rejectIf(
        subnetIds.length > 0,
        'Subnet IDs are only supported for Interface type VPC Endpoint.',
      );
      rejectIf(
        (input.SecurityGroupIds ?? []).length > 0,
        'Security group IDs are only supported for Interface type VPC Endpoint.',
      );
      rejectIf(
        input.PrivateDnsEnabled === true,
        'Private DNS can only be enabled for Interface type VPC Endpoint.',
      );
      checkGatewayRouteTables(state, vpcId, routeTableIds, serviceName);
    } else {
      rejectIf(
        routeTableIds.length > 0,
        'Route table IDs are only supported for Gateway type VPC Endpoint.',
      );
      rejectIf(
        subnetIds.length === 0,
        'Interface type VPC Endpoint requires at least one subnet (SubnetIds).',
      );
      checkSubnets(state, vpcId, subnetIds);
      // Without groups, EC2 uses the VPC's default security group.
      const defaultGroup = [...state.securityGroups.values()].find(
        (group) => group.vpcId === vpcId && group.groupName === 'default',
      );
      securityGroupIds = distinct(
        input.SecurityGroupIds ?? (defaultGroup ? [defaultGroup.groupId] : []),
      );
      checkSecurityGroups(state, vpcId, securityGroupIds);
      // EC2 enables private DNS on interface endpoints unless told otherwise.
      privateDnsEnabled = input.PrivateDnsEnabled ?? true;
      if (privateDnsEnabled) {
        checkPrivateDns(state, vpc, serviceName, undefined);
      }
    }
    stopIfDryRun(input);

    const endpoint: VpcEndpointRecord = {
      vpcEndpointId: context.ids.next('vpce'),
      vpcId,
      ownerId: state.accountId,
      serviceName,
      type,
      state: 'pending',
      policyDocument,
      privateDnsEnabled,
      subnetIds,
      routeTableIds,
      securityGroupIds,
      tags,
      creationTimestamp: context.nowIso(),
    };
    state.vpcEndpoints.set(endpoint.vpcEndpointId, endpoint);
    if (type === 'Gateway') {
      addGatewayRoutes(state, endpoint, routeTableIds);
    }
    state.schedule(context.delays.endpointCreation, () => {
      if (endpoint.state === 'pending') {
        endpoint.state = 'available';
      }
    });
    rememberClientToken(context, input.ClientToken, input, endpoint.vpcEndpointId);
    return { VpcEndpoint: wire(context, endpoint), ClientToken: input.ClientToken };
  },
);

const modifyVpcEndpoint = defineOperation<ModifyVpcEndpointRequest, ModifyVpcEndpointResult>(
  true,
  'endpoint',
  (context, input) => {
    const { state } = context;
    const endpoint = liveEndpoint(state, required(input.VpcEndpointId, 'VpcEndpointId'));
    const isGateway = endpoint.type === 'Gateway';
    const tables = listChange(input.AddRouteTableIds, input.RemoveRouteTableIds);
    const subnetChange = listChange(input.AddSubnetIds, input.RemoveSubnetIds);
    const groupChange = listChange(input.AddSecurityGroupIds, input.RemoveSecurityGroupIds);

    if (input.ResetPolicy === true && input.PolicyDocument !== undefined) {
      throw fault(
        'InvalidParameterCombination',
        'ResetPolicy and PolicyDocument cannot be used together.',
      );
    }
    // AWS-FACTS.md: ResetPolicy only works on gateway endpoints; interface endpoints need a document.
    rejectIf(
      input.ResetPolicy === true && !isGateway,
      'ResetPolicy is only supported for Gateway type VPC Endpoint. Specify a PolicyDocument instead.',
    );
    if (input.PolicyDocument !== undefined) {
      validatePolicy(input.PolicyDocument, endpoint.type);
    }
    const subnets = changedList(endpoint.subnetIds, subnetChange);
    const groups = changedList(endpoint.securityGroupIds, groupChange);
    if (isGateway) {
      rejectIf(
        !isEmpty(subnetChange),
        'Subnet IDs are only supported for Interface type VPC Endpoint.',
      );
      rejectIf(
        !isEmpty(groupChange),
        'Security group IDs are only supported for Interface type VPC Endpoint.',
      );
      rejectIf(
        input.PrivateDnsEnabled !== undefined,
        'Private DNS can only be enabled for Interface type VPC Endpoint.',
      );
      checkRemovable(endpoint, endpoint.routeTableIds, tables, 'route table');
      checkGatewayRouteTables(
        state,
        endpoint.vpcId,
        tables.add.filter((id) => !tables.remove.includes(id)),
        endpoint.serviceName,
      );
    } else {
      rejectIf(
        !isEmpty(tables),
        'Route table IDs are only supported for Gateway type VPC Endpoint.',
      );
      checkRemovable(endpoint, endpoint.subnetIds, subnetChange, 'subnet');
      checkRemovable(endpoint, endpoint.securityGroupIds, groupChange, 'security group');
      checkSubnets(state, endpoint.vpcId, subnets);
      checkSecurityGroups(state, endpoint.vpcId, groupChange.add);
      rejectIf(
        groups.length === 0 && endpoint.securityGroupIds.length > 0,
        'An Interface type VPC Endpoint needs at least one security group.',
      );
      if (input.PrivateDnsEnabled === true) {
        checkPrivateDns(
          state,
          state.vpcs.get(endpoint.vpcId)!,
          endpoint.serviceName,
          endpoint.vpcEndpointId,
        );
      }
    }
    stopIfDryRun(input);

    if (input.ResetPolicy === true) {
      endpoint.policyDocument = DEFAULT_ENDPOINT_POLICY;
    } else if (input.PolicyDocument !== undefined) {
      endpoint.policyDocument = input.PolicyDocument;
    }
    if (isGateway) {
      removeGatewayRoutes(state, endpoint.vpcEndpointId, tables.remove);
      // Unlike subnets and groups, a table both removed and added comes back (with a fresh route).
      endpoint.routeTableIds = endpoint.routeTableIds.filter((id) => !tables.remove.includes(id));
      const added = tables.add.filter((id) => !endpoint.routeTableIds.includes(id));
      addGatewayRoutes(state, endpoint, added);
      endpoint.routeTableIds.push(...added);
    } else {
      endpoint.subnetIds = subnets;
      endpoint.securityGroupIds = groups;
      if (input.PrivateDnsEnabled !== undefined) {
        endpoint.privateDnsEnabled = input.PrivateDnsEnabled;
      }
    }
    return { Return: true };
  },
);

const deleteVpcEndpoints = defineOperation<DeleteVpcEndpointsRequest, DeleteVpcEndpointsResult>(
  true,
  'endpoint',
  (context, input) => {
    const { state } = context;
    const ids = required(input.VpcEndpointIds, 'VpcEndpointIds');
    if (ids.length === 0) {
      throw fault('MissingParameter', 'The request must contain the parameter VpcEndpointIds');
    }
    stopIfDryRun(input);
    const unsuccessful: NonNullable<DeleteVpcEndpointsResult['Unsuccessful']> = [];
    for (const id of ids) {
      const endpoint = state.vpcEndpoints.get(id);
      if (!endpoint || GONE_STATES.has(endpoint.state)) {
        // Unknown ids do not fail the call: EC2 lists them as unsuccessful items.
        const { code, message } = notFound(RESOURCE_KINDS.vpcEndpoint, id);
        unsuccessful.push({ ResourceId: id, Error: { Code: code, Message: message } });
        continue;
      }
      if (endpoint.type === 'Gateway') {
        removeGatewayRoutes(state, endpoint.vpcEndpointId, endpoint.routeTableIds);
      }
      endpoint.state = 'deleting';
      state.schedule(context.delays.endpointDeletion, () => {
        state.vpcEndpoints.delete(endpoint.vpcEndpointId);
      });
    }
    return { Unsuccessful: unsuccessful };
  },
);

export const VPC_ENDPOINT_OPERATIONS = {
  CreateVpcEndpoint: createVpcEndpoint,
  ModifyVpcEndpoint: modifyVpcEndpoint,
  DeleteVpcEndpoints: deleteVpcEndpoints,
};
