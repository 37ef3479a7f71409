/**
 * From breadth to violations: which verdicts a profile counts against a policy. Each setting gates
 * its own verdict, and a statement carries every verdict that applies to it, so `allowFullAccess:
 * true` waives only the `full-access` label: the same statement is still an `unscoped-principal`
 * violation while `requirePrincipalScope` holds.
 */
import type { EndpointPolicySettings } from '../policy/schema';
import type {
  EndpointPolicyAnalysis,
  EndpointPolicyViolationVerdict,
  StatementVerdict,
} from './verdicts';

/** The profile settings the judgement reads (the template does not matter to it). */
export type EndpointPolicyJudgeSettings = Pick<
  EndpointPolicySettings,
  'allowFullAccess' | 'requirePrincipalScope' | 'requireResourceScope' | 'forbidWildcardActions'
>;

/** One violation: the worst violating verdict of one statement, or the policy's parse error. */
export interface EndpointPolicyViolation {
  readonly verdict: EndpointPolicyViolationVerdict;
  /** The statement (`Sid` or `#<index>`); null for `unparseable`. */
  readonly statementId: string | null;
  readonly reason: string;
}

/** What a profile makes of an analysis. */
export interface EndpointPolicyJudgement {
  /** In statement order, at most one per statement. */
  readonly violations: readonly EndpointPolicyViolation[];
  /** The worst violating verdict, or null when the policy passes. */
  readonly worst: EndpointPolicyViolationVerdict | null;
}

const VIOLATION_RANK: Readonly<Record<EndpointPolicyViolationVerdict, number>> = {
  unparseable: 0,
  'full-access': 1,
  'unscoped-principal': 2,
  'unscoped-resource': 3,
  'wildcard-action': 4,
};

/** True when the profile counts `verdict` as a violation. `unparseable` always is. */
export function isEndpointPolicyViolation(
  verdict: StatementVerdict | 'unparseable' | 'not-applicable',
  settings: EndpointPolicyJudgeSettings,
): verdict is EndpointPolicyViolationVerdict {
  switch (verdict) {
    case 'unparseable':
      return true;
    case 'full-access':
      return !settings.allowFullAccess;
    case 'unscoped-principal':
      return settings.requirePrincipalScope;
    case 'unscoped-resource':
      return settings.requireResourceScope;
    case 'wildcard-action':
      return settings.forbidWildcardActions;
    case 'scoped':
    case 'not-applicable':
      return false;
  }
}

/**
 * Judges an analysis against a profile's `endpointPolicy` settings: per statement, the worst verdict
 * the profile forbids, with its reason. An unparseable policy is always a violation (vpc-guard cannot
 * vouch for what it cannot read); an absent one never is.
 */
export function judgeEndpointPolicy(
  analysis: EndpointPolicyAnalysis,
  settings: EndpointPolicyJudgeSettings,
): EndpointPolicyJudgement {
  if (analysis.verdict === 'unparseable') {
    return {
      violations: [
        {
          verdict: 'unparseable',
          statementId: null,
          reason: analysis.parseError ?? 'the policy could not be read',
        },
      ],
      worst: 'unparseable',
    };
  }
  const violations: EndpointPolicyViolation[] = [];
  let worst: EndpointPolicyViolationVerdict | null = null;
  for (const statement of analysis.statements) {
    // Issues are ordered worst first, so the first one the profile forbids is the statement's worst.
    const issue = statement.issues.find((candidate) =>
      isEndpointPolicyViolation(candidate.verdict, settings),
    );
    if (issue === undefined) continue;
    violations.push({ verdict: issue.verdict, statementId: statement.id, reason: issue.reason });
    if (worst === null || VIOLATION_RANK[issue.verdict] < VIOLATION_RANK[worst]) {
      worst = issue.verdict;
    }
  }
  return { violations, worst };
}
