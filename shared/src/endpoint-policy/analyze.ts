/**
 * Endpoint-policy breadth, judged the way a data perimeter is: does each Allow admit only trusted
 * identities (principal scope) to only trusted resources (resource scope)? See ARCHITECTURE.md,
 * "Overly broad endpoint policies", and AWS-FACTS.md, "Endpoint policies".
 */
import { parseEndpointPolicy, type ParsedStatement } from './parse';
import { perimeterCovers, readDenyPerimeter, type DenyPerimeter } from './perimeter';
import {
  actionBreadth,
  scopeFromAllowConditions,
  scopeFromPrincipal,
  scopeFromResources,
  type Dimension,
} from './scope';
import {
  compareStatementVerdicts,
  type EndpointPolicyAnalysis,
  type ScopeEvidence,
  type StatementAnalysis,
  type StatementIssue,
  type StatementVerdict,
} from './verdicts';

/** Options of {@link analyzeEndpointPolicy}. */
export interface AnalyzeEndpointPolicyOptions {
  /** The organization whose identities and resources are trusted, e.g. `o-a1b2c3d4e5`. */
  readonly organizationId: string;
  /**
   * The endpoint's region, e.g. `us-east-1`: only AWS-owned resources of this region (the Amazon
   * Linux repositories a workload here reads) are exempt from the resource scope, and only for reads.
   */
  readonly region: string;
}

const NOT_APPLICABLE: EndpointPolicyAnalysis = Object.freeze({
  verdict: 'not-applicable',
  statements: Object.freeze([]),
});

const SERVICE_ONLY_PRINCIPALS: ScopeEvidence = {
  by: 'aws-service',
  keys: ['aws:PrincipalIsAWSService'],
  values: ['true'],
  accounts: [],
  description: 'aws:PrincipalIsAWSService = true',
};

const SERVICE_ONLY_RESOURCES: ScopeEvidence = {
  by: 'aws-service',
  keys: [],
  values: [],
  accounts: [],
  description: 'only AWS service principals are admitted',
};

const AWS_OWNED_READS: ScopeEvidence = {
  by: 'aws-owned-resource',
  keys: [],
  values: [],
  accounts: [],
  description: "reads of the endpoint region's AWS-owned resources",
};

/** Scopes that are not bounds but reasons none is needed. */
const WAIVERS: ReadonlySet<ScopeEvidence> = new Set([SERVICE_ONLY_RESOURCES, AWS_OWNED_READS]);

function withNotes(base: string, notes: readonly string[]): string {
  return notes.length === 0 ? base : `${base}; ${notes.join('; ')}`;
}

function scopeSummary(dimension: Dimension, scope: ScopeEvidence, organizationId: string): string {
  const accounts =
    scope.accounts.length > 0
      ? ` (account ids trusted as written, not checked against ${organizationId}: ${scope.accounts.join(', ')})`
      : '';
  const subject = dimension === 'principal' ? 'Principals' : 'Resources';
  return WAIVERS.has(scope)
    ? `${subject} need no scope: ${scope.description}`
    : `${subject} scoped by ${scope.description}${accounts}`;
}

const ORGANIZATION_KEYS = new Set([
  'aws:PrincipalOrgID',
  'aws:PrincipalOrgPaths',
  'aws:ResourceOrgID',
  'aws:ResourceOrgPaths',
]);

/**
 * True when a scope is the organization itself (or AWS services, or an outright Deny), rather than an
 * exception for named accounts, ARNs or AWS-owned resources.
 */
function isOrganizationWide(scope: ScopeEvidence): boolean {
  switch (scope.by) {
    case 'aws-service':
      return true;
    case 'condition':
      // ANDed conditions: one organization key confines the statement to the organization.
      return scope.keys.some((key) => ORGANIZATION_KEYS.has(key));
    case 'deny-perimeter':
      // Negated keys of one Deny are ORed trusted sets: each must be the organization.
      return scope.keys.every((key) => ORGANIZATION_KEYS.has(key));
    default:
      return false;
  }
}

function analyzeAllow(
  statement: ParsedStatement,
  perimeters: readonly DenyPerimeter[],
  options: AnalyzeEndpointPolicyOptions,
): StatementAnalysis {
  const { organizationId } = options;
  const principal = scopeFromPrincipal(statement.principal);
  const conditions = scopeFromAllowConditions(statement.conditions, organizationId);
  const resources = scopeFromResources(statement.resources, statement.actions, options.region);
  const actions = actionBreadth(statement.actions);
  const notes: Record<Dimension, string[]> = {
    principal: [...conditions.notes.principal],
    resource: [...conditions.notes.resource],
  };
  if (resources.problem !== undefined) notes.resource.unshift(resources.problem);

  const serviceOnly = principal.kind === 'aws-service' || conditions.awsServiceOnly;
  let principalScope: ScopeEvidence | null =
    principal.kind === 'named' || principal.kind === 'aws-service' ? principal.evidence : null;
  if (principalScope === null && conditions.awsServiceOnly) {
    principalScope = SERVICE_ONLY_PRINCIPALS;
  }
  principalScope ??= conditions.principal;
  let resourceScope: ScopeEvidence | null = resources.scoped ? resources.evidence : null;
  resourceScope ??= conditions.resource;
  // A statement that admits only AWS services needs no resource bound: the data-perimeter samples'
  // "AllowRequestsByAWSServicePrincipals" is Resource "*".
  if (serviceOnly) resourceScope ??= SERVICE_ONLY_RESOURCES;
  // yum and the SSM agent read AWS-owned buckets with unsigned requests, so no principal scope can
  // apply; reads of the region's AWS-owned objects cannot carry data out, anything more could.
  if (principalScope === null && resources.awsOwnedOnly) {
    principalScope = AWS_OWNED_READS;
  } else if (principalScope === null && resources.awsOwnedBeyondReads) {
    notes.principal.push('AWS-owned resources waive the principal scope only for reads of them');
  }

  for (const perimeter of perimeters) {
    if (perimeter.confines === null || perimeter.evidence === null) continue;
    const covers = perimeterCovers(perimeter, statement);
    if (perimeter.confines === 'everything') {
      if (covers) {
        principalScope ??= perimeter.evidence;
        resourceScope ??= perimeter.evidence;
      }
      continue;
    }
    const dimension = perimeter.confines;
    if ((dimension === 'principal' ? principalScope : resourceScope) !== null) continue;
    if (!covers) {
      notes[dimension].push(
        `Deny ${perimeter.statementId} bounds ${dimension}s only for ${perimeter.coverage}, not everything this statement allows`,
      );
    } else if (dimension === 'principal') {
      principalScope = perimeter.evidence;
    } else {
      resourceScope = perimeter.evidence;
    }
  }

  const issues: StatementIssue[] = [];
  // Full access is the default policy or its equivalent: no attempt at a scope. A condition on a
  // trusted key that fails (another organization, IfExists) still restricts who gets in, so the
  // statement is reported as unscoped, with the reason, rather than as the default policy.
  const attemptedScope =
    conditions.notes.principal.length > 0 || conditions.notes.resource.length > 0;
  if (
    principalScope === null &&
    resourceScope === null &&
    principal.kind === 'any' &&
    actions.anyAction &&
    !attemptedScope
  ) {
    issues.push({
      verdict: 'full-access',
      reason: 'allows any principal any action on any resource',
    });
  }
  if (principalScope === null) {
    const base =
      principal.problem ??
      `${principal.text} with no aws:PrincipalOrgID, aws:PrincipalAccount or account-bound aws:PrincipalArn condition`;
    issues.push({ verdict: 'unscoped-principal', reason: withNotes(base, notes.principal) });
  }
  if (resourceScope === null) {
    const base = statement.resources.negated
      ? 'NotResource in an Allow admits every resource it does not name'
      : `${resources.text} with no aws:ResourceOrgID, aws:ResourceOrgPaths or aws:ResourceAccount condition`;
    const resourceNotes = notes.resource.filter((note) => note !== base);
    issues.push({ verdict: 'unscoped-resource', reason: withNotes(base, resourceNotes) });
  }
  // Inside the organization's own perimeter identity and resource policies decide the actions, so
  // `Action: "*"` is the recommended shape there (data-perimeter samples); at the edges (named
  // accounts, third-party or AWS-owned resources) actions are what keeps the exception narrow.
  const insidePerimeter =
    principalScope !== null &&
    resourceScope !== null &&
    isOrganizationWide(principalScope) &&
    isOrganizationWide(resourceScope);
  if (actions.wildcards.length > 0 && !insidePerimeter) {
    const services = [
      ...new Set(
        actions.wildcards
          .filter((action) => action !== '*' && action !== 'NotAction')
          .map((action) => action.split(':')[0]),
      ),
    ];
    const what = statement.actions.negated
      ? 'NotAction allows every action it does not name'
      : actions.anyAction
        ? `${actions.text} allows every action`
        : `${actions.text} allows every ${services.join(', ')} action`;
    const where =
      principalScope !== null && resourceScope !== null
        ? ', outside a perimeter the organization bounds on both principals and resources'
        : '';
    issues.push({ verdict: 'wildcard-action', reason: `${what}${where}` });
  }

  const reasons = issues.map((issue) => issue.reason);
  if ((principalScope === null || resourceScope === null) && conditions.otherKeys.length > 0) {
    reasons.push(
      `Its conditions on ${conditions.otherKeys.join(', ')} bound neither principals nor resources`,
    );
  }
  if (insidePerimeter && actions.wildcards.length > 0) {
    reasons.push(`${actions.text} inside the organization's perimeter: the recommended shape`);
  }
  for (const [dimension, scope] of [
    ['principal', principalScope],
    ['resource', resourceScope],
  ] as const) {
    if (scope !== null) reasons.push(scopeSummary(dimension, scope, organizationId));
  }
  const verdicts: StatementVerdict[] =
    issues.length > 0 ? issues.map((issue) => issue.verdict) : ['scoped'];
  return {
    id: statement.id,
    index: statement.index,
    effect: 'Allow',
    verdicts: verdicts.sort(compareStatementVerdicts),
    reasons,
    issues,
    principalScope,
    resourceScope,
  };
}

function analyzeDeny(perimeter: DenyPerimeter, statement: ParsedStatement): StatementAnalysis {
  const confines = perimeter.confines;
  return {
    id: statement.id,
    index: statement.index,
    effect: 'Deny',
    // A Deny only ever narrows what the policy admits.
    verdicts: ['scoped'],
    reasons: [perimeter.reason],
    issues: [],
    principalScope:
      confines === 'principal' || confines === 'everything' ? perimeter.evidence : null,
    resourceScope: confines === 'resource' || confines === 'everything' ? perimeter.evidence : null,
  };
}

function analyzeText(text: string, options: AnalyzeEndpointPolicyOptions): EndpointPolicyAnalysis {
  const { organizationId } = options;
  const parsed = parseEndpointPolicy(text);
  if (!parsed.ok) return unparseable(parsed.error);
  const perimeters = new Map<ParsedStatement, DenyPerimeter>();
  for (const statement of parsed.policy.statements) {
    if (statement.effect === 'Deny') {
      perimeters.set(statement, readDenyPerimeter(statement, organizationId));
    }
  }
  const denies = [...perimeters.values()];
  const statements = parsed.policy.statements.map((statement) => {
    const perimeter = perimeters.get(statement);
    return perimeter === undefined
      ? analyzeAllow(statement, denies, options)
      : analyzeDeny(perimeter, statement);
  });
  let verdict: StatementVerdict = 'scoped';
  for (const statement of statements) {
    const [worst = 'scoped'] = statement.verdicts;
    if (compareStatementVerdicts(worst, verdict) < 0) verdict = worst;
  }
  return { verdict, statements };
}

function freezeScope(scope: ScopeEvidence | null): void {
  if (scope === null || Object.isFrozen(scope)) return;
  Object.freeze(scope.keys);
  Object.freeze(scope.values);
  Object.freeze(scope.accounts);
  Object.freeze(scope);
}

/** Freezes what the cache shares between callers; cheaper than a generic deep freeze. */
function freezeAnalysis(analysis: EndpointPolicyAnalysis): EndpointPolicyAnalysis {
  for (const statement of analysis.statements) {
    Object.freeze(statement.verdicts);
    Object.freeze(statement.reasons);
    for (const issue of statement.issues) Object.freeze(issue);
    Object.freeze(statement.issues);
    freezeScope(statement.principalScope);
    freezeScope(statement.resourceScope);
    Object.freeze(statement);
  }
  Object.freeze(analysis.statements);
  return Object.freeze(analysis);
}

function unparseable(parseError: string): EndpointPolicyAnalysis {
  return freezeAnalysis({ verdict: 'unparseable', statements: [], parseError });
}

/** How many analyses are kept: enough for an organization's distinct policies, bounded for Lambda. */
const CACHE_LIMIT = 50_000;
/** Organization id, region, then document text: no concatenated key to build for every lookup. */
const cache = new Map<string, Map<string, Map<string, EndpointPolicyAnalysis>>>();
let cached = 0;

function remember(
  options: AnalyzeEndpointPolicyOptions,
  text: string,
  analysis: EndpointPolicyAnalysis,
): void {
  // Starting afresh when full is O(1) and costs one re-analysis per policy still in use; evicting the
  // oldest entry one by one makes V8 walk the holes deleted Map entries leave at the front.
  if (cached >= CACHE_LIMIT) {
    cache.clear();
    cached = 0;
  }
  let regions = cache.get(options.organizationId);
  if (regions === undefined) {
    regions = new Map();
    cache.set(options.organizationId, regions);
  }
  let documents = regions.get(options.region);
  if (documents === undefined) {
    documents = new Map();
    regions.set(options.region, documents);
  }
  documents.set(text, analysis);
  cached += 1;
}

/**
 * Judges the breadth of an endpoint policy (a JSON string as EC2 returns it, or an object) against
 * the organization: verdict `full-access` (the default policy or its equivalent), then
 * `unscoped-principal`, `unscoped-resource`, `wildcard-action`, `scoped`; `unparseable` when IAM
 * would not accept the document (the reason is in `parseError`), `not-applicable` when there is no
 * document. Never throws.
 *
 * Results are memoised per (document, organization, region), at most 50,000 of them, and frozen: estates
 * repeat the same few policies across thousands of endpoints.
 */
export function analyzeEndpointPolicy(
  document: string | object | undefined | null,
  options: AnalyzeEndpointPolicyOptions,
): EndpointPolicyAnalysis {
  if (document === undefined || document === null) return NOT_APPLICABLE;
  let text: string;
  if (typeof document === 'string') {
    text = document;
  } else {
    let serialised: string | undefined;
    try {
      serialised = JSON.stringify(document);
    } catch (error) {
      return unparseable(
        `policy could not be serialised: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (serialised === undefined) return unparseable('policy is not a JSON value');
    text = serialised;
  }
  const hit = cache.get(options.organizationId)?.get(options.region)?.get(text);
  if (hit !== undefined) return hit;
  const analysis = freezeAnalysis(analyzeText(text, options));
  remember(options, text, analysis);
  return analysis;
}
