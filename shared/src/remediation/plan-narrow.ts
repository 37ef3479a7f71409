import type { EC2Client } from '@aws-sdk/client-ec2';
import { classifyAwsError, describeAwsError } from '../aws/errors';
import { buildVpcContexts, evaluate } from '../evaluate';
import type { GuardPolicy } from '../policy/schema';
import { collectNetworkSnapshot, type CollectOptions } from '../snapshot/collect';
import type { NetworkSnapshot } from '../snapshot/schema';
import {
  ENDPOINT_FIXES,
  MAY_CUT_EGRESS,
  actionDefinition,
  needsDnsAttributes,
  type ActionParams,
} from './actions/registry';
import { planRemediation, vpcFingerprint } from './plan';
import type { PlannedAction, RemediationPlan, VpcPlan } from './plan-model';

/**
 * A plan handed to the writer (a saved file, or one made a while ago) is a selection, never an
 * instruction: the writer plans again from the trusted policy and what AWS shows now, and runs only
 * the actions of the given plan that equal, in every parameter, what the policy plans now. A plan can
 * so narrow what happens (leave actions out, hold them back, turn them into DryRun calls), never
 * widen it. Everything it says beyond that selection (summaries, reasons, costs) is replaced by what
 * the fresh plan computes.
 */

/** `accountId/region/vpcId`: how plans and snapshots name a VPC. */
export function planVpcKey(plan: { accountId: string; region: string; vpcId: string }): string {
  return `${plan.accountId}/${plan.region}/${plan.vpcId}`;
}

/**
 * The plan the policy makes now for one VPC of a freshly collected snapshot: the VPC's entry of
 * {@link planRemediation}, or an empty entry when the VPC is compliant. Undefined when the snapshot
 * has no such VPC (it no longer exists).
 */
export function replanVpc(
  snapshot: NetworkSnapshot,
  policy: GuardPolicy,
  vpcId: string,
  now: Date,
): VpcPlan | undefined {
  const resolved = buildVpcContexts(snapshot, policy, { now }).find(
    (candidate) => candidate.context.vpc.vpcId === vpcId,
  );
  if (!resolved) return undefined;
  const evaluations = evaluate([snapshot], policy, { now });
  const plan = planRemediation({ snapshots: [snapshot], evaluations, policy, now });
  const found = plan.vpcs.find((vpc) => vpc.vpcId === vpcId);
  if (found) return found;
  const { context } = resolved;
  return {
    accountId: snapshot.accountId,
    region: snapshot.region,
    vpcId,
    vpcName: context.vpc.tags['Name'] ?? null,
    profile: context.profileName,
    mode: context.profile.remediation.mode,
    fingerprint: vpcFingerprint(context),
    actions: [],
    notes: ['compliant now: nothing to change'],
  };
}

/** What an action acts on, from its parameters: for messages about an action of a plan file. */
function subjectOf(params: ActionParams): string {
  return actionDefinition(params.action).subject(params);
}

/** A one-line summary computed from an action's parameters (never the file's own summary text). */
function summaryOf(params: ActionParams): string {
  return actionDefinition(params.action).summarize(params);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The paths (`securityGroup.create.ingressCidrs`) where two values differ; arrays compare whole. */
function differences(a: unknown, b: unknown, path: string): string[] {
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((key) => {
      const inA = Object.hasOwn(a, key);
      const inB = Object.hasOwn(b, key);
      const at = path ? `${path}.${key}` : key;
      return inA && inB ? differences(a[key], b[key], at) : [at];
    });
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const same =
      a.length === b.length && a.every((item, i) => differences(item, b[i], '').length === 0);
    return same ? [] : [path];
  }
  return Object.is(a, b) ? [] : [path];
}

/** The fields in which an action of a plan file differs from the fresh plan's action of the same id. */
function differingFields(file: PlannedAction, fresh: PlannedAction): string[] {
  const top = (['action', 'accountId', 'region', 'vpcId'] as const).filter(
    (field) => file[field] !== fresh[field],
  );
  return [...top, ...differences(file.params, fresh.params, '')];
}

/** A blocked action described only by what can be computed from its parameters. */
function blockedAsGiven(action: PlannedAction, reason: string): PlannedAction {
  return {
    id: action.id,
    action: action.action,
    accountId: action.accountId,
    region: action.region,
    vpcId: action.vpcId,
    status: 'blocked',
    blockedReason: reason,
    execution: action.execution,
    summary: summaryOf(action.params),
    findingKeys: [],
    reason: '',
    preconditions: [],
    expectedEffect: '',
    monthlyCostChangeUsd: 0,
    params: action.params,
  };
}

/** The fresh plan's action, blocked with a reason. */
function blockedFresh(fresh: PlannedAction, reason: string): PlannedAction {
  return { ...fresh, status: 'blocked', blockedReason: reason };
}

/** Why every action of a VPC is blocked before looking at actions one by one, if it is. */
function vpcWideReason(file: VpcPlan, fresh: VpcPlan | undefined): string | undefined {
  if (!fresh) return `VPC ${file.vpcId} no longer exists`;
  if (fresh.profile !== file.profile) {
    return `profile changed from "${file.profile}" to "${fresh.profile}" since the plan`;
  }
  if (fresh.fingerprint !== file.fingerprint) return 'the VPC changed since the plan: re-plan';
  if (fresh.actions.length === 0) {
    return `the policy plans nothing in ${file.vpcId} now${fresh.notes.length > 0 ? ` (${fresh.notes.join('; ')})` : ''}`;
  }
  return undefined;
}

/**
 * Narrows one VPC's entry of a given plan to what the policy plans now (`fresh`, from
 * {@link replanVpc}). An action runs only if the given plan has it `planned` and the fresh plan has
 * an action of the same id, `planned`, equal in type, account, region, VPC and every parameter; it
 * runs with the fresh plan's parameters, as DryRun if either plan says so, in the fresh plan's order.
 * Anything else is `blocked` with the reason, naming the fields that differ. Egress is not cut while
 * an endpoint fix the policy plans in the VPC is left out or only dry-run. Pure.
 */
export function narrowVpcPlan(file: VpcPlan, fresh: VpcPlan | undefined): VpcPlan {
  const wide = vpcWideReason(file, fresh);
  const freshById = new Map((fresh?.actions ?? []).map((action) => [action.id, action]));
  const order = new Map((fresh?.actions ?? []).map((action, index) => [action.id, index]));
  const seen = new Set<string>();
  const results: PlannedAction[] = [];
  for (const given of file.actions) {
    const label = `plan file's ${given.action} ${subjectOf(given.params)}`;
    const match = freshById.get(given.id);
    const duplicate = seen.has(given.id);
    seen.add(given.id);
    // Described by the fresh plan where the file's action is the policy's own; otherwise by what
    // the file's parameters would do.
    const describe = (reason: string) =>
      match && !duplicate ? blockedFresh(match, reason) : blockedAsGiven(given, reason);
    if (duplicate) {
      results.push(describe(`${label}: the action appears more than once in the plan`));
    } else if (given.status !== 'planned') {
      results.push(
        describe(
          match?.status === 'blocked'
            ? (match.blockedReason ?? 'blocked by the policy')
            : 'held back in the plan file',
        ),
      );
    } else if (wide) {
      results.push(describe(wide));
    } else if (!match) {
      results.push(describe(`${label}: the policy plans no such action now`));
    } else {
      const fields = differingFields(given, match);
      if (fields.length > 0) {
        results.push(
          blockedAsGiven(
            given,
            `${label}: ${fields.join(', ')} ${fields.length === 1 ? 'differs' : 'differ'} from what the policy plans now`,
          ),
        );
      } else if (match.status === 'blocked') {
        results.push(describe(`the policy blocks it now: ${match.blockedReason ?? 'no reason'}`));
      } else {
        const execution =
          given.execution === 'dry-run' || match.execution === 'dry-run' ? 'dry-run' : 'apply';
        results.push({ ...match, execution });
      }
    }
  }
  // Egress goes only once every endpoint fix the policy plans here runs for real before it.
  const running = new Map(
    results.filter((a) => a.status === 'planned').map((action) => [action.id, action]),
  );
  const fixes = (fresh?.actions ?? []).filter(
    (a) => a.status === 'planned' && ENDPOINT_FIXES.has(a.action),
  );
  const narrowed = results.map((action) => {
    if (action.status !== 'planned' || !MAY_CUT_EGRESS.has(action.action)) return action;
    const held = fixes.filter((fix) => {
      const run = running.get(fix.id);
      return !run || (action.execution === 'apply' && run.execution === 'dry-run');
    });
    return held.length === 0
      ? action
      : blockedFresh(
          action,
          `the plan holds back ${held.length} endpoint fix${held.length === 1 ? '' : 'es'} the policy plans in this VPC (${held.map((a) => `${a.action} ${subjectOf(a.params)}`).join(', ')}): egress is removed only once the required endpoints are in place`,
        );
  });
  const rank = (action: PlannedAction) => order.get(action.id) ?? Number.MAX_SAFE_INTEGER;
  const sorted = narrowed
    .map((action, index) => ({ action, index }))
    .sort((a, b) => rank(a.action) - rank(b.action) || a.index - b.index)
    .map(({ action }) => action);
  return {
    accountId: file.accountId,
    region: file.region,
    vpcId: file.vpcId,
    vpcName: fresh?.vpcName ?? null,
    profile: fresh?.profile ?? file.profile,
    mode: fresh?.mode ?? file.mode,
    fingerprint: file.fingerprint,
    actions: sorted,
    notes: fresh?.notes ?? [],
  };
}

/**
 * A VPC of a given plan that was not read again because nothing in it is planned: every action
 * stays blocked, described from its parameters only.
 */
function heldBackVpcPlan(file: VpcPlan, reason: string): VpcPlan {
  return {
    ...file,
    vpcName: null,
    actions: file.actions.map((action) => blockedAsGiven(action, reason)),
    notes: [],
  };
}

/** The plan's totals, computed from its actions. */
export function planTotals(vpcs: readonly VpcPlan[]): RemediationPlan['totals'] {
  const all = vpcs.flatMap((vpc) => vpc.actions);
  const planned = all.filter((action) => action.status === 'planned');
  return {
    actions: all.length,
    planned: planned.length,
    blocked: all.length - planned.length,
    monthlyCostChangeUsd:
      Math.round(planned.reduce((total, action) => total + action.monthlyCostChangeUsd, 0) * 100) /
      100,
  };
}

/** True for a VPC entry of a plan with at least one action marked planned. */
export function hasPlannedAction(vpc: VpcPlan): boolean {
  return vpc.actions.some((action) => action.status === 'planned');
}

/**
 * Narrows a whole given plan with the fresh per-VPC plans read for it (keyed
 * `accountId/region/vpcId`, from {@link replanVpc}; `undefined` for a VPC that no longer exists).
 * A VPC with no planned action need not be read: its actions stay blocked. A VPC listed twice is
 * acted on once. The result is what the writer will do, and what a preview should show.
 */
export function narrowPlan(
  file: RemediationPlan,
  fresh: ReadonlyMap<string, VpcPlan | undefined>,
  unread: ReadonlyMap<string, string> = new Map(),
): RemediationPlan {
  const seen = new Set<string>();
  const vpcs = file.vpcs.map((vpc) => {
    const key = planVpcKey(vpc);
    const repeated = seen.has(key);
    seen.add(key);
    if (repeated) return heldBackVpcPlan(vpc, `${key} appears more than once in the plan`);
    const problem = unread.get(key);
    if (problem !== undefined) return heldBackVpcPlan(vpc, problem);
    if (!fresh.has(key)) return heldBackVpcPlan(vpc, 'held back in the plan file');
    return narrowVpcPlan(vpc, fresh.get(key));
  });
  return { ...file, vpcs, totals: planTotals(vpcs) };
}

/** What {@link narrowSavedPlan} needs: EC2 per account and region, and the clock. */
export interface NarrowDependencies {
  readonly ec2For: (accountId: string, region: string) => EC2Client;
  readonly clock: () => Date;
  /** Replaceable for tests; the real collector by default. */
  readonly collect?: (options: CollectOptions) => Promise<NetworkSnapshot>;
}

/**
 * Reads again, with vpc-guard's own credentials, every VPC of a given plan that has a planned action,
 * plans each from the policy, and narrows the given plan to it ({@link narrowPlan}): what the writer
 * would do now, to show before anyone confirms. A VPC that cannot be read has its actions blocked.
 * Read-only.
 */
export async function narrowSavedPlan(
  file: RemediationPlan,
  policy: GuardPolicy,
  deps: NarrowDependencies,
): Promise<RemediationPlan> {
  const collect = deps.collect ?? collectNetworkSnapshot;
  const fresh = new Map<string, VpcPlan | undefined>();
  const unread = new Map<string, string>();
  for (const vpc of file.vpcs.filter(hasPlannedAction)) {
    const key = planVpcKey(vpc);
    if (fresh.has(key) || unread.has(key)) continue;
    try {
      const snapshot = await collect({
        ec2: deps.ec2For(vpc.accountId, vpc.region),
        accountId: vpc.accountId,
        region: vpc.region,
        vpcIds: [vpc.vpcId],
        dnsAttributesFor: needsDnsAttributes(vpc.actions) ? [vpc.vpcId] : [],
        now: deps.clock,
      });
      fresh.set(key, replanVpc(snapshot, policy, vpc.vpcId, deps.clock()));
    } catch (error) {
      unread.set(
        key,
        `could not describe the VPC to plan it again (${classifyAwsError(error)}: ${describeAwsError(error)}); nothing written`,
      );
    }
  }
  return narrowPlan(file, fresh, unread);
}
