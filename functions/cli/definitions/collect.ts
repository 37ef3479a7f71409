import { Option, type Command } from 'commander';
import type { CollectCommandOptions } from '../commands/collect';
import { addLiveSourceOptions, type CommandSetup } from './options';

/** Where `vpc-guard collect` writes when `--out` is not given, relative to the working directory. */
export const DEFAULT_COLLECT_OUT = 'vpc-guard-snapshot.json';

/** Defines `vpc-guard collect`; its implementation is loaded when it runs. */
export function defineCollectCommand(program: Command, setup: CommandSetup): Command {
  const command = program
    .command('collect')
    .summary('read VPCs from AWS into a snapshot file, for offline audit')
    .description(
      'Read the VPCs of the given regions and accounts from AWS (read-only Describe calls) and write ' +
        'them as one snapshot file that `scan --snapshot` and `plan --snapshot` read later, offline. ' +
        'Progress goes to stderr.',
    )
    .addOption(
      new Option('-o, --out <file>', 'the snapshot file to write').default(DEFAULT_COLLECT_OUT),
    )
    .addOption(
      new Option(
        '-p, --policy <file>',
        'also read the DNS attributes of the VPCs this policy would fix private DNS in, so an ' +
          'offline plan can decide (a few DescribeVpcAttribute calls)',
      ),
    );
  return addLiveSourceOptions(command, 'implied')
    .addHelpText(
      'after',
      `
Examples:
  $ vpc-guard collect --regions us-east-1 --out prod.json
  $ vpc-guard collect --regions all --org --role-arn 'arn:aws:iam::{accountId}:role/VpcGuardMember' \\
      --external-id vpc-guard --policy policy.yaml --out estate.json
  $ vpc-guard scan --snapshot estate.json --policy policy.yaml

Exit codes:
  0  every account and region was read and the file written
  1  some could not be read (the file holds the rest; stderr says which and why)
  2  bad input or usage (unknown option, bad account or region, no credentials, unwritable file)
  3  internal error (set VPC_GUARD_DEBUG=1 for the stack trace)`,
    )
    .action(async (options: CollectCommandOptions) => {
      const { runCollect } = await import('../commands/collect');
      setup.onExit(await runCollect(options, setup.context, setup.deps));
    });
}
