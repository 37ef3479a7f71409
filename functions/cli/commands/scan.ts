import { isAbsolute, join, relative, resolve } from 'node:path';
import {
  InputValidationError,
  REPORT_FORMATS,
  VpcGuardError,
  evaluate,
  loadGuardPolicy,
  loadNetworkSnapshots,
  renderReport,
  summarizeEvaluations,
  writeFileAtomic,
  type GuardPolicy,
  type NetworkSnapshot,
  type ReportFormat,
  type SnapshotSource,
} from '@vpc-guard/shared';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CliInputError, EXIT_CODES, type CliContext, type ExitCode } from '../context';
import { createProcessDependencies, type CliDependencies } from '../dependencies';
import {
  addLiveSourceOptions,
  collectLive,
  hasLiveTargetFlags,
  reportFailures,
  resolveLiveSession,
  type LiveSourceOptions,
} from '../source';

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

/** Commander's parser for an option given several times: each value is appended. */
export function collectRepeated(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Parses `--now`: an ISO 8601 date or date-time with a zone, e.g. `2026-11-20T09:00:00Z`. */
export function parseNow(value: string): Date {
  const date = new Date(value);
  if (!ISO_DATE_TIME.test(value) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(
      'expected an ISO 8601 date or date-time with a zone, such as 2026-11-20 or 2026-11-20T09:00:00Z',
    );
  }
  return date;
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
  deps: CliDependencies = createProcessDependencies(),
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

/**
 * Adds `vpc-guard scan` to the program. `onExit` receives the command's exit code (commander's action
 * result is not returned by `parseAsync`).
 */
export function registerScanCommand(
  program: Command,
  context: CliContext,
  onExit: (code: ExitCode) => void,
  deps?: CliDependencies,
): Command {
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
      onExit(await runScan(options, context, deps));
    });
}
