import { isAbsolute, join, relative, resolve } from 'node:path';
import { InputValidationError, VpcGuardError } from '@vpc-guard/shared/errors';
import { evaluate, summarizeEvaluations } from '@vpc-guard/shared/evaluate';
import { writeFileAtomic } from '@vpc-guard/shared/json-file';
import { loadGuardPolicy } from '@vpc-guard/shared/policy/load';
import type { GuardPolicy } from '@vpc-guard/shared/policy/schema';
import type { ReportFormat } from '@vpc-guard/shared/report/formats';
import { renderReport } from '@vpc-guard/shared/report/index';
import type { SnapshotSource } from '@vpc-guard/shared/report/sarif';
import { loadNetworkSnapshots } from '@vpc-guard/shared/snapshot/file';
import type { NetworkSnapshot } from '@vpc-guard/shared/snapshot/schema';
import { CliInputError, EXIT_CODES, type CliContext, type ExitCode } from '../context';
import { hasLiveTargetFlags, type LiveSourceOptions } from '../definitions/options';
import type { CliDependencies } from '../dependencies';

/** The files `vpc-guard scan` reads when none are named, relative to the repository root. */
export const DEFAULT_SNAPSHOT = join('examples', 'demo-account.json');
export const DEFAULT_POLICY = join('examples', 'policy.yaml');

/** The options of `vpc-guard scan`, as commander parses them. */
export interface ScanOptions extends LiveSourceOptions {
  readonly snapshot?: readonly string[];
  readonly policy?: string;
  readonly format: ReportFormat;
  readonly output?: string;
  readonly color: boolean;
  readonly now?: Date;
}

/** A path as messages show it: relative to the working directory when it is under it, else absolute. */
export function displayPath(absolute: string, cwd: string): string {
  const relativePath = relative(cwd, absolute);
  return relativePath === '' || relativePath.startsWith('..') || isAbsolute(relativePath)
    ? absolute
    : relativePath;
}

/**
 * The loaders name the file in their messages exactly as they are given it, so they get the path as the
 * user typed it (or the default, relative to the working directory); an unreadable file is bad input.
 */
export async function loadInput<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof InputValidationError || !(error instanceof VpcGuardError)) throw error;
    throw new CliInputError(error.message, { cause: error });
  }
}

/** Loads snapshot files; a VPC given twice (in two files or two snapshots) is bad input. */
export async function loadSnapshots(
  paths: readonly string[],
): Promise<{ snapshots: NetworkSnapshot[]; sources: SnapshotSource[] }> {
  const snapshots: NetworkSnapshot[] = [];
  const sources: SnapshotSource[] = [];
  const seen = new Map<string, string>();
  for (const path of paths) {
    const loaded = await loadInput(() => loadNetworkSnapshots(path));
    for (const snapshot of loaded) {
      for (const vpc of snapshot.vpcs) {
        const key = `${snapshot.accountId}/${snapshot.region}/${vpc.vpcId}`;
        const first = seen.get(key);
        if (first !== undefined) {
          throw new CliInputError(
            `${path}: VPC ${key} is also in ${first}; give each VPC once (one snapshot per account and region)`,
          );
        }
        seen.set(key, path);
      }
      snapshots.push(snapshot);
      sources.push({ path, accountId: snapshot.accountId, region: snapshot.region });
    }
  }
  return { snapshots, sources };
}

/** The policy file a command reads: the one named, or the example policy of the repository. */
export function policyPathOf(policy: string | undefined, context: CliContext): string {
  return policy ?? displayPath(resolve(context.repoRoot, DEFAULT_POLICY), context.cwd);
}

/**
 * Runs `vpc-guard scan`: loads (snapshot files, or AWS with `--live`), evaluates, renders, writes.
 * Returns the exit code; a live scan that could not read every target exits 1 as well, since the
 * report cannot vouch for what it did not see.
 */
export async function runScan(
  options: ScanOptions,
  context: CliContext,
  deps?: CliDependencies,
): Promise<ExitCode> {
  if (!options.live && hasLiveTargetFlags(options)) {
    throw new CliInputError(
      '--regions, --accounts, --org, --role-arn and --external-id select what --live reads: add --live',
    );
  }
  if (options.live && options.snapshot !== undefined) {
    throw new CliInputError('--live reads AWS and --snapshot reads files: give one of them');
  }
  const policyPath = policyPathOf(options.policy, context);
  // The policy is read first: a typo in it is reported before any AWS call.
  const policy: GuardPolicy = await loadInput(() => loadGuardPolicy(policyPath));

  let snapshots: readonly NetworkSnapshot[];
  let sources: SnapshotSource[] | undefined;
  let failures = 0;
  if (options.live) {
    // Loaded here: an offline scan loads no AWS client at all.
    const { collectLive, reportFailures, resolveLiveSession } = await import('../source');
    const session = await resolveLiveSession(options, context, deps);
    const collection = await collectLive(session, options, context, policy);
    reportFailures(collection.failures, context, 'the report covers the rest');
    snapshots = collection.snapshots;
    failures = collection.failures.length;
  } else {
    const snapshotPaths = options.snapshot ?? [
      displayPath(resolve(context.repoRoot, DEFAULT_SNAPSHOT), context.cwd),
    ];
    ({ snapshots, sources } = await loadSnapshots(snapshotPaths));
  }
  const now = options.now ?? context.now();
  const evaluations = evaluate(snapshots, policy, { now });

  const color =
    options.color &&
    options.output === undefined &&
    context.printer.stdoutIsTerminal &&
    !context.env['NO_COLOR'];
  const report = renderReport(options.format, evaluations, {
    generatedAt: now,
    color,
    toolVersion: context.version,
    ...(sources ? { sources } : {}),
  });
  const summary = summarizeEvaluations(evaluations);

  if (options.output === undefined) {
    context.printer.out(report);
  } else {
    try {
      await writeFileAtomic(resolve(context.cwd, options.output), report);
    } catch (error) {
      throw new CliInputError(
        `${options.output}: cannot write the report (${(error as Error).message})`,
        { cause: error },
      );
    }
    context.printer.err(
      `vpc-guard: wrote the ${options.format} report to ${options.output} ` +
        `(${summary.vpcs} VPCs: ${summary.compliant} compliant, ${summary.nonCompliant} non-compliant, ` +
        `${summary.notApplicable} exempt)\n`,
    );
  }
  return summary.nonCompliant > 0 || failures > 0 ? EXIT_CODES.nonCompliant : EXIT_CODES.ok;
}
