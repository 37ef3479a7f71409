import { fileURLToPath } from 'node:url';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { ENDPOINT_MUTATION_BUCKET, RateLimiterRegistry } from '../../shared/src/aws/rate-limiter';
import { evaluate, type Evaluation } from '../../shared/src/evaluate';
import { loadGuardPolicy } from '../../shared/src/policy/load';
import { GuardPolicySchema, type GuardPolicy } from '../../shared/src/policy/schema';
import { applyRemediation, type ApplyDependencies } from '../../shared/src/remediation/apply';
import { planRemediation } from '../../shared/src/remediation/plan';
import type { RemediationPlan } from '../../shared/src/remediation/plan-model';
import type { RemediationRecord } from '../../shared/src/remediation/record';
import { collectNetworkSnapshot } from '../../shared/src/snapshot/collect';
import { vpcsNeedingDnsAttributes } from '../../shared/src/snapshot/collect-estate';
import { loadNetworkSnapshots } from '../../shared/src/snapshot/file';
import type { NetworkSnapshot, NetworkSnapshotInput } from '../../shared/src/snapshot/schema';
import {
  SimulatedAccount,
  type SimulatedAccountOptions,
  type SimulatedCall,
  type SimulatedClientOptions,
} from '../support/simulated-ec2';

/**
 * Runs vpc-guard's live pipeline against the simulated EC2 account, as the CLI does against AWS:
 * collect every account and region, read the DNS attributes of the VPCs whose fix needs them,
 * evaluate, plan, apply. Time is simulated: the simulator, the writer and its 4 / 0.3 endpoint
 * bucket share one clock, and the bucket's waits move that clock instead of sleeping.
 */

/** A day after the demo snapshots were collected: vendor-gateway's exemption holds, legacy-batch's has expired. */
export const DEMO_NOW = new Date('2026-11-21T00:00:00Z');

const EXAMPLES = new URL('../../examples/', import.meta.url);

/** The caller identity the records carry. */
export const SCENARIO_IDENTITY =
  'arn:aws:sts::111111111111:assumed-role/VpcGuardRemediation/scenario';

/**
 * A clock that moves only when told: by `sleep` (the rate limiter's waits), by `advance`, and by
 * `tickMs` on every reading (so a throttled caller that retries at once still sees time pass).
 */
export class SimulatedClock {
  private current: number;
  /** Milliseconds spent in `sleep`: the time a run waited for tokens. */
  slept = 0;

  constructor(
    start: Date = DEMO_NOW,
    private readonly tickMs = 0,
  ) {
    this.current = start.getTime();
  }

  /** Milliseconds since the epoch. */
  readonly now = (): number => {
    const reading = this.current;
    this.current += this.tickMs;
    return reading;
  };

  readonly date = (): Date => new Date(this.now());

  readonly sleep = (ms: number): Promise<void> => {
    this.current += ms;
    this.slept += ms;
    return Promise.resolve();
  };

  advance(ms: number): void {
    this.current += ms;
  }
}

/** What a scan produced: the collected snapshots and their evaluations. */
export interface Scan {
  readonly snapshots: readonly NetworkSnapshot[];
  readonly evaluations: readonly Evaluation[];
}

export interface PlannedScan extends Scan {
  readonly plan: RemediationPlan;
}

/** One detect -> plan -> apply -> rescan cycle. */
export interface RemediationRun extends PlannedScan {
  readonly record: RemediationRecord;
  readonly after: Scan;
  /** The calls the apply step made (index range in the account's call log). */
  readonly applyCalls: readonly SimulatedCall[];
}

export interface ScenarioOptions {
  /** Simulator options; the scenario's clock is added. */
  readonly account?: SimulatedAccountOptions;
  /** Options of every client the pipeline gets. @default retryBackoff 'none' */
  readonly client?: Omit<SimulatedClientOptions, 'accountId' | 'region'>;
  /** Every clock reading moves time on by this much. @default 0 */
  readonly tickMs?: number;
  /** Simulated time every API call takes (the clock moves; nothing waits). @default 0 */
  readonly callMs?: number;
}

/** A simulated estate with a policy, and the pipeline that remediates it. */
export class Scenario {
  readonly account: SimulatedAccount;
  readonly clock: SimulatedClock;
  /** The writer's endpoint bucket (EC2's 4 / 0.3 per second), on the simulated clock. */
  readonly limiter: RateLimiterRegistry;
  private readonly accountIds: readonly string[];
  private readonly clientOptions: Omit<SimulatedClientOptions, 'accountId' | 'region'>;

  constructor(
    snapshots: readonly NetworkSnapshotInput[],
    public policy: GuardPolicy,
    options: ScenarioOptions = {},
  ) {
    this.clock = new SimulatedClock(DEMO_NOW, options.tickMs ?? 0);
    const callMs = options.callMs ?? 0;
    this.account = SimulatedAccount.fromSnapshots(snapshots, {
      ...options.account,
      ...(callMs > 0
        ? {
            latencyMs: () => {
              this.clock.advance(callMs);
              return 0;
            },
          }
        : {}),
      clock: this.clock.now,
    });
    this.limiter = new RateLimiterRegistry(ENDPOINT_MUTATION_BUCKET, {
      clock: this.clock.now,
      sleep: this.clock.sleep,
    });
    this.accountIds = [...new Set(snapshots.map((snapshot) => snapshot.accountId))];
    this.clientOptions = { retryBackoff: 'none', ...options.client };
  }

  /** The demo estate (examples/demo-account.json) under examples/policy.yaml, or an edit of it. */
  static async demo(
    options: ScenarioOptions & { readonly policy?: (policy: GuardPolicy) => void } = {},
  ): Promise<Scenario> {
    const [snapshots, policy] = await Promise.all([
      loadNetworkSnapshots(fileURLToPath(new URL('demo-account.json', EXAMPLES))),
      loadGuardPolicy(fileURLToPath(new URL('policy.yaml', EXAMPLES))),
    ]);
    return new Scenario(
      snapshots,
      options.policy ? editPolicy(policy, options.policy) : policy,
      options,
    );
  }

  /** A fresh EC2 client for one account and region, as the writer's `ec2For` gets it. */
  readonly ec2For = (accountId: string, region: string): EC2Client =>
    this.account.client({ ...this.clientOptions, accountId, region });

  /** Every account and region of the estate. */
  targets(): { accountId: string; region: string }[] {
    return this.accountIds.flatMap((accountId) =>
      this.account.regions(accountId).map((region) => ({ accountId, region })),
    );
  }

  /**
   * Collects every account and region (one region-wide collection each), then collects again, with
   * their DNS attributes, the regions holding VPCs whose fix needs a DNS decision; evaluates.
   */
  async scan(): Promise<Scan> {
    const now = this.clock.date();
    const plain: NetworkSnapshot[] = [];
    for (const { accountId, region } of this.targets()) {
      plain.push(
        await collectNetworkSnapshot({
          ec2: this.ec2For(accountId, region),
          accountId,
          region,
          now: this.clock.date,
        }),
      );
    }
    const needed = vpcsNeedingDnsAttributes(
      plain,
      evaluate(plain, this.policy, { now }),
      this.policy,
    );
    const snapshots: NetworkSnapshot[] = [];
    for (const snapshot of plain) {
      const vpcIds = needed.get(`${snapshot.accountId}/${snapshot.region}`);
      snapshots.push(
        vpcIds
          ? await collectNetworkSnapshot({
              ec2: this.ec2For(snapshot.accountId, snapshot.region),
              accountId: snapshot.accountId,
              region: snapshot.region,
              dnsAttributesFor: vpcIds,
              now: this.clock.date,
            })
          : snapshot,
      );
    }
    return { snapshots, evaluations: evaluate(snapshots, this.policy, { now }) };
  }

  /** Scans and plans. */
  async plan(): Promise<PlannedScan> {
    const scan = await this.scan();
    const plan = planRemediation({
      snapshots: scan.snapshots,
      evaluations: scan.evaluations,
      policy: this.policy,
      now: this.clock.date(),
    });
    return { ...scan, plan };
  }

  /** Applies a plan with the scenario's clients, clock and endpoint bucket. */
  apply(plan: RemediationPlan, deps: Partial<ApplyDependencies> = {}): Promise<RemediationRecord> {
    return applyRemediation(plan, this.policy, {
      ec2For: this.ec2For,
      identity: SCENARIO_IDENTITY,
      clock: this.clock.date,
      endpointLimiter: this.limiter,
      runId: 'scenario',
      ...deps,
    });
  }

  /** Detect -> plan -> apply -> rescan. */
  async run(): Promise<RemediationRun> {
    const planned = await this.plan();
    const from = this.account.calls.length;
    const record = await this.apply(planned.plan);
    const applyCalls = this.account.calls.slice(from);
    const after = await this.scan();
    return { ...planned, record, after, applyCalls };
  }
}

/** A copy of a policy with `edit` applied, validated again (so an edit cannot make it invalid). */
export function editPolicy(policy: GuardPolicy, edit: (draft: GuardPolicy) => void): GuardPolicy {
  const draft = structuredClone(policy);
  edit(draft);
  return GuardPolicySchema.parse(draft);
}

/** The evaluation of the VPC with this `Name` tag. */
export function evaluationNamed(scan: Scan, name: string): Evaluation {
  const found = scan.evaluations.find((evaluation) => evaluation.vpcName === name);
  if (!found) throw new Error(`no VPC named "${name}" in the scan`);
  return found;
}

/** The VPC id of the VPC with this `Name` tag. */
export function vpcIdNamed(scan: Scan, name: string): string {
  return evaluationNamed(scan, name).vpcId;
}

/** Every id of a VPC's resources in a snapshot: the VPC, subnets, tables, NATs, endpoints, groups, gateways. */
export function resourceIdsOf(scan: Scan, vpcId: string): Set<string> {
  const ids = new Set<string>([vpcId]);
  for (const snapshot of scan.snapshots) {
    if (!snapshot.vpcs.some((vpc) => vpc.vpcId === vpcId)) continue;
    for (const subnet of snapshot.subnets) if (subnet.vpcId === vpcId) ids.add(subnet.subnetId);
    for (const table of snapshot.routeTables)
      if (table.vpcId === vpcId) ids.add(table.routeTableId);
    for (const nat of snapshot.natGateways) if (nat.vpcId === vpcId) ids.add(nat.natGatewayId);
    for (const endpoint of snapshot.vpcEndpoints)
      if (endpoint.vpcId === vpcId) ids.add(endpoint.vpcEndpointId);
    for (const group of snapshot.securityGroups) if (group.vpcId === vpcId) ids.add(group.groupId);
    for (const gateway of snapshot.internetGateways)
      if (gateway.attachments.some((attachment) => attachment.vpcId === vpcId))
        ids.add(gateway.internetGatewayId);
  }
  return ids;
}

/** Mutating calls (DryRun included) whose input names any of the ids. */
export function mutatingCallsTouching(
  calls: readonly SimulatedCall[],
  ids: ReadonlySet<string>,
): SimulatedCall[] {
  return calls.filter((call) => {
    if (!call.mutating) return false;
    const text = JSON.stringify(call.input);
    return [...ids].some((id) => text.includes(id));
  });
}

/** Live endpoints of a VPC in a snapshot, counted by `type service` (e.g. `Interface kms`). */
export function liveEndpointsPerService(
  snapshot: NetworkSnapshot,
  vpcId: string,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const endpoint of snapshot.vpcEndpoints) {
    if (endpoint.vpcId !== vpcId || !['pending', 'available'].includes(endpoint.state)) continue;
    const key = `${endpoint.type} ${endpoint.serviceName.replace(/^com\.amazonaws\.[a-z0-9-]+\./, '')}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
