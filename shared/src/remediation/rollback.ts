import { randomUUID } from 'node:crypto';
import type { EC2Client } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { InputValidationError, VpcGuardError, formatIssuePath, type InputProblem } from '../errors';
import { REMEDIATION_ACTIONS } from '../policy/schema';
import {
  actionDefinition,
  stepKind,
  type RollbackAction,
  type RollbackParams,
} from './actions/registry';
import type { PlannedParams } from './actions/types';
import type { ApplyDependencies } from './apply';
import {
  RunJournal,
  actionRecord,
  endpointLimiters,
  runInScope,
  type RecordHead,
  type RollbackRunState,
  type StepScope,
} from './engine';
import {
  RECORD_SCHEMA_VERSION,
  inverseFieldProblems,
  summarizeOutcomes,
  type ActionRecord,
  type RecordJournal,
  type RemediationRecord,
} from './record';
import { changedSomething } from './record-facts';

/**
 * Rollback: the inverse of an `apply` run, planned from its record alone and carried out with the
 * same engine as the apply (describe-compare-act, DryRun, the endpoint token bucket, a record).
 * What the record shows was changed is undone; what it shows was not is left alone; what cannot be
 * restored faithfully (a deleted NAT gateway without `recreateNat`, a policy changed by someone else
 * since, a released Elastic IP) is reported as blocked, never guessed. Each action says what its
 * inverse is (`actions/<name>.ts`: the steps, and how each kind of step runs); this module orders
 * them and runs them.
 */

export const ROLLBACK_PLAN_SCHEMA_VERSION = 1;

/**
 * `planned`: will run. `blocked`: will not run, `reason` says why and what would unblock it.
 * `skipped`: there is nothing to restore (e.g. a route that was a blackhole), `reason` says why.
 */
export type RollbackStepStatus = 'planned' | 'blocked' | 'skipped';

/** One step of a rollback: the inverse of (part of) one action of the apply record. */
export interface RollbackStep {
  /** `accountId/region/vpcId/action/subject`, like the ids of planned actions. */
  readonly id: string;
  readonly action: RollbackAction;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly status: RollbackStepStatus;
  readonly reason?: string;
  /** The id of the action of the apply record this step undoes. */
  readonly undoes: string;
  /** One line for the diff, e.g. "+ route 0.0.0.0/0 -> igw-0abc in rtb-0def". */
  readonly summary: string;
  /** What must hold when the step runs; checked against a fresh describe. */
  readonly preconditions: readonly string[];
  readonly params: RollbackParams;
}

/** The inverse of an apply run, in the order it must run (the reverse of the run's). */
export interface RollbackPlan {
  readonly schemaVersion: typeof ROLLBACK_PLAN_SCHEMA_VERSION;
  /** The run id of the apply record. */
  readonly rollbackOf: string;
  readonly recreateNat: boolean;
  readonly steps: readonly RollbackStep[];
  /** What the record shows and no step undoes, and why. */
  readonly notes: readonly string[];
}

/** Options of {@link planRollback}. */
export interface RollbackOptions {
  /**
   * Recreate each NAT gateway the run deleted (same subnet, same Elastic IP, same connectivity type)
   * and point its routes at the new one. Without it, such a NAT is a blocked step: routes cannot
   * target a deleted NAT, and a new NAT costs money, so it is never made unasked.
   * @default false
   */
  readonly recreateNat?: boolean;
}

/** Why a record cannot be rolled back at all. */
export type RollbackRefusal = 'rollback-record' | 'dry-run-record';

/** Thrown by {@link planRollback} for a record that cannot be rolled back: a rollback, or a dry run. */
export class RollbackRefusedError extends VpcGuardError {
  readonly runId: string;
  readonly refusal: RollbackRefusal;

  constructor(runId: string, refusal: RollbackRefusal, message: string) {
    super(message);
    this.name = 'RollbackRefusedError';
    this.runId = runId;
    this.refusal = refusal;
  }
}

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

/** The few plan params rollback reads, checked because a record's plan is not validated. */
const PlanLookupSchema = z.looseObject({
  vpcs: z.array(
    z.looseObject({
      actions: z.array(
        z.looseObject({
          id: z.string(),
          params: z.looseObject({
            service: z.string().optional(),
            policyDocument: z.string().optional(),
          }),
        }),
      ),
    }),
  ),
});

function plannedParamsById(plan: unknown): Map<string, PlannedParams> {
  const parsed = PlanLookupSchema.safeParse(plan);
  const byId = new Map<string, PlannedParams>();
  if (!parsed.success) return byId;
  for (const vpc of parsed.data.vpcs) {
    for (const action of vpc.actions) byId.set(action.id, action.params);
  }
  return byId;
}

/**
 * Plans the inverse of an apply run from its record alone. Pure. Every action that changed something
 * (verified, still failing, or failed after a successful write: the record's calls, `created` and
 * `removedRoutes` say what) gets its inverse steps, in the reverse order of the run: recreate NAT
 * gateways (only with `recreateNat`) and their routes, recreate removed routes, restore endpoint
 * policies, turn private DNS back off, shrink coverage back, delete the endpoints and then the
 * security groups the run created. A released Elastic IP gets a `blocked` step saying why it cannot
 * be restored. Throws {@link RollbackRefusedError} for a rollback record or a dry-run record, and
 * {@link InputValidationError} when a field an inverse needs is missing.
 */
export function planRollback(
  record: RemediationRecord,
  options: RollbackOptions = {},
): RollbackPlan {
  if (record.kind === 'rollback') {
    throw new RollbackRefusedError(
      record.runId,
      'rollback-record',
      `run ${record.runId} is a rollback${record.rollbackOf ? ` of run ${record.rollbackOf}` : ''}: a rollback is not rolled back (run plan and apply again to get the fixes back)`,
    );
  }
  if (record.execution === 'dry-run') {
    throw new RollbackRefusedError(
      record.runId,
      'dry-run-record',
      `run ${record.runId} was a dry run: it changed nothing, so there is nothing to roll back`,
    );
  }
  const problems: InputProblem[] = record.actions.flatMap((action, index) =>
    inverseFieldProblems(action).map((problem) => ({
      path: formatIssuePath([`actions`, index, ...problem.path]),
      message: problem.message,
    })),
  );
  if (problems.length > 0) throw new InputValidationError(`record ${record.runId}`, problems);

  const recreateNat = options.recreateNat ?? false;
  const planned = plannedParamsById(record.plan);
  const steps: RollbackStep[] = [];
  const unchanged: string[] = [];
  for (const action of [...record.actions].reverse()) {
    if (!changedSomething(action)) {
      unchanged.push(action.id);
      continue;
    }
    const name = REMEDIATION_ACTIONS.find((candidate) => candidate === action.action);
    const inverse = name
      ? actionDefinition(name).inverse.steps({
          record: action,
          planned: planned.get(action.id),
          runId: record.runId,
          recreateNat,
        })
      : [];
    for (const draft of inverse) {
      const { subject, ...rest } = draft;
      steps.push({
        ...rest,
        id: `${action.accountId}/${action.region}/${action.vpcId}/${draft.action}/${subject}`,
        accountId: action.accountId,
        region: action.region,
        vpcId: action.vpcId,
        status: draft.status ?? 'planned',
        undoes: action.id,
      });
    }
  }
  const notes: string[] = [];
  if (unchanged.length > 0) {
    notes.push(
      `${unchanged.length} action(s) of run ${record.runId} changed nothing (skipped, blocked, dry-run or failed before any write): nothing to undo for them`,
    );
  }
  for (const step of steps) {
    const note = stepKind(step.params.action).note?.(step.params);
    if (note) notes.push(note);
  }
  return {
    schemaVersion: ROLLBACK_PLAN_SCHEMA_VERSION,
    rollbackOf: record.runId,
    recreateNat,
    steps,
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// Applying
// ---------------------------------------------------------------------------------------------

/** What {@link applyRollback} needs: the apply's dependencies, plus waiting and dry-run control. */
export interface RollbackDependencies extends Omit<ApplyDependencies, 'collect'> {
  /** Send every write with `DryRun: true` (describes still run, to decide what would be written). */
  readonly dryRun?: boolean;
  /** Waits between checks of an asynchronous change; injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * How many times an asynchronous change is checked (a recreated NAT becoming available, a deleted
   * NAT releasing its address, a deleting endpoint releasing a security group) before the step
   * reports it unfinished. @default 20
   */
  readonly waitAttempts?: number;
  /** Milliseconds between those checks. @default 15000 */
  readonly waitIntervalMs?: number;
  /**
   * Where the rollback's own record is kept while it runs: written at the start and before and after
   * each write. @default - none: the record is only returned at the end
   */
  readonly journal?: RecordJournal;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Carries out a rollback plan, step by step in its order, as describe-compare-act: each step first
 * describes the resource and skips what is already restored (a policy equal to the previous one, a
 * route already there with the same target, an endpoint already gone), refuses what it must not
 * touch (a policy changed by someone else, a resource without the `vpc-guard:managed` tag, a route
 * slot now used by another target), then writes, then describes again: `verified` when EC2 shows
 * the previous state. Endpoint mutations go through the per account-region token bucket;
 * `dryRun` sends every write with `DryRun: true`. Waits (a NAT becoming available, a security group
 * released by a deleting endpoint) are bounded. Returns a record of kind `rollback`; never throws
 * for an AWS failure.
 */
export async function applyRollback(
  plan: RollbackPlan,
  deps: RollbackDependencies,
): Promise<RemediationRecord> {
  const clock = deps.clock ?? (() => new Date());
  const startedAt = clock().toISOString();
  const limiter = endpointLimiters(deps.endpointLimiter);
  const dryRun = deps.dryRun ?? false;
  const clients = new Map<string, EC2Client>();
  const run: RollbackRunState = { recreatedNats: new Map(), endpointsDeleted: new Set() };
  for (const step of plan.steps) {
    if (step.status === 'planned') stepKind(step.params.action).prepare?.(step.params, run);
  }
  const runId = deps.runId ?? randomUUID();
  const journal = new RunJournal(
    (actions) => ({
      schemaVersion: RECORD_SCHEMA_VERSION,
      runId,
      kind: 'rollback',
      execution: dryRun ? 'dry-run' : 'apply',
      startedAt,
      finishedAt: clock().toISOString(),
      identity: deps.identity,
      rollbackOf: plan.rollbackOf,
      plan: null,
      actions: [...actions],
      summary: summarizeOutcomes(actions),
    }),
    deps.journal,
  );
  // The journal exists before the first AWS call: a rollback that cannot keep its record does not start.
  if (!dryRun) await journal.write();
  for (const step of plan.steps) {
    const head: RecordHead = { ...step, remainingFindingKeys: [] };
    let record: ActionRecord;
    if (step.status !== 'planned') {
      record = actionRecord(head, {
        outcome: step.status,
        detail: step.reason ?? `${step.status} in the plan`,
      });
    } else {
      const key = `${step.accountId}/${step.region}`;
      let ec2 = clients.get(key);
      if (!ec2) {
        ec2 = deps.ec2For(step.accountId, step.region);
        clients.set(key, ec2);
      }
      const client = ec2;
      const { settled, scope } = await runInScope(
        head,
        (journalHook): StepScope => ({
          ec2: client,
          dryRun,
          clock,
          calls: [],
          step,
          limiter: limiter.for(step.accountId, step.region),
          sleep: deps.sleep ?? realSleep,
          waitAttempts: Math.max(1, deps.waitAttempts ?? 20),
          waitIntervalMs: deps.waitIntervalMs ?? 15_000,
          before: {},
          after: {},
          created: [],
          removedRoutes: [],
          run,
          rollbackOf: plan.rollbackOf,
          journal: journalHook,
        }),
        (scope) => stepKind(step.params.action).run(scope, step.params),
        (inProgress) => journal.write([], inProgress),
      );
      record = actionRecord(head, settled, scope);
    }
    deps.onAction?.(record);
    journal.finished.push(record);
    if (!dryRun && step.status === 'planned') await journal.write();
  }
  return journal.record();
}
