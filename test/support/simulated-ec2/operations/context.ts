import type { TagSpecification } from '@aws-sdk/client-ec2';
import type { Tags } from '@vpc-guard/shared';
import { DRY_RUN_MESSAGE, Ec2Fault, fault } from '../errors';
import { requestFingerprint } from '../fingerprint';
import type { IdGenerator } from '../ids';
import type { BucketCategory } from '../throttling';
import type { RegionState } from '../state';
import { fromWireTags } from '../wire';

/** How many further API calls each asynchronous EC2 change takes to finish. */
export interface TransitionDelays {
  readonly endpointCreation: number;
  readonly endpointDeletion: number;
  readonly natCreation: number;
  readonly natDeletion: number;
}

/** What an operation sees of the simulated account while it runs. */
export interface OperationContext {
  readonly operation: string;
  readonly state: RegionState;
  readonly ids: IdGenerator;
  /** The account's clock, as an ISO timestamp. */
  readonly nowIso: () => string;
  readonly pageSize: number;
  readonly delays: TransitionDelays;
  /** The regions enabled in the account (DescribeRegions). */
  readonly enabledRegions: () => readonly string[];
}

/** One EC2 operation: whether it writes, which rate bucket it draws from, and what it does. */
export interface OperationDefinition {
  readonly mutating: boolean;
  readonly bucket: BucketCategory;
  readonly handle: (context: OperationContext, input: Record<string, unknown>) => object;
}

/** Declares an operation with typed input and output (the SDK's request and result types). */
export function defineOperation<Input extends object, Output extends object>(
  mutating: boolean,
  bucket: BucketCategory,
  handle: (context: OperationContext, input: Input) => Output,
): OperationDefinition {
  return { mutating, bucket, handle: handle as OperationDefinition['handle'] };
}

/**
 * Called by every operation once its request has passed validation: a DryRun request stops here with
 * `DryRunOperation`, as EC2 answers only after checking the parameters.
 */
export function stopIfDryRun(input: { DryRun?: boolean | undefined }): void {
  if (input.DryRun === true) {
    throw new Ec2Fault('DryRunOperation', DRY_RUN_MESSAGE);
  }
}

/** Throws when a required parameter is missing, with EC2's wording. */
export function required<T>(value: T | undefined | null, parameter: string): T {
  if (value === undefined || value === null || value === '') {
    throw fault('MissingParameter', `The request must contain the parameter ${parameter}`);
  }
  return value;
}

/** How EC2 names one kind of resource in its errors: id prefix, error codes and noun. */
export interface ResourceKind {
  readonly prefix: string;
  readonly notFound: string;
  /** Absent where EC2 answers a malformed id with the NotFound code. */
  readonly malformed?: string;
  readonly noun: string;
}

/** EC2's wording for the resources the simulator models, shared by Describe, mutating and tag calls. */
export const RESOURCE_KINDS = {
  vpc: {
    prefix: 'vpc',
    notFound: 'InvalidVpcID.NotFound',
    malformed: 'InvalidVpcID.Malformed',
    noun: 'vpc ID',
  },
  subnet: {
    prefix: 'subnet',
    notFound: 'InvalidSubnetID.NotFound',
    malformed: 'InvalidSubnetID.Malformed',
    noun: 'subnet ID',
  },
  routeTable: {
    prefix: 'rtb',
    notFound: 'InvalidRouteTableID.NotFound',
    malformed: 'InvalidRouteTableID.Malformed',
    noun: 'routeTable ID',
  },
  natGateway: { prefix: 'nat', notFound: 'InvalidNatGatewayID.NotFound', noun: 'natGateway ID' },
  internetGateway: {
    prefix: 'igw',
    notFound: 'InvalidInternetGatewayID.NotFound',
    malformed: 'InvalidInternetGatewayID.Malformed',
    noun: 'internetGateway ID',
  },
  egressOnlyInternetGateway: {
    prefix: 'eigw',
    notFound: 'InvalidEgressOnlyInternetGatewayId.NotFound',
    noun: 'egress-only internet gateway ID',
  },
  vpcEndpoint: {
    prefix: 'vpce',
    notFound: 'InvalidVpcEndpointId.NotFound',
    malformed: 'InvalidVpcEndpointId.Malformed',
    noun: 'Vpc Endpoint Id',
  },
  securityGroup: {
    prefix: 'sg',
    notFound: 'InvalidGroup.NotFound',
    malformed: 'InvalidGroupId.Malformed',
    noun: 'security group',
  },
  address: { prefix: 'eipalloc', notFound: 'InvalidAllocationID.NotFound', noun: 'allocation ID' },
} as const satisfies Record<string, ResourceKind>;

/** EC2's NotFound error for one id of a kind of resource. */
export function notFound(kind: ResourceKind, id: string): Ec2Fault {
  return fault(kind.notFound, `The ${kind.noun} '${id}' does not exist`);
}

/** Looks up a record or throws EC2's NotFound error for it. */
export function findOrThrow<T>(records: ReadonlyMap<string, T>, id: string, kind: ResourceKind): T {
  const record = records.get(id);
  if (!record) {
    throw notFound(kind, id);
  }
  return record;
}

/**
 * Checks the ids of a Describe call's id list. EC2 rejects a malformed id with `...Malformed` and
 * names every unknown id in one `...NotFound` error.
 */
export function checkIdList(
  ids: readonly string[] | undefined,
  records: ReadonlyMap<string, unknown>,
  kind: ResourceKind,
): Set<string> | undefined {
  if (!ids || ids.length === 0) {
    return undefined;
  }
  const pattern = new RegExp(`^${kind.prefix}-[0-9a-f]{8,17}$`);
  for (const id of ids) {
    if (kind.malformed && !pattern.test(id)) {
      throw fault(kind.malformed, `Invalid id: "${id}"`);
    }
  }
  const missing = ids.filter((id) => !records.has(id));
  if (missing.length > 1) {
    throw fault(kind.notFound, `The ${kind.noun}s '${missing.join(', ')}' do not exist`);
  }
  if (missing[0] !== undefined) {
    throw notFound(kind, missing[0]);
  }
  return new Set(ids);
}

/** The tags a `TagSpecifications` parameter gives to a resource type; rejects other types. */
export function tagsFromSpecifications(
  specifications: readonly TagSpecification[] | undefined,
  resourceType: string,
): Tags {
  const tags: Tags = {};
  for (const specification of specifications ?? []) {
    if (specification.ResourceType !== resourceType) {
      throw fault(
        'InvalidParameterValue',
        `'${String(specification.ResourceType)}' is not a valid taggable resource type for this operation.`,
      );
    }
    Object.assign(tags, fromWireTags(specification.Tags));
  }
  validateTags(tags);
  return tags;
}

/** EC2's tag rules: `aws:` keys are reserved, 50 tags at most per resource. */
export function validateTags(tags: Tags): void {
  for (const key of Object.keys(tags)) {
    if (key.toLowerCase().startsWith('aws:')) {
      throw fault(
        'InvalidParameterValue',
        `Tag keys starting with 'aws:' are reserved for internal use`,
      );
    }
  }
  if (Object.keys(tags).length > 50) {
    throw fault('TagLimitExceeded', 'The maximum number of tags per resource is 50');
  }
}

/** The fields ClientToken idempotency ignores when it compares two requests. */
const IDEMPOTENCY_IGNORED = ['ClientToken', 'DryRun'];

/**
 * ClientToken idempotency: the id a token already created (same request), or `undefined` for a new
 * token. The same token with different parameters is `IdempotentParameterMismatch`.
 */
function replayOfClientToken(
  context: OperationContext,
  token: string | undefined,
  input: object,
): string | undefined {
  if (token === undefined) {
    return undefined;
  }
  if (token.length > 64) {
    throw fault('InvalidParameterValue', 'The client token must be 64 ASCII characters or fewer.');
  }
  const seen = context.state.clientTokens.get(context.operation)?.get(token);
  if (!seen) {
    return undefined;
  }
  if (seen.fingerprint !== requestFingerprint(input, IDEMPOTENCY_IGNORED)) {
    throw fault(
      'IdempotentParameterMismatch',
      'The client token you have provided is associated with a resource that is already created with different parameters.',
    );
  }
  return seen.resourceId;
}

/**
 * The record a repeated ClientToken already created, which the operation answers again instead of
 * creating another; a DryRun of such a repeat still stops with `DryRunOperation`.
 */
export function replayedRecord<T>(
  context: OperationContext,
  input: { readonly ClientToken?: string | undefined; readonly DryRun?: boolean | undefined },
  records: ReadonlyMap<string, T>,
): T | undefined {
  const replayed = replayOfClientToken(context, input.ClientToken, input);
  const existing = replayed ? records.get(replayed) : undefined;
  if (existing) {
    stopIfDryRun(input);
  }
  return existing;
}

/** Remembers what a ClientToken created. */
export function rememberClientToken(
  context: OperationContext,
  token: string | undefined,
  input: object,
  resourceId: string,
): void {
  if (token === undefined) {
    return;
  }
  let tokens = context.state.clientTokens.get(context.operation);
  if (!tokens) {
    tokens = new Map();
    context.state.clientTokens.set(context.operation, tokens);
  }
  tokens.set(token, { fingerprint: requestFingerprint(input, IDEMPOTENCY_IGNORED), resourceId });
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** True for a well-formed IPv4 CIDR (`10.0.0.0/16`). */
export function isIpv4Cidr(value: string): boolean {
  const match = IPV4_CIDR.exec(value);
  if (!match) {
    return false;
  }
  const octets = match.slice(1, 5).map(Number);
  return octets.every((octet) => octet <= 255) && Number(match[5]) <= 32;
}

/** True for a well-formed IPv6 CIDR (`2600:1f18::/56`, `::/0`). */
export function isIpv6Cidr(value: string): boolean {
  return (
    /^[0-9a-fA-F:]+\/\d{1,3}$/.test(value) &&
    value.includes(':') &&
    Number(value.split('/')[1]) <= 128
  );
}
