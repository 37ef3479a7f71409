import { VpcGuardError } from '@vpc-guard/shared/errors';
import type { Printer } from './printer';

/**
 * The exit codes of every vpc-guard command: scripts and CI key on them.
 * - 0: done, and everything is compliant (or exempt)
 * - 1: done, and something is non-compliant
 * - 2: bad input or usage: unknown flag or format, unreadable or invalid file
 * - 3: unexpected internal error
 */
export const EXIT_CODES = { ok: 0, nonCompliant: 1, usage: 2, internal: 3 } as const;
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** What a command gets from the outside world; `main` builds it from the process. */
export interface CliContext {
  readonly printer: Printer;
  /** The working directory; relative paths the user gives resolve against it. */
  readonly cwd: string;
  /** The repository root: the default example files live under it, wherever the CLI is run from. */
  readonly repoRoot: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The CLI's version (`functions/package.json`). */
  readonly version: string;
  /** The clock, read once per command. */
  now(): Date;
}

/** Bad input the user can fix (a missing file, an unwritable output): exit code 2, message only. */
export class CliInputError extends VpcGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliInputError';
  }
}
