import * as z from 'zod';
import { AccountIdSchema } from '../aws/shapes';
import { parseOrThrow } from '../errors';
import { readJsonFile } from '../json-file';
import { REMEDIATION_ACTIONS } from '../policy/schema';
import { RECORD_ACTION_NAMES, actionDefinition } from './actions/registry';
import { RouteRefSchema, type RemediationPlan } from './plan-model';
import { changedSomething, type ActionFacts, type FieldProblem } from './record-facts';
import {
  RecordIntegritySchema,
  verifyRecordIntegrity,
  type RecordTrust,
  type RecordVerdict,
} from './record-integrity';

/**
 * The remediation record: what one run did, to what, as whom, and what is needed to undo it. Written
 * per run (the CLI to `--records DIR`, the functions to the event bus and the log); `vpc-guard
 * rollback RECORD` plans the inverse from it alone. Its schema and its types are one: the types are
 * inferred from the shapes below, and a record read back is checked against them (loosely: fields
 * it does not rely on are kept as they are) plus, per action, the fields its inverse relies on.
 */

export const RECORD_SCHEMA_VERSION = 1;

/** A schema's output as the code reads it: nothing in a record changes once it is made. */
type Frozen<T> = T extends readonly (infer U)[]
  ? readonly Frozen<U>[]
  : T extends object
    ? { readonly [K in keyof T]: Frozen<T[K]> }
    : T;

/**
 * How an action ended. `verified`: done and the rescan no longer shows its findings. `still-failing`:
 * done but the findings remain. `skipped`: nothing to do (already right). `blocked`: not attempted,
 * with the reason. `failed`: an AWS call failed (the error says which). Dry-run runs end
 * `would-succeed` or `unauthorized` instead.
 */
export const ACTION_OUTCOMES = [
  'verified',
  'still-failing',
  'skipped',
  'blocked',
  'failed',
  'would-succeed',
  'unauthorized',
] as const;
export type ActionOutcome = (typeof ACTION_OUTCOMES)[number];

/** One AWS call as made, for the audit trail. */
const CallRecordShape = z.object({
  operation: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  dryRun: z.boolean(),
  /**
   * `ok`, `DryRunOperation`, or the error code; `pending` while the call is under way (a journal
   * written before the call says so: a run that stopped there may or may not have made the change).
   */
  result: z.string().min(1),
  at: z.string(),
});
export type CallRecord = Frozen<z.infer<typeof CallRecordShape>>;

/** What vpc-guard created (and rollback may delete: each carries `vpc-guard:managed=true`). */
const CreatedResourceSchema = z.object({
  type: z.enum(['vpc-endpoint', 'security-group', 'nat-gateway', 'route']),
  id: z.string().min(1),
});
export type CreatedResource = Frozen<z.infer<typeof CreatedResourceSchema>>;

const ActionRecordShape = z.object({
  id: z.string().min(1),
  /** The action (apply) or the rollback step kind (rollback). */
  action: z.enum(RECORD_ACTION_NAMES),
  accountId: AccountIdSchema,
  region: z.string().min(1),
  vpcId: z.string().min(1),
  outcome: z.enum(ACTION_OUTCOMES),
  /** The reason, the error, or what was verified. */
  detail: z.string(),
  calls: z.array(CallRecordShape.loose()),
  /** State before the change, as needed to restore it (previous policy, NAT subnet and allocation, ...). */
  before: z.record(z.string(), z.unknown()),
  /** State after the change, as the rescan saw it. */
  after: z.record(z.string(), z.unknown()),
  created: z.array(CreatedResourceSchema),
  // Not strict, unlike a plan's: a record is read as it was written, extra fields dropped.
  removedRoutes: z.array(z.object(RouteRefSchema.shape)),
  /** Keys of the findings the action targeted that are still open after it. */
  remainingFindingKeys: z.array(z.string()).default([]),
});
export type ActionRecord = Frozen<z.infer<typeof ActionRecordShape>>;

/**
 * The fields an action's inverse relies on that are missing or malformed, checked only where the
 * action changed something (a rollback step kind has no inverse).
 */
export function inverseFieldProblems(facts: ActionFacts): FieldProblem[] {
  if (!changedSomething(facts)) return [];
  const action = REMEDIATION_ACTIONS.find((name) => name === facts.action);
  return action ? actionDefinition(action).inverse.problems(facts) : [];
}

const ActionRecordSchema = ActionRecordShape.loose().superRefine((action, ctx) => {
  for (const problem of inverseFieldProblems(action)) {
    ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
  }
});

/**
 * The plan a run carried out. Read back it is checked only to be an object: rollback reads the few
 * parameters it needs from it defensively (see `rollback.ts`), and nothing else reads a loaded
 * record's plan.
 */
const RecordedPlanSchema = z.custom<RemediationPlan | null>(
  (value) => value === null || (typeof value === 'object' && !Array.isArray(value)),
  'expected object or null',
);

const RemediationRecordShape = z.object({
  schemaVersion: z.literal(RECORD_SCHEMA_VERSION),
  runId: z.string().min(1),
  kind: z.enum(['apply', 'rollback']),
  /** `apply` made changes; `dry-run` only asked EC2 whether it would succeed. */
  execution: z.enum(['apply', 'dry-run']),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** The caller's ARN (STS GetCallerIdentity), or what the runner says it is. */
  identity: z.string(),
  /** For a rollback: the run it undoes. */
  rollbackOf: z.string().optional(),
  plan: RecordedPlanSchema,
  actions: z.array(ActionRecordSchema),
  // Recounted from the actions on reading: a stale or hand-edited summary does not matter.
  summary: z.unknown().optional(),
  /**
   * `running`: a journal of a run under way (or one that stopped before its end): each write is in it
   * before it is made, the action under way last. Absent once the run has finished.
   */
  status: z.literal('running').optional(),
  /** The MAC over every other field (see `record-integrity`); absent on an unsigned record. */
  integrity: RecordIntegritySchema.optional(),
});

export type RemediationRecord = Readonly<
  Omit<z.infer<typeof RemediationRecordShape>, 'actions' | 'summary'>
> & {
  readonly actions: readonly ActionRecord[];
  /** Actions by outcome. */
  readonly summary: Readonly<Record<ActionOutcome, number>>;
};

/**
 * A remediation record file as rollback reads it: every field rollback relies on is checked (the
 * actions, their calls, what they created and removed, and per action the `before` / `after` fields
 * its inverse needs); the rest (the plan, extra fields) is accepted as it is.
 */
export const RemediationRecordSchema = RemediationRecordShape.loose();

/**
 * Where a run keeps its record while it runs: written before each AWS write (the intent, with the
 * call `pending`) and after it (the outcome), so a run that stops part-way leaves a record rollback
 * can use. A write must be durable when the promise resolves; one that fails stops the run before
 * the write it was to announce.
 */
export interface RecordJournal {
  write(record: RemediationRecord): Promise<void>;
}

/** Counts actions by outcome. */
export function summarizeOutcomes(actions: readonly ActionRecord[]): Record<ActionOutcome, number> {
  const summary = Object.fromEntries(ACTION_OUTCOMES.map((outcome) => [outcome, 0])) as Record<
    ActionOutcome,
    number
  >;
  for (const action of actions) summary[action.outcome] += 1;
  return summary;
}

/** True when a run needs attention: anything still failing, blocked, failed or unauthorized. */
export function recordNeedsAttention(record: RemediationRecord): boolean {
  const s = record.summary;
  return s['still-failing'] + s.blocked + s.failed + s.unauthorized > 0;
}

/**
 * Validates record data; throws an {@link InputValidationError} naming `source` and every bad field
 * (e.g. `actions[3].before.policyDocument`). The summary is recounted from the actions.
 */
export function parseRemediationRecord(data: unknown, source = 'record'): RemediationRecord {
  const parsed = parseOrThrow(RemediationRecordSchema, data, source);
  return { ...parsed, summary: summarizeOutcomes(parsed.actions) };
}

/** A record read from its file, with how far it can be trusted. */
export interface LoadedRecord {
  readonly record: RemediationRecord;
  /** `verified`: its MAC checks with the given key. `unsigned`: accepted unchecked, as asked. */
  readonly verdict: RecordVerdict;
}

/**
 * Reads a remediation record file (JSON), as written by `vpc-guard apply`, judges its integrity first
 * (see {@link verifyRecordIntegrity}: an unsigned record only with `acceptUnsigned`, a bad MAC
 * never), then validates it. Throws {@link RecordIntegrityError} or {@link InputValidationError}.
 */
export async function loadRemediationRecord(
  path: string,
  trust: RecordTrust,
): Promise<LoadedRecord> {
  const data = unwrapLoggedRecord(await readJsonFile(path, 'record'));
  const verdict = await verifyRecordIntegrity(data, trust, path);
  return { record: parseRemediationRecord(data, path), verdict };
}

/** The log messages under which the functions write a record (structured log, one JSON per line). */
const LOGGED_RECORD_MESSAGES = new Set(['remediation record', 'remediation journal']);

/**
 * The deployed functions log their signed records (`{ "message": "remediation record", "record":
 * {...} }`); such a log entry, saved as a file, is taken as the record it holds. The MAC is checked
 * on that record alone, so the wrapper adds nothing a forger could use.
 */
function unwrapLoggedRecord(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const entry = data as Record<string, unknown>;
  const message = Object.hasOwn(entry, 'message') ? entry['message'] : undefined;
  const record = Object.hasOwn(entry, 'record') ? entry['record'] : undefined;
  return typeof message === 'string' &&
    LOGGED_RECORD_MESSAGES.has(message) &&
    record !== null &&
    typeof record === 'object'
    ? record
    : data;
}
