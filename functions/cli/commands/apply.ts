import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { VpcGuardError } from '@vpc-guard/shared/errors';
import { loadGuardPolicy } from '@vpc-guard/shared/policy/load';
import { profileNamed } from '@vpc-guard/shared/policy/resolve';
import type { GuardPolicy } from '@vpc-guard/shared/policy/schema';
import { applyRemediation } from '@vpc-guard/shared/remediation/apply';
import { policyDigest } from '@vpc-guard/shared/remediation/plan';
import { loadRemediationPlan } from '@vpc-guard/shared/remediation/plan-file';
import type { RemediationPlan } from '@vpc-guard/shared/remediation/plan-model';
import {
  hasPlannedAction,
  narrowPlan,
  narrowSavedPlan,
} from '@vpc-guard/shared/remediation/plan-narrow';
import { recordNeedsAttention, type RemediationRecord } from '@vpc-guard/shared/remediation/record';
import {
  RecordFile,
  remediationRecordFileName,
} from '@vpc-guard/shared/remediation/record-journal';
import { renderPlanDiff } from '@vpc-guard/shared/report/plan';
import { renderRecordSummary } from '@vpc-guard/shared/report/record';
import type { TargetFailure } from '@vpc-guard/shared/snapshot/collect-estate';
import { CliInputError, EXIT_CODES, type CliContext, type ExitCode } from '../context';
import type { LiveSourceOptions, RecordKeyOptions } from '../definitions/options';
import { createProcessDependencies, type CliDependencies } from '../dependencies';
import { reportFailures, resolveLiveSession, type LiveSession } from '../source';
import { resolveRecordSigner } from '../record-key';
import { planLive, useColor } from './plan';
import { loadInput } from './scan';

/** The options of `vpc-guard apply`, as commander parses them. */
export interface ApplyCommandOptions extends LiveSourceOptions, RecordKeyOptions {
  readonly policy?: string;
  readonly yes?: boolean;
  readonly dryRun?: boolean;
  readonly plan?: string;
  readonly records: string;
  readonly color: boolean;
  readonly now?: Date;
}

/** Every action of the plan as DryRun: EC2 answers whether it would succeed, nothing changes. */
export function asDryRun(plan: RemediationPlan): RemediationPlan {
  return {
    ...plan,
    vpcs: plan.vpcs.map((vpc) => ({
      ...vpc,
      actions: vpc.actions.map((action) => ({ ...action, execution: 'dry-run' as const })),
    })),
  };
}

/** The changes a plan would really make (planned, not DryRun), and in how many VPCs. */
export function countChanges(plan: RemediationPlan): { changes: number; vpcs: number } {
  let changes = 0;
  let vpcs = 0;
  for (const vpc of plan.vpcs) {
    const count = vpc.actions.filter(
      (action) => action.status === 'planned' && action.execution === 'apply',
    ).length;
    changes += count;
    if (count > 0) vpcs += 1;
  }
  return { changes, vpcs };
}

/** The actions of a plan that will run (for real or as DryRun), counted from the actions themselves. */
function countPlanned(plan: RemediationPlan): number {
  return plan.vpcs.reduce(
    (total, vpc) => total + vpc.actions.filter((action) => action.status === 'planned').length,
    0,
  );
}

/**
 * Checks a saved plan against the policy it claims (same digest): every VPC's profile exists, and no
 * planned action goes beyond what the profile allows (an action not in its list, or a real change
 * where the profile is not in `auto` mode). Only an edited file can fail this; it is refused whole.
 */
export function checkPlanAgainstPolicy(
  plan: RemediationPlan,
  policy: GuardPolicy,
  path: string,
): void {
  const problems: string[] = [];
  plan.vpcs.forEach((vpc, v) => {
    // The plan file names the profile: only the policy's own entries count.
    const profile = profileNamed(policy, vpc.profile);
    if (!profile) {
      problems.push(`vpcs[${v}].profile: no profile "${vpc.profile}" in the policy`);
      return;
    }
    const allowed = new Set(profile.remediation.actions);
    vpc.actions.forEach((action, a) => {
      if (action.status !== 'planned') return;
      if (!allowed.has(action.action)) {
        problems.push(
          `vpcs[${v}].actions[${a}]: ${action.action} is not in profiles.${vpc.profile}.remediation.actions`,
        );
      }
      if (action.execution === 'apply' && profile.remediation.mode !== 'auto') {
        problems.push(
          `vpcs[${v}].actions[${a}].execution: "apply" where profile "${vpc.profile}" is in ${profile.remediation.mode} mode`,
        );
      }
    });
  });
  if (problems.length > 0) {
    throw new CliInputError(
      `${path}: the plan does not match the policy:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}

/**
 * Creates the records directory (`--records`, relative to the working directory) and returns its
 * absolute path; one that cannot be created is bad input.
 */
export async function createRecordsDir(records: string, context: CliContext): Promise<string> {
  const recordsDir = resolve(context.cwd, records);
  try {
    await mkdir(recordsDir, { recursive: true });
  } catch (error) {
    throw new CliInputError(
      `${records}: cannot create the records directory (${(error as Error).message})`,
      { cause: error },
    );
  }
  return recordsDir;
}

/**
 * Writes a run's final record to its file (the journal the run kept, replaced atomically and signed
 * again when a key was given) and prints its summary and path. The changes are made by then, so a
 * record that cannot be written goes to stderr whole rather than being lost. Returns false when the
 * file could not be written.
 */
export async function writeRunRecord(
  record: RemediationRecord,
  file: RecordFile,
  context: CliContext,
  color: boolean,
): Promise<boolean> {
  try {
    await file.write(record);
  } catch (error) {
    context.printer.err(
      `vpc-guard: error: cannot write the record to ${file.path ?? file.dir} (${(error as Error).message}); here it is:\n` +
        `${JSON.stringify(record)}\n`,
    );
    context.printer.out(renderRecordSummary(record, { color }));
    return false;
  }
  context.printer.out(`\n${renderRecordSummary(record, { color })}Record: ${file.path ?? ''}\n`);
  return true;
}

/**
 * Says, before anything is changed, that the run's record will carry no MAC: rollback then refuses it
 * unless told `--accept-unsigned`, as it refuses a hand-made one.
 */
export function warnUnsigned(signed: boolean, context: CliContext): void {
  if (signed) return;
  context.printer.err(
    'vpc-guard: warning: the record of this run will not be signed (no --record-key or ' +
      '--record-key-file): `vpc-guard rollback` refuses an unsigned record unless given --accept-unsigned.\n',
  );
}

/** `2026-11-20T10-00-00-000Z-<runId>.json`: the start time first so records sort by time. */
export function recordFileName(record: RemediationRecord): string {
  return remediationRecordFileName(record);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * Asks for confirmation when the plan makes real changes and `--yes` was not given: on a terminal the
 * person answers; anywhere else the command refuses (bad usage), so a pipeline never writes by
 * accident. Returns the exit code to stop with, or undefined to go on.
 */
async function confirm(
  plan: RemediationPlan,
  options: ApplyCommandOptions,
  context: CliContext,
  deps: CliDependencies,
): Promise<ExitCode | undefined> {
  const { changes, vpcs } = countChanges(plan);
  if (changes === 0 || options.yes) return undefined;
  const what = `${plural(changes, 'change')} to ${plural(vpcs, 'VPC')}`;
  if (!deps.terminal.interactive) {
    context.printer.err(
      `vpc-guard: error: apply would make ${what} and needs confirmation, but stdin is not a ` +
        'terminal: review the plan and run again with --yes (or with --dry-run to only check ' +
        'permissions). Nothing was changed.\n',
    );
    return EXIT_CODES.usage;
  }
  context.printer.err(`Apply ${what}? [y/N] `);
  const answer = (await deps.terminal.readLine())?.trim() ?? '';
  if (/^y(es)?$/i.test(answer)) return undefined;
  context.printer.err('vpc-guard: not applied; nothing was changed.\n');
  return EXIT_CODES.nonCompliant;
}

/**
 * Loads a saved plan and checks it belongs to this policy: a plan made under another policy (or
 * organization) is refused rather than applied against rules it was not made for.
 */
async function loadSavedPlan(
  path: string,
  policyDigestNow: string,
  organizationId: string,
): Promise<RemediationPlan> {
  const plan = await loadInput(() => loadRemediationPlan(path));
  if (plan.organizationId !== organizationId) {
    throw new CliInputError(
      `${path}: the plan is for organization ${plan.organizationId}, the policy for ${organizationId}`,
    );
  }
  if (plan.policyDigest !== policyDigestNow) {
    throw new CliInputError(
      `${path}: the plan was made with a different policy (digest ${plan.policyDigest}, now ${policyDigestNow}): plan again`,
    );
  }
  return plan;
}

/**
 * Runs `vpc-guard apply`: collect, evaluate, read the DNS attributes decisions need, plan (or load
 * `--plan FILE`, describe its VPCs again and narrow it to what the policy plans now: the file only
 * selects, it never supplies a parameter or a line of the preview), show the plan, confirm, apply (each VPC described again first, fail closed on any
 * change since the plan), verify by rescan, write the record. Exit 0 when everything attempted is
 * verified, skipped or would succeed; 1 when anything ended still-failing, blocked, failed or
 * unauthorized (or a target could not be read, or the person said no); 2 on bad input, including
 * running without `--yes` where nobody can confirm.
 */
export async function runApply(
  options: ApplyCommandOptions,
  context: CliContext,
  deps: CliDependencies = createProcessDependencies(),
): Promise<ExitCode> {
  const policyPath = options.policy;
  if (policyPath === undefined) {
    throw new CliInputError(
      'apply needs --policy FILE: vpc-guard never changes an account under the example policy',
    );
  }
  if (options.plan !== undefined && (options.regions || options.accounts || options.org)) {
    throw new CliInputError(
      '--plan applies to the accounts and regions the plan names: leave out --regions, --accounts and --org',
    );
  }
  const policy = await loadInput(() => loadGuardPolicy(policyPath));
  const now = options.now ?? context.now();
  // Before anything is changed: a run whose record cannot be written must not start.
  const recordsDir = await createRecordsDir(options.records, context);
  const signer = await resolveRecordSigner(options, context, deps);

  let plan: RemediationPlan;
  let session: LiveSession | undefined;
  let failures: readonly TargetFailure[] = [];
  if (options.plan !== undefined) {
    const path = resolve(context.cwd, options.plan);
    plan = await loadSavedPlan(path, policyDigest(policy), policy.organization.id);
    checkPlanAgainstPolicy(plan, policy, path);
    // Only the accounts and regions the plan acts in; none at all when nothing will run.
    const acting = plan.vpcs.filter(hasPlannedAction);
    if (acting.length > 0) {
      session = await resolveLiveSession(
        {
          ...options,
          regions: { kind: 'list', regions: [...new Set(acting.map((vpc) => vpc.region))] },
        },
        context,
        deps,
        [...new Set(acting.map((vpc) => vpc.accountId))],
      );
    }
    // The file only selects: what is shown, confirmed and written is what the policy plans now from
    // what AWS shows now, narrowed to the file's selection; never the file's own parameters or text.
    plan = session
      ? await narrowSavedPlan(plan, policy, { ec2For: session.ec2For, clock: () => now })
      : narrowPlan(plan, new Map());
  } else {
    session = await resolveLiveSession(options, context, deps);
    const build = await planLive(session, options, policy, context, now);
    plan = build.plan;
    failures = build.failures;
  }
  reportFailures(failures, context, 'the plan covers the rest');
  if (options.dryRun) plan = asDryRun(plan);

  const color = useColor(options.color, context);
  context.printer.out(renderPlanDiff(plan, { color }));
  const blocked = plan.vpcs.some((vpc) => vpc.actions.some((a) => a.status === 'blocked'));
  if (countPlanned(plan) === 0 || session === undefined) {
    context.printer.out(
      blocked ? 'Nothing to apply: every action is blocked (see above).\n' : 'Nothing to apply.\n',
    );
    return blocked || failures.length > 0 ? EXIT_CODES.nonCompliant : EXIT_CODES.ok;
  }
  const stop = await confirm(plan, options, context, deps);
  if (stop !== undefined) return stop;

  warnUnsigned(signer !== undefined, context);
  // The record file is the run's journal: written before the first call, before and after each write.
  const file = new RecordFile(recordsDir, signer);
  const record = await keepingRecord(file, () =>
    applyRemediation(plan, policy, {
      ec2For: session.ec2For,
      identity: session.identity.arn,
      clock: () => context.now(),
      runId: randomUUID(),
      ...(deps.endpointLimiter ? { endpointLimiter: deps.endpointLimiter() } : {}),
      onAction: (action) => context.printer.err(`vpc-guard: ${action.outcome}: ${action.id}\n`),
      journal: file,
    }),
  );
  if (!(await writeRunRecord(record, file, context, color))) return EXIT_CODES.nonCompliant;
  return recordNeedsAttention(record) || failures.length > 0
    ? EXIT_CODES.nonCompliant
    : EXIT_CODES.ok;
}

/**
 * Runs a writer that journals to `file`; a journal that cannot be written (or signed) stops the run
 * before its next write and is reported as such, naming the record that holds what was done.
 */
export async function keepingRecord<T>(file: RecordFile, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof VpcGuardError)) throw error;
    throw new CliInputError(
      `the run stopped before its next write because its record could not be kept (${error.message})` +
        (file.path ? `; ${file.path} holds what it did` : '; nothing was changed'),
      { cause: error },
    );
  }
}
