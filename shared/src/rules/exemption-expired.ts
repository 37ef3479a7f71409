import type { Rule } from './types';

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
        return {
          compliance: 'NON_COMPLIANT',
          findings: [
            {
              severity: 'medium',
              resourceId: vpc.vpcId,
              subject: 'exemption',
              message: `Exemption expired on ${exemption.until} (reason: ${exemption.reason}); the VPC is no longer exempt`,
              evidence: {
                tag: exemptionTag,
                value: exemption.tagValue,
                until: exemption.until,
                reason: exemption.reason,
              },
              fix: null,
              cost: null,
            },
          ],
        };
      case 'malformed':
        return {
          compliance: 'NON_COMPLIANT',
          findings: [
            {
              severity: 'medium',
              resourceId: vpc.vpcId,
              subject: 'exemption',
              message: `Exemption tag ${exemptionTag} is malformed (${exemption.problem}); the VPC is not exempt`,
              evidence: {
                tag: exemptionTag,
                value: exemption.tagValue,
                problem: exemption.problem,
              },
              fix: null,
              cost: null,
            },
          ],
        };
    }
  },
};
