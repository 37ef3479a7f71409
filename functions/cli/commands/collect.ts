import { resolve } from 'node:path';
import { evaluate } from '@vpc-guard/shared/evaluate';
import { loadGuardPolicy } from '@vpc-guard/shared/policy/load';
import { addDnsAttributes } from '@vpc-guard/shared/snapshot/collect-estate';
import { saveNetworkSnapshots } from '@vpc-guard/shared/snapshot/file';
import type { NetworkSnapshot } from '@vpc-guard/shared/snapshot/schema';
import { CliInputError, EXIT_CODES, type CliContext, type ExitCode } from '../context';
import type { LiveSourceOptions } from '../definitions/options';
import { createProcessDependencies, type CliDependencies } from '../dependencies';
import { collectLive, reportFailures, resolveLiveSession } from '../source';
import { loadInput } from './scan';

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
