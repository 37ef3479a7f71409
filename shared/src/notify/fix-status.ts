import * as z from 'zod';
import type { FixSuggestion } from '../rules/types';
import type { PlannedAction, RemediationPlan } from '../remediation/plan-model';
import type { ActionOutcome, ActionRecord, RemediationRecord } from '../remediation/record';

/**
 * What is being done about a finding, as alerts say it: nothing known, a suggested fix, a planned
 * one, one blocked (and why), one tried as a dry run, applied, or failed.
 */

export const FIX_STATES = [
  'none',
  'suggested',
  'planned',
  'blocked',
  'dry-run',
  'applied',
  'failed',
] as const;
export type FixState = (typeof FIX_STATES)[number];

const ACTION_OUTCOMES = [
  'verified',
  'still-failing',
  'skipped',
  'blocked',
  'failed',
  'would-succeed',
  'unauthorized',
] as const satisfies readonly ActionOutcome[];

export const FixStatusSchema = z.object({
  state: z.enum(FIX_STATES),
  /** The remediation action (`remove-nat`, ...), when there is one. */
  action: z.string().nullable(),
  /** What the fix does, in one line. */
  summary: z.string(),
  /** Why it is blocked, what the run reported, or what it would take. */
  detail: z.string().nullable(),
  /** The action record's outcome, when the fix was run. */
  outcome: z.enum(ACTION_OUTCOMES).nullable(),
  /** The planned action's id, `accountId/region/vpcId/action/subject`. */
  actionId: z.string().nullable(),
});
export type FixStatus = z.infer<typeof FixStatusSchema>;

/** The remediation context of a run: the plan, and the record when it was applied. */
export interface RemediationContext {
  /** @default - the record's plan */
  readonly plan?: RemediationPlan | null;
  readonly record?: RemediationRecord | null;
}

const OUTCOME_STATE: Readonly<Record<ActionOutcome, FixState>> = {
  verified: 'applied',
  'still-failing': 'applied',
  skipped: 'applied',
  blocked: 'blocked',
  failed: 'failed',
  unauthorized: 'failed',
  'would-succeed': 'dry-run',
};

/**
 * Indexes a plan and record by finding key and returns the lookup: for each finding, the action that
 * targets it and how that action ended.
 */
export function fixStatusLookup(
  context: RemediationContext = {},
): (findingKey: string, suggestion: FixSuggestion | null) => FixStatus {
  const plan = context.plan ?? context.record?.plan ?? null;
  const byFinding = new Map<string, PlannedAction>();
  for (const vpc of plan?.vpcs ?? []) {
    for (const action of vpc.actions) {
      for (const key of action.findingKeys) if (!byFinding.has(key)) byFinding.set(key, action);
    }
  }
  const records = new Map<string, ActionRecord>(
    (context.record?.actions ?? []).map((action) => [action.id, action]),
  );
  return (findingKey, suggestion) => {
    const planned = byFinding.get(findingKey);
    if (planned === undefined) {
      return suggestion === null
        ? {
            state: 'none',
            action: null,
            summary: 'no automatic fix',
            detail: null,
            outcome: null,
            actionId: null,
          }
        : {
            state: 'suggested',
            action: suggestion.action,
            summary: suggestion.summary,
            detail: null,
            outcome: null,
            actionId: null,
          };
    }
    const done = records.get(planned.id);
    if (done !== undefined) {
      return {
        state: OUTCOME_STATE[done.outcome],
        action: planned.action,
        summary: planned.summary,
        detail: done.detail,
        outcome: done.outcome,
        actionId: planned.id,
      };
    }
    return planned.status === 'blocked'
      ? {
          state: 'blocked',
          action: planned.action,
          summary: planned.summary,
          detail: planned.blockedReason ?? 'blocked',
          outcome: null,
          actionId: planned.id,
        }
      : {
          state: 'planned',
          action: planned.action,
          summary: planned.summary,
          detail: planned.execution === 'dry-run' ? 'dry-run only' : null,
          outcome: null,
          actionId: planned.id,
        };
  };
}

/**
 * One line for people: `planned: + interface endpoint sts ...`, `applied (verified): ...`,
 * `blocked: ... (the VPC lacks enableDnsHostnames)`, `suggested: create-endpoint: ...`.
 */
export function describeFixStatus(status: FixStatus): string {
  switch (status.state) {
    case 'none':
      return 'no automatic fix';
    case 'suggested':
      return `suggested: ${status.action ? `${status.action}: ` : ''}${status.summary}`;
    case 'planned':
      return `planned: ${status.summary}${status.detail ? ` (${status.detail})` : ''}`;
    case 'blocked':
      return `blocked: ${status.summary}${status.detail ? ` (${status.detail})` : ''}`;
    case 'dry-run':
      return `dry-run: ${status.summary} would succeed`;
    case 'applied':
      return `applied (${status.outcome ?? 'done'}): ${status.summary}${status.detail ? ` - ${status.detail}` : ''}`;
    case 'failed':
      return `failed (${status.outcome ?? 'error'}): ${status.summary}${status.detail ? ` - ${status.detail}` : ''}`;
  }
}
