import type * as z from 'zod';
import { describeIssue } from '../errors';
import type { CallRecord } from './record';

/**
 * What a remediation record shows an action did, read from its calls rather than from what it says
 * about itself: whether a write took effect (or may have), which endpoint it modified. Rollback
 * decides from these what to undo, and the record schema checks, per action, the fields its inverse
 * relies on. Internal to the remediation module.
 */

/** The part of an action record that decides what rollback reads. */
export interface ActionFacts {
  readonly action: string;
  readonly outcome: string;
  readonly calls: readonly Pick<CallRecord, 'operation' | 'input' | 'dryRun' | 'result'>[];
  readonly before: Readonly<Record<string, unknown>>;
  readonly after: Readonly<Record<string, unknown>>;
}

/** A field of a record its inverse cannot do without, and what was expected of it. */
export interface FieldProblem {
  readonly path: PropertyKey[];
  readonly message: string;
}

/**
 * True for a write that took effect or may have: `ok`, or `pending` in the journal of a run that
 * stopped during the call. Rollback then undoes it only where AWS shows it happened.
 */
export function mayHaveTakenEffect(call: Pick<CallRecord, 'result' | 'dryRun'>): boolean {
  return (call.result === 'ok' || call.result === 'pending') && !call.dryRun;
}

/** The input of the action's first call of `operation` that took effect (or may have). */
export function succeeded(facts: ActionFacts, operation: string): CallRecord['input'] | undefined {
  return facts.calls.find((c) => c.operation === operation && mayHaveTakenEffect(c))?.input;
}

/**
 * True when the action wrote something that took effect: a verified or still-failing action, or a
 * failed one with at least one successful write (the record's calls say which).
 */
export function changedSomething(facts: ActionFacts): boolean {
  if (!['verified', 'still-failing', 'failed'].includes(facts.outcome)) return false;
  return facts.calls.some((c) => mayHaveTakenEffect(c) && !c.operation.startsWith('Describe'));
}

/** The endpoint a successful ModifyVpcEndpoint of the action changed (the truth, not the plan). */
export function modifiedEndpointId(facts: ActionFacts): string | undefined {
  const id = succeeded(facts, 'ModifyVpcEndpoint')?.['VpcEndpointId'];
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

/** The problem when no ModifyVpcEndpoint of the action names the endpoint it changed. */
export function endpointCallProblems(facts: ActionFacts): FieldProblem[] {
  return modifiedEndpointId(facts)
    ? []
    : [
        {
          path: ['calls'],
          message: 'expected a successful ModifyVpcEndpoint call naming VpcEndpointId',
        },
      ];
}

/** The problems of `value` against `schema`, under `prefix` (`before`, `after`). */
export function problemsOf(schema: z.ZodType, value: unknown, prefix: string): FieldProblem[] {
  const result = schema.safeParse(value, { reportInput: true });
  return result.success
    ? []
    : result.error.issues.map((issue) => ({
        path: [prefix, ...issue.path],
        message: describeIssue(issue),
      }));
}
