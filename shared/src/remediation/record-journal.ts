import { join } from 'node:path';
import { writeJsonFile } from '../json-file';
import type { RecordJournal, RemediationRecord } from './record';
import { signRecord, type RecordSigner } from './record-integrity';

/** `2026-11-20T10-00-00-000Z-<runId>.json`: the start time first so records sort by time. */
export function remediationRecordFileName(record: RemediationRecord): string {
  return `${record.startedAt.replace(/[:.]/g, '-')}-${record.runId}.json`;
}

/**
 * A run's record file in a records directory, used as its journal: every write replaces the whole
 * file atomically (temporary file, then rename; never through a symlink) and, with a signer, signs it
 * again. So the file is at every moment one complete record whose MAC covers every entry so far: an
 * entry cannot be dropped, reordered or edited without the key, and a run that stops leaves the last
 * complete version. The cost is one MAC per write, at most two per AWS write the run makes.
 */
export class RecordFile implements RecordJournal {
  #path: string | undefined;

  constructor(
    /** The records directory (absolute). */
    readonly dir: string,
    private readonly signer?: RecordSigner,
  ) {}

  /** The file, once the first record named it (its start time and run id). */
  get path(): string | undefined {
    return this.#path;
  }

  async write(record: RemediationRecord): Promise<void> {
    const path = this.#path ?? join(this.dir, remediationRecordFileName(record));
    const data = this.signer ? await signRecord(record, this.signer) : record;
    await writeJsonFile(path, data);
    this.#path = path;
  }
}
