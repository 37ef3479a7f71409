import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { InputValidationError, VpcGuardError, parseOrThrow } from '../errors';
import { GuardPolicySchema, type GuardPolicy } from './schema';

/**
 * Parses a GuardPolicy from YAML or JSON text (JSON is YAML, so one parser serves both). `source`
 * names the text in error messages, usually the file name.
 */
export function parseGuardPolicy(text: string, source = 'policy'): GuardPolicy {
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
  const data: unknown = document.toJS();
  if (data === null || data === undefined) {
    throw new InputValidationError(source, [
      { path: '', message: 'expected a policy, got an empty document' },
    ]);
  }
  return parseOrThrow(GuardPolicySchema, data, source);
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
