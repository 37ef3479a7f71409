import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { InputValidationError, VpcGuardError } from '../errors';
import { validateGuardPolicy } from './json';
import type { GuardPolicy } from './schema';

/**
 * Policies as people write them: YAML or JSON files, for the CLI, `vpc-guard invoke` and the stack at
 * synth. The Lambda functions read the JSON the stack publishes (policy/json.ts) and never import
 * this module, so the YAML parser stays out of their bundles.
 */

/** Aliases a policy may expand, counting repeats: ample for anchors shared between profiles. */
const MAX_ALIAS_COUNT = 100;

/** The data of a YAML or JSON document (JSON is YAML, so one parser serves both). */
function readPolicyDocument(text: string, source: string): unknown {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new InputValidationError(
      source,
      document.errors.map((error) => ({
        path: '',
        message: `not valid YAML or JSON: ${error.message.split('\n')[0]}`,
      })),
    );
  }
  try {
    // The yaml package stops alias expansion past maxAliasCount (100 by default): a "billion laughs"
    // document is refused as the bad input it is, not left to exhaust memory.
    return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (error) {
    throw new InputValidationError(
      source,
      [
        {
          path: '',
          message: `not a usable YAML document: ${(error as Error).message} (a policy needs few aliases, if any)`,
        },
      ],
      { cause: error },
    );
  }
}

/**
 * Parses a GuardPolicy from YAML or JSON text. `source` names the text in error messages, usually
 * the file name.
 */
export function parseGuardPolicy(text: string, source = 'policy'): GuardPolicy {
  return validateGuardPolicy(readPolicyDocument(text, source), source);
}

/**
 * A YAML or JSON policy, validated, as compact JSON: what the functions read (the SSM parameter the
 * stack publishes, the file `vpc-guard invoke` hands them). The document as written, without comments
 * or layout; defaults are filled in when it is read.
 *
 * @throws InputValidationError when the text is not YAML or JSON, or the policy is invalid.
 */
export function guardPolicyAsJson(text: string, source = 'policy'): string {
  const data = readPolicyDocument(text, source);
  validateGuardPolicy(data, source);
  return JSON.stringify(data);
}

/** Reads and validates a GuardPolicy file (`.yaml`, `.yml` or `.json`). */
export async function loadGuardPolicy(path: string): Promise<GuardPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new VpcGuardError(`${path}: cannot read the policy file (${(error as Error).message})`, {
      cause: error,
    });
  }
  return parseGuardPolicy(text, path);
}
