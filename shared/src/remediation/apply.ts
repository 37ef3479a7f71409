import { randomUUID } from 'node:crypto';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { classifyAwsError, describeAwsError } from '../aws/errors';
import type { RateLimiterRegistry } from '../aws/rate-limiter';
import { buildVpcContexts, evaluate } from '../evaluate';
import type { GuardPolicy } from '../policy/schema';
import type { VpcContext } from '../rules/types';
import { collectNetworkSnapshot, type CollectOptions } from '../snapshot/collect';
import type { NetworkSnapshot } from '../snapshot/schema';
import { actionDefinition, needsDnsAttributes } from './actions/registry';
import {
  BlastRadius,
  RunJournal,
  actionRecord,
  endpointLimiters,
  runInScope,
  type ApplyScope,
  type RecordHead,
} from './engine';
import { vpcFingerprint } from './plan';
import { narrowVpcPlan, replanVpc } from './plan-narrow';
import type { PlannedAction, RemediationPlan, VpcPlan } from './plan-model';
import {
  RECORD_SCHEMA_VERSION,
  summarizeOutcomes,
  type ActionOutcome,
  type ActionRecord,
  type RecordJournal,
  type RemediationRecord,
} from './record';

/**
 * `apply`: carries out a remediation plan. This module decides what runs (the VPC described again,
 * the plan narrowed to what the policy plans now, the profile's action list and cap, a halt after a
 * failure) and verifies by rescan; each action's describe-compare-act is its own
 * (`actions/<name>.ts`), run by the engine (`engine.ts`).
 */

/** What the writer needs from outside: AWS clients, the clock, and who is acting. */
export interface ApplyDependencies {
  /** The EC2 client for an account and region (an assumed member role, in hub mode). */
  readonly ec2For: (accountId: string, region: string) => EC2Client;
  /** The caller's identity for the record (STS GetCallerIdentity ARN). */
  readonly identity: string;
  readonly clock?: () => Date;
  /** Endpoint mutations share one bucket per account-region, sized to EC2's 4 / 0.3 per second. */
  readonly endpointLimiter?: RateLimiterRegistry;
  /** Replaceable for tests; the real collector by default. */
  readonly collect?: (options: CollectOptions) => Promise<NetworkSnapshot>;
  readonly runId?: string;
  /** Called as each action ends, for progress output. */
  readonly onAction?: (record: ActionRecord) => void;
  /**
   * Where the record is kept while the run goes: written at the start, before and after each write,
   * and as each action ends. @default - none: the record is only returned at the end
   */
  readonly journal?: RecordJournal;
}

/** What a planned action's record is about. */
function headOf(action: PlannedAction): RecordHead {
  return {
    id: action.id,
    action: action.action,
    accountId: action.accountId,
    region: action.region,
    vpcId: action.vpcId,
    remainingFindingKeys: action.findingKeys,
  };
}

function endedRecord(action: PlannedAction, outcome: ActionOutcome, detail: string): ActionRecord {
  return actionRecord(headOf(action), { outcome, detail });
}

/** Checks that the VPC is still what the plan saw, under the same profile; anything else fails closed. */
function verifyStillPlannable(
  vpcPlan: VpcPlan,
  snapshot: NetworkSnapshot,
  policy: GuardPolicy,
  now: Date,
): { context?: VpcContext; reason?: string } {
  if (!snapshot.vpcs.some((v) => v.vpcId === vpcPlan.vpcId))
    return { reason: `VPC ${vpcPlan.vpcId} no longer exists` };
  const [resolved] = buildVpcContexts(snapshot, policy, { now });
  if (!resolved) return { reason: `VPC ${vpcPlan.vpcId} could not be read` };
  const { context, profileProblem } = resolved;
  if (profileProblem) return { reason: `profile uncertain: ${profileProblem}` };
  if (context.profileName !== vpcPlan.profile)
    return {
      reason: `profile changed from "${vpcPlan.profile}" to "${context.profileName}" since the plan`,
    };
  if (context.exemption.state === 'valid')
    return { reason: `VPC is exempt until ${context.exemption.until}` };
  const mode = context.profile.remediation.mode;
  if (mode !== 'auto' && mode !== 'dry-run')
    return { reason: `profile "${context.profileName}" is now in ${mode} mode` };
  if (vpcFingerprint(context) !== vpcPlan.fingerprint)
    return { reason: 'the VPC changed since the plan: re-plan' };
  return { context };
}

interface VpcRunDependencies {
  readonly collect: (options: CollectOptions) => Promise<NetworkSnapshot>;
  readonly ec2For: ApplyDependencies['ec2For'];
  readonly clock: () => Date;
  readonly limiter: RateLimiterRegistry;
  readonly blastRadius: BlastRadius;
  readonly journal: RunJournal;
}

async function applyVpc(
  vpcPlan: VpcPlan,
  policy: GuardPolicy,
  deps: VpcRunDependencies,
): Promise<ActionRecord[]> {
  const records: ActionRecord[] = [];
  const blockedInPlan = vpcPlan.actions.filter((a) => a.status === 'blocked');
  const planned = vpcPlan.actions.filter((a) => a.status === 'planned');
  for (const action of blockedInPlan)
    records.push(endedRecord(action, 'blocked', action.blockedReason ?? 'blocked in the plan'));
  if (planned.length === 0) return records;

  const ec2 = deps.ec2For(vpcPlan.accountId, vpcPlan.region);
  const withDns = needsDnsAttributes(vpcPlan.actions) ? [vpcPlan.vpcId] : [];
  const collectVpc = () =>
    deps.collect({
      ec2,
      accountId: vpcPlan.accountId,
      region: vpcPlan.region,
      vpcIds: [vpcPlan.vpcId],
      dnsAttributesFor: withDns,
      now: deps.clock,
    });
  let snapshot: NetworkSnapshot;
  try {
    snapshot = await collectVpc();
  } catch (error) {
    const kind = classifyAwsError(error);
    for (const action of planned)
      records.push(
        endedRecord(
          action,
          'blocked',
          `could not describe the VPC before acting (${kind}: ${describeAwsError(error)}); nothing written`,
        ),
      );
    return records;
  }
  const check = verifyStillPlannable(vpcPlan, snapshot, policy, deps.clock());
  if (!check.context) {
    for (const action of planned)
      records.push(endedRecord(action, 'blocked', check.reason ?? 'not plannable'));
    return records;
  }
  const context = check.context;
  // The plan is a selection, never an instruction: only actions equal to what the policy plans now
  // from this describe run, with the parameters the policy computes; the rest is blocked.
  const narrowed = narrowVpcPlan(
    { ...vpcPlan, actions: planned },
    replanVpc(snapshot, policy, vpcPlan.vpcId, deps.clock()),
  );
  const runnable: PlannedAction[] = [];
  for (const action of narrowed.actions) {
    if (action.status === 'planned') runnable.push(action);
    else records.push(endedRecord(action, 'blocked', action.blockedReason ?? 'blocked'));
  }
  const cap = context.profile.remediation.maxChangesPerRun;
  const managedGroup: { id?: string } = {};
  const executed: { action: PlannedAction; record: ActionRecord }[] = [];
  let halted: string | undefined;
  for (const action of runnable) {
    if (halted) {
      records.push(endedRecord(action, 'blocked', halted));
      continue;
    }
    if (deps.blastRadius.used(vpcPlan.profile) >= cap) {
      records.push(
        endedRecord(
          action,
          'blocked',
          `blast-radius cap reached (maxChangesPerRun ${cap} for profile "${vpcPlan.profile}")`,
        ),
      );
      continue;
    }
    // The policy decides, not the plan file: an action the profile no longer allows is not run, and
    // only an `auto` profile gets real writes (a plan edited to say `apply` stays a dry run).
    if (!context.profile.remediation.actions.includes(action.action)) {
      records.push(
        endedRecord(
          action,
          'blocked',
          `${action.action} is not in profiles.${vpcPlan.profile}.remediation.actions`,
        ),
      );
      continue;
    }
    const head = headOf(action);
    let completed = false;
    const { settled, scope } = await runInScope(
      head,
      (journal): ApplyScope => ({
        ec2,
        context,
        dryRun: action.execution === 'dry-run' || context.profile.remediation.mode !== 'auto',
        limiter: deps.limiter.for(vpcPlan.accountId, vpcPlan.region),
        clock: deps.clock,
        calls: [],
        created: [],
        removedRoutes: [],
        before: {},
        after: {},
        managedGroup,
        verification: {},
        journal,
      }),
      async (scope) => {
        const detail = await actionDefinition(action.params.action).apply(scope, action.params);
        completed = true;
        return {
          outcome: scope.dryRun ? 'would-succeed' : (scope.verification.outcome ?? 'verified'),
          detail,
        };
      },
      (inProgress) => deps.journal.write(records, inProgress),
    );
    if (!scope.dryRun && (completed || settled.callFailed)) {
      // A failed write counts too: it may have changed something before it failed.
      deps.blastRadius.charge(vpcPlan.profile);
    }
    if (!scope.dryRun && settled.callFailed) {
      // A write that succeeded before the failure means the state is no longer what the rest of
      // the plan assumed.
      const partWay = scope.calls.some(
        (c) => c.result === 'ok' && !c.operation.startsWith('Describe'),
      );
      halted = `not attempted: an earlier action in ${vpcPlan.vpcId} failed${partWay ? ' part-way' : ''} (${action.id})`;
    }
    const record: ActionRecord = {
      ...actionRecord(head, settled, scope),
      remainingFindingKeys: settled.outcome === 'verified' ? [] : [...action.findingKeys],
    };
    records.push(record);
    if (!scope.dryRun) await deps.journal.write(records);
    if (settled.outcome === 'verified' && !scope.verification.outcome) {
      executed.push({ action, record });
    }
  }
  if (executed.length === 0) return records;

  // Verify: collect the VPC again and evaluate; an action is verified only if its findings are gone.
  let open: Set<string> | undefined;
  let rescanError: string | undefined;
  try {
    const after = await collectVpc();
    const evaluations = evaluate([after], policy, { now: deps.clock() });
    open = new Set(evaluations.flatMap((e) => e.findings.map((f) => f.key)));
  } catch (error) {
    rescanError = describeAwsError(error);
  }
  return records.map((record) => {
    const done = executed.find((e) => e.record === record);
    if (!done) return record;
    if (!open)
      return {
        ...record,
        outcome: 'still-failing' as const,
        detail: `${record.detail}; could not verify (${rescanError ?? 'rescan failed'})`,
        remainingFindingKeys: [...done.action.findingKeys],
      };
    const remaining = done.action.findingKeys.filter((key) => open.has(key));
    return remaining.length === 0
      ? { ...record, detail: `${record.detail}; verified by rescan` }
      : {
          ...record,
          outcome: 'still-failing' as const,
          detail: `${record.detail}; rescan still shows ${remaining.length} finding(s)`,
          remainingFindingKeys: remaining,
        };
  });
}

/**
 * Carries out a plan: the only code in vpc-guard that writes to AWS. For each VPC with planned
 * actions it describes the VPC again and refuses (blocked, no write) if the VPC, its profile, its
 * exemption or the policy mode changed since the plan; it plans the VPC again from the policy and
 * that describe and runs only the given plan's actions equal to it in every parameter (the plan
 * narrows, never widens: see `narrowVpcPlan`); then runs each action as describe-compare-act
 * (skipping what is already right), serialising endpoint mutations per account-region through a token
 * bucket, stopping at the blast-radius cap and after a failure within the VPC; then rescans the VPC
 * and marks each action `verified` or `still-failing`. `dry-run` actions send every call with
 * `DryRun: true`. With a `journal`, the record is written before the first call and before and after
 * each write, so a run that stops part-way leaves what it did. Returns the record of the run; never
 * throws for an AWS failure (a journal that cannot be written stops the run before its next write).
 */
export async function applyRemediation(
  plan: RemediationPlan,
  policy: GuardPolicy,
  deps: ApplyDependencies,
): Promise<RemediationRecord> {
  const clock = deps.clock ?? (() => new Date());
  const startedAt = clock().toISOString();
  const runId = deps.runId ?? randomUUID();
  const execution = plan.vpcs.some((v) => v.actions.some((a) => a.execution === 'apply'))
    ? 'apply'
    : 'dry-run';
  const journal = new RunJournal(
    (actions) => ({
      schemaVersion: RECORD_SCHEMA_VERSION,
      runId,
      kind: 'apply',
      execution,
      startedAt,
      finishedAt: clock().toISOString(),
      identity: deps.identity,
      plan,
      actions: [...actions],
      summary: summarizeOutcomes(actions),
    }),
    deps.journal,
  );
  // The journal exists before the first AWS call: a run that cannot keep its record does not start.
  await journal.write();
  const vpcDeps: VpcRunDependencies = {
    collect: deps.collect ?? collectNetworkSnapshot,
    ec2For: deps.ec2For,
    clock,
    limiter: endpointLimiters(deps.endpointLimiter),
    blastRadius: new BlastRadius(),
    journal,
  };
  for (const vpcPlan of plan.vpcs) {
    const records = await applyVpc(vpcPlan, policy, vpcDeps);
    for (const record of records) deps.onAction?.(record);
    journal.finished.push(...records);
  }
  return journal.record();
}
