import { InputValidationError } from '../errors';
import { ACCOUNT_ID_PATTERN, REGION_PATTERN } from './shapes';

/*
 * What a live run selects, as the user gives it: accounts, regions, how many accounts at once. Pure
 * parsing, no AWS client: command-line and environment parsers load it without the SDK.
 */

/** Default number of accounts collected at once: each runs all its regions, ~9 calls per region. */
export const DEFAULT_ACCOUNT_CONCURRENCY = 4;

/** Parses a comma-separated account list (`--accounts`): 12-digit ids, duplicates dropped, order kept. */
export function parseAccountList(value: string, source = '--accounts'): string[] {
  const ids = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  const bad = ids.filter((id) => !ACCOUNT_ID_PATTERN.test(id));
  if (ids.length === 0 || bad.length > 0) {
    throw new InputValidationError(source, [
      {
        path: '',
        message: `expected comma-separated 12-digit account ids, got ${JSON.stringify(value)}`,
      },
    ]);
  }
  return [...new Set(ids)];
}

/** Which regions to collect: named ones, or every region enabled in each account. */
export type RegionSelection =
  { readonly kind: 'all' } | { readonly kind: 'list'; readonly regions: readonly string[] };

/** Parses `--regions`: `all`, or comma-separated region names such as `us-east-1,eu-west-1`. */
export function parseRegionSelection(value: string, source = '--regions'): RegionSelection {
  if (value.trim() === 'all') return { kind: 'all' };
  const regions = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  const bad = regions.filter((region) => !REGION_PATTERN.test(region));
  if (regions.length === 0 || bad.length > 0) {
    throw new InputValidationError(source, [
      {
        path: '',
        message: `expected "all" or comma-separated region names such as us-east-1,eu-west-1, got ${JSON.stringify(value)}`,
      },
    ]);
  }
  return { kind: 'list', regions: [...new Set(regions)] };
}
