import type * as z from 'zod';
import type { Finding } from '../../evaluate';
import type { GuardPolicy, RemediationAction } from '../../policy/schema';
import type { VpcContext } from '../../rules/types';
import type { NetworkSnapshot } from '../../snapshot/schema';
import type { ApplyScope, Ending, RollbackRunState, StepScope } from '../engine';
import type { ActionRecord } from '../record';
import type { ActionFacts, FieldProblem } from '../record-facts';
import type { ProtectionProbe } from '../tags';

/**
 * What a remediation action is, in one place, the way a rule is (`rules/types.ts`): the shape of its
 * parameters (a zod schema; the type comes from it), how it is planned from the findings of a VPC, what
 * it writes to (for the protected tag), how it is applied (describe, compare, act), and its inverse:
 * the rollback steps it leaves in a record and how each of them runs. Each action is one file of
 * `actions/`, listed once in `actions/registry.ts`.
 */

/** A rollback step's parameters: its kind, and what it needs to run. */
export interface StepParamsShape {
  readonly action: string;
}

/** One planned action before the planner places it (id, status, execution, the profile's checks). */
export interface Draft<P> {
  readonly action: RemediationAction;
  /** With the VPC and the action, the action's id: what it acts on (`sts`, `rtb-1/0.0.0.0/0`). */
  readonly subject: string;
  readonly findings: readonly Finding[];
  /** Why, when no finding says it (an action that tidies up after an earlier fix). */
  readonly reason?: string;
  readonly summary: string;
  readonly preconditions: readonly string[];
  readonly expectedEffect: string;
  readonly monthlyCostChangeUsd: number;
  readonly params: P;
  /** A reason this action cannot run whatever the profile allows (e.g. VPC DNS attributes off). */
  readonly blockedReason?: string;
}

/** What an action plans from: one VPC, its findings, the policy and the policy's digest. */
export interface PlanningInput {
  readonly context: VpcContext;
  readonly findings: readonly Finding[];
  readonly policy: GuardPolicy;
  readonly policyDigest: string;
}

/** Something an earlier run left that an action tidies up without any finding asking for it. */
export interface Leftover<P> {
  draft(context: VpcContext): Draft<P>;
}

/** What the record's plan says of an action (read defensively: a record's plan is not validated). */
export interface PlannedParams {
  readonly service?: string;
  readonly policyDocument?: string;
}

/** What the inverse of one action record is planned with. */
export interface InverseInput {
  readonly record: ActionRecord;
  readonly planned: PlannedParams | undefined;
  readonly runId: string;
  readonly recreateNat: boolean;
}

/** One rollback step before the rollback planner places it. */
export interface StepDraft<R extends StepParamsShape> {
  readonly action: R['action'];
  readonly subject: string;
  readonly status?: 'planned' | 'blocked' | 'skipped';
  readonly reason?: string;
  readonly summary: string;
  readonly preconditions: readonly string[];
  readonly params: R;
}

/** How one kind of rollback step runs. */
export interface StepKind<Q extends StepParamsShape> {
  /** Describe, compare, act, describe again: `verified` when EC2 shows the previous state. */
  run(scope: StepScope, params: Q): Promise<Ending>;
  /** Before the rollback runs, for each planned step of the kind: what it tells the others. */
  prepare?(params: Q, run: RollbackRunState): void;
  /** A note for the rollback plan about a step of this kind, if it needs one. */
  note?(params: Q): string | undefined;
}

/** The step kinds an action owns, each run with its own params. */
export type StepKinds<O extends StepParamsShape> = {
  readonly [K in O['action']]: StepKind<Extract<O, { readonly action: K }>>;
};

/**
 * One remediation action. `S` is its parameter schema, `R` the rollback steps its inverse produces,
 * `O` the step kinds it owns (a step kind shared by two actions, `recreate-route`, is owned by the one
 * whose inverse it is, `remove-internet-route`, and produced by both).
 */
export interface RemediationActionDefinition<
  A extends RemediationAction,
  S extends z.ZodType<{ readonly action: A }>,
  R extends StepParamsShape,
  O extends StepParamsShape,
> {
  readonly name: A;
  readonly paramsSchema: S;
  /** An endpoint fix: egress is cut only once every endpoint fix of the VPC runs before it. */
  readonly fixesEndpoint?: boolean;
  /** Whether this draft takes egress away; present only on actions that may. */
  cutsEgress?(draft: Draft<z.infer<S>>): boolean;
  /** Drafts from the findings of one VPC (those whose fix names this action, and any it gathers). */
  plan(input: PlanningInput): Draft<z.infer<S>>[];
  /** What the snapshot shows left over by an earlier run, by VPC id, planned without a finding. */
  readonly leftovers?: {
    find(snapshot: NetworkSnapshot): ReadonlyMap<string, readonly Leftover<z.infer<S>>[]>;
    /** What stays as it is when the VPC's profile does not remediate. */
    note(count: number): string;
  };
  /** Reports, through the probe, each resource in the VPC the action would write to. */
  probeProtected(params: z.infer<S>, probe: ProtectionProbe): void;
  /** What the action acts on, from its parameters: for messages about a plan file's action. */
  subject(params: z.infer<S>): string;
  /** A one-line summary computed from the parameters (never a plan file's own text). */
  summarize(params: z.infer<S>): string;
  /** True when applying it needs the VPC's DNS attributes described. */
  needsDnsAttributes?(params: z.infer<S>): boolean;
  /** Describe (the scope's context is fresh), compare, act; returns what was done. */
  apply(scope: ApplyScope, params: z.infer<S>): Promise<string>;
  readonly inverse: {
    /** The record fields the inverse relies on that are missing or malformed (action changed something). */
    problems(facts: ActionFacts): FieldProblem[];
    /** The steps that undo what the record shows the action changed, in the order they run. */
    steps(input: InverseInput): StepDraft<R>[];
    readonly kinds: StepKinds<O>;
  };
}
