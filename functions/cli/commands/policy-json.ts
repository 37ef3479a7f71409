import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { guardPolicyAsJson } from '@vpc-guard/shared/policy/load';
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
