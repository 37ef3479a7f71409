import {
  DescribeAddressesCommand,
  ModifyVpcEndpointCommand,
  type Address,
  type EC2Client,
  type ModifyVpcEndpointCommandInput,
} from '@aws-sdk/client-ec2';
import { awsErrorCode, describeAwsError } from '../aws/errors';
import type { CallRecord } from './record';

/**
 * The pieces of talking to EC2 that the two writers (`applyRemediation` and `applyRollback`) share:
 * a call that is recorded for the audit trail whatever its result, and the comparisons their
 * describe-compare-act steps make. Internal to the remediation module.
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
