import { randomBytes } from 'node:crypto';
import { lstat, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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

/** A file vpc-guard was asked to write and will not or cannot: a symlink, a directory, no permission. */
export class OutputFileError extends VpcGuardError {
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`${path}: ${message}`, options);
    this.name = 'OutputFileError';
    this.path = path;
  }
}

/**
 * Writes `text` to `path` atomically and never through a symbolic link: the path must be absent or a
 * regular file (a symlink there is refused, not followed); the text goes to a new temporary file in
 * the same directory, created exclusively (`wx`, so a planted name is never opened), flushed, then
 * renamed over `path`. Readers see the old file or the new one, never a part; a crash leaves the old
 * one. Every file vpc-guard writes (reports, snapshots, plans, records) goes through here.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  try {
    const existing = await lstat(path);
    if (existing.isSymbolicLink()) {
      throw new OutputFileError(
        path,
        'is a symbolic link: vpc-guard does not write through links (remove it, or name the file it points to)',
      );
    }
    if (!existing.isFile()) throw new OutputFileError(path, 'exists and is not a regular file');
  } catch (error) {
    if (error instanceof OutputFileError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new OutputFileError(path, `cannot write (${(error as Error).message})`, {
        cause: error,
      });
    }
  }
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o666);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    // rename replaces the directory entry itself: a link planted after the check is replaced, not followed.
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new OutputFileError(path, `cannot write (${(error as Error).message})`, { cause: error });
  }
}

/** Writes data as indented JSON with a final newline, atomically (see {@link writeFileAtomic}). */
export function writeJsonFile(path: string, data: unknown): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(data, null, 2)}\n`);
}
