import { resolve } from 'node:path';
import {
  addDnsAttributes,
  describePlanTotals,
  evaluate,
  loadGuardPolicy,
  planRemediation,
  renderPlanDiff,
  renderPlanJson,
  saveRemediationPlan,
  type GuardPolicy,
  type RemediationPlan,
  type TargetFailure,
} from '@vpc-guard/shared';
import { Option, type Command } from 'commander';
import { CliInputError, EXIT_CODES, type CliContext, type ExitCode } from '../context';
import { createProcessDependencies, type CliDependencies } from '../dependencies';
import {
  addLiveSourceOptions,
  collectLive,
  hasLiveTargetFlags,
  reportFailures,
  resolveLiveSession,
  type LiveSession,
  type LiveSourceOptions,
} from '../source';
import { collectRepeated, loadInput, loadSnapshots, parseNow, policyPathOf } from './scan';

/** The formats `vpc-guard plan` prints. */
export const PLAN_FORMATS = ['diff', 'json'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

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

/** Adds `vpc-guard plan` to the program. */
export function registerPlanCommand(
  program: Command,
  context: CliContext,
  onExit: (code: ExitCode) => void,
  deps?: CliDependencies,
): Command {
  const command = program
    .command('plan')
    .summary('show what vpc-guard would change, per VPC, and why (changes nothing)')
    .description(
      'Make the remediation plan: read the VPCs from AWS (or --snapshot files, offline), evaluate ' +
        'them against the policy and print, per VPC, each change (+ create, - remove, ~ modify), the ' +
        'findings it fixes, whether it is planned or blocked and why, and the monthly cost change. ' +
        'Only Describe calls: plan never writes to AWS.',
    )
    .addOption(
      new Option(
        '-s, --snapshot <file>',
        'plan offline from a snapshot file instead of AWS; repeat for several',
      ).argParser(collectRepeated),
    )
    .addOption(
      new Option(
        '-p, --policy <file>',
        'policy file, YAML or JSON (default: examples/policy.yaml)',
      ),
    )
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(PLAN_FORMATS).default('diff'),
    )
    .addOption(
      new Option(
        '-o, --out <file>',
        'also save the plan as JSON, for `vpc-guard apply --plan FILE`',
      ),
    )
    .addOption(new Option('--no-color', 'plain text, even on a terminal'))
    .addOption(
      new Option('--now <iso>', 'plan as of this time (reproducible output)')
        .argParser(parseNow)
        .hideHelp(),
    );
  return addLiveSourceOptions(command, 'implied')
    .addHelpText(
      'after',
      `
Examples:
  $ vpc-guard plan --regions us-east-1 --policy policy.yaml
  $ vpc-guard plan --regions all --org --role-arn 'arn:aws:iam::{accountId}:role/VpcGuardMember' \\
      --policy policy.yaml --out plan.json
  $ vpc-guard plan --snapshot estate.json --policy policy.yaml --format json

Exit codes:
  0  nothing to change
  1  the plan has changes (planned or blocked), or an account or region could not be read
  2  bad input or usage (unknown option, bad file, no credentials)
  3  internal error (set VPC_GUARD_DEBUG=1 for the stack trace)`,
    )
    .action(async (options: PlanCommandOptions) => {
      onExit(await runPlan(options, context, deps));
    });
}
