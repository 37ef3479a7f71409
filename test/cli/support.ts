import { fileURLToPath } from 'node:url';
import type { CliContext } from '../../functions/cli/context';

/** The repository root: the CLI's default example files live under it. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A CLI context that keeps what the command printed, chunk by chunk. */
export type RecordingContext = CliContext & { stdout: string[]; stderr: string[] };

/** What a test may set in a {@link recordingContext}. */
export interface RecordingContextOptions {
  /** The working directory. Default: the repository root. */
  readonly cwd?: string;
  /** The environment the CLI sees. Default: empty. */
  readonly env?: CliContext['env'];
  /** Whether stdout is a terminal. Default: false (a pipe). */
  readonly terminal?: boolean;
  /** The clock. Default: 2026-11-20T10:00:00Z. */
  readonly now?: () => Date;
}

/** A context that records what the CLI prints, with a terminal or not, and a given environment. */
export function recordingContext(options: RecordingContextOptions = {}): RecordingContext {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    printer: {
      out: (text) => stdout.push(text),
      err: (text) => stderr.push(text),
      stdoutIsTerminal: options.terminal ?? false,
    },
    cwd: options.cwd ?? REPO_ROOT,
    repoRoot: REPO_ROOT,
    env: options.env ?? {},
    version: '9.9.9',
    now: options.now ?? (() => new Date('2026-11-20T10:00:00Z')),
  };
}
