import {
  interfaceEndpointMonthlyCost,
  natGatewayMonthlyCost,
  type Evaluation,
  type Finding,
  type RuleFinding,
  type RuleId,
} from '@vpc-guard/shared';

/** Hand-made evaluations for the renderer tests: one non-compliant, one compliant, one exempt VPC. */

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';

function finding(vpcId: string, ruleId: RuleId, rule: RuleFinding): Finding {
  return {
    ...rule,
    key: `${ACCOUNT}/${REGION}/${vpcId}/${ruleId}/${rule.subject}`,
    ruleId,
    accountId: ACCOUNT,
    region: REGION,
    vpcId,
  };
}

function natFinding(vpcId: string, natId: string): Finding {
  return finding(vpcId, 'nat-gateway-forbidden', {
    severity: 'high',
    resourceId: natId,
    subject: natId,
    message: `Public NAT gateway ${natId} (203.0.113.10) in subnet-0a000000000000b1 is forbidden by profile "regulated"; 1 route points at it`,
    evidence: {
      natGatewayId: natId,
      state: 'available',
      subnetId: 'subnet-0a000000000000b1',
      publicIps: ['203.0.113.10'],
      routes: [{ routeTableId: 'rtb-0a000000000000c1', destination: '0.0.0.0/0', state: 'active' }],
    },
    fix: {
      action: 'remove-nat',
      summary: `Delete the 1 route that target ${natId}, then delete the NAT gateway`,
    },
    cost: natGatewayMonthlyCost(REGION, 1),
  });
}

const PAYMENTS = 'vpc-0a0000000000000a1';
const NAT = 'nat-0a000000000000d1';

/** payments-prod: a forbidden NAT, a missing interface endpoint, a policy message with `|` and `*`. */
export const nonCompliant: Evaluation = {
  accountId: ACCOUNT,
  region: REGION,
  vpcId: PAYMENTS,
  vpcName: 'payments-prod',
  profile: 'regulated',
  profileSource: 'account',
  compliance: 'NON_COMPLIANT',
  annotation: 'Public NAT gateway nat-0a000000000000d1 is forbidden (+2 more)',
  exemption: { state: 'none' },
  rules: [],
  findings: [
    natFinding(PAYMENTS, NAT),
    finding(PAYMENTS, 'endpoint-missing', {
      severity: 'medium',
      resourceId: PAYMENTS,
      subject: 'sts',
      message: 'Required Interface endpoint for sts (com.amazonaws.us-east-1.sts) is missing',
      evidence: {
        service: 'sts',
        requiredType: 'Interface',
        wrongTypeEndpoints: [],
        workloadZones: ['us-east-1a', 'us-east-1b'],
      },
      fix: {
        action: 'create-endpoint',
        summary: 'Create an Interface endpoint for sts in 2 AZs with private DNS',
      },
      cost: interfaceEndpointMonthlyCost(REGION, 2),
    }),
    finding(PAYMENTS, 'endpoint-policy-too-broad', {
      severity: 'medium',
      resourceId: 'vpce-0a000000000000f1',
      subject: 'vpce-0a000000000000f1',
      message:
        'Endpoint policy of vpce-0a000000000000f1 allows Principal "*" | Action "*" without a scope',
      evidence: { statements: [{ sid: 'AllowAll', verdict: 'full-access' }] },
      fix: { action: 'replace-endpoint-policy', summary: 'Replace the policy with data-perimeter' },
      cost: null,
    }),
  ],
  suppressedFindings: [],
  monthlyCost: { currentUsd: 36.5, fixUsd: 14.6 },
  collectedAt: '2026-11-20T09:00:00Z',
};

/** batch-isolated: nothing to report. */
export const compliant: Evaluation = {
  accountId: ACCOUNT,
  region: REGION,
  vpcId: 'vpc-0a0000000000000a2',
  vpcName: 'batch-isolated',
  profile: 'isolated',
  profileSource: 'tag',
  compliance: 'COMPLIANT',
  annotation: 'All vpc-guard rules pass.',
  exemption: { state: 'none' },
  rules: [],
  findings: [],
  suppressedFindings: [],
  monthlyCost: { currentUsd: 0, fixUsd: 0 },
  collectedAt: '2026-11-20T09:00:00Z',
};

const LEGACY = 'vpc-0a0000000000000a3';

/** legacy-migration: exempt, with a NAT finding suppressed. */
export const exempt: Evaluation = {
  accountId: ACCOUNT,
  region: REGION,
  vpcId: LEGACY,
  vpcName: null,
  profile: 'regulated',
  profileSource: 'default',
  compliance: 'NOT_APPLICABLE',
  annotation: 'Exempt until 2027-01-31: moving to the shared egress VPC (1 finding suppressed)',
  exemption: {
    state: 'valid',
    until: '2027-01-31',
    reason: 'moving to the shared egress VPC',
    tagValue: 'until=2027-01-31; reason=moving to the shared egress VPC',
  },
  rules: [],
  findings: [],
  suppressedFindings: [natFinding(LEGACY, 'nat-0a000000000000d3')],
  monthlyCost: { currentUsd: 0, fixUsd: 0 },
  collectedAt: '2026-11-20T09:00:00Z',
};

export const allEvaluations: readonly Evaluation[] = [nonCompliant, compliant, exempt];

export const GENERATED_AT = new Date('2026-11-20T10:00:00Z');
