import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigurationError, InputValidationError } from '@vpc-guard/shared';
import { Command, CommanderError } from 'commander';
import { registerApplyCommand } from './commands/apply';
import { registerCollectCommand } from './commands/collect';
import { registerInvokeCommand } from './commands/invoke';
import { registerPlanCommand } from './commands/plan';
import { registerPolicyJsonCommand } from './commands/policy-json';
import { registerRollbackCommand } from './commands/rollback';
import { registerScanCommand } from './commands/scan';
import { CliInputError, EXIT_CODES, type CliContext, type ExitCode } from './context';
import type { CliDependencies } from './dependencies';
import { createProcessPrinter, withEscapedMessages } from './printer';

const ERROR_PREFIX = 'vpc-guard: error: ';

/** The context of a real run: this process, its clock, the repository this file lives in. */
export function createProcessContext(): CliContext {
  const functionsDir = fileURLToPath(new URL('..', import.meta.url));
  const manifest = JSON.parse(readFileSync(`${functionsDir}package.json`, 'utf8')) as {
    version?: string;
  };
  return {
    printer: createProcessPrinter(),
    cwd: process.cwd(),
    repoRoot: fileURLToPath(new URL('../..', import.meta.url)),
    env: process.env,
    version: manifest.version ?? '0.0.0',
    now: () => new Date(),
  };
}

/**
 * The `vpc-guard` program. Commander is told not to exit: its usage errors become exit code 2, and
 * `--help` and `--version` exit 0. Commands register here, one module each under `commands/`.
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
  registerScanCommand(program, context, onExit, deps);
  registerCollectCommand(program, context, onExit, deps);
  registerPlanCommand(program, context, onExit, deps);
  registerApplyCommand(program, context, onExit, deps);
  registerRollbackCommand(program, context, onExit, deps);
  registerInvokeCommand(program, context, onExit);
  registerPolicyJsonCommand(program, context, onExit);
  return program;
}

function describeUnexpected(error: unknown, debug: boolean): string {
  if (!(error instanceof Error)) return `vpc-guard: internal error: ${String(error)}\n`;
  const detail = debug
    ? `\n${error.stack ?? ''}${error.cause instanceof Error ? `\ncaused by: ${error.cause.stack ?? error.cause.message}` : ''}`
    : '\n(set VPC_GUARD_DEBUG=1 for the stack trace)';
  return `vpc-guard: internal error: ${error.message}${detail}\n`;
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
