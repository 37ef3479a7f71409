import { REPORT_FORMATS } from '@vpc-guard/shared/report/formats';
import { Option, type Command } from 'commander';
import type { ScanOptions } from '../commands/scan';
import { addLiveSourceOptions, collectRepeated, parseNow, type CommandSetup } from './options';

/** Defines `vpc-guard scan`; its implementation is loaded when it runs. */
export function defineScanCommand(program: Command, setup: CommandSetup): Command {
  const command = program
    .command('scan')
    .summary(
      'evaluate VPCs against a policy (snapshot files, or AWS with --live) and print a report',
    )
    .description(
      'Evaluate the VPCs in snapshot files against a policy, offline, and print a report. Without ' +
        '--snapshot and --policy it scans the demo account (examples/demo-account.json with ' +
        'examples/policy.yaml from the vpc-guard repository, wherever you run it from). With --live ' +
        'it reads the VPCs from AWS instead (read-only Describe calls), in the regions and accounts ' +
        'the flags name; progress goes to stderr.',
    )
    .addOption(
      new Option(
        '-s, --snapshot <file>',
        'snapshot file: JSON, one snapshot or an array of them; repeat for several files ' +
          '(default: examples/demo-account.json)',
      ).argParser(collectRepeated),
    )
    .addOption(
      new Option(
        '-p, --policy <file>',
        'policy file, YAML or JSON (default: examples/policy.yaml)',
      ),
    )
    .addOption(
      new Option('-f, --format <format>', 'report format').choices(REPORT_FORMATS).default('table'),
    )
    .addOption(
      new Option(
        '-o, --output <file>',
        'write the report to this file instead of stdout (a one-line note goes to stderr)',
      ),
    )
    .addOption(
      new Option(
        '--no-color',
        'plain text; colour is only used when stdout is a terminal and NO_COLOR is unset',
      ),
    )
    .addOption(
      new Option('--now <iso>', 'evaluate as of this time (reproducible output)')
        .argParser(parseNow)
        .hideHelp(),
    );
  return addLiveSourceOptions(command, 'required')
    .addHelpText(
      'after',
      `
Examples:
  $ vpc-guard scan
  $ vpc-guard scan --snapshot prod-us-east-1.json --snapshot prod-eu-west-1.json --policy policy.yaml
  $ vpc-guard scan --format markdown --output report.md
  $ vpc-guard scan --format sarif --output vpc-guard.sarif
  $ vpc-guard scan --format json | jq '.summary'
  $ vpc-guard scan --live --regions us-east-1,eu-west-1
  $ vpc-guard scan --live --regions all --org --role-arn 'arn:aws:iam::{accountId}:role/VpcGuardMember' \
      --external-id vpc-guard --format sarif --output vpc-guard.sarif

Exit codes:
  0  every VPC is compliant or exempt
  1  at least one VPC is non-compliant (or, with --live, an account or region could not be read)
  2  bad input or usage (unknown option or format, unreadable or invalid snapshot or policy)
  3  internal error (set VPC_GUARD_DEBUG=1 for the stack trace)`,
    )
    .action(async (options: ScanOptions) => {
      const { runScan } = await import('../commands/scan');
      setup.onExit(await runScan(options, setup.context, setup.deps));
    });
}
