import type { RemediationAction } from '../policy/schema';
import type { RemediationPlan, RouteRef } from './plan-model';
import type { RecordIntegrity } from './record-integrity';

/**
 * The remediation record: what one run did, to what, as whom, and what is needed to undo it. Written
 * per run (the CLI to `--records DIR`, the functions to the event bus and the log); `vpc-guard
 * rollback RECORD` plans the inverse from it alone.
 */

export const RECORD_SCHEMA_VERSION = 1;

/**
 * How an action ended. `verified`: done and the rescan no longer shows its findings. `still-failing`:
 * done but the findings remain. `skipped`: nothing to do (already right). `blocked`: not attempted,
 * with the reason. `failed`: an AWS call failed (the error says which). Dry-run runs end
 * `would-succeed` or `unauthorized` instead.
 */
export type ActionOutcome =
  | 'verified'
  | 'still-failing'
  | 'skipped'
  | 'blocked'
  | 'failed'
  | 'would-succeed'
  | 'unauthorized';

/** One AWS call as made, for the audit trail. */
export interface CallRecord {
  readonly operation: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly dryRun: boolean;
  /**
   * `ok`, `DryRunOperation`, or the error code; `pending` while the call is under way (a journal
   * written before the call says so: a run that stopped there may or may not have made the change).
   */
  readonly result: string;
  readonly at: string;
}

/** What vpc-guard created (and rollback may delete: each carries `vpc-guard:managed=true`). */
export interface CreatedResource {
  readonly type: 'vpc-endpoint' | 'security-group' | 'nat-gateway' | 'route';
  readonly id: string;
}

export interface ActionRecord {
  readonly id: string;
  readonly action: RemediationAction | RollbackAction;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly outcome: ActionOutcome;
  /** The reason, the error, or what was verified. */
  readonly detail: string;
  readonly calls: readonly CallRecord[];
  /** State before the change, as needed to restore it (previous policy, NAT subnet and allocation, ...). */
  readonly before: Readonly<Record<string, unknown>>;
  /** State after the change, as the rescan saw it. */
  readonly after: Readonly<Record<string, unknown>>;
  readonly created: readonly CreatedResource[];
  readonly removedRoutes: readonly RouteRef[];
  /** Keys of the findings the action targeted that are still open after it. */
  readonly remainingFindingKeys: readonly string[];
}

export type RollbackAction =
  | 'restore-endpoint-policy'
  | 'delete-created-endpoint'
  | 'delete-created-security-group'
  | 'disable-private-dns'
  | 'shrink-endpoint-coverage'
  | 'recreate-route'
  | 'recreate-nat'
  | 'restore-elastic-ip';

export interface RemediationRecord {
  readonly schemaVersion: typeof RECORD_SCHEMA_VERSION;
  readonly runId: string;
  readonly kind: 'apply' | 'rollback';
  /** `apply` made changes; `dry-run` only asked EC2 whether it would succeed. */
  readonly execution: 'apply' | 'dry-run';
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The caller's ARN (STS GetCallerIdentity), or what the runner says it is. */
  readonly identity: string;
  /** For a rollback: the run it undoes. */
  readonly rollbackOf?: string;
  readonly plan: RemediationPlan | null;
  readonly actions: readonly ActionRecord[];
  readonly summary: Readonly<Record<ActionOutcome, number>>;
  /**
   * `running`: a journal of a run under way (or one that stopped before its end): each write is in it
   * before it is made, the action under way last. Absent once the run has finished.
   */
  readonly status?: 'running';
  /** The MAC over every other field (see `record-integrity`); absent on an unsigned record. */
  readonly integrity?: RecordIntegrity;
}

/**
 * Where a run keeps its record while it runs: written before each AWS write (the intent, with the
 * call `pending`) and after it (the outcome), so a run that stops part-way leaves a record rollback
 * can use. A write must be durable when the promise resolves; one that fails stops the run before
 * the write it was to announce.
 */
export interface RecordJournal {
  write(record: RemediationRecord): Promise<void>;
}

/** The detail of the action a journal shows under way. */
export const IN_PROGRESS_DETAIL =
  'in progress when this journal was written: if the run stopped here, the calls below say what was sent (a pending call may or may not have taken effect)';

/** Counts actions by outcome. */
export function summarizeOutcomes(actions: readonly ActionRecord[]): Record<ActionOutcome, number> {
  const summary: Record<ActionOutcome, number> = {
    verified: 0,
    'still-failing': 0,
    skipped: 0,
    blocked: 0,
    failed: 0,
    'would-succeed': 0,
    unauthorized: 0,
  };
  for (const action of actions) summary[action.outcome] += 1;
  return summary;
}

/** True when a run needs attention: anything still failing, blocked, failed or unauthorized. */
export function recordNeedsAttention(record: RemediationRecord): boolean {
  const s = record.summary;
  return s['still-failing'] + s.blocked + s.failed + s.unauthorized > 0;
}
