import { resolve } from 'node:path';
import {
  KmsRecordSigner,
  createRecordKmsClient,
  loadRecordKeyFile,
  type RecordSigner,
} from '@vpc-guard/shared';
import { Option, type Command } from 'commander';
import type { CliContext } from './context';
import type { CliDependencies } from './dependencies';
import { loadInput } from './commands/scan';

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

/** The signer the options name; undefined when neither is given. A key file that cannot be used is bad input. */
export async function resolveRecordSigner(
  options: RecordKeyOptions,
  context: CliContext,
  deps: CliDependencies,
): Promise<RecordSigner | undefined> {
  if (options.recordKeyFile !== undefined) {
    const path = resolve(context.cwd, options.recordKeyFile);
    return loadInput(() => loadRecordKeyFile(path));
  }
  if (options.recordKey !== undefined) {
    const keyId = options.recordKey;
    const kms = deps.kms ? deps.kms(keyId) : createRecordKmsClient(keyId);
    return new KmsRecordSigner(kms, keyId);
  }
  return undefined;
}
