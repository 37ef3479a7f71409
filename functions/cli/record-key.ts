import { resolve } from 'node:path';
import {
  loadRecordKeyFile,
  type RecordSigner,
} from '@vpc-guard/shared/remediation/record-integrity';
import type { CliContext } from './context';
import type { RecordKeyOptions } from './definitions/options';
import type { CliDependencies } from './dependencies';
import { loadInput } from './commands/scan';

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
    // Only a run that names a KMS key loads the KMS client.
    const { KmsRecordSigner, createRecordKmsClient } =
      await import('@vpc-guard/shared/remediation/record-kms');
    const kms = deps.kms ? deps.kms(keyId) : createRecordKmsClient(keyId);
    return new KmsRecordSigner(kms, keyId);
  }
  return undefined;
}
