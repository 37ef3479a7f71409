import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { classifyAwsError, describeAwsError } from '../aws/errors';
import { DEFAULT_ACCOUNT_CONCURRENCY, type RegionSelection } from '../aws/target-selection';
import { listEnabledRegions, type AwsTarget } from '../aws/targets';
import type { Evaluation } from '../evaluate';
import { profileNamed } from '../policy/resolve';
import type { GuardPolicy } from '../policy/schema';
import {
  collectNetworkSnapshot,
  readVpcDnsAttributes,
  type CollectOptions,
  type VpcDnsAttributes,
} from './collect';
import type { NetworkSnapshot } from './schema';

/**
 * Collection of an estate: many accounts, each in many regions, with bounded concurrency. One account
 * or region that fails is reported and the others go on: a scan of 300 accounts is not lost to one
 * missing role.
 */

/**
 * Runs `fn` over `items` with at most `limit` calls in flight, and returns every outcome in the order of
 * `items` (like `Promise.allSettled`): one rejection does not stop the others.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  if (!(limit >= 1)) throw new RangeError(`concurrency limit must be at least 1, got ${limit}`);
  const results: PromiseSettledResult<R>[] = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      try {
        results[index] = { status: 'fulfilled', value: await fn(items[index]!, index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  const workers = Math.min(limit, items.length);
  await Promise.all(Array.from({ length: workers }, () => worker()));
  return results;
}

/** How a failed account or region is reported: enough to tell a missing role from a throttle. */
export type TargetFailureKind = 'access-denied' | 'throttled' | 'not-found' | 'other';

/** What was being done when a target failed. */
export type TargetFailureStage = 'credentials' | 'regions' | 'collect' | 'dns-attributes';

/** One account (region `null`: the whole account) or account-region that could not be read. */
export interface TargetFailure {
  readonly accountId: string;
  readonly region: string | null;
  readonly stage: TargetFailureStage;
  readonly kind: TargetFailureKind;
  /** `Code: message` of the AWS error. */
  readonly message: string;
}

/** Classifies an error for a {@link TargetFailure}. */
function targetFailure(
  accountId: string,
  region: string | null,
  stage: TargetFailureStage,
  error: unknown,
): TargetFailure {
  const kind = classifyAwsError(error);
  return {
    accountId,
    region,
    stage,
    kind: kind === 'access-denied' || kind === 'throttled' || kind === 'not-found' ? kind : 'other',
    message: describeAwsError(error),
  };
}

/** An account to collect, with the credentials to use there (an assumed member role). */
export interface EstateAccount {
  readonly accountId: string;
  /** @default - the caller's own credentials */
  readonly credentials?: AwsCredentialIdentityProvider;
  /**
   * The account those credentials belong to (STS): each region's snapshot is refused when it is not
   * `accountId` (see {@link CollectOptions.callerAccountId}).
   * @default - not checked
   */
  readonly callerAccountId?: () => Promise<string>;
}

/** Where a collection stands; sent after each account-region (and each failed account). */
export interface EstateProgress {
  /** The target just finished; `region` is null when a whole account failed. */
  readonly accountId: string;
  readonly region: string | null;
  readonly ok: boolean;
  /** VPCs in the target just finished. */
  readonly vpcs: number;
  readonly targetsDone: number;
  /** Account-regions known so far; with `regions: all` it grows as accounts list their regions. */
  readonly targetsKnown: number;
  /** False while some account has not listed its regions yet (`targetsKnown` may still grow). */
  readonly targetsFinal: boolean;
  readonly accountsDone: number;
  readonly accountsTotal: number;
  readonly vpcsSeen: number;
  /** Findings so far, when the caller evaluates as it goes (`countFindings`). */
  readonly findings?: number;
}

export interface CollectEstateOptions {
  readonly accounts: readonly EstateAccount[];
  readonly regions: RegionSelection;
  /** The EC2 client for one target; the caller may cache them. */
  readonly ec2For: (target: AwsTarget) => EC2Client;
  /** Where DescribeRegions is asked with `regions: all` (any region enabled in every account). */
  readonly discoveryRegion: string;
  /** Accounts collected at once. @default 4 */
  readonly accountConcurrency?: number;
  /** Regions of one account collected at once. @default - all of them */
  readonly regionConcurrency?: number;
  /** The clock, for `collectedAt`. */
  readonly now?: () => Date;
  /** Replaceable for tests. @default collectNetworkSnapshot */
  readonly collect?: (options: CollectOptions) => Promise<NetworkSnapshot>;
  /** Evaluate each snapshot as it arrives and return its finding count, for progress. */
  readonly countFindings?: (snapshot: NetworkSnapshot) => number;
  readonly onProgress?: (progress: EstateProgress) => void;
}

/** What an estate collection produced: snapshots of the targets that worked, and the failures. */
export interface EstateCollection {
  /** Sorted by account and region. */
  readonly snapshots: readonly NetworkSnapshot[];
  readonly failures: readonly TargetFailure[];
  /** Account-regions attempted. */
  readonly targets: number;
}

/**
 * Collects every region (named, or all enabled ones) of every account, at most `accountConcurrency`
 * accounts at a time. An account whose credentials cannot be obtained (the role cannot be assumed) is
 * reported once, before any EC2 call; a region that fails is reported and its siblings go on. Never
 * throws for an AWS failure.
 */
export async function collectEstate(options: CollectEstateOptions): Promise<EstateCollection> {
  const collect = options.collect ?? collectNetworkSnapshot;
  const snapshots: NetworkSnapshot[] = [];
  const failures: TargetFailure[] = [];
  const counters = {
    targetsDone: 0,
    targetsKnown:
      options.regions.kind === 'list'
        ? options.regions.regions.length * options.accounts.length
        : 0,
    accountsPendingRegions: options.regions.kind === 'all' ? options.accounts.length : 0,
    accountsDone: 0,
    vpcsSeen: 0,
    findings: 0,
  };
  const report = (accountId: string, region: string | null, ok: boolean, vpcs: number) => {
    options.onProgress?.({
      accountId,
      region,
      ok,
      vpcs,
      targetsDone: counters.targetsDone,
      targetsKnown: counters.targetsKnown,
      targetsFinal: counters.accountsPendingRegions === 0,
      accountsDone: counters.accountsDone,
      accountsTotal: options.accounts.length,
      vpcsSeen: counters.vpcsSeen,
      ...(options.countFindings ? { findings: counters.findings } : {}),
    });
  };
  const failAccount = (account: EstateAccount, failure: TargetFailure, regions: number) => {
    failures.push(failure);
    counters.targetsKnown -= regions;
    counters.accountsDone += 1;
    report(account.accountId, null, false, 0);
  };

  const collectAccount = async (account: EstateAccount): Promise<void> => {
    const { accountId, credentials } = account;
    const target = (region: string): AwsTarget =>
      credentials ? { accountId, region, credentials } : { accountId, region };
    const listed = options.regions.kind === 'list' ? options.regions.regions.length : 0;
    if (credentials) {
      // Obtaining the credentials first makes a missing role one clear failure for the account,
      // instead of the same error once per region.
      try {
        await credentials();
      } catch (error) {
        if (options.regions.kind === 'all') counters.accountsPendingRegions -= 1;
        failAccount(account, targetFailure(accountId, null, 'credentials', error), listed);
        return;
      }
    }
    let regions: readonly string[];
    if (options.regions.kind === 'list') {
      regions = options.regions.regions;
    } else {
      try {
        regions = await listEnabledRegions(options.ec2For(target(options.discoveryRegion)));
      } catch (error) {
        counters.accountsPendingRegions -= 1;
        failAccount(
          account,
          targetFailure(accountId, options.discoveryRegion, 'regions', error),
          0,
        );
        return;
      }
      counters.accountsPendingRegions -= 1;
      counters.targetsKnown += regions.length;
    }
    let remaining = regions.length;
    // The account counts as done before its last region is reported, so the last line adds up.
    const regionDone = () => {
      counters.targetsDone += 1;
      remaining -= 1;
      if (remaining === 0) counters.accountsDone += 1;
    };
    if (regions.length === 0) counters.accountsDone += 1;
    await mapWithConcurrency(
      regions,
      options.regionConcurrency ?? Number.POSITIVE_INFINITY,
      async (region) => {
        try {
          const snapshot = await collect({
            ec2: options.ec2For(target(region)),
            accountId,
            region,
            ...(options.now ? { now: options.now } : {}),
            ...(account.callerAccountId ? { callerAccountId: account.callerAccountId } : {}),
          });
          snapshots.push(snapshot);
          counters.vpcsSeen += snapshot.vpcs.length;
          if (options.countFindings) counters.findings += options.countFindings(snapshot);
          regionDone();
          report(accountId, region, true, snapshot.vpcs.length);
        } catch (error) {
          failures.push(targetFailure(accountId, region, 'collect', error));
          regionDone();
          report(accountId, region, false, 0);
        }
      },
    );
  };

  const settled = await mapWithConcurrency(
    options.accounts,
    options.accountConcurrency ?? DEFAULT_ACCOUNT_CONCURRENCY,
    collectAccount,
  );
  // collectAccount catches AWS failures itself; anything left is a defect and must not be hidden.
  for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;

  snapshots.sort(
    (a, b) => a.accountId.localeCompare(b.accountId) || a.region.localeCompare(b.region),
  );
  failures.sort(
    (a, b) =>
      a.accountId.localeCompare(b.accountId) || (a.region ?? '').localeCompare(b.region ?? ''),
  );
  return { snapshots, failures, targets: counters.targetsDone };
}

/** Key of an account-region: `accountId/region`. */
function targetKey(accountId: string, region: string): string {
  return `${accountId}/${region}`;
}

/**
 * The VPCs whose DNS attributes a remediation decision needs, by `accountId/region`: those with a
 * finding fixed by `enable-private-dns`, or by `create-endpoint` for an Interface service whose private
 * DNS is required; only where the profile may act on it (mode `auto` or `dry-run`, the action allowed,
 * the profile certain) and the snapshot does not hold the attributes already. Pure.
 */
export function vpcsNeedingDnsAttributes(
  snapshots: readonly NetworkSnapshot[],
  evaluations: readonly Evaluation[],
  policy: GuardPolicy,
): Map<string, string[]> {
  const known = new Set<string>();
  for (const snapshot of snapshots) {
    for (const vpc of snapshot.vpcs) {
      if (vpc.enableDnsSupport !== undefined && vpc.enableDnsHostnames !== undefined)
        known.add(`${targetKey(snapshot.accountId, snapshot.region)}/${vpc.vpcId}`);
    }
  }
  const needed = new Map<string, string[]>();
  for (const evaluation of evaluations) {
    const profile = profileNamed(policy, evaluation.profile);
    if (!profile || evaluation.profileProblem !== undefined) continue;
    const { mode, actions } = profile.remediation;
    if (mode !== 'auto' && mode !== 'dry-run') continue;
    const allowed = new Set(actions);
    const decides = evaluation.findings.some((finding) => {
      const action = finding.fix?.action;
      if (action === undefined || !allowed.has(action)) return false;
      if (action === 'enable-private-dns') return true;
      if (action !== 'create-endpoint') return false;
      const required = profile.endpoints.required.find(
        (entry) => entry.service === finding.evidence['service'],
      );
      return (
        required?.type === 'Interface' &&
        (required.privateDns ?? profile.endpoints.privateDns) === 'required'
      );
    });
    const key = targetKey(evaluation.accountId, evaluation.region);
    if (!decides || known.has(`${key}/${evaluation.vpcId}`)) continue;
    const list = needed.get(key) ?? [];
    list.push(evaluation.vpcId);
    needed.set(key, list);
  }
  return needed;
}

export interface DnsEnrichmentOptions {
  readonly snapshots: readonly NetworkSnapshot[];
  /** Evaluations of those snapshots: they say which VPCs need a DNS decision. */
  readonly evaluations: readonly Evaluation[];
  readonly policy: GuardPolicy;
  readonly ec2For: (accountId: string, region: string) => EC2Client;
  /** Account-regions read at once. @default 4 */
  readonly concurrency?: number;
}

export interface DnsEnrichment {
  /** The snapshots, with DNS attributes on the VPCs that needed them. */
  readonly snapshots: readonly NetworkSnapshot[];
  /** VPCs whose attributes were read. */
  readonly vpcsRead: number;
  /** Account-regions whose attributes could not be read: their VPCs stay without them (plans block). */
  readonly failures: readonly TargetFailure[];
}

/**
 * Adds the DNS attributes (`enableDnsSupport`, `enableDnsHostnames`) to the VPCs whose remediation
 * decision needs them (see {@link vpcsNeedingDnsAttributes}), reading nothing for the others: a scan
 * makes no per-VPC call. A failure leaves the attributes unknown, and the planner then blocks the
 * action that needed them (fail closed).
 */
export async function addDnsAttributes(options: DnsEnrichmentOptions): Promise<DnsEnrichment> {
  const needed = vpcsNeedingDnsAttributes(options.snapshots, options.evaluations, options.policy);
  const failures: TargetFailure[] = [];
  const read = new Map<string, Map<string, VpcDnsAttributes>>();
  const targets = options.snapshots.filter((s) => needed.has(targetKey(s.accountId, s.region)));
  await mapWithConcurrency(targets, options.concurrency ?? 4, async (snapshot) => {
    const key = targetKey(snapshot.accountId, snapshot.region);
    try {
      const attributes = await readVpcDnsAttributes(
        options.ec2For(snapshot.accountId, snapshot.region),
        needed.get(key) ?? [],
      );
      read.set(key, attributes);
    } catch (error) {
      failures.push(targetFailure(snapshot.accountId, snapshot.region, 'dns-attributes', error));
    }
  });
  let vpcsRead = 0;
  const snapshots = options.snapshots.map((snapshot) => {
    const attributes = read.get(targetKey(snapshot.accountId, snapshot.region));
    if (!attributes) return snapshot;
    vpcsRead += attributes.size;
    return {
      ...snapshot,
      vpcs: snapshot.vpcs.map((vpc) => {
        const found = attributes.get(vpc.vpcId);
        return found ? { ...vpc, ...found } : vpc;
      }),
    };
  });
  return { snapshots, vpcsRead, failures };
}
