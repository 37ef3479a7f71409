import { InputValidationError, parseOrThrow } from '../errors';
import { readJsonFile, writeJsonFile } from '../json-file';
import { NetworkSnapshotSchema, type NetworkSnapshot } from './schema';

/**
 * Validates snapshot data. A file may hold one snapshot or an array of them (one per account and
 * region), so that a whole estate travels as one file.
 */
export function parseNetworkSnapshots(data: unknown, source = 'snapshot'): NetworkSnapshot[] {
  const items = Array.isArray(data) ? data : [data];
  if (items.length === 0) {
    throw new InputValidationError(source, [
      {
        path: '',
        message: 'expected a snapshot or a non-empty array of snapshots, got an empty array',
      },
    ]);
  }
  return items.map((item, index) =>
    parseOrThrow(NetworkSnapshotSchema, item, Array.isArray(data) ? `${source}[${index}]` : source),
  );
}

/** Reads and validates a snapshot file (JSON: one snapshot or an array). */
export async function loadNetworkSnapshots(path: string): Promise<NetworkSnapshot[]> {
  return parseNetworkSnapshots(await readJsonFile(path, 'snapshot'), path);
}

/** Writes snapshots as one JSON file, readable by {@link loadNetworkSnapshots}. */
export async function saveNetworkSnapshots(
  path: string,
  snapshots: readonly NetworkSnapshot[],
): Promise<void> {
  const data = snapshots.length === 1 ? snapshots[0] : snapshots;
  await writeJsonFile(path, data);
}
