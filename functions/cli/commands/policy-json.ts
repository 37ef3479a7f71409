import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { guardPolicyAsJson } from '@vpc-guard/shared';
import { Argument, type Command } from 'commander';
import { CliInputError, EXIT_CODES, type CliContext, type ExitCode } from '../context';

/**
 * `vpc-guard policy-json <file>`: validates a policy (YAML or JSON) and prints it as compact JSON, the
 * form the Lambda functions read (they bundle no YAML parser). What the stack publishes to the SSM
 * parameter at deploy; this is for publishing by hand, to the parameter or to S3.
 */

/** Runs `vpc-guard policy-json`. Exit 0 and the JSON on stdout, or 2 naming the bad field. */
export async function runPolicyJson(path: string, context: CliContext): Promise<ExitCode> {
  let text: string;
  try {
    text = await readFile(resolve(context.cwd, path), 'utf8');
  } catch (error) {
    throw new CliInputError(`${path}: cannot read the policy file (${(error as Error).message})`, {
      cause: error,
    });
  }
  context.printer.out(`${guardPolicyAsJson(text, path)}\n`);
  return EXIT_CODES.ok;
}

/** Adds `vpc-guard policy-json` to the program. */
export function registerPolicyJsonCommand(
  program: Command,
  context: CliContext,
  onExit: (code: ExitCode) => void,
): Command {
  return program
    .command('policy-json')
    .summary('validate a policy file and print it as the JSON the functions read')
    .description(
      'Validate a policy file (YAML or JSON) and print it as compact JSON on stdout: the form the ' +
        'Lambda functions read from the SSM parameter or the S3 object. The stack publishes the ' +
        'parameter this way at deploy; use this to publish a policy by hand.',
    )
    .addArgument(new Argument('<file>', 'the policy, YAML or JSON'))
    .addHelpText(
      'after',
      `
Examples:
  $ vpc-guard policy-json policy.yaml > policy.json
  $ aws ssm put-parameter --name /vpc-guard/policy --overwrite --value file://policy.json
  $ aws s3 cp policy.json s3://my-config-bucket/vpc-guard/policy.json

Exit codes:
  0  valid: the JSON is on stdout
  2  bad input: unreadable file, not YAML or JSON, or an invalid policy (the message names the field)`,
    )
    .action(async (path: string) => {
      onExit(await runPolicyJson(path, context));
    });
}
