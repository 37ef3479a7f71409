import type { Tag as Ec2Tag } from '@aws-sdk/client-ec2';
import { ENDPOINT_MUTATION_BUCKET, RateLimiterRegistry } from '../aws/rate-limiter';
import type { RemediationAction } from '../policy/schema';
import type { VpcContext } from '../rules/types';
import { CallFailed, type CallScope } from './ec2-calls';
import type { RouteRef } from './plan-model';
import type {
  ActionOutcome,
  ActionRecord,
  CreatedResource,
  RecordJournal,
  RemediationRecord,
} from './record';
import type { RollbackAction } from './actions/registry';
import { PROTECTED_TAG, isProtected, tagsOf } from './tags';

/**
 * The one engine that runs remediation writes, for `apply` and `rollback` alike. An action (apply)
 * or a step (rollback) is a describe-compare-act body that writes through a scope; the engine gives
 * it that scope (the recorded calls, DryRun, the endpoint-mutation token bucket, the journal), turns
 * how it ended into an outcome (an early {@link ActionEnded}, an AWS failure, or its own result),
 * writes the record before and after each write, and keeps the blast-radius cap. The fail-closed
 * checks every rollback step makes on what it is about to touch live here too. The bodies live with
 * their action in `actions/`; `apply.ts` and `rollback.ts` decide what runs, in which order.
 *
 * Runtime imports stay below the action registry (types only from `record` and `plan-model`), so
 * the actions can import the engine without a cycle.
 */

/** Raised inside an action or a step to end it early with an outcome that is not an AWS error. */
export class ActionEnded extends Error {
  constructor(
    readonly outcome: ActionOutcome,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ActionEnded';
  }
}

/** How an action or step ended. */
export interface Ending {
  readonly outcome: ActionOutcome;
  readonly detail: string;
}

/** The detail of the action a journal shows under way. */
export const IN_PROGRESS_DETAIL =
  'in progress when this journal was written: if the run stopped here, the calls below say what was sent (a pending call may or may not have taken effect)';

/** What every body writes through, applying or rolling back. */
export interface WriteScope extends CallScope {
  /** The endpoint-mutation bucket of the account and region (EC2's 4 / 0.3 per second). */
  readonly limiter: { take(): Promise<void> };
  /** State before the change, as needed to restore it. */
  readonly before: Record<string, unknown>;
  /** State after the change. */
  readonly after: Record<string, unknown>;
  readonly created: CreatedResource[];
  /** Routes deleted (listed before the call, so the journal's intent names them). */
  readonly removedRoutes: RouteRef[];
}

/** The scope of an apply action: the VPC as just described, and what its actions share in the run. */
export interface ApplyScope extends WriteScope {
  readonly context: VpcContext;
  /** The VPC's vpc-guard security group, once known: shared by the VPC's actions in this run. */
  readonly managedGroup: { id?: string };
  /**
   * Set by an action that fixes no finding and so verifies itself with a describe after its write
   * (`release-elastic-ip`): the rescan by finding does not apply to it.
   */
  readonly verification: { outcome?: 'verified' | 'still-failing' };
}

/** What the steps of one rollback tell each other. */
export interface RollbackRunState {
  /** Old NAT id -> the NAT recreated for it, or why there is none. */
  readonly recreatedNats: Map<string, { natGatewayId?: string; reason: string }>;
  /** Endpoints the plan deletes: a dry run knows they would free their security groups. */
  readonly endpointsDeleted: Set<string>;
}

/** The scope of a rollback step. */
export interface StepScope extends WriteScope {
  /** The step: its id, the VPC the record says the run acted in, and the action it undoes. */
  readonly step: { readonly id: string; readonly vpcId: string; readonly undoes: string };
  /** The run the rollback undoes. */
  readonly rollbackOf: string;
  readonly sleep: (ms: number) => Promise<void>;
  readonly waitAttempts: number;
  readonly waitIntervalMs: number;
  readonly run: RollbackRunState;
}

/** The endpoint-mutation buckets of a run: the caller's, or a fresh registry sized to EC2's. */
export function endpointLimiters(given?: RateLimiterRegistry): RateLimiterRegistry {
  return given ?? new RateLimiterRegistry(ENDPOINT_MUTATION_BUCKET);
}

/** What an action record is about, and the findings it leaves open unless verified. */
export interface RecordHead {
  readonly id: string;
  readonly action: RemediationAction | RollbackAction;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly remainingFindingKeys: readonly string[];
}

/** The record of an action or step as it ended, with what its scope saw and did. */
export function actionRecord(
  head: RecordHead,
  ending: Ending,
  scope?: Pick<WriteScope, 'calls' | 'before' | 'after' | 'created' | 'removedRoutes'>,
): ActionRecord {
  return {
    id: head.id,
    action: head.action,
    accountId: head.accountId,
    region: head.region,
    vpcId: head.vpcId,
    outcome: ending.outcome,
    detail: ending.detail,
    calls: scope?.calls ?? [],
    before: scope?.before ?? {},
    after: scope?.after ?? {},
    created: scope?.created ?? [],
    removedRoutes: scope?.removedRoutes ?? [],
    remainingFindingKeys: [...head.remainingFindingKeys],
  };
}

/** An ending, and whether it came from an AWS call that failed. */
export interface Settled extends Ending {
  readonly callFailed: boolean;
}

/**
 * Runs one body and turns how it ended into an outcome: its own result, an early end, or an AWS
 * failure (`unauthorized` in a dry run when the role lacks the permission, else `failed`). Anything
 * else is a defect and propagates.
 */
export async function settle(dryRun: boolean, body: () => Promise<Ending>): Promise<Settled> {
  try {
    return { ...(await body()), callFailed: false };
  } catch (error) {
    if (error instanceof ActionEnded) {
      return { outcome: error.outcome, detail: error.detail, callFailed: false };
    }
    if (error instanceof CallFailed) {
      return {
        outcome: dryRun && error.code === 'UnauthorizedOperation' ? 'unauthorized' : 'failed',
        detail: error.message,
        callFailed: true,
      };
    }
    throw error;
  }
}

/**
 * Runs one action or step in a scope the caller builds around the journal hook: before each write
 * the journal shows it under way (its calls so far, the write `pending`). Returns how it ended and
 * the scope, from which the caller makes its record.
 */
export async function runInScope<S extends WriteScope>(
  head: RecordHead,
  makeScope: (journal: () => Promise<void>) => S,
  body: (scope: S) => Promise<Ending>,
  journalInProgress: (inProgress: ActionRecord) => Promise<void>,
): Promise<{ readonly settled: Settled; readonly scope: S }> {
  const scope: S = makeScope(() =>
    journalInProgress(actionRecord(head, { outcome: 'failed', detail: IN_PROGRESS_DETAIL }, scope)),
  );
  const settled = await settle(scope.dryRun, () => body(scope));
  return { settled, scope };
}

/**
 * The record of a run while it runs: the actions finished so far, written whole through the
 * journal (with `status: running`) at the start, before and after each write.
 */
export class RunJournal {
  readonly finished: ActionRecord[] = [];

  constructor(
    private readonly recordOf: (actions: readonly ActionRecord[]) => RemediationRecord,
    private readonly journal?: RecordJournal,
  ) {}

  /** Writes the run so far: finished actions, then `current` ones, then the one under way. */
  async write(current: readonly ActionRecord[] = [], inProgress?: ActionRecord): Promise<void> {
    if (!this.journal) return;
    const list = [...this.finished, ...current, ...(inProgress ? [inProgress] : [])];
    await this.journal.write({ ...this.recordOf(list), status: 'running' });
  }

  /** The finished record of the run. */
  record(): RemediationRecord {
    return this.recordOf(this.finished);
  }
}

/** The blast-radius cap: real changes counted per profile across the run. */
export class BlastRadius {
  readonly #used = new Map<string, number>();

  used(profile: string): number {
    return this.#used.get(profile) ?? 0;
  }

  /** Counts one change (or one failed attempt at one) against the profile. */
  charge(profile: string): void {
    this.#used.set(profile, this.used(profile) + 1);
  }
}

/**
 * Every rollback step acts only inside the VPC its action names, as AWS describes the resource now:
 * a record (even a signed one) that names a resource of another VPC is not followed. A resource
 * people marked protected since the run is not written, by rollback either.
 */
export function inRecordVpc(
  scope: StepScope,
  resourceId: string,
  resource: { readonly VpcId?: string | undefined; readonly Tags?: readonly Ec2Tag[] | undefined },
  { written = true }: { readonly written?: boolean } = {},
): void {
  const vpcId = resource.VpcId;
  if (vpcId !== scope.step.vpcId) {
    throw new ActionEnded(
      'blocked',
      `${resourceId} is in ${vpcId ?? 'no VPC'}, not in ${scope.step.vpcId} where the record says run ${scope.rollbackOf} acted: not touching it`,
    );
  }
  if (written && isProtected(tagsOf(resource.Tags))) {
    throw new ActionEnded(
      'blocked',
      `${resourceId} carries ${PROTECTED_TAG}: vpc-guard does not write to it; remove the tag to roll back`,
    );
  }
}

/** Checks `check` up to the scope's number of attempts, waiting between; the last value if none passed. */
export async function poll<T>(
  scope: StepScope,
  check: () => Promise<T>,
  done: (value: T) => boolean,
): Promise<{ value: T; done: boolean; attempts: number }> {
  let value = await check();
  let attempts = 1;
  while (!done(value) && attempts < scope.waitAttempts) {
    await scope.sleep(scope.waitIntervalMs);
    value = await check();
    attempts += 1;
  }
  return { value, done: done(value), attempts };
}
