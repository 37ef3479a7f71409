import {
  DescribeAddressesCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  ModifyVpcEndpointCommand,
  type Address,
  type EC2Client,
  type ModifyVpcEndpointCommandInput,
  type NatGateway,
  type RouteTable as Ec2RouteTable,
  type SecurityGroup as Ec2SecurityGroup,
  type Subnet as Ec2Subnet,
} from '@aws-sdk/client-ec2';
import { awsErrorCode, describeAwsError } from '../aws/errors';
import type { CallRecord } from './record';

/**
 * The pieces of talking to EC2 that every action shares, applying and rolling back: a call that is
 * recorded for the audit trail whatever its result (and sent with DryRun in a dry run), the describes
 * of one resource by id, and the comparisons describe-compare-act makes. Internal to the remediation
 * module; the engine runs the actions that use them.
 */

/** What a recorded call needs: the client, whether the run is a dry run, the clock and the log. */
export interface CallScope {
  readonly ec2: EC2Client;
  readonly dryRun: boolean;
  readonly clock: () => Date;
  readonly calls: CallRecord[];
  /**
   * Persists the run's record as it stands; called before each write (the call listed `pending`) and
   * after it. A failure propagates: the write it was to announce is not made.
   */
  readonly journal?: () => Promise<void>;
}

/** A scope that may mutate endpoints: those calls share EC2's bucket for the account and region. */
export interface EndpointMutationScope extends CallScope {
  readonly limiter: { take(): Promise<void> };
}

/** A thrown call failure, carried up to the action with the AWS error code. */
export class CallFailed extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'CallFailed';
  }
}

/** Any EC2 command: only its input and class name are read here. */
type AnyEc2Command = { readonly input: object };

/**
 * Sends one EC2 call and records it. In dry-run every call carries `DryRun: true`: EC2 answers
 * `DryRunOperation` when it would succeed (recorded as such, not an error) and `UnauthorizedOperation`
 * when the role lacks the permission.
 */
export async function send<T>(
  scope: CallScope,
  operation: string,
  command: AnyEc2Command,
): Promise<T | undefined> {
  const input = command.input as Record<string, unknown>;
  if (scope.dryRun) input['DryRun'] = true;
  const at = scope.clock().toISOString();
  const journal = scope.dryRun || operation.startsWith('Describe') ? undefined : scope.journal;
  const entry = { operation, input: redact(input), dryRun: scope.dryRun, at };
  const index = scope.calls.length;
  if (journal) {
    // The intent is durable before the write is sent.
    scope.calls.push({ ...entry, result: 'pending' });
    await journal();
  }
  const settle = async (result: string) => {
    scope.calls[journal ? index : scope.calls.length] = { ...entry, result };
    await journal?.();
  };
  let output: T;
  try {
    output = (await scope.ec2.send(command as never)) as T;
  } catch (error) {
    const code = awsErrorCode(error);
    await settle(code ?? 'error');
    if (scope.dryRun && code === 'DryRunOperation') return undefined;
    throw new CallFailed(code, `${operation}: ${describeAwsError(error)}`);
  }
  await settle('ok');
  return output;
}

/** A describe: never sent with DryRun (a dry run must still see what is there), always recorded. */
export function look<T>(
  scope: CallScope,
  operation: string,
  command: AnyEc2Command,
): Promise<T | undefined> {
  return send<T>({ ...scope, dryRun: false }, operation, command);
}

/** The allocation as EC2 describes it now; undefined once released (a filter, so no NotFound). */
export async function describeAllocation(
  scope: CallScope,
  allocationId: string,
): Promise<Address | undefined> {
  const output = await look<{ Addresses?: Address[] }>(
    scope,
    'DescribeAddresses',
    new DescribeAddressesCommand({ Filters: [{ Name: 'allocation-id', Values: [allocationId] }] }),
  );
  return output?.Addresses?.find((a) => a.AllocationId === allocationId);
}

/** The security group as EC2 describes it now; undefined once deleted (a filter, so no NotFound). */
export async function describeGroup(
  scope: CallScope,
  groupId: string,
): Promise<Ec2SecurityGroup | undefined> {
  const output = await look<{ SecurityGroups?: Ec2SecurityGroup[] }>(
    scope,
    'DescribeSecurityGroups',
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }),
  );
  return output?.SecurityGroups?.find((g) => g.GroupId === groupId);
}

/** The subnet as EC2 describes it now; undefined once deleted. */
export async function describeSubnet(
  scope: CallScope,
  subnetId: string,
): Promise<Ec2Subnet | undefined> {
  const output = await look<{ Subnets?: Ec2Subnet[] }>(
    scope,
    'DescribeSubnets',
    new DescribeSubnetsCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }),
  );
  return output?.Subnets?.find((s) => s.SubnetId === subnetId);
}

/** The route table as EC2 describes it now; undefined once deleted. */
export async function describeRouteTable(
  scope: CallScope,
  routeTableId: string,
): Promise<Ec2RouteTable | undefined> {
  const output = await look<{ RouteTables?: Ec2RouteTable[] }>(
    scope,
    'DescribeRouteTables',
    new DescribeRouteTablesCommand({
      Filters: [{ Name: 'route-table-id', Values: [routeTableId] }],
    }),
  );
  return output?.RouteTables?.find((t) => t.RouteTableId === routeTableId);
}

/** The NAT gateways EC2 lists for these filters. */
export async function describeNats(
  scope: CallScope,
  filters: { Name: string; Values: string[] }[],
): Promise<NatGateway[]> {
  const output = await look<{ NatGateways?: NatGateway[] }>(
    scope,
    'DescribeNatGateways',
    new DescribeNatGatewaysCommand({ Filter: filters }),
  );
  return output?.NatGateways ?? [];
}

/** The NAT gateway as EC2 describes it now; undefined once it dropped out of the listing. */
export async function describeNat(
  scope: CallScope,
  natGatewayId: string,
): Promise<NatGateway | undefined> {
  const nats = await describeNats(scope, [{ Name: 'nat-gateway-id', Values: [natGatewayId] }]);
  return nats.find((n) => n.NatGatewayId === natGatewayId);
}

/** ModifyVpcEndpoint, sent once the endpoint-mutation bucket gives a token; recorded like any call. */
export async function modifyEndpoint(
  scope: EndpointMutationScope,
  input: ModifyVpcEndpointCommandInput,
): Promise<void> {
  await scope.limiter.take();
  await send(scope, 'ModifyVpcEndpoint', new ModifyVpcEndpointCommand(input));
}

/** Policy documents are long and already in the plan: keep the record readable. */
function redact(input: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...input };
  if (typeof copy['PolicyDocument'] === 'string')
    copy['PolicyDocument'] = `<${String(copy['PolicyDocument']).length} characters, see the plan>`;
  return copy;
}

/** The destination parameter of CreateRoute / DeleteRoute for a route's destination. */
export function routeDestination(destination: string): Record<string, string> {
  if (destination.startsWith('pl-')) return { DestinationPrefixListId: destination };
  if (destination.includes(':')) return { DestinationIpv6CidrBlock: destination };
  return { DestinationCidrBlock: destination };
}

/** Compares policy documents by meaning of their JSON, not by whitespace. */
export function samePolicy(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a == null || b == null) return a == b;
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}
