import { Option, type Command } from 'commander';
import type { PlanCommandOptions } from '../commands/plan';
import { addLiveSourceOptions, collectRepeated, parseNow, type CommandSetup } from './options';

/** The formats `vpc-guard plan` prints. */
export const PLAN_FORMATS = ['diff', 'json'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

/** Defines `vpc-guard plan`; its implementation is loaded when it runs. */
export function definePlanCommand(program: Command, setup: CommandSetup): Command {
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
      const { runPlan } = await import('../commands/plan');
      setup.onExit(await runPlan(options, setup.context, setup.deps));
    });
}
