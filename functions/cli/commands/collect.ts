import { resolve } from 'node:path';
import {
  addDnsAttributes,
  evaluate,
  loadGuardPolicy,
  saveNetworkSnapshots,
  type NetworkSnapshot,
} from '@vpc-guard/shared';
import { Option, type Command } from 'commander';
import { CliInputError, EXIT_CODES, type CliContext, type ExitCode } from '../context';
import { createProcessDependencies, type CliDependencies } from '../dependencies';
import {
  addLiveSourceOptions,
  collectLive,
  reportFailures,
  resolveLiveSession,
  type LiveSourceOptions,
} from '../source';
import { loadInput } from './scan';

/** Where `vpc-guard collect` writes when `--out` is not given, relative to the working directory. */
export const DEFAULT_COLLECT_OUT = 'vpc-guard-snapshot.json';

/** The options of `vpc-guard collect`, as commander parses them. */
export interface CollectCommandOptions extends LiveSourceOptions {
  readonly out: string;
  readonly policy?: string;
}

/**
 * Runs `vpc-guard collect`: reads the targets from AWS and writes their snapshots to one file that
 * `scan --snapshot` and `plan --snapshot` read. With `--policy`, the VPCs whose remediation needs a
 * DNS decision also get their DNS attributes, so an offline plan from the file can decide it.
 * Exit 0 when every target was read, 1 when some could not be (the file holds the rest), 2 on bad
 * input.
 */
export async function runCollect(
  options: CollectCommandOptions,
  context: CliContext,
  deps: CliDependencies = createProcessDependencies(),
): Promise<ExitCode> {
  const policyPath = options.policy;
  const policy =
    policyPath === undefined ? undefined : await loadInput(() => loadGuardPolicy(policyPath));
  const session = await resolveLiveSession(options, context, deps);
  const collection = await collectLive(session, options, context, policy);
  let snapshots: readonly NetworkSnapshot[] = collection.snapshots;
  const failures = [...collection.failures];
  if (policy) {
    const enriched = await addDnsAttributes({
      snapshots,
      evaluations: evaluate(snapshots, policy, { now: context.now() }),
      policy,
      ec2For: session.ec2For,
    });
    snapshots = enriched.snapshots;
    failures.push(...enriched.failures);
  }
  reportFailures(failures, context, 'the snapshot file holds the rest');
  if (snapshots.length === 0) {
    context.printer.err('vpc-guard: nothing was collected, so no snapshot file was written\n');
    return EXIT_CODES.nonCompliant;
  }
  try {
    await saveNetworkSnapshots(resolve(context.cwd, options.out), snapshots);
  } catch (error) {
    throw new CliInputError(
      `${options.out}: cannot write the snapshot file (${(error as Error).message})`,
      { cause: error },
    );
  }
  const vpcs = snapshots.reduce((total, snapshot) => total + snapshot.vpcs.length, 0);
  context.printer.err(
    `vpc-guard: wrote ${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'} ` +
      `(${vpcs} VPC${vpcs === 1 ? '' : 's'}) to ${options.out}\n`,
  );
  return failures.length > 0 ? EXIT_CODES.nonCompliant : EXIT_CODES.ok;
}

/** Adds `vpc-guard collect` to the program. */
export function registerCollectCommand(
  program: Command,
  context: CliContext,
  onExit: (code: ExitCode) => void,
  deps?: CliDependencies,
): Command {
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
      onExit(await runCollect(options, context, deps));
    });
}
