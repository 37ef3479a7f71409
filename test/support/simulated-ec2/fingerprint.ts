function stableJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(stableJson).join(',')}]`;
  }
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([left], [right]) => left.localeCompare(right));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/**
 * A canonical form of a request without the given fields: key order and absent-vs-undefined do not
 * matter, as they do not to EC2 (the SDK's paginators, for one, rebuild the input on every page).
 */
export function requestFingerprint(input: object, ignoredFields: readonly string[]): string {
  const kept = Object.fromEntries(
    Object.entries(input).filter(([key]) => !ignoredFields.includes(key)),
  );
  return stableJson(kept);
}
