import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigurationError, InputValidationError } from '@vpc-guard/shared/errors';
import { Command, CommanderError } from 'commander';
import { CliInputError, EXIT_CODES, type CliContext, type ExitCode } from './context';
import { defineApplyCommand } from './definitions/apply';
import { defineCollectCommand } from './definitions/collect';
import { defineInvokeCommand } from './definitions/invoke';
import { definePlanCommand } from './definitions/plan';
import { definePolicyJsonCommand } from './definitions/policy-json';
import { defineRollbackCommand } from './definitions/rollback';
import { defineScanCommand } from './definitions/scan';
import type { CliDependencies } from './dependencies';
import { createProcessPrinter, withEscapedMessages } from './printer';

const ERROR_PREFIX = 'vpc-guard: error: ';

/**
 * The functions package's directory (with a trailing slash): the nearest one above this module with a
 * package.json. This module runs from functions/cli/ as source and from functions/cli/dist/ compiled.
 */
function functionsPackageDir(): URL {
  for (const up of ['../', '../../']) {
    const dir = new URL(up, import.meta.url);
    if (existsSync(new URL('package.json', dir))) return dir;
  }
  throw new Error(`no package.json above ${import.meta.url}`);
}

/** The context of a real run: this process, its clock, the repository this file lives in. */
export function createProcessContext(): CliContext {
  const functionsDir = functionsPackageDir();
  const manifest = JSON.parse(readFileSync(new URL('package.json', functionsDir), 'utf8')) as {
    version?: string;
  };
  return {
    printer: createProcessPrinter(),
    cwd: process.cwd(),
    repoRoot: fileURLToPath(new URL('../', functionsDir)),
    env: process.env,
    version: manifest.version ?? '0.0.0',
    now: () => new Date(),
  };
}

/**
 * The `vpc-guard` program. Commander is told not to exit: its usage errors become exit code 2, and
 * `--help` and `--version` exit 0. Each command is defined here from `definitions/` (its name, flags
 * and help) and its implementation under `commands/` is imported when it runs: `--help`, `--version`
 * and a usage error load no command's work, and a command loads only its own.
 */
export function createProgram(
  context: CliContext,
  onExit: (code: ExitCode) => void,
  deps?: CliDependencies,
): Command {
  const program = new Command('vpc-guard')
    .description(
      'Keeps AWS VPCs compliant with a network policy: NAT gateways and internet routes where ' +
        'egress is forbidden, required VPC endpoints, and endpoint policies too broad for a data perimeter.',
    )
    .version(context.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand(false)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => context.printer.out(text),
      writeErr: (text) => context.printer.err(text),
      outputError: (text, write) => write(text.replace(/^error: /, ERROR_PREFIX)),
    })
    .addHelpText(
      'after',
      `
Examples:
  $ vpc-guard scan                        scan the demo account with the example policy
  $ vpc-guard scan --snapshot account.json --policy policy.yaml --format sarif
  $ vpc-guard scan --help                 every option of scan
  $ vpc-guard scan --live --regions us-east-1
  $ vpc-guard plan --regions us-east-1 --policy policy.yaml
  $ vpc-guard apply --regions us-east-1 --policy policy.yaml --dry-run

Exit codes: 0 compliant or exempt, 1 non-compliant, 2 bad input or usage, 3 internal error.`,
    );
  const setup = { context, onExit, ...(deps ? { deps } : {}) };
  for (const define of [
    defineScanCommand,
    defineCollectCommand,
    definePlanCommand,
    defineApplyCommand,
    defineRollbackCommand,
    defineInvokeCommand,
    definePolicyJsonCommand,
  ]) {
    define(program, setup);
  }
  return program;
}

function describeUnexpected(error: unknown, debug: boolean): string {
  if (!(error instanceof Error)) return `vpc-guard: internal error: ${String(error)}\n`;
  const detail = debug
    ? `\n${error.stack ?? ''}${error.cause instanceof Error ? `\ncaused by: ${error.cause.stack ?? error.cause.message}` : ''}`
    : '\n(set VPC_GUARD_DEBUG=1 for the stack trace)';
  return `vpc-guard: internal error: ${error.message}${detail}\n`;
}

/** The AWS SDK's own switch for its Node version warning (read when a client is constructed). */
export const SDK_NODE_VERSION_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * Turns off the AWS SDK's NodeVersionSupportWarning, and only that warning, in this process. On Node
 * below 22 the first SDK client prints eight lines on stderr saying that SDK releases after early
 * January 2027 will need Node 22. vpc-guard supports Node 20 and pins the SDK in its lock file, so a
 * user of the CLI can do nothing about it, and on every live command it would bury the progress and
 * errors they can act on. A value the environment already sets is left alone.
 */
export function silenceSdkNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  env[SDK_NODE_VERSION_WARNING_SWITCH] ??= 'true';
}

/**
 * Runs the CLI with `argv` (the arguments after the program name) and returns the exit code; never
 * throws, never exits the process. `deps` replaces the AWS clients and the terminal of the live
 * commands (tests pass the simulated account); by default they are the real ones.
 */
export async function main(
  argv: readonly string[],
  givenContext: CliContext = createProcessContext(),
  deps?: CliDependencies,
): Promise<ExitCode> {
  silenceSdkNodeVersionWarning();
  const context = { ...givenContext, printer: withEscapedMessages(givenContext.printer) };
  let exitCode: ExitCode = EXIT_CODES.ok;
  const program = createProgram(
    context,
    (code) => {
      exitCode = code;
    },
    deps,
  );
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message (or the help) already.
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    if (error instanceof InputValidationError || error instanceof CliInputError) {
      context.printer.err(`${ERROR_PREFIX}${error.message}\n`);
      return EXIT_CODES.usage;
    }
    if (error instanceof ConfigurationError) {
      // A setting to fix (a secret, a parameter), not a bug: bad input, named.
      context.printer.err(`vpc-guard: configuration error (${error.name}): ${error.message}\n`);
      return EXIT_CODES.usage;
    }
    context.printer.err(describeUnexpected(error, context.env['VPC_GUARD_DEBUG'] === '1'));
    return EXIT_CODES.internal;
  }
}
