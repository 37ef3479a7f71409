import type { Rule, RuleFinding, RuleResult } from './types';

/** The one finding of a VPC whose exemption tag does not exempt it. */
function exemptionFinding(
  vpcId: string,
  message: string,
  evidence: RuleFinding['evidence'],
): RuleResult {
  return {
    compliance: 'NON_COMPLIANT',
    findings: [
      {
        severity: 'medium',
        resourceId: vpcId,
        subject: 'exemption',
        message,
        evidence,
        fix: null,
        cost: null,
      },
    ],
  };
}

/**
 * `exemption-expired`: the VPC carries an exemption tag that has expired or cannot be read. Either
 * way the VPC is evaluated in full: an exemption must be deliberate, dated and current.
 */
export const exemptionExpired: Rule = {
  id: 'exemption-expired',
  title: 'Expired or malformed exemption',
  description:
    'Flags VPCs whose exemption tag has expired or is malformed (expected "until=YYYY-MM-DD; reason=..."); such a VPC is not exempt.',
  evaluate(context) {
    const { exemption, exemptionTag, vpc } = context;
    switch (exemption.state) {
      case 'none':
        return { compliance: 'NOT_APPLICABLE', findings: [], reason: `no ${exemptionTag} tag` };
      case 'valid':
        return { compliance: 'COMPLIANT', findings: [] };
      case 'expired':
        return exemptionFinding(
          vpc.vpcId,
          `Exemption expired on ${exemption.until} (reason: ${exemption.reason}); the VPC is no longer exempt`,
          {
            tag: exemptionTag,
            value: exemption.tagValue,
            until: exemption.until,
            reason: exemption.reason,
          },
        );
      case 'malformed':
        return exemptionFinding(
          vpc.vpcId,
          `Exemption tag ${exemptionTag} is malformed (${exemption.problem}); the VPC is not exempt`,
          { tag: exemptionTag, value: exemption.tagValue, problem: exemption.problem },
        );
    }
  },
};
