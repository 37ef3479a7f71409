import { readFile } from 'node:fs/promises';
import { InputValidationError, VpcGuardError } from './errors';

/**
 * Reads a JSON file that vpc-guard or its user wrote (snapshot, plan, record). An unreadable file and
 * invalid JSON are errors that name the file and what it was expected to be; the caller validates the
 * shape.
 */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new VpcGuardError(`${path}: cannot read the ${what} file (${(error as Error).message})`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InputValidationError(
      path,
      [{ path: '', message: `not valid JSON: ${(error as Error).message}` }],
      { cause: error },
    );
  }
}
