import { Option, type Command } from 'commander';
import type { ApplyCommandOptions } from '../commands/apply';
import {
  DEFAULT_RECORDS_DIR,
  addLiveSourceOptions,
  addRecordKeyOptions,
  parseNow,
  type CommandSetup,
} from './options';

/** Defines `vpc-guard apply`; its implementation is loaded when it runs. */
export function defineApplyCommand(program: Command, setup: CommandSetup): Command {
  const command = program
    .command('apply')
    .summary('plan, confirm and apply the remediation, guarded, verified and recorded')
    .description(
      'Make the plan (as `vpc-guard plan` does, or load one with --plan), show it, ask for ' +
        'confirmation, and apply it: each VPC is described again first and left alone if it changed ' +
        'since the plan; each change is checked against the live state before it is made; endpoint ' +
        "changes are paced to EC2's limits; the blast-radius cap stops the run; a rescan verifies " +
        'every change. A JSON record of the run is written to --records.',
    )
    .addOption(new Option('-p, --policy <file>', 'policy file, YAML or JSON (required)'))
    .addOption(
      new Option('-y, --yes', 'apply without asking (needed when stdin is not a terminal)'),
    )
    .addOption(
      new Option(
        '--dry-run',
        'send every call with DryRun: EC2 says whether it would succeed; nothing changes',
      ),
    )
    .addOption(new Option('--plan <file>', 'apply a plan saved by `vpc-guard plan --out FILE`'))
    .addOption(
      new Option('--records <dir>', 'directory for the run records').default(DEFAULT_RECORDS_DIR),
    )
    .addOption(new Option('--no-color', 'plain text, even on a terminal'))
    .addOption(
      new Option('--now <iso>', 'plan as of this time (reproducible output)')
        .argParser(parseNow)
        .hideHelp(),
    );
  return addLiveSourceOptions(addRecordKeyOptions(command, 'sign'), 'implied')
    .addHelpText(
      'after',
      `
Examples:
  $ vpc-guard apply --regions us-east-1 --policy policy.yaml --dry-run
  $ vpc-guard apply --regions us-east-1 --policy policy.yaml
  $ vpc-guard plan --regions us-east-1 --policy policy.yaml --out plan.json
  $ vpc-guard apply --plan plan.json --policy policy.yaml --yes

Exit codes:
  0  everything attempted is verified, skipped, or would succeed (dry-run)
  1  something ended still-failing, blocked, failed or unauthorized; an account or region could
     not be read; or the answer to the confirmation was no
  2  bad input or usage, including no --yes where nobody can confirm (nothing is changed)
  3  internal error (set VPC_GUARD_DEBUG=1 for the stack trace)`,
    )
    .action(async (options: ApplyCommandOptions) => {
      const { runApply } = await import('../commands/apply');
      setup.onExit(await runApply(options, setup.context, setup.deps));
    });
}
