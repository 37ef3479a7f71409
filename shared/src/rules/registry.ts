import { endpointMisconfigured } from './endpoint-misconfigured';
import { endpointMissing } from './endpoint-missing';
import { endpointPolicyTooBroad } from './endpoint-policy-too-broad';
import { exemptionExpired } from './exemption-expired';
import { internetRouteForbidden } from './internet-route-forbidden';
import { natGatewayForbidden } from './nat-gateway-forbidden';
import type { Rule, RuleId } from './types';

/** Every rule, in report order. */
export const RULES: readonly Rule[] = [
  natGatewayForbidden,
  internetRouteForbidden,
  endpointMissing,
  endpointMisconfigured,
  endpointPolicyTooBroad,
  exemptionExpired,
];

/** The rule with this id. */
export function ruleById(id: RuleId): Rule {
  const rule = RULES.find((candidate) => candidate.id === id);
  if (!rule) throw new Error(`no rule "${id}"`);
  return rule;
}
