import { Argument, type Command } from 'commander';
import type { CommandSetup } from './options';

/** Defines `vpc-guard policy-json`; its implementation is loaded when it runs. */
export function definePolicyJsonCommand(program: Command, setup: CommandSetup): Command {
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
      const { runPolicyJson } = await import('../commands/policy-json');
      setup.onExit(await runPolicyJson(path, setup.context));
    });
}
