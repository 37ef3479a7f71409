/**
 * Exemptions: a VPC tag (by default `vpc-guard:exempt`) whose value reads
 * `until=YYYY-MM-DD; reason=...`. The exemption holds through the `until` day (UTC). An expired or
 * malformed value is itself a finding: a typo must never silently exempt a VPC, nor silently drop one.
 */

export type ExemptionStatus =
  | { readonly state: 'none' }
  | {
      readonly state: 'valid';
      readonly until: string;
      readonly reason: string;
      readonly tagValue: string;
    }
  | {
      readonly state: 'expired';
      readonly until: string;
      readonly reason: string;
      readonly tagValue: string;
    }
  | { readonly state: 'malformed'; readonly problem: string; readonly tagValue: string };

const DAY_MS = 86_400_000;
/** Shared: most VPCs have no exemption, and one frozen value serves them all. */
const NO_EXEMPTION: ExemptionStatus = Object.freeze({ state: 'none' });

function parseIsoDay(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const [, year, month, day] = match.map(Number) as [number, number, number, number];
  const time = Date.UTC(year, month - 1, day);
  const date = new Date(time);
  // Rejects 2027-02-30 and the like, which Date would roll over into March.
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day
  ) {
    return undefined;
  }
  return time;
}

/**
 * Reads an exemption tag value. `maxDays` bounds how far ahead `until` may be: an exemption without a
 * real end is not an exemption.
 */
export function parseExemption(
  tagValue: string | undefined,
  now: Date,
  maxDays: number,
): ExemptionStatus {
  if (tagValue === undefined) return NO_EXEMPTION;
  const fields = new Map<string, string>();
  for (const part of tagValue.split(';')) {
    if (part.trim() === '') continue;
    const equals = part.indexOf('=');
    if (equals < 0) {
      return {
        state: 'malformed',
        tagValue,
        problem: `expected "key=value", got "${part.trim()}"`,
      };
    }
    const key = part.slice(0, equals).trim().toLowerCase();
    const value = part.slice(equals + 1).trim();
    if (key !== 'until' && key !== 'reason') {
      return {
        state: 'malformed',
        tagValue,
        problem: `unknown key "${key}" (expected until and reason)`,
      };
    }
    fields.set(key, value);
  }
  const until = fields.get('until');
  const reason = fields.get('reason');
  if (until === undefined) {
    return { state: 'malformed', tagValue, problem: 'missing "until=YYYY-MM-DD"' };
  }
  const untilTime = parseIsoDay(until);
  if (untilTime === undefined) {
    return {
      state: 'malformed',
      tagValue,
      problem: `until: expected a date YYYY-MM-DD, got "${until}"`,
    };
  }
  if (!reason) {
    return {
      state: 'malformed',
      tagValue,
      problem: 'missing "reason=..." (say why the VPC is exempt)',
    };
  }
  const endOfDay = untilTime + DAY_MS;
  if (now.getTime() >= endOfDay) return { state: 'expired', until, reason, tagValue };
  if (untilTime - now.getTime() > maxDays * DAY_MS) {
    return {
      state: 'malformed',
      tagValue,
      problem: `until: ${until} is more than ${maxDays} days ahead (exemptions.maxDays)`,
    };
  }
  return { state: 'valid', until, reason, tagValue };
}
