import type { Filter } from '@aws-sdk/client-ec2';
import { fault } from './errors';

/** What a filter reads from an item: one value, several (any may match), or nothing. */
type FilterValue = string | number | boolean | undefined;
type FilterField<T> = (item: T) => FilterValue | readonly FilterValue[];

/** The filters one Describe operation understands, by EC2 filter name. */
export interface FilterSpec<T> {
  readonly fields: Readonly<Record<string, FilterField<T>>>;
  /** The item's tags, for `tag:<key>`, `tag-key` and `tag-value`; absent when the resource has none. */
  readonly tags?: (item: T) => Readonly<Record<string, string>>;
}

const patternCache = new Map<string, RegExp>();

/**
 * EC2 filter values are case-sensitive and may hold wildcards: `*` (any run of characters) and `?`
 * (one character); a backslash escapes them.
 */
function wildcardMatches(pattern: string, value: string): boolean {
  let regex = patternCache.get(pattern);
  if (!regex) {
    let source = '';
    for (let index = 0; index < pattern.length; index += 1) {
      const char = pattern[index]!;
      if (char === '\\' && index + 1 < pattern.length) {
        index += 1;
        source += escapeRegex(pattern[index]!);
      } else if (char === '*') {
        source += '.*';
      } else if (char === '?') {
        source += '.';
      } else {
        source += escapeRegex(char);
      }
    }
    regex = new RegExp(`^${source}$`, 's');
    patternCache.set(pattern, regex);
  }
  return regex.test(value);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function asStrings(value: FilterValue | readonly FilterValue[]): string[] {
  const values: readonly FilterValue[] = Array.isArray(value) ? value : [value as FilterValue];
  return values.filter((item) => item !== undefined).map((item) => String(item));
}

/**
 * Keeps the items that pass every filter (filters AND), where an item passes a filter when any of
 * its values matches any of the filter's values (values OR). Unknown filter names are rejected the
 * way EC2 rejects them, so a collector with a typo fails here rather than in production.
 */
export function applyFilters<T>(
  items: readonly T[],
  filters: readonly Filter[] | undefined,
  spec: FilterSpec<T>,
): T[] {
  if (!filters || filters.length === 0) {
    return [...items];
  }
  const predicates = filters.map((filter) => compileFilter(filter, spec));
  return items.filter((item) => predicates.every((predicate) => predicate(item)));
}

function compileFilter<T>(filter: Filter, spec: FilterSpec<T>): (item: T) => boolean {
  const name = filter.Name;
  if (!name) {
    throw fault('InvalidParameterValue', 'The filter name must not be empty.');
  }
  const wanted = filter.Values ?? [];
  if (wanted.length === 0) {
    throw fault('InvalidParameterValue', `The filter '${name}' must have at least one value.`);
  }
  const anyMatches = (values: readonly string[]) =>
    values.some((value) => wanted.some((pattern) => wildcardMatches(pattern, value)));
  const tagsOf = spec.tags;
  if (tagsOf && name.startsWith('tag:')) {
    const key = name.slice('tag:'.length);
    return (item) => {
      const value = tagsOf(item)[key];
      return value !== undefined && anyMatches([value]);
    };
  }
  if (tagsOf && name === 'tag-key') {
    return (item) => anyMatches(Object.keys(tagsOf(item)));
  }
  if (tagsOf && name === 'tag-value') {
    return (item) => anyMatches(Object.values(tagsOf(item)));
  }
  const field = spec.fields[name];
  if (!field) {
    throw fault('InvalidParameterValue', `The filter '${name}' is invalid`);
  }
  return (item) => anyMatches(asStrings(field(item)));
}
