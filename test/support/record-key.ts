import { writeFile } from 'node:fs/promises';
import { LocalRecordSigner, signRecord } from '../../shared/src/remediation/record-integrity';

/**
 * The key tests sign remediation records with (a fixed 32-byte local key), as an operator would with
 * `--record-key-file`: rollback refuses records that do not verify with the key it is given.
 */
export const TEST_RECORD_KEY = Buffer.alloc(32, 0x5a);

/** A signer for {@link TEST_RECORD_KEY}. */
export const TEST_RECORD_SIGNER = new LocalRecordSigner(TEST_RECORD_KEY);

/** What `loadRemediationRecord` is given in tests: the test key, nothing unsigned. */
export const TEST_RECORD_TRUST = { signer: TEST_RECORD_SIGNER } as const;

/** Writes record data to `path`, signed with the test key. */
export async function writeSignedRecord(path: string, data: object): Promise<void> {
  await writeFile(
    path,
    JSON.stringify(await signRecord(data, TEST_RECORD_SIGNER), null, 2),
    'utf8',
  );
}
