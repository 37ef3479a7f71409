import { CONFIG_RESOURCE_TYPES, EC2_API_CALL_EVENT_NAMES } from '@vpc-guard/shared';
import type { EventPattern } from 'aws-cdk-lib/aws-events';

/**
 * What triggers vpc-guard: the EC2 API calls it reacts to, AWS Config's compliance changes, and the
 * resource types its Config rule watches. The standalone stack, the hub and the member template all
 * use these, so the patterns cannot drift apart.
 */

export { EC2_API_CALL_EVENT_NAMES };

/**
 * Successful EC2 calls, as CloudTrail delivers them to EventBridge (an active trail is required;
 * delivery is best effort, the periodic Config rule and the sweep are the safety net).
 */
export const EC2_API_CALL_EVENT_PATTERN: EventPattern = {
  source: ['aws.ec2'],
  detailType: ['AWS API Call via CloudTrail'],
  detail: {
    eventSource: ['ec2.amazonaws.com'],
    eventName: [...EC2_API_CALL_EVENT_NAMES],
    errorCode: [{ exists: false }],
  },
};

/** AWS Config's compliance changes of one rule. */
export function configComplianceChangePattern(configRuleName: string): EventPattern {
  return {
    source: ['aws.config'],
    detailType: ['Config Rules Compliance Change'],
    detail: {
      messageType: ['ComplianceChangeNotification'],
      configRuleName: [configRuleName],
    },
  };
}

/**
 * The name prefix of the rules an organization Config rule named `organizationRuleName` creates in
 * member accounts: Config names them `OrgConfigRule-<name>-<suffix>` (the service-linked rule name
 * AWS's Config API reference gives, e.g. `OrgConfigRule-s3-bucket-versioning-enabled-dbgzf8ba`).
 */
export function organizationMemberRulePrefix(organizationRuleName: string): string {
  return `OrgConfigRule-${organizationRuleName}-`;
}

/**
 * AWS Config's compliance changes of the rules the organization rule `organizationRuleName` put in
 * a member account, matched by the name Config gives them there (a prefix: the suffix is Config's).
 */
export function organizationComplianceChangePattern(organizationRuleName: string): EventPattern {
  return {
    source: ['aws.config'],
    detailType: ['Config Rules Compliance Change'],
    detail: {
      messageType: ['ComplianceChangeNotification'],
      configRuleName: [{ prefix: organizationMemberRulePrefix(organizationRuleName) }],
    },
  };
}

/** The resource types whose configuration changes trigger the Config rule. */
export const CONFIG_RULE_RESOURCE_TYPES = CONFIG_RESOURCE_TYPES;

/** The name of the Config rule (standalone) and of the organization rule (hub). */
export const CONFIG_RULE_NAME = 'vpc-guard';

/** What the rule's description says in the Config console. */
export const CONFIG_RULE_DESCRIPTION =
  'vpc-guard: VPCs comply with the network policy (NAT and internet routes, required VPC endpoints, ' +
  'endpoint policy breadth). One evaluation per VPC.';
