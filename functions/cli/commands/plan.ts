import { resolve } from 'node:path';
import { evaluate } from '@vpc-guard/shared/evaluate';
import { loadGuardPolicy } from '@vpc-guard/shared/policy/load';
import type { GuardPolicy } from '@vpc-guard/shared/policy/schema';
import { planRemediation } from '@vpc-guard/shared/remediation/plan';
import { saveRemediationPlan } from '@vpc-guard/shared/remediation/plan-file';
import type { RemediationPlan } from '@vpc-guard/shared/remediation/plan-model';
import { describePlanTotals, renderPlanDiff, renderPlanJson } from '@vpc-guard/shared/report/plan';
import { addDnsAttributes, type TargetFailure } from '@vpc-guard/shared/snapshot/collect-estate';
import { CliInputError, EXIT_CODES, type CliContext, type ExitCode } from '../context';
import type { PlanFormat } from '../definitions/plan';
import { hasLiveTargetFlags, type LiveSourceOptions } from '../definitions/options';
import { createProcessDependencies, type CliDependencies } from '../dependencies';
import { collectLive, reportFailures, resolveLiveSession, type LiveSession } from '../source';
import { loadInput, loadSnapshots, policyPathOf } from './scan';

/** The options of `vpc-guard plan`, as commander parses them. */
export interface PlanCommandOptions extends LiveSourceOptions {
  readonly snapshot?: readonly string[];
  readonly policy?: string;
  readonly format: PlanFormat;
  readonly out?: string;
  readonly color: boolean;
  readonly now?: Date;
}

/** A plan with what it was made from and which targets could not be read for it. */
export interface PlanBuild {
  readonly plan: RemediationPlan;
  readonly failures: readonly TargetFailure[];
}

/**
 * Collects the session's targets, evaluates them, reads the DNS attributes of the VPCs whose fixes
 * need a private-DNS decision (and only those), evaluates again with them, and plans. Read-only.
 */
export async function planLive(
  session: LiveSession,
  options: LiveSourceOptions,
  policy: GuardPolicy,
  context: CliContext,
  now: Date,
): Promise<PlanBuild> {
  const collection = await collectLive(session, options, context, policy);
  const enriched = await addDnsAttributes({
    snapshots: collection.snapshots,
    evaluations: evaluate(collection.snapshots, policy, { now }),
    policy,
    ec2For: session.ec2For,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  // Evaluated again: with the DNS attributes known, the findings say what blocks private DNS.
  const evaluations = evaluate(enriched.snapshots, policy, { now });
  const plan = planRemediation({ snapshots: enriched.snapshots, evaluations, policy, now });
  return { plan, failures: [...collection.failures, ...enriched.failures] };
}

/** True when the plan's text may be coloured: a terminal, no `NO_COLOR`, no `--no-color`. */
export function useColor(color: boolean, context: CliContext): boolean {
  return color && context.printer.stdoutIsTerminal && !context.env['NO_COLOR'];
}

/**
 * Runs `vpc-guard plan`: makes the remediation plan (from AWS, or offline from `--snapshot` files),
 * prints it as a per-VPC diff or JSON, and saves the JSON with `--out`. Writes nothing to AWS. Exit 0
 * when there is nothing to change, 1 when the plan has actions (planned or blocked) or a target could
 * not be read, 2 on bad input.
 */
export async function runPlan(
  options: PlanCommandOptions,
  context: CliContext,
  deps: CliDependencies = createProcessDependencies(),
): Promise<ExitCode> {
  if (options.snapshot !== undefined && (options.live || hasLiveTargetFlags(options))) {
    throw new CliInputError(
      '--snapshot plans offline from files; --live and its flags read AWS: give one or the other',
    );
  }
  const policyPath = policyPathOf(options.policy, context);
  const policy = await loadInput(() => loadGuardPolicy(policyPath));
  const now = options.now ?? context.now();

  let build: PlanBuild;
  if (options.snapshot !== undefined) {
    const { snapshots } = await loadSnapshots(options.snapshot);
    const evaluations = evaluate(snapshots, policy, { now });
    build = { plan: planRemediation({ snapshots, evaluations, policy, now }), failures: [] };
  } else {
    const session = await resolveLiveSession(options, context, deps);
    build = await planLive(session, options, policy, context, now);
  }
  reportFailures(build.failures, context, 'the plan covers the rest');

  context.printer.out(
    options.format === 'json'
      ? renderPlanJson(build.plan)
      : renderPlanDiff(build.plan, { color: useColor(options.color, context) }),
  );
  if (options.out !== undefined) {
    try {
      await saveRemediationPlan(resolve(context.cwd, options.out), build.plan);
    } catch (error) {
      throw new CliInputError(
        `${options.out}: cannot write the plan (${(error as Error).message})`,
        { cause: error },
      );
    }
    context.printer.err(
      `vpc-guard: wrote the plan to ${options.out} (${describePlanTotals(build.plan)}); ` +
        `apply it with: vpc-guard apply --plan ${options.out} --policy ${policyPath}\n`,
    );
  }
  return build.plan.totals.actions > 0 || build.failures.length > 0
    ? EXIT_CODES.nonCompliant
    : EXIT_CODES.ok;
}
