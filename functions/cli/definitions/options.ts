import {
  DEFAULT_ACCOUNT_CONCURRENCY,
  parseAccountList,
  parseRegionSelection,
  type RegionSelection,
} from '@vpc-guard/shared/aws/target-selection';
import { InputValidationError } from '@vpc-guard/shared/errors';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CliContext, ExitCode } from '../context';
import type { CliDependencies } from '../dependencies';

/*
 * What the command definitions share: the flags several commands take and their parsers. Commander
 * needs them to parse and to print help, before any command runs, so this module and the definitions
 * import nothing a command's work needs: no AWS client, no renderer, no policy loader.
 */

/** What a command's action needs from `main`: where the exit code goes and what it runs with. */
export interface CommandSetup {
  readonly context: CliContext;
  /** Receives the command's exit code (commander's action result is not returned by `parseAsync`). */
  readonly onExit: (code: ExitCode) => void;
  /** The AWS clients and terminal of the live commands. @default - the real ones, built when needed */
  readonly deps?: CliDependencies;
}

/** The live-source flags, as commander parses them. */
export interface LiveSourceOptions {
  readonly live?: boolean;
  readonly regions?: RegionSelection;
  readonly accounts?: readonly string[];
  readonly org?: boolean;
  readonly roleArn?: string;
  readonly externalId?: string;
  readonly concurrency?: number;
}

/** The most accounts collected at once: beyond it, throttling, not parallelism, sets the pace. */
const MAX_CONCURRENCY = 64;

function commanderParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof InputValidationError)
        throw new InvalidArgumentError(error.problems.map((p) => p.message).join('; '));
      throw error;
    }
  };
}

function parseConcurrency(value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > MAX_CONCURRENCY) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_CONCURRENCY}`);
  }
  return count;
}

/**
 * Adds the live-source flags to a command. `liveFlag`: `scan` needs `--live` to go to AWS; the other
 * commands accept it and imply it.
 */
export function addLiveSourceOptions(command: Command, liveFlag: 'required' | 'implied'): Command {
  return command
    .addOption(
      new Option(
        '--live',
        liveFlag === 'required'
          ? 'read the VPCs from AWS (the credential chain, or assumed roles) instead of snapshot files'
          : 'read the VPCs from AWS (implied; accepted for symmetry with scan --live)',
      ),
    )
    .addOption(
      new Option(
        '--regions <regions>',
        'comma-separated regions, or "all" for every region enabled in each account ' +
          '(default: AWS_REGION)',
      ).argParser(commanderParser((value) => parseRegionSelection(value))),
    )
    .addOption(
      new Option(
        '--accounts <ids>',
        "comma-separated account ids (default: the caller's account); other accounts need --role-arn",
      )
        .argParser(commanderParser((value) => parseAccountList(value)))
        .conflicts('org'),
    )
    .addOption(
      new Option(
        '--org',
        'every ACTIVE account of the organization (Organizations ListAccounts); needs --role-arn',
      ),
    )
    .addOption(
      new Option(
        '--role-arn <template>',
        'role to assume in each account other than the caller\'s, "{accountId}" replaced, e.g. ' +
          "'arn:aws:iam::{accountId}:role/VpcGuardMember'",
      ),
    )
    .addOption(
      new Option('--external-id <id>', 'external id the member role requires (STS AssumeRole)'),
    )
    .addOption(
      new Option('--concurrency <n>', 'accounts collected at once, each with all its regions')
        .argParser(parseConcurrency)
        .default(DEFAULT_ACCOUNT_CONCURRENCY),
    );
}

/** True when any live-source flag other than `--live` is set. */
export function hasLiveTargetFlags(options: LiveSourceOptions): boolean {
  return (
    options.regions !== undefined ||
    options.accounts !== undefined ||
    options.org === true ||
    options.roleArn !== undefined ||
    options.externalId !== undefined
  );
}

/** The options that name the key remediation records are signed and verified with. */
export interface RecordKeyOptions {
  /** A KMS HMAC key: key id, ARN, alias name or alias ARN. */
  readonly recordKey?: string;
  /** A local key file (at least 32 bytes), for use without KMS. */
  readonly recordKeyFile?: string;
}

/** Adds `--record-key` and `--record-key-file` (one or the other) to a command. */
export function addRecordKeyOptions(command: Command, use: string): Command {
  return command
    .addOption(
      new Option(
        '--record-key <kms-key>',
        `KMS HMAC key (id, ARN or alias, e.g. alias/vpc-guard-records) to ${use} records with`,
      ).conflicts('recordKeyFile'),
    )
    .addOption(
      new Option(
        '--record-key-file <file>',
        `local key file (at least 32 bytes) to ${use} records with, instead of KMS`,
      ).conflicts('recordKey'),
    );
}

/** Commander's parser for an option given several times: each value is appended. */
export function collectRepeated(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Parses `--now`: an ISO 8601 date or date-time with a zone, e.g. `2026-11-20T09:00:00Z`. */
export function parseNow(value: string): Date {
  const date = new Date(value);
  if (!ISO_DATE_TIME.test(value) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(
      'expected an ISO 8601 date or date-time with a zone, such as 2026-11-20 or 2026-11-20T09:00:00Z',
    );
  }
  return date;
}

/** Where `vpc-guard apply` writes its records when `--records` is not given. */
export const DEFAULT_RECORDS_DIR = 'vpc-guard-records';
