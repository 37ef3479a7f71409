import {
  signRecord,
  type RecordJournal,
  type RecordSigner,
  type RemediationRecord,
} from '@vpc-guard/shared';
import { logger } from './observability';

/**
 * The functions' remediation journal: a Lambda has no records directory, so the record goes to the
 * structured log, signed with the deployment's KMS HMAC key before every write and after each
 * outcome. A run that stops part-way (a timeout, a crash) leaves its last signed record in the log,
 * which `vpc-guard rollback --record-key` verifies and acts on. A record that cannot be signed stops
 * the run before its next write (the writer's journal contract): nothing is written unrecorded.
 */
export class SignedRecordLog implements RecordJournal {
  #last: RemediationRecord | undefined;

  constructor(private readonly signer: RecordSigner) {}

  /** The last record written, signed. */
  get last(): RemediationRecord | undefined {
    return this.#last;
  }

  async write(record: RemediationRecord): Promise<void> {
    const signed = await signRecord(record, this.signer);
    logger.info(record.status === 'running' ? 'remediation journal' : 'remediation record', {
      record: signed,
    });
    this.#last = signed;
  }
}
