/**
 * Batching for the sinks' batch APIs, each with a count limit and some with a size limit:
 * PublishBatch 10 entries and 256 KiB in all, PutEvents 10 entries, BatchImportFindings 100,
 * PutEvaluations 100.
 */

/** Splits `items` into consecutive groups of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size ${size} is not >= 1`);
  const groups: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    groups.push(items.slice(start, start + size));
  }
  return groups;
}

/**
 * Groups consecutive items so that each group holds at most `maxCount` items and at most `maxBytes`
 * in all (by `sizeOf`). An item larger than `maxBytes` on its own still gets a group of its own: the
 * service then rejects that one entry, and says so, instead of the whole run failing here.
 */
export function packBatches<T>(
  items: readonly T[],
  maxCount: number,
  maxBytes: number,
  sizeOf: (item: T) => number,
): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (group.length > 0 && (group.length >= maxCount || bytes + size > maxBytes)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(item);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** UTF-8 length of a string: the unit AWS size limits are stated in. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
