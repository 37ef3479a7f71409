/**
 * Deny statements as perimeters. A Deny on every principal whose only conditions are negated trusted
 * keys (`StringNotEqualsIfExists aws:PrincipalOrgID = <org>`) denies every request from outside the
 * trusted set, so every Allow it covers is scoped on that dimension, whatever the Allow says. Read
 * conservatively: anything that could narrow the Deny (another condition key, NotAction, named
 * principals) means it is not read as a perimeter.
 */
import type { ParsedCondition, ParsedList, ParsedStatement } from './parse';
import {
  AWS_SERVICE_KEY,
  NEGATED_OPERATORS,
  checkTrustedValues,
  conditionEvidence,
  trustedKey,
  type Dimension,
  type TrustedKey,
} from './scope';
import type { ScopeEvidence } from './verdicts';

/** What one Deny statement enforces. */
export interface DenyPerimeter {
  readonly statementId: string;
  /**
   * The dimension it confines to trusted values, `everything` for an unconditional Deny (it blocks
   * what it covers outright), or null when it is not a perimeter.
   */
  readonly confines: Dimension | 'everything' | null;
  /** The scope it gives every Allow it covers; null when `confines` is null. */
  readonly evidence: ScopeEvidence | null;
  readonly actions: ParsedList;
  readonly resources: ParsedList;
  /** Which actions and resources it covers, e.g. `every action on every resource`. */
  readonly coverage: string;
  /** One sentence: what it enforces, or why it is not read as a perimeter. */
  readonly reason: string;
}

function listText(list: ParsedList, every: string): string {
  if (!list.negated && list.values.includes('*')) return every;
  const shown = list.values.slice(0, 3).join(', ');
  const more = list.values.length > 3 ? ` (+${list.values.length - 3} more)` : '';
  return `${list.negated ? 'all but ' : ''}${shown}${more}`;
}

function coverageText(statement: ParsedStatement): string {
  return `${listText(statement.actions, 'every action')} on ${listText(statement.resources, 'every resource')}`;
}

type ConditionRole =
  | { readonly role: 'perimeter'; readonly key: TrustedKey; readonly accounts: readonly string[] }
  | { readonly role: 'service-exemption' }
  | { readonly role: 'other'; readonly problem: string };

function conditionRole(condition: ParsedCondition, organizationId: string): ConditionRole {
  // `BoolIfExists aws:PrincipalIsAWSService = false` exempts AWS services from the Deny and still
  // denies unsigned requests (they carry no such key): the data-perimeter samples' service exception.
  if (
    condition.key === AWS_SERVICE_KEY &&
    condition.base === 'bool' &&
    condition.ifExists &&
    condition.setOperator === null &&
    condition.values.length > 0 &&
    condition.values.every((value) => value.toLowerCase() === 'false')
  ) {
    return { role: 'service-exemption' };
  }
  const key = trustedKey(condition.key);
  // A negated operator is true when the key is absent (with or without IfExists), so the Deny also
  // catches principals outside any organization. ForAnyValue is false when the key is absent: it
  // would let them through.
  if (
    key === undefined ||
    !NEGATED_OPERATORS.has(condition.base) ||
    condition.setOperator === 'ForAnyValue'
  ) {
    return {
      role: 'other',
      problem: `its condition ${condition.operator} on ${condition.keyText} narrows it to requests that also match that`,
    };
  }
  // IAM documents a multivalued key only with a set operator (here ForAllValues:, true when the key
  // is absent) and a single-valued key only without one; any other form is not relied on.
  const documented = key.multivalued
    ? condition.setOperator === 'ForAllValues'
    : condition.setOperator === null;
  if (!documented) {
    return {
      role: 'other',
      problem: key.multivalued
        ? `${condition.operator} on multivalued ${key.canonical} without ForAllValues: is not a documented form`
        : `${condition.operator} on single-valued ${key.canonical} uses a set operator, not a documented form`,
    };
  }
  const check = checkTrustedValues(
    key,
    condition.values,
    organizationId,
    condition.base === 'stringnotequalsignorecase',
  );
  return check.ok
    ? { role: 'perimeter', key, accounts: check.accounts }
    : { role: 'other', problem: check.problem };
}

/** Reads a Deny statement: which dimension, if any, it confines for every principal. */
export function readDenyPerimeter(
  statement: ParsedStatement,
  organizationId: string,
): DenyPerimeter {
  const coverage = coverageText(statement);
  const base = {
    statementId: statement.id,
    actions: statement.actions,
    resources: statement.resources,
    coverage,
  };
  const notPerimeter = (why: string): DenyPerimeter => ({
    ...base,
    confines: null,
    evidence: null,
    reason: `Deny on ${coverage} is not a perimeter: ${why}`,
  });
  const { principal } = statement;
  if (principal.negated) {
    return notPerimeter('NotPrincipal exempts principals vpc-guard cannot bound');
  }
  if (!principal.wildcard && !principal.entries.some((entry) => entry.values.includes('*'))) {
    return notPerimeter('it names its principals, so it binds only those');
  }
  if (statement.actions.negated || statement.resources.negated) {
    return notPerimeter('NotAction/NotResource make its coverage too uncertain to rely on');
  }
  if (statement.conditions.length === 0) {
    return {
      ...base,
      confines: 'everything',
      evidence: {
        by: 'deny-perimeter',
        keys: [],
        values: [],
        accounts: [],
        statementId: statement.id,
        description: `denied outright by ${statement.id}`,
      },
      reason: `Deny without conditions blocks ${coverage} for everyone`,
    };
  }
  const parts: Record<Dimension, { key: TrustedKey; values: string[]; accounts: string[] }[]> = {
    principal: [],
    resource: [],
  };
  for (const condition of statement.conditions) {
    const role = conditionRole(condition, organizationId);
    if (role.role === 'other') return notPerimeter(role.problem);
    if (role.role === 'perimeter') {
      parts[role.key.dimension].push({
        key: role.key,
        values: [...condition.values],
        accounts: [...role.accounts],
      });
    }
  }
  // Conditions are ANDed: a Deny on "principal outside AND resource outside" lets an outsider reach
  // an inside resource, so it confines neither dimension.
  if (parts.principal.length > 0 && parts.resource.length > 0) {
    return notPerimeter(
      'it combines principal and resource keys, so it denies only requests untrusted on both',
    );
  }
  const dimension: Dimension | null =
    parts.principal.length > 0 ? 'principal' : parts.resource.length > 0 ? 'resource' : null;
  if (dimension === null) return notPerimeter('it has no condition on a trusted key');
  const evidence = conditionEvidence(parts[dimension], true, 'deny-perimeter');
  return {
    ...base,
    confines: dimension,
    evidence: {
      ...evidence,
      statementId: statement.id,
      description: `Deny ${statement.id} where ${evidence.description}`,
    },
    reason: `Deny perimeter on ${dimension}s: denies every request where ${evidence.description}, for ${coverage}`,
  };
}

const WILDCARD = /[*?]/;

function globToRegExp(pattern: string): RegExp {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's');
}

/**
 * True when every value `allowed` can match, the pattern `denied` matches too. For a literal allowed
 * value that is a glob match; for an allowed pattern only a prefix pattern (`s3:*` over `s3:Get*`)
 * or the same pattern is trusted to cover it.
 */
function patternCovers(denied: string, allowed: string): boolean {
  if (denied === '*' || denied === allowed) return true;
  if (!WILDCARD.test(allowed)) return globToRegExp(denied).test(allowed);
  const prefix = denied.slice(0, -1);
  return denied.endsWith('*') && !WILDCARD.test(prefix) && allowed.startsWith(prefix);
}

function listCovers(denied: ParsedList, allowed: ParsedList, ignoreCase: boolean): boolean {
  if (denied.negated) return false;
  if (denied.values.includes('*')) return true;
  if (allowed.negated) return false;
  const fold = (value: string) => (ignoreCase ? value.toLowerCase() : value);
  return allowed.values.every((value) =>
    denied.values.some((pattern) => patternCovers(fold(pattern), fold(value))),
  );
}

/**
 * True when the Deny applies to every action and resource the Allow grants. A Deny on a subset of
 * actions scopes only Allows of that subset. Actions compare case-insensitively, as IAM does;
 * resources do not.
 */
export function perimeterCovers(perimeter: DenyPerimeter, allow: ParsedStatement): boolean {
  return (
    listCovers(perimeter.actions, allow.actions, true) &&
    listCovers(perimeter.resources, allow.resources, false)
  );
}
