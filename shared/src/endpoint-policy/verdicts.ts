/**
 * The vocabulary of endpoint-policy breadth: verdicts, their order, and the shape of an analysis.
 * Kept apart from the analysis itself so that reports and rules can name verdicts without pulling in
 * the parser.
 */

/** What one statement can be judged, worst first. Deny statements are always `scoped`. */
export const STATEMENT_VERDICTS = [
  'full-access',
  'unscoped-principal',
  'unscoped-resource',
  'wildcard-action',
  'scoped',
] as const;

/** A statement's verdict: see {@link STATEMENT_VERDICTS}. */
export type StatementVerdict = (typeof STATEMENT_VERDICTS)[number];

/**
 * What a whole endpoint policy can be judged: `unparseable` (IAM would not accept it, or it is not a
 * policy at all), `not-applicable` (no policy document: the service has none), else the worst
 * statement verdict.
 */
export const ENDPOINT_POLICY_VERDICTS = [
  'unparseable',
  'not-applicable',
  ...STATEMENT_VERDICTS,
] as const;

/** A policy's verdict: see {@link ENDPOINT_POLICY_VERDICTS}. */
export type EndpointPolicyVerdict = (typeof ENDPOINT_POLICY_VERDICTS)[number];

/** The verdicts a profile can count as a violation (`scoped` and `not-applicable` never are). */
export type EndpointPolicyViolationVerdict = Exclude<
  EndpointPolicyVerdict,
  'scoped' | 'not-applicable'
>;

const STATEMENT_RANK: Readonly<Record<StatementVerdict, number>> = {
  'full-access': 0,
  'unscoped-principal': 1,
  'unscoped-resource': 2,
  'wildcard-action': 3,
  scoped: 4,
};

/** Orders statement verdicts worst first (for `Array.prototype.sort`). */
export function compareStatementVerdicts(a: StatementVerdict, b: StatementVerdict): number {
  return STATEMENT_RANK[a] - STATEMENT_RANK[b];
}

/** How a dimension (principals or resources) of a statement came to be scoped. */
export type ScopeSource =
  /** A positive condition on a trusted key, e.g. `StringEquals aws:PrincipalOrgID`. */
  | 'condition'
  /** The `Principal` element names accounts or ARNs rather than `*`. */
  | 'principal-element'
  /** The `Resource` element names ARNs rather than `*`. */
  | 'resource-element'
  /** A Deny statement of the same policy denies everything outside the trusted set. */
  | 'deny-perimeter'
  /** Only AWS service principals are admitted (`aws:PrincipalIsAWSService`, `Principal.Service`). */
  | 'aws-service'
  /** Read-only access to AWS-owned resources (Amazon Linux repositories, Amazon AMIs). */
  | 'aws-owned-resource';

/** Which key and values scoped a dimension of a statement: the evidence behind a `scoped` verdict. */
export interface ScopeEvidence {
  readonly by: ScopeSource;
  /** Condition keys (canonical spelling) that scope it; empty when an element or an exception does. */
  readonly keys: readonly string[];
  /** The trusted values: the organization id, org paths, account ids, ARNs. */
  readonly values: readonly string[];
  /**
   * Account ids named explicitly (`aws:PrincipalAccount`, `aws:ResourceAccount`, account-bound ARNs).
   * vpc-guard does not know the organization's accounts, so these are trusted as written: reviewers
   * should check them.
   */
  readonly accounts: readonly string[];
  /** The Deny statement whose perimeter scopes it, when `by` is `deny-perimeter`. */
  readonly statementId?: string;
  /** One phrase, e.g. `aws:PrincipalOrgID = o-a1b2c3d4e5`. */
  readonly description: string;
}

/** One verdict of a statement with the sentence that explains it. */
export interface StatementIssue {
  readonly verdict: Exclude<StatementVerdict, 'scoped'>;
  readonly reason: string;
}

/** The breadth of one statement. */
export interface StatementAnalysis {
  /** The statement's `Sid`, else `#<index>` (0-based). */
  readonly id: string;
  readonly index: number;
  readonly effect: 'Allow' | 'Deny';
  /** Every verdict that applies, worst first; `['scoped']` when none of the others does. */
  readonly verdicts: readonly StatementVerdict[];
  /** Human sentences: why each verdict applies, then how the statement is scoped. */
  readonly reasons: readonly string[];
  /** The verdicts other than `scoped`, each with its reason (what a profile can count as a violation). */
  readonly issues: readonly StatementIssue[];
  /**
   * What limits the principals: for an Allow, what admits only trusted identities; for a Deny, the
   * perimeter it enforces. Null when nothing does.
   */
  readonly principalScope: ScopeEvidence | null;
  /** What limits the resources, as for {@link principalScope}. */
  readonly resourceScope: ScopeEvidence | null;
}

/** The breadth of a whole endpoint policy. */
export interface EndpointPolicyAnalysis {
  /** The worst statement verdict, or `unparseable` / `not-applicable`. */
  readonly verdict: EndpointPolicyVerdict;
  /** Empty when the policy is unparseable or absent. */
  readonly statements: readonly StatementAnalysis[];
  /** Why the policy could not be read, when the verdict is `unparseable`. */
  readonly parseError?: string;
}
