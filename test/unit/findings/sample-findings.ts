import {
  diffFindings,
  findingDigest,
  type Evaluation,
  type Finding,
  type FindingScope,
  type FindingTransitions,
  type StoredFinding,
} from '@vpc-guard/shared';
import { allEvaluations, compliant, exempt, nonCompliant } from '../report/sample-evaluations';

/** Stored findings and transitions built on the report samples (payments-prod, batch-isolated, legacy). */

export { allEvaluations, compliant, exempt, nonCompliant };

export const ACCOUNT = '111111111111';
export const REGION = 'us-east-1';
export const EARLIER = '2026-11-19T08:00:00.000Z';
export const NOW = new Date('2026-11-20T10:00:00.000Z');
export const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
export const REGION_SCOPE: FindingScope = { kind: 'region', accountId: ACCOUNT, region: REGION };

/** The stored, open entry of a finding as an earlier run wrote it. */
export function storedOpen(
  finding: Finding,
  evaluation: Evaluation,
  overrides: Partial<StoredFinding> = {},
): StoredFinding {
  return {
    key: finding.key,
    accountId: finding.accountId,
    region: finding.region,
    vpcId: finding.vpcId,
    ruleId: finding.ruleId,
    subject: finding.subject,
    resourceId: finding.resourceId,
    severity: finding.severity,
    digest: findingDigest(finding),
    message: finding.message,
    profile: evaluation.profile,
    vpcName: evaluation.vpcName,
    firstSeen: EARLIER,
    lastSeen: EARLIER,
    state: 'open',
    ...overrides,
  };
}

/** An evaluation of payments-prod without some of its findings (they were fixed). */
export function withoutFindings(evaluation: Evaluation, ruleIds: readonly string[]): Evaluation {
  const findings = evaluation.findings.filter((f) => !ruleIds.includes(f.ruleId));
  return {
    ...evaluation,
    findings,
    compliance: findings.length > 0 ? 'NON_COMPLIANT' : 'COMPLIANT',
  };
}

/** A mix of every alerting transition on the samples: 1 opened, 1 changed, 1 unchanged, 2 resolved. */
export function mixedTransitions(): FindingTransitions {
  const [nat, sts, policy] = nonCompliant.findings as [Finding, Finding, Finding];
  const legacyNat = exempt.suppressedFindings[0]!;
  const previous: StoredFinding[] = [
    storedOpen(sts, nonCompliant, {
      severity: 'low',
      digest: findingDigest({ ...sts, severity: 'low' }),
    }),
    storedOpen(policy, nonCompliant),
    storedOpen(legacyNat, exempt),
    {
      ...storedOpen(nat, nonCompliant),
      key: `${ACCOUNT}/${REGION}/${compliant.vpcId}/internet-route-forbidden/rtb-0a000000000000c9/0.0.0.0/0`,
      vpcId: compliant.vpcId,
      ruleId: 'internet-route-forbidden',
      subject: 'rtb-0a000000000000c9/0.0.0.0/0',
      resourceId: 'rtb-0a000000000000c9',
      message:
        'Route table rtb-0a000000000000c9 sends 0.0.0.0/0 to igw-0a1 although egress is forbidden',
      vpcName: compliant.vpcName,
      profile: compliant.profile,
    },
  ];
  return diffFindings(previous, allEvaluations, REGION_SCOPE, NOW);
}
