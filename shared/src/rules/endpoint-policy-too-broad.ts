import {
  analyzeEndpointPolicy,
  judgeEndpointPolicy,
  type EndpointPolicyAnalysis,
  type EndpointPolicyViolation,
  type EndpointPolicyViolationVerdict,
} from '../endpoint-policy';
import { clampMessage, type Rule, type RuleFinding, type Severity } from './types';
import { LIVE_ENDPOINT_STATES, shortServiceName } from './vpc-topology';

/**
 * Severity by worst violating verdict: an endpoint anyone can use to reach anything is as bad as an
 * open identity perimeter (outside credentials, inside network); an open resource perimeter lets
 * inside identities carry data out; a wildcard action on an exception (named accounts, third-party
 * or AWS-owned resources) widens it, but only within bounds that are already set.
 */
const SEVERITY: Readonly<Record<EndpointPolicyViolationVerdict, Severity>> = {
  'full-access': 'high',
  'unscoped-principal': 'high',
  'unscoped-resource': 'medium',
  'wildcard-action': 'low',
  unparseable: 'medium',
};

/**
 * The per-statement evidence of an analysis, built once per distinct policy: analyses are cached and
 * frozen, so thousands of endpoints with the same policy share one evidence array instead of copies.
 */
const statementEvidence = new WeakMap<EndpointPolicyAnalysis, readonly object[]>();

function evidenceOf(analysis: EndpointPolicyAnalysis): readonly object[] {
  let evidence = statementEvidence.get(analysis);
  if (evidence === undefined) {
    evidence = Object.freeze(
      analysis.statements.map((statement) =>
        Object.freeze({
          id: statement.id,
          effect: statement.effect,
          verdicts: statement.verdicts,
          reasons: statement.reasons,
        }),
      ),
    );
    statementEvidence.set(analysis, evidence);
  }
  return evidence;
}

function statementLabel(violation: EndpointPolicyViolation): string {
  return violation.statementId === null ? 'the policy' : `statement ${violation.statementId}`;
}

function summarise(
  violations: readonly EndpointPolicyViolation[],
  worst: EndpointPolicyViolationVerdict,
): string {
  const first = violations.find((violation) => violation.verdict === worst) ?? violations[0];
  if (first === undefined) return '';
  const more =
    violations.length > 1
      ? ` (+${violations.length - 1} more statement${violations.length === 2 ? '' : 's'})`
      : '';
  if (first.verdict === 'unparseable') return first.reason;
  // "allows any principal ..." reads as a predicate; the other reasons are descriptions.
  const joiner = first.verdict === 'full-access' ? ' ' : ': ';
  return `${statementLabel(first)}${joiner}${first.reason}${more}`;
}

/**
 * `endpoint-policy-too-broad`: an endpoint whose policy admits more than the profile allows, judged
 * as a data perimeter (trusted identities, trusted resources; see `shared/src/endpoint-policy`). One
 * finding per endpoint, at its worst violating verdict, with every statement's verdicts as evidence.
 */
export const endpointPolicyTooBroad: Rule = {
  id: 'endpoint-policy-too-broad',
  title: 'Endpoint policy broader than the data perimeter',
  description:
    'Flags live VPC endpoints whose policy is full access, admits principals or resources outside the organization, uses wildcard actions where the profile forbids them, or cannot be parsed.',
  evaluate(context) {
    const settings = context.profile.endpointPolicy;
    const findings: RuleFinding[] = [];
    let judged = 0;
    for (const endpoint of context.vpcEndpoints) {
      if (!LIVE_ENDPOINT_STATES.has(endpoint.state) || endpoint.policyDocument === undefined)
        continue;
      judged += 1;
      const analysis = analyzeEndpointPolicy(endpoint.policyDocument, {
        organizationId: context.organizationId,
        region: context.region,
      });
      const judgement = judgeEndpointPolicy(analysis, settings);
      if (judgement.worst === null) continue;
      const service =
        shortServiceName(context.region, endpoint.serviceName) ?? endpoint.serviceName;
      const id = endpoint.vpcEndpointId;
      findings.push({
        severity: SEVERITY[judgement.worst],
        resourceId: id,
        subject: id,
        message: clampMessage(
          `${id} (${service}): ${judgement.worst} policy — ${summarise(judgement.violations, judgement.worst)}`,
        ),
        evidence: {
          endpointId: id,
          service,
          serviceName: endpoint.serviceName,
          verdict: judgement.worst,
          statements: evidenceOf(analysis),
          ...(analysis.parseError === undefined ? {} : { parseError: analysis.parseError }),
        },
        fix: {
          action: 'replace-endpoint-policy',
          summary: `Replace with the ${settings.template} template for ${context.organizationId}`,
        },
        cost: null,
      });
    }
    if (findings.length > 0) return { compliance: 'NON_COMPLIANT', findings };
    if (judged > 0) return { compliance: 'COMPLIANT', findings };
    return {
      compliance: 'NOT_APPLICABLE',
      findings,
      reason: 'no live VPC endpoint with a policy document',
    };
  },
};
