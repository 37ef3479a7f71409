import { InputValidationError, parseOrThrow } from '../errors';
import { GuardPolicySchema, type GuardPolicy } from './schema';

/**
 * The policy as the Lambda functions read it: JSON only. The stack publishes the policy as compact
 * JSON (the SSM parameter), so the functions bundle no YAML parser (~110 KB of each bundle, parsed at
 * every cold start); YAML is read where people write it, by `parseGuardPolicy` (policy/load.ts): the
 * CLI, `vpc-guard invoke` and the stack at synth.
 */

/**
 * Validates already-parsed policy data (from JSON or YAML). `source` names it in error messages.
 *
 * @throws InputValidationError naming each bad field, what was received and what was expected.
 */
export function validateGuardPolicy(data: unknown, source = 'policy'): GuardPolicy {
  if (data === null || data === undefined) {
    throw new InputValidationError(source, [
      { path: '', message: 'expected a policy, got an empty document' },
    ]);
  }
  return parseOrThrow(GuardPolicySchema, data, source);
}

/**
 * Parses a GuardPolicy from JSON text, as the functions read it. YAML is refused with a message that
 * says so: convert it first (the stack, `vpc-guard invoke` and `vpc-guard policy-json` do), or read it
 * with `parseGuardPolicy`.
 *
 * @throws InputValidationError when the text is not JSON or the policy is invalid.
 */
export function parseGuardPolicyJson(text: string, source = 'policy'): GuardPolicy {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InputValidationError(
      source,
      [
        {
          path: '',
          message: `not valid JSON (${(error as Error).message.replace(/\s+/g, ' ')}): the functions read the policy as JSON, the form the stack publishes; convert a YAML policy with \`vpc-guard policy-json\``,
        },
      ],
      { cause: error },
    );
  }
  return validateGuardPolicy(data, source);
}
