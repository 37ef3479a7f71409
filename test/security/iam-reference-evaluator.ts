/**
 * A small, deliberately conservative IAM evaluator for endpoint policies, written apart from the
 * analysis it checks. It evaluates concrete requests (who, what, on which resource) against a
 * policy in three-valued logic: a condition it cannot decide from the request context, or a form
 * IAM does not document (a set operator on a single-valued key, none on a multivalued key), is
 * `unknown`. An Allow admits a request unless something in it is definitely false; a Deny blocks
 * it only when everything in it is definitely true. So "possibly admitted" over-approximates IAM.
 */

/** Three-valued truth. */
type Truth = 'true' | 'false' | 'unknown';

const and = (values: readonly Truth[]): Truth =>
  values.includes('false') ? 'false' : values.includes('unknown') ? 'unknown' : 'true';
const not = (value: Truth): Truth =>
  value === 'true' ? 'false' : value === 'false' ? 'true' : 'unknown';
const or = (values: readonly Truth[]): Truth =>
  values.includes('true') ? 'true' : values.includes('unknown') ? 'unknown' : 'false';

/** Who makes a request, and the context keys it brings. */
export interface ReferencePrincipal {
  readonly name: string;
  /** Inside the organization. */
  readonly trusted: boolean;
  /** The account ids and ARNs a `Principal` element can name it by. */
  readonly ids: readonly string[];
  readonly service?: string;
  /** Lower-cased key to values; keys absent here are absent from the request. */
  readonly keys: ReadonlyMap<string, readonly string[]>;
}

/** What a request is made on. */
export interface ReferenceResource {
  readonly arn: string;
  /** Owned by the organization. */
  readonly inside: boolean;
  /** An AWS-owned resource of the endpoint's region, which the perimeter lets anyone read. */
  readonly awsOwnedHere: boolean;
  readonly keys: ReadonlyMap<string, readonly string[]>;
}

/** Keys whose request values are a set (IAM "multivalued" keys). */
const MULTIVALUED = new Set([
  'aws:principalorgpaths',
  'aws:resourceorgpaths',
  'aws:tagkeys',
  'aws:calledvia',
  'aws:principalservicenameslist',
]);

/** Keys the reference knows the value (or absence) of; any other key is `unknown`. */
const MODELLED = new Set([
  'aws:principalorgid',
  'aws:principalorgpaths',
  'aws:principalaccount',
  'aws:principalarn',
  'aws:principalisawsservice',
  'aws:resourceorgid',
  'aws:resourceorgpaths',
  'aws:resourceaccount',
  'aws:principaltag/dest',
]);

/** Reads an AWS-owned S3 object may take without a perimeter (the data-perimeter samples). */
export const AWS_OWNED_READS = new Set(['s3:getobject', 's3:getobjectversion', 's3:listbucket']);

function globToRegExp(pattern: string, ignoreCase: boolean): RegExp {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
}

type Request = {
  readonly principal: ReferencePrincipal;
  readonly action: string;
  readonly resource: ReferenceResource;
  /** Values chosen for policy variables the request context does not resolve. */
  readonly variables?: ReadonlyMap<string, string>;
};

function contextValues(request: Request, key: string): readonly string[] | undefined | 'unknown' {
  if (!MODELLED.has(key)) return 'unknown';
  return request.principal.keys.get(key) ?? request.resource.keys.get(key);
}

/**
 * Substitutes `${key}` policy variables from the request. A key the reference cannot resolve stands
 * for any text (`*`), and the result is then only a possible match (`exact` false).
 */
function substitute(text: string, request: Request): { text: string; exact: boolean } {
  let exact = true;
  const result = text.replace(/\$\{([^}]*)\}/g, (_match, name: string) => {
    const chosen = request.variables?.get(name.toLowerCase());
    if (chosen !== undefined) return chosen;
    const values = contextValues(request, name.toLowerCase());
    if (values === 'unknown' || values === undefined || values.length !== 1) {
      exact = false;
      return '*';
    }
    return (values[0] ?? '').replace(/[*?]/g, '');
  });
  return { text: result, exact };
}

/** A glob match of a possibly inexact pattern: a match of an inexact one is only possible. */
function globTruth(
  pattern: { text: string; exact: boolean },
  value: string,
  ignoreCase: boolean,
): Truth {
  if (!globToRegExp(pattern.text, ignoreCase).test(value)) return 'false';
  return pattern.exact ? 'true' : 'unknown';
}

function matchOne(base: string, actual: string, expected: { text: string; exact: boolean }): Truth {
  if (!expected.exact) {
    // An unresolved variable: only a wildcard match can tell a definite "no".
    return globTruth(expected, actual, base.includes('ignorecase') || base === 'bool');
  }
  const truth = (value: boolean): Truth => (value ? 'true' : 'false');
  switch (base) {
    case 'stringequals':
    case 'stringnotequals':
    case 'arnequals':
    case 'arnnotequals':
      return truth(actual === expected.text);
    case 'stringequalsignorecase':
    case 'stringnotequalsignorecase':
      return truth(actual.toLowerCase() === expected.text.toLowerCase());
    case 'stringlike':
    case 'stringnotlike':
    case 'arnlike':
    case 'arnnotlike':
      return globTruth(expected, actual, false);
    case 'bool':
      return truth(actual.toLowerCase() === expected.text.toLowerCase());
    default:
      throw new Error(`the reference does not know the operator ${base}`);
  }
}

const NEGATED = new Set([
  'stringnotequals',
  'stringnotequalsignorecase',
  'stringnotlike',
  'arnnotequals',
  'arnnotlike',
]);

function evaluateCondition(
  operator: string,
  key: string,
  policyValues: readonly string[],
  request: Request,
): Truth {
  let rest = operator.toLowerCase();
  let set: 'any' | 'all' | null = null;
  if (rest.startsWith('foranyvalue:')) {
    set = 'any';
    rest = rest.slice('foranyvalue:'.length);
  } else if (rest.startsWith('forallvalues:')) {
    set = 'all';
    rest = rest.slice('forallvalues:'.length);
  }
  const ifExists = rest !== 'null' && rest.endsWith('ifexists');
  const base = ifExists ? rest.slice(0, -'ifexists'.length) : rest;
  const lowerKey = key.toLowerCase();
  const found = contextValues(request, lowerKey);
  if (found === 'unknown') return 'unknown';
  const present = found !== undefined && found.length > 0;
  if (base === 'null') {
    if (set !== null) return 'unknown';
    return or(
      policyValues.map((value): Truth =>
        (value.toLowerCase() === 'true') === !present ? 'true' : 'false',
      ),
    );
  }
  // Forms IAM does not document have no value the reference can vouch for.
  if (MULTIVALUED.has(lowerKey) ? set === null : set !== null) return 'unknown';
  const resolved = policyValues.map((value) => substitute(value, request));
  const negated = NEGATED.has(base);
  // One request value against the policy's values: positive operators match any, negated none.
  const single = (actual: string): Truth => {
    const matches: Truth[] = resolved.map((expected) => matchOne(base, actual, expected));
    return negated ? not(or(matches)) : or(matches);
  };
  if (set === 'any') return present ? or(found.map(single)) : 'false';
  if (set === 'all') return present ? and(found.map(single)) : 'true';
  if (!present) return ifExists || negated ? 'true' : 'false';
  return single(found[0] ?? '');
}

function asList(value: unknown): readonly string[] {
  if (Array.isArray(value)) return value.map(String);
  return [String(value)];
}

function matchesPrincipal(
  statement: Record<string, unknown>,
  principal: ReferencePrincipal,
): Truth {
  const negated = 'NotPrincipal' in statement;
  const element = negated ? statement['NotPrincipal'] : statement['Principal'];
  let named: Truth;
  if (element === '*') {
    named = 'true';
  } else {
    const entries = Object.entries(element as Record<string, unknown>);
    named = or(
      entries.flatMap(([type, values]) =>
        asList(values).map((value): Truth => {
          if (value === '*') return type === 'AWS' || type === 'Service' ? 'true' : 'unknown';
          if (type === 'Service') return principal.service === value ? 'true' : 'false';
          if (type === 'AWS') return principal.ids.includes(value) ? 'true' : 'false';
          return 'unknown';
        }),
      ),
    );
  }
  return negated ? not(named) : named;
}

function matchesList(
  statement: Record<string, unknown>,
  name: 'Action' | 'Resource',
  value: string,
  request: Request,
): Truth {
  const negated = `Not${name}` in statement;
  const patterns = asList(negated ? statement[`Not${name}`] : statement[name]);
  const matched = or(
    patterns.map((pattern): Truth => {
      const resolved =
        name === 'Resource' ? substitute(pattern, request) : { text: pattern, exact: true };
      // Actions are case-insensitive in IAM; resource ARNs are not.
      return globTruth(resolved, value, name === 'Action');
    }),
  );
  return negated ? not(matched) : matched;
}

function statementApplies(statement: Record<string, unknown>, request: Request): Truth {
  const conditions = Object.entries(
    (statement['Condition'] ?? {}) as Record<string, unknown>,
  ).flatMap(([operator, block]) =>
    Object.entries(block as Record<string, unknown>).map(([key, values]) =>
      evaluateCondition(operator, key, asList(values), request),
    ),
  );
  return and([
    matchesPrincipal(statement, request.principal),
    matchesList(statement, 'Action', request.action, request),
    matchesList(statement, 'Resource', request.resource.arn, request),
    ...conditions,
  ]);
}

/** True when the policy may admit the request: some Allow may apply and no Deny surely does. */
export function possiblyAdmits(
  policy: { Statement: readonly object[] },
  request: Request,
): boolean {
  // A variable the context does not resolve still takes one value per request, the same in every
  // statement: try the values that matter (the resource's own name, and one that matches nothing).
  const unresolved = [...JSON.stringify(policy).matchAll(/\$\{([^}]*)\}/g)]
    .map((match) => (match[1] ?? '').toLowerCase())
    .filter((name) => {
      const values = contextValues(request, name);
      return values === 'unknown' || values === undefined || values.length !== 1;
    });
  if (unresolved.length > 0 && request.variables === undefined) {
    const [, , , , , rest = ''] = request.resource.arn.split(':');
    const candidates = [rest.split('/')[0] ?? '', 'matches-nothing'];
    return candidates.some((value) =>
      possiblyAdmits(policy, {
        ...request,
        variables: new Map(unresolved.map((name) => [name, value])),
      }),
    );
  }
  const statements = policy.Statement as readonly Record<string, unknown>[];
  const allowed = statements.some(
    (statement) =>
      statement['Effect'] === 'Allow' && statementApplies(statement, request) !== 'false',
  );
  const denied = statements.some(
    (statement) =>
      statement['Effect'] === 'Deny' && statementApplies(statement, request) === 'true',
  );
  return allowed && !denied;
}

/** What the reference finds open in a policy, with one witness request for each. */
export interface ReferenceFindings {
  /** A principal outside the organization gets in (other than to read AWS-owned objects here). */
  readonly principalOpen: string | null;
  /** A principal of the organization reaches a resource outside it. */
  readonly resourceOpen: string | null;
}

/**
 * Looks for an untrusted principal the policy may admit and for an outside resource the policy may
 * let a trusted principal reach. Reads of the endpoint region's AWS-owned objects are the one
 * exception on both counts.
 */
export function referenceFindings(
  policy: { Statement: readonly object[] },
  principals: readonly ReferencePrincipal[],
  actions: readonly string[],
  resources: readonly ReferenceResource[],
): ReferenceFindings {
  let principalOpen: string | null = null;
  let resourceOpen: string | null = null;
  for (const principal of principals) {
    for (const action of actions) {
      for (const resource of resources) {
        const exempt = resource.awsOwnedHere && AWS_OWNED_READS.has(action.toLowerCase());
        if (exempt) continue;
        const lacking = !principal.trusted ? principalOpen === null : false;
        const outside = principal.trusted && !resource.inside && resourceOpen === null;
        if (!lacking && !outside) continue;
        if (!possiblyAdmits(policy, { principal, action, resource })) continue;
        const witness = `${principal.name} ${action} ${resource.arn}`;
        if (lacking) principalOpen = witness;
        if (outside) resourceOpen = witness;
      }
    }
  }
  return { principalOpen, resourceOpen };
}
