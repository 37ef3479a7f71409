/**
 * What limits one statement, dimension by dimension: its principals (Principal element, trusted
 * principal condition keys), its resources (Resource element, trusted resource condition keys), its
 * actions. Trust is judged against the policy's organization: an org id of another organization, a
 * wildcard or an account-less ARN is not a scope, and the reason says which value was found.
 */
import { ACCOUNT_ID_PATTERN, ORGANIZATION_ID_PATTERN, isPartition, parseArn } from '../aws/shapes';
import { matchAwsOwnedResource } from './aws-owned';
import type { ParsedCondition, ParsedList, ParsedPrincipal } from './parse';
import type { ScopeEvidence } from './verdicts';

/** The two dimensions a data perimeter bounds. */
export type Dimension = 'principal' | 'resource';

type TrustedKeyKind = 'org-id' | 'org-paths' | 'account' | 'principal-arn' | 'owner';

/** A condition key whose trusted values bound one dimension. */
export interface TrustedKey {
  readonly dimension: Dimension;
  /** The documented spelling (keys are case-insensitive; reports use this one). */
  readonly canonical: string;
  readonly kind: TrustedKeyKind;
  /**
   * The request can carry several values (IAM "multivalued" keys): only a set operator reads it as
   * documented (`ForAnyValue:` in an Allow, `ForAllValues:` in a Deny). A single-valued key takes
   * none: IAM warns that a set operator on it can make a policy more permissive than it reads.
   */
  readonly multivalued: boolean;
}

const TRUSTED_KEYS: ReadonlyMap<string, TrustedKey> = new Map<string, TrustedKey>(
  (
    [
      ['principal', 'aws:PrincipalOrgID', 'org-id'],
      ['principal', 'aws:PrincipalOrgPaths', 'org-paths'],
      ['principal', 'aws:PrincipalAccount', 'account'],
      ['principal', 'aws:PrincipalArn', 'principal-arn'],
      ['resource', 'aws:ResourceOrgID', 'org-id'],
      ['resource', 'aws:ResourceOrgPaths', 'org-paths'],
      ['resource', 'aws:ResourceAccount', 'account'],
      // The data-perimeter ec2 sample admits Amazon's AMIs with `ec2:Owner = amazon`.
      ['resource', 'ec2:Owner', 'owner'],
    ] as const
  ).map(([dimension, canonical, kind]) => [
    canonical.toLowerCase(),
    { dimension, canonical, kind, multivalued: kind === 'org-paths' },
  ]),
);

/** `aws:PrincipalIsAWSService`, lower-cased. */
export const AWS_SERVICE_KEY = 'aws:principalisawsservice';

/** Operators that admit only the values they name (when the key is present). */
const POSITIVE_OPERATORS = new Set([
  'stringequals',
  'stringequalsignorecase',
  'stringlike',
  'arnequals',
  'arnlike',
]);

/** Operators that match everything except the values they name. */
export const NEGATED_OPERATORS: ReadonlySet<string> = new Set([
  'stringnotequals',
  'stringnotequalsignorecase',
  'stringnotlike',
  'arnnotequals',
  'arnnotlike',
]);

const WILDCARD = /[*?]/;
const ANY_RESOURCE = /^\S+$/;
const IDENTITY_PROVIDER = /^(?:saml-provider|oidc-provider)\/\S+$/;

/**
 * The account an IAM or STS ARN is bound to (`arn:aws:iam::111111111111:role/x`): a known partition,
 * no region, a 12-digit account, a resource of the given shape. Undefined for anything else, a
 * wildcard in the partition or the account included.
 */
function boundAccount(
  value: string,
  services: readonly string[],
  resource: RegExp = ANY_RESOURCE,
): string | undefined {
  const arn = parseArn(value);
  return arn !== undefined &&
    isPartition(arn.partition) &&
    services.includes(arn.service) &&
    arn.region === '' &&
    ACCOUNT_ID_PATTERN.test(arn.account) &&
    resource.test(arn.resource)
    ? arn.account
    : undefined;
}

/** The trusted key spelled (in any case) `key`, if it is one. */
export function trustedKey(key: string): TrustedKey | undefined {
  return TRUSTED_KEYS.get(key.toLowerCase());
}

type ValueCheck =
  | { readonly ok: true; readonly accounts: readonly string[] }
  | { readonly ok: false; readonly problem: string };

function checkValue(
  key: TrustedKey,
  value: string,
  organizationId: string,
  ignoreCase: boolean,
): ValueCheck {
  const name = key.canonical;
  const text = ignoreCase ? value.toLowerCase() : value;
  switch (key.kind) {
    case 'org-id': {
      if (text === organizationId) return { ok: true, accounts: [] };
      if (ORGANIZATION_ID_PATTERN.test(value)) {
        return {
          ok: false,
          problem: `${name} admits ${value}, another organization than ${organizationId}`,
        };
      }
      return WILDCARD.test(value)
        ? {
            ok: false,
            problem: `${name} "${value}" is a wildcard that admits organizations other than ${organizationId}`,
          }
        : { ok: false, problem: `${name} "${value}" is not this organization (${organizationId})` };
    }
    case 'org-paths': {
      // A path is `o-xxx/r-xxx/ou-xxx/...`: only paths rooted at this organization keep outsiders out.
      if (text.startsWith(`${organizationId}/`)) return { ok: true, accounts: [] };
      const root = value.split('/')[0] ?? '';
      if (ORGANIZATION_ID_PATTERN.test(root)) {
        return {
          ok: false,
          problem: `${name} admits ${root}, another organization than ${organizationId}`,
        };
      }
      return {
        ok: false,
        problem: `${name} "${value}" is not rooted at this organization (${organizationId}/...)`,
      };
    }
    case 'account':
      return ACCOUNT_ID_PATTERN.test(value)
        ? { ok: true, accounts: [value] }
        : { ok: false, problem: `${name} "${value}" is not a 12-digit account id` };
    case 'principal-arn': {
      const account = boundAccount(value, ['iam', 'sts']);
      return account !== undefined
        ? { ok: true, accounts: [account] }
        : { ok: false, problem: `${name} "${value}" is not bound to an account` };
    }
    case 'owner':
      if (text === 'amazon') return { ok: true, accounts: [] };
      return ACCOUNT_ID_PATTERN.test(value)
        ? { ok: true, accounts: [value] }
        : { ok: false, problem: `${name} "${value}" is neither "amazon" nor an account id` };
  }
}

/**
 * Checks that every value of a trusted key stays inside the perimeter: one untrusted value admits
 * outsiders, so it undoes the rest.
 */
export function checkTrustedValues(
  key: TrustedKey,
  values: readonly string[],
  organizationId: string,
  ignoreCase: boolean,
): ValueCheck {
  if (values.length === 0) return { ok: false, problem: `${key.canonical} has no values` };
  const accounts: string[] = [];
  for (const value of values) {
    const check = checkValue(key, value, organizationId, ignoreCase);
    if (!check.ok) return check;
    accounts.push(...check.accounts);
  }
  return { ok: true, accounts: [...new Set(accounts)] };
}

function describeValues(canonical: string, values: readonly string[], negated: boolean): string {
  if (values.length === 1) return `${canonical} ${negated ? '≠' : '='} ${values[0]}`;
  return `${canonical} ${negated ? 'not in' : 'in'} [${values.join(', ')}]`;
}

/** Evidence for a scope made of one or more trusted conditions (ANDed: each alone would do). */
export function conditionEvidence(
  parts: readonly { key: TrustedKey; values: readonly string[]; accounts: readonly string[] }[],
  negated: boolean,
  by: ScopeEvidence['by'] = 'condition',
): ScopeEvidence {
  return {
    by,
    keys: [...new Set(parts.map((part) => part.key.canonical))],
    values: parts.flatMap((part) => part.values),
    accounts: [...new Set(parts.flatMap((part) => part.accounts))],
    description: parts
      .map((part) => describeValues(part.key.canonical, part.values, negated))
      .join(negated ? ' or ' : ' and '),
  };
}

/** What the conditions of an Allow statement limit. */
export interface AllowConditionScope {
  readonly principal: ScopeEvidence | null;
  readonly resource: ScopeEvidence | null;
  /** `Bool aws:PrincipalIsAWSService = true`: only AWS service principals are admitted. */
  readonly awsServiceOnly: boolean;
  /** Near misses, per dimension: conditions that look like a scope but are not one. */
  readonly notes: Readonly<Record<Dimension, readonly string[]>>;
  /** Condition keys (as written) that bound neither dimension. */
  readonly otherKeys: readonly string[];
}

/**
 * Reads the conditions of an Allow statement. Conditions are ANDed, so any one trusted condition
 * scopes its dimension. Only positive operators without `IfExists` count: `...IfExists` and
 * `ForAllValues:` pass when the key is absent (a principal outside any organization has no
 * `aws:PrincipalOrgID`), and a negated operator admits everything it does not name.
 */
export function scopeFromAllowConditions(
  conditions: readonly ParsedCondition[],
  organizationId: string,
): AllowConditionScope {
  const scopes: Record<Dimension, { key: TrustedKey; values: string[]; accounts: string[] }[]> = {
    principal: [],
    resource: [],
  };
  const notes: Record<Dimension, string[]> = { principal: [], resource: [] };
  const otherKeys: string[] = [];
  let awsServiceOnly = false;
  for (const condition of conditions) {
    if (condition.key === AWS_SERVICE_KEY) {
      const saysTrue =
        condition.values.length > 0 && condition.values.every((v) => v.toLowerCase() === 'true');
      if (condition.base === 'bool' && saysTrue && condition.setOperator === null) {
        if (!condition.ifExists) {
          awsServiceOnly = true;
        } else {
          // Unsigned requests carry no aws:PrincipalIsAWSService, so BoolIfExists lets them through.
          notes.principal.push(
            `${condition.operator} on aws:PrincipalIsAWSService passes unsigned requests`,
          );
        }
      } else {
        otherKeys.push(condition.keyText);
      }
      continue;
    }
    const key = trustedKey(condition.key);
    if (key === undefined) {
      otherKeys.push(condition.keyText);
      continue;
    }
    const dimensionNotes = notes[key.dimension];
    if (!POSITIVE_OPERATORS.has(condition.base)) {
      dimensionNotes.push(
        NEGATED_OPERATORS.has(condition.base)
          ? `${condition.operator} on ${key.canonical} in an Allow admits every value it does not name`
          : `${condition.operator} on ${key.canonical} does not limit it to trusted values`,
      );
      continue;
    }
    if (condition.ifExists || condition.setOperator === 'ForAllValues') {
      dimensionNotes.push(
        `${condition.operator} on ${key.canonical} passes when the key is absent`,
      );
      continue;
    }
    const documented = key.multivalued
      ? condition.setOperator === 'ForAnyValue'
      : condition.setOperator === null;
    if (!documented) {
      dimensionNotes.push(
        key.multivalued
          ? `${condition.operator} on multivalued ${key.canonical} without ForAnyValue: is not a documented form`
          : `${condition.operator} on single-valued ${key.canonical} uses a set operator, not a documented form`,
      );
      continue;
    }
    const check = checkTrustedValues(
      key,
      condition.values,
      organizationId,
      condition.base === 'stringequalsignorecase',
    );
    if (check.ok) {
      scopes[key.dimension].push({
        key,
        values: [...condition.values],
        accounts: [...check.accounts],
      });
    } else {
      dimensionNotes.push(check.problem);
    }
  }
  return {
    principal: scopes.principal.length > 0 ? conditionEvidence(scopes.principal, false) : null,
    resource: scopes.resource.length > 0 ? conditionEvidence(scopes.resource, false) : null,
    awsServiceOnly,
    notes,
    otherKeys,
  };
}

/** What the Principal element of an Allow admits. */
export interface PrincipalElementScope {
  /**
   * `any`: `*`, `{"AWS": "*"}` or NotPrincipal. `named`: accounts and account-bound ARNs.
   * `aws-service`: only service principals. `open`: named, but a name that admits outsiders (a
   * public identity provider, a malformed ARN).
   */
  readonly kind: 'any' | 'named' | 'aws-service' | 'open';
  readonly evidence: ScopeEvidence | null;
  readonly problem?: string;
  /** The element as written, for reasons. */
  readonly text: string;
}

/** Reads the Principal element of an Allow statement. */
export function scopeFromPrincipal(principal: ParsedPrincipal): PrincipalElementScope {
  const { text } = principal;
  if (principal.negated) {
    return {
      kind: 'any',
      evidence: null,
      problem: 'NotPrincipal in an Allow admits every principal it does not name',
      text,
    };
  }
  if (principal.wildcard || principal.entries.some((entry) => entry.values.includes('*'))) {
    return { kind: 'any', evidence: null, text };
  }
  const values = principal.entries.flatMap((entry) => entry.values);
  if (principal.entries.every((entry) => entry.type === 'Service')) {
    return {
      kind: 'aws-service',
      evidence: {
        by: 'aws-service',
        keys: [],
        values,
        accounts: [],
        description: `Principal Service ${values.join(', ')}`,
      },
      text,
    };
  }
  const accounts: string[] = [];
  for (const entry of principal.entries) {
    for (const value of entry.values) {
      if (entry.type === 'AWS') {
        const account = ACCOUNT_ID_PATTERN.test(value)
          ? value
          : boundAccount(value, ['iam', 'sts']);
        if (account !== undefined) accounts.push(account);
        else {
          return {
            kind: 'open',
            evidence: null,
            problem: `Principal AWS "${value}" is not an account id or an account-bound ARN`,
            text,
          };
        }
      } else if (entry.type === 'Federated') {
        const account = boundAccount(value, ['iam'], IDENTITY_PROVIDER);
        if (account === undefined) {
          return {
            kind: 'open',
            evidence: null,
            problem: `Principal Federated "${value}" admits any identity of that provider`,
            text,
          };
        }
        accounts.push(account);
      }
      // Service principals are AWS's own; a CanonicalUser id names one account.
    }
  }
  return {
    kind: 'named',
    evidence: {
      by: 'principal-element',
      keys: [],
      values,
      accounts: [...new Set(accounts)],
      description: text,
    },
    text,
  };
}

/** What the Resource element of a statement admits. */
export interface ResourceElementScope {
  readonly scoped: boolean;
  /**
   * Every resource is an AWS-owned resource of the endpoint's region and every action only reads it
   * (see `matchAwsOwnedResource`).
   */
  readonly awsOwnedOnly: boolean;
  /** It names AWS-owned resources for actions other than reads of them. */
  readonly awsOwnedBeyondReads: boolean;
  readonly evidence: ScopeEvidence | null;
  readonly problem?: string;
  readonly text: string;
}

type ResourceKind =
  | { readonly kind: 'wildcard'; readonly problem?: string }
  | { readonly kind: 'aws-owned'; readonly reads: ReadonlySet<string> }
  | { readonly kind: 'outside'; readonly problem: string }
  | { readonly kind: 'named'; readonly account?: string };

/** A policy variable: the request, not the policy, decides what it names. */
const POLICY_VARIABLE = /\$\{/;

/**
 * Whether one Resource value names what it admits. An ARN whose account is a wildcard, an S3 ARN
 * whose bucket name has one (bucket names are global: anyone can create `corp-exfil`), any other
 * account-less ARN with a wildcard, or a policy variable admits resources outside the organization;
 * so does an AWS-owned resource, unless it is one of the endpoint's region (then only reads of it
 * are exempt).
 */
function classifyResource(value: string, region: string): ResourceKind {
  if (value === '*') return { kind: 'wildcard' };
  if (POLICY_VARIABLE.test(value)) {
    return {
      kind: 'wildcard',
      problem: `"${value}" names its resource with a policy variable, which the request fills in`,
    };
  }
  const owned = matchAwsOwnedResource(value, region);
  if (owned?.here === true) return { kind: 'aws-owned', reads: owned.reads };
  if (owned !== undefined) {
    return {
      kind: 'outside',
      problem: `"${value}" is AWS-owned but not of this endpoint's region (${region}): outside the organization`,
    };
  }
  const arn = parseArn(value);
  if (arn === undefined) {
    return WILDCARD.test(value) ? { kind: 'wildcard' } : { kind: 'named' };
  }
  const { partition, service, account, resource: rest } = arn;
  if (WILDCARD.test(partition) || WILDCARD.test(service)) return { kind: 'wildcard' };
  if (account !== '') {
    if (ACCOUNT_ID_PATTERN.test(account)) return { kind: 'named', account };
    return account === 'aws'
      ? {
          kind: 'outside',
          problem: `"${value}" is AWS-owned with no read exception for it: outside the organization`,
        }
      : { kind: 'wildcard' };
  }
  if (service === 's3') {
    const bucket = rest.split('/')[0] ?? '';
    return bucket !== '' && !WILDCARD.test(bucket) ? { kind: 'named' } : { kind: 'wildcard' };
  }
  return rest !== '' && !WILDCARD.test(rest) ? { kind: 'named' } : { kind: 'wildcard' };
}

function describeReads(reads: ReadonlySet<string>): string {
  return [...reads].join(', ');
}

/**
 * Reads the Resource element of an Allow statement for an endpoint of `region`. AWS-owned resources
 * of that region scope it only when every action of the statement (`actions`) is a read of them:
 * anything else (a write, `s3:*`, a family such as `s3:Get*`, NotAction) reaches a resource outside
 * the organization.
 */
export function scopeFromResources(
  resources: ParsedList,
  actions: ParsedList,
  region: string,
): ResourceElementScope {
  const text = `${resources.negated ? 'NotResource' : 'Resource'} ${JSON.stringify(resources.values.length === 1 ? resources.values[0] : resources.values)}`;
  const shortText = text.length > 100 ? `${text.slice(0, 97)}...` : text;
  const unscoped = (problem: string | undefined, awsOwnedBeyondReads = false) => ({
    scoped: false,
    awsOwnedOnly: false,
    awsOwnedBeyondReads,
    evidence: null,
    ...(problem === undefined ? {} : { problem }),
    text: shortText,
  });
  if (resources.negated) {
    return unscoped('NotResource in an Allow admits every resource it does not name');
  }
  const accounts: string[] = [];
  let awsOwnedOnly = true;
  for (const value of resources.values) {
    const resource = classifyResource(value, region);
    switch (resource.kind) {
      case 'wildcard':
        return unscoped(
          value === '*'
            ? undefined
            : (resource.problem ?? `"${value}" does not name its account or bucket`),
        );
      case 'outside':
        return unscoped(resource.problem);
      case 'aws-owned': {
        const beyond = actions.negated
          ? 'NotAction'
          : actions.values.find((action) => !resource.reads.has(action.toLowerCase()));
        if (beyond !== undefined) {
          return unscoped(
            `"${value}" is AWS-owned, outside the organization: only ${describeReads(resource.reads)} on it are exempt, not ${beyond}`,
            true,
          );
        }
        break;
      }
      case 'named':
        awsOwnedOnly = false;
        if (resource.account !== undefined) accounts.push(resource.account);
        break;
    }
  }
  return {
    scoped: true,
    awsOwnedOnly,
    awsOwnedBeyondReads: false,
    evidence: {
      by: awsOwnedOnly ? 'aws-owned-resource' : 'resource-element',
      keys: [],
      values: resources.values,
      accounts: [...new Set(accounts)],
      description: awsOwnedOnly ? `AWS-owned ${shortText} (reads only)` : shortText,
    },
    text: shortText,
  };
}

/** How far the actions of a statement reach. */
export interface ActionBreadth {
  /** `Action: "*"` or NotAction: every action of every service. */
  readonly anyAction: boolean;
  /** The wildcard actions (`*`, `s3:*`), or `NotAction`. */
  readonly wildcards: readonly string[];
  readonly text: string;
}

/** Only wildcard characters, at least one `*`: matches every name (`*`, `?*`, `**`). */
const MATCHES_EVERYTHING = /^[*?]*\*[*?]*$/;

/**
 * Reads Action/NotAction. `s3:*` and `*` are wildcards, as is any name made of wildcards alone
 * (`s3:?*`); `s3:Get*` is a family, not a wildcard.
 */
export function actionBreadth(actions: ParsedList): ActionBreadth {
  const text = `${actions.negated ? 'NotAction' : 'Action'} ${JSON.stringify(actions.values.length === 1 ? actions.values[0] : actions.values)}`;
  const shortText = text.length > 100 ? `${text.slice(0, 97)}...` : text;
  if (actions.negated) {
    return { anyAction: true, wildcards: ['NotAction'], text: shortText };
  }
  const wildcards = actions.values.filter((action) => {
    const [service = '', name] = action.split(':');
    return (
      MATCHES_EVERYTHING.test(action) ||
      WILDCARD.test(service) ||
      (name !== undefined && MATCHES_EVERYTHING.test(name))
    );
  });
  return {
    anyAction: actions.values.some((action) => {
      const [service = '', name = '*'] = action.split(':');
      return MATCHES_EVERYTHING.test(service) && MATCHES_EVERYTHING.test(name);
    }),
    wildcards,
    text: shortText,
  };
}
