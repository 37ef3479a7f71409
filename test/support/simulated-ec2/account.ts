import { EC2Client, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-ec2';
import { AdaptiveRetryStrategy, StandardRetryStrategy } from '@smithy/core/retry';
import type { DeserializeMiddleware, RetryStrategyV2 } from '@smithy/types';
import {
  NetworkSnapshotSchema,
  type NetworkSnapshot,
  type NetworkSnapshotInput,
} from '@vpc-guard/shared';
import { DEFAULT_ENDPOINT_SERVICES, type EndpointServiceDefinition } from './endpoint-services';
import { Ec2Fault, toServiceException } from './errors';
import { IdGenerator, requestIdFor } from './ids';
import type { OperationContext, TransitionDelays } from './operations/context';
import { OPERATIONS } from './operations/registry';
import { RegionState } from './state';
import { RegionThrottle, type ThrottleOptions } from './throttling';

/** One injected failure: the `nth` matching call (1-based; every matching call when absent) fails. */
export interface FaultInjection {
  /** EC2 operation name, e.g. `CreateVpcEndpoint`. */
  readonly operation: string;
  readonly nth?: number;
  /** The EC2 error code to answer with, e.g. `InternalError`, `UnauthorizedOperation`. */
  readonly code: string;
  readonly message?: string;
  /** @default - EC2's status for the code: 500 for InternalError, 503 for throttling, else 400 */
  readonly httpStatusCode?: number;
  /** Only calls of this account. @default - any account */
  readonly accountId?: string;
  /** Only calls in this region. @default - any region */
  readonly region?: string;
}

/** How the simulated account behaves beyond its resources. */
export interface SimulatedAccountOptions {
  /** Items per Describe page when the request gives no `MaxResults`. @default 5 */
  readonly pageSize?: number;
  /** Latency added to every call (a real timer), for benchmarks. @default 0 */
  readonly latencyMs?: number | ((operation: string) => number);
  /** Request throttling. @default - none */
  readonly throttle?: ThrottleOptions;
  /** Failures to inject. @default - none */
  readonly failOn?: readonly FaultInjection[];
  /** Operations the caller lacks permission for: `UnauthorizedOperation`, DryRun included. */
  readonly deniedOperations?: Iterable<string>;
  /** Milliseconds since the epoch; drives throttle buckets, timestamps and the call log. @default Date.now */
  readonly clock?: () => number;
  /** Seed of the generated ids. @default 1 */
  readonly seed?: number;
  /** Further API calls a deleted NAT gateway stays `deleting` before it is `deleted`. @default 1 */
  readonly natDeletionDelayCalls?: number;
  /** Further API calls a new NAT gateway stays `pending`. @default 0 (available at the next call) */
  readonly natCreationDelayCalls?: number;
  /** Further API calls a new endpoint stays `pending`. @default 0 (available at the next call) */
  readonly endpointCreationDelayCalls?: number;
  /** Further API calls a deleted endpoint stays `deleting` before it disappears. @default 0 */
  readonly endpointDeletionDelayCalls?: number;
  /** Regions enabled in every account besides those of the snapshots (they start empty). */
  readonly regions?: readonly string[];
  /** Endpoint services offered. @default DEFAULT_ENDPOINT_SERVICES */
  readonly endpointServices?: readonly EndpointServiceDefinition[];
}

/** Options of one client of the simulated account. */
export interface SimulatedClientOptions {
  /** @default - the region of the first snapshot of the account */
  readonly region?: string;
  /** The account the client's credentials belong to. @default - the first snapshot's account */
  readonly accountId?: string;
  /** @default 3 (the SDK's default) */
  readonly maxAttempts?: number;
  /** @default 'standard' */
  readonly retryMode?: 'standard' | 'adaptive';
  /**
   * `sdk`: the SDK's own retry strategy, delays included (up to seconds on throttling).
   * `none`: the same strategy (classification, attempts, retry quota) without the waits, for fast
   * tests of code that must survive throttling.
   * @default 'sdk'
   */
  readonly retryBackoff?: 'sdk' | 'none';
}

/** One call as the simulated EC2 received it (one entry per attempt: SDK retries show up). */
export interface SimulatedCall {
  /** 1-based, in arrival order across the whole simulated account. */
  readonly seq: number;
  /** EC2 operation name, e.g. `DescribeVpcEndpoints`. */
  readonly operation: string;
  /** A copy of the command input. */
  readonly input: Readonly<Record<string, unknown>>;
  /** `ok`, or the EC2 error code answered (`DryRunOperation` for a DryRun that would succeed). */
  readonly outcome: string;
  readonly dryRun: boolean;
  readonly mutating: boolean;
  readonly accountId: string;
  readonly region: string;
  /** The account clock when the call arrived. */
  readonly at: number;
}

interface MutableCall extends SimulatedCall {
  outcome: string;
}

/** The operation names the simulator implements. */
export const SIMULATED_EC2_OPERATIONS: readonly string[] = Object.keys(OPERATIONS);

// Fake, never-valid credentials: requests are signed locally and never leave the process.
const SIMULATED_CREDENTIALS = {
  accessKeyId: 'AKIASIMULATEDEC2XXXX',
  secretAccessKey: 'simulated-secret-key',
};

const noBackoff = { computeNextBackoffDelay: () => 0, setDelayBase: () => undefined };

function immediateRetryStrategy(
  mode: 'standard' | 'adaptive',
  maxAttempts: number,
): RetryStrategyV2 {
  return mode === 'adaptive'
    ? new AdaptiveRetryStrategy(maxAttempts, { backoff: noBackoff })
    : new StandardRetryStrategy({ maxAttempts, backoff: noBackoff });
}

function stateKey(accountId: string, region: string): string {
  return `${accountId}/${region}`;
}

/**
 * An in-memory AWS account (or several) that behaves like EC2 behind the real SDK v3 client: filters,
 * pagination, DryRun, ClientToken idempotency, EC2's error codes, asynchronous NAT and endpoint state
 * changes, throttling that the SDK's own retry strategy handles, and a log of every call.
 *
 * @example
 * const account = SimulatedAccount.fromSnapshots([snapshot], { pageSize: 5 });
 * const ec2 = account.client({ region: 'us-east-1' });
 * await ec2.send(new DescribeVpcEndpointsCommand({}));
 * account.writes(); // the mutating calls that took effect
 */
export class SimulatedAccount {
  private readonly states = new Map<string, RegionState>();
  private readonly throttles = new Map<string, RegionThrottle>();
  private readonly regionsByAccount = new Map<string, string[]>();
  private readonly callLog: MutableCall[] = [];
  private readonly faultCounts: number[];
  private readonly denied: ReadonlySet<string>;
  private readonly ids: IdGenerator;
  private readonly clock: () => number;
  private readonly delays: TransitionDelays;
  private readonly services: readonly EndpointServiceDefinition[];
  private seq = 0;

  private constructor(
    snapshots: readonly NetworkSnapshot[],
    private readonly options: SimulatedAccountOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.ids = new IdGenerator(options.seed ?? 1);
    this.denied = new Set(options.deniedOperations ?? []);
    this.faultCounts = (options.failOn ?? []).map(() => 0);
    this.services = options.endpointServices ?? DEFAULT_ENDPOINT_SERVICES;
    this.delays = {
      endpointCreation: options.endpointCreationDelayCalls ?? 0,
      endpointDeletion: options.endpointDeletionDelayCalls ?? 0,
      natCreation: options.natCreationDelayCalls ?? 0,
      natDeletion: options.natDeletionDelayCalls ?? 1,
    };
    for (const snapshot of snapshots) {
      const key = stateKey(snapshot.accountId, snapshot.region);
      if (this.states.has(key)) {
        throw new Error(
          `SimulatedAccount: two snapshots for account ${snapshot.accountId} in ${snapshot.region}`,
        );
      }
      // Services the snapshot's endpoints use exist, even if the catalogue does not list them.
      const known = new Set(this.services.map((service) => service.name));
      const extra = snapshot.vpcEndpoints
        .filter(
          (endpoint) =>
            !known.has(endpoint.serviceName) &&
            (endpoint.type === 'Interface' || endpoint.type === 'Gateway'),
        )
        .map((endpoint) => ({
          name: endpoint.serviceName,
          types: [endpoint.type as 'Interface' | 'Gateway'],
        }));
      this.states.set(key, RegionState.fromSnapshot(snapshot, [...extra, ...this.services]));
      this.enableRegion(snapshot.accountId, snapshot.region);
    }
    for (const accountId of [...this.regionsByAccount.keys()]) {
      for (const region of options.regions ?? []) {
        this.enableRegion(accountId, region);
      }
    }
  }

  /**
   * Builds the account from snapshots (one per account and region; parsed with
   * NetworkSnapshotSchema, so schema defaults apply).
   */
  static fromSnapshots(
    snapshots: NetworkSnapshotInput | readonly NetworkSnapshotInput[],
    options: SimulatedAccountOptions = {},
  ): SimulatedAccount {
    const list = (
      Array.isArray(snapshots) ? snapshots : [snapshots]
    ) as readonly NetworkSnapshotInput[];
    if (list.length === 0) {
      throw new Error('SimulatedAccount.fromSnapshots: expected at least one snapshot');
    }
    return new SimulatedAccount(
      list.map((snapshot) => NetworkSnapshotSchema.parse(snapshot)),
      options,
    );
  }

  /** Every call received so far, in arrival order (one entry per SDK attempt). */
  get calls(): readonly SimulatedCall[] {
    return this.callLog;
  }

  /** The mutating calls that took effect: succeeded and were not DryRun. */
  writes(): SimulatedCall[] {
    return this.callLog.filter((call) => call.mutating && !call.dryRun && call.outcome === 'ok');
  }

  /** The calls of one operation. */
  callsOf(operation: string): SimulatedCall[] {
    return this.callLog.filter((call) => call.operation === operation);
  }

  /** Forgets the call log (state, throttle buckets and fault counters are kept). */
  resetCalls(): void {
    this.callLog.length = 0;
  }

  /** The accounts and their enabled regions. */
  regions(accountId: string = this.defaultAccountId()): readonly string[] {
    return this.regionsByAccount.get(accountId) ?? [];
  }

  /**
   * A real `EC2Client` wired to this account: fake static credentials, the region that selects the
   * state, and the SDK's retry strategy (standard or adaptive) around the simulated service.
   */
  client(options: SimulatedClientOptions = {}): EC2Client {
    const accountId = options.accountId ?? this.defaultAccountId();
    const region = options.region ?? this.regions(accountId)[0] ?? this.defaultRegion();
    const maxAttempts = options.maxAttempts ?? 3;
    const retryMode = options.retryMode ?? 'standard';
    const client = new EC2Client({
      region,
      credentials: SIMULATED_CREDENTIALS,
      maxAttempts,
      retryMode,
      ...(options.retryBackoff === 'none'
        ? { retryStrategy: immediateRetryStrategy(retryMode, maxAttempts) }
        : {}),
    });
    return this.attach(client, { accountId });
  }

  /**
   * Wires an `EC2Client` built elsewhere (say, by the product's own client factory, with its retry
   * settings) to this account. The client's region selects the state, per call. The SDK still signs
   * each request before it reaches the simulator, so give the client static credentials.
   */
  attach<Client extends EC2Client>(
    client: Client,
    options: { readonly accountId?: string } = {},
  ): Client {
    const accountId = options.accountId ?? this.defaultAccountId();
    // At the deserialize step, inside the SDK's retry middleware (finalizeRequest): every attempt,
    // retries included, reaches the simulator, and the real deserializer and network are bypassed.
    const middleware: DeserializeMiddleware<ServiceInputTypes, ServiceOutputTypes> =
      (_next, context) => async (args) => {
        const operation = (context.commandName ?? 'UnknownCommand').replace(/Command$/, '');
        const region = await client.config.region();
        const output = await this.invoke(
          accountId,
          region,
          operation,
          args.input as Record<string, unknown>,
        );
        return {
          output: output as ServiceOutputTypes,
          response: { statusCode: 200, headers: {}, body: undefined },
        };
      };
    client.middlewareStack.add(middleware, {
      step: 'deserialize',
      name: 'simulatedEc2Middleware',
      priority: 'high',
      override: true,
    });
    return client;
  }

  /** Exports the current state of one account and region as a NetworkSnapshot. */
  toSnapshot(accountId: string, region: string, collectedAt?: string): NetworkSnapshot {
    const state = this.regionState(accountId, region);
    if (!state) {
      throw new Error(`SimulatedAccount: account ${accountId} has no region ${region}`);
    }
    return state.toSnapshot(collectedAt ?? new Date(this.clock()).toISOString());
  }

  /**
   * Finishes every pending asynchronous change now (endpoints become available, deleted NAT gateways
   * `deleted`), in one account and region or everywhere.
   */
  advance(accountId?: string, region?: string): void {
    for (const state of this.states.values()) {
      if (
        (accountId === undefined || state.accountId === accountId) &&
        (region === undefined || state.region === region)
      ) {
        state.settleAll();
      }
    }
  }

  private defaultAccountId(): string {
    const first = this.regionsByAccount.keys().next();
    return first.done ? '000000000000' : first.value;
  }

  private defaultRegion(): string {
    return this.states.values().next().value?.region ?? 'us-east-1';
  }

  private enableRegion(accountId: string, region: string): void {
    const regions = this.regionsByAccount.get(accountId) ?? [];
    if (!regions.includes(region)) {
      regions.push(region);
    }
    this.regionsByAccount.set(accountId, regions);
  }

  /** Handles one attempt of one command, as EC2 would, and records it. */
  private async invoke(
    accountId: string,
    region: string,
    operation: string,
    rawInput: Record<string, unknown> | undefined,
  ): Promise<object> {
    const seq = (this.seq += 1);
    const requestId = requestIdFor(seq);
    const input = structuredClone(rawInput ?? {});
    const call: MutableCall = {
      seq,
      operation,
      input,
      outcome: 'pending',
      dryRun: input.DryRun === true,
      mutating: OPERATIONS[operation]?.mutating ?? !/^Describe|^Get|^List/.test(operation),
      accountId,
      region,
      at: this.clock(),
    };
    this.callLog.push(call);
    const latency =
      typeof this.options.latencyMs === 'function'
        ? this.options.latencyMs(operation)
        : (this.options.latencyMs ?? 0);
    if (latency > 0) {
      await new Promise((resolve) => setTimeout(resolve, latency));
    }
    try {
      const result = this.execute(accountId, region, operation, input);
      call.outcome = 'ok';
      return {
        ...result,
        $metadata: { httpStatusCode: 200, requestId, attempts: 1, totalRetryDelay: 0 },
      };
    } catch (error) {
      if (error instanceof Ec2Fault) {
        call.outcome = error.code;
        throw toServiceException(error, requestId);
      }
      call.outcome = 'SimulatorError';
      throw error;
    }
  }

  private execute(
    accountId: string,
    region: string,
    operation: string,
    input: Record<string, unknown>,
  ): object {
    const definition = OPERATIONS[operation];
    if (!definition) {
      // Loud on purpose: a silent success would let untested code paths pass.
      throw new Ec2Fault(
        'UnsupportedOperation',
        `The simulated EC2 does not implement ${operation}.`,
      );
    }
    const state = this.stateFor(accountId, region);
    state.tick();
    const key = stateKey(accountId, region);
    let throttle = this.throttles.get(key);
    if (!throttle) {
      throttle = new RegionThrottle(this.options.throttle);
      this.throttles.set(key, throttle);
    }
    if (!throttle.admit(operation, definition.bucket, this.clock())) {
      throw new Ec2Fault('RequestLimitExceeded', 'Request limit exceeded.');
    }
    if (this.denied.has(operation)) {
      throw new Ec2Fault(
        'UnauthorizedOperation',
        'You are not authorized to perform this operation.',
      );
    }
    this.injectFault(accountId, region, operation);
    const context: OperationContext = {
      operation,
      state,
      ids: this.ids,
      nowIso: () => new Date(this.clock()).toISOString(),
      pageSize: this.options.pageSize ?? 5,
      delays: this.delays,
      enabledRegions: () => this.regions(accountId),
    };
    return definition.handle(context, input);
  }

  /** The state of an enabled region (created empty on first use); undefined when not enabled. */
  private regionState(accountId: string, region: string): RegionState | undefined {
    const key = stateKey(accountId, region);
    let state = this.states.get(key);
    if (!state && this.regions(accountId).includes(region)) {
      state = RegionState.empty(accountId, region, this.services);
      this.states.set(key, state);
    }
    return state;
  }

  private stateFor(accountId: string, region: string): RegionState {
    const state = this.regionState(accountId, region);
    if (!state) {
      // What EC2 answers for an unknown account's credentials or a region not enabled for it.
      throw new Ec2Fault(
        'AuthFailure',
        'AWS was not able to validate the provided access credentials',
      );
    }
    return state;
  }

  private injectFault(accountId: string, region: string, operation: string): void {
    (this.options.failOn ?? []).forEach((rule, index) => {
      if (
        rule.operation !== operation ||
        (rule.accountId !== undefined && rule.accountId !== accountId) ||
        (rule.region !== undefined && rule.region !== region)
      ) {
        return;
      }
      const count = (this.faultCounts[index] ?? 0) + 1;
      this.faultCounts[index] = count;
      if (rule.nth === undefined || rule.nth === count) {
        throw new Ec2Fault(
          rule.code,
          rule.message ?? `Injected ${rule.code} for ${operation}`,
          rule.httpStatusCode,
        );
      }
    });
  }
}
