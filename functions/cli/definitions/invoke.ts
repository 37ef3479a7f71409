import { Argument, InvalidArgumentError, Option, type Command } from 'commander';
import type { InvokeCommandOptions } from '../commands/invoke';
import { FUNCTION_NAMES, type FunctionName } from '../../runtime/function-names';
import type { CommandSetup } from './options';

function parseTimeout(value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds < 1 || seconds > 900) {
    throw new InvalidArgumentError(
      'expected whole seconds from 1 to 900 (Lambda allows 15 minutes)',
    );
  }
  return seconds;
}

/** Defines `vpc-guard invoke`; its implementation is loaded when it runs. */
export function defineInvokeCommand(program: Command, setup: CommandSetup): Command {
  return program
    .command('invoke')
    .summary('run a Lambda handler locally on an event file, against the configured AWS')
    .description(
      'Run one of the Lambda functions here, as Lambda would: the real handler module, its ' +
        'environment taken from this shell (the same variables the stack sets), a Lambda-like ' +
        'context, and the AWS endpoint and credentials the SDK finds (AWS_ENDPOINT_URL, profiles, ' +
        'SSO). Logs go to stderr; the result, as JSON, to stdout.',
    )
    .addArgument(new Argument('<function>', 'the function to run').choices(FUNCTION_NAMES))
    .addOption(
      new Option('-e, --event <file>', 'the event, as JSON (required)').makeOptionMandatory(),
    )
    .addOption(
      new Option(
        '-p, --policy <file>',
        'evaluate with this policy file, YAML or JSON (sets POLICY_SOURCE to a JSON copy)',
      ),
    )
    .addOption(
      new Option('--timeout <seconds>', 'what the context reports as the time limit')
        .argParser(parseTimeout)
        .default(900),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ vpc-guard invoke config-rule --event config-event.json --policy policy.yaml
  $ AWS_PROFILE=audit FINDINGS_TABLE=vpc-guard-findings TOPIC_ARN=arn:aws:sns:... \\
      OWN_ROLE_ARNS=arn:aws:iam::*:role/vpc-guard-* vpc-guard invoke api-event --event event.json
  $ CONFIG_TEST_MODE=on vpc-guard invoke config-rule --event replayed.json   (Config stores nothing)

Exit codes:
  0  the handler returned, nothing non-compliant
  1  something is non-compliant, or the handler failed in part (the report is printed)
  2  bad input: the event, the environment or the policy (the message names the field)
  3  internal error (set VPC_GUARD_DEBUG=1 for the stack trace)`,
    )
    .action(async (functionName: FunctionName, options: InvokeCommandOptions) => {
      const { runInvoke } = await import('../commands/invoke');
      setup.onExit(await runInvoke(functionName, options, setup.context));
    });
}
