import { describe, expect, it } from 'vitest';
import { evaluate, summarizeEvaluations, type NetworkSnapshot } from '@vpc-guard/shared';
import {
  ACCOUNT_ID,
  IDS,
  NOW,
  REGION,
  VPC_ID,
  snapshotWith,
  testPolicy,
} from '../fixtures/network';

const NAT_ID = 'nat-0123456789abcdef0';

function withNat(tags: Record<string, string> = {}): NetworkSnapshot {
  return snapshotWith((s) => {
    s.vpcs![0]!.tags = { ...s.vpcs![0]!.tags, ...tags };
    s.natGateways = [
      {
        natGatewayId: NAT_ID,
        vpcId: VPC_ID,
        subnetId: IDS.SUBNET_B,
        state: 'available',
        publicIps: ['52.1.2.3'],
      },
    ];
    s.routeTables![1]!.routes!.push({
      destination: '0.0.0.0/0',
      target: { type: 'nat', id: NAT_ID },
    });
    s.vpcEndpoints = s.vpcEndpoints!.filter((e) => e.vpcEndpointId !== 'vpce-00000000000000003');
  });
}

describe('evaluate', () => {
  it('judges a compliant VPC COMPLIANT with every rule listed', () => {
    // Act
    const [evaluation] = evaluate([snapshotWith(() => undefined)], testPolicy(), { now: NOW });
    // Assess
    expect(evaluation).toMatchObject({
      accountId: ACCOUNT_ID,
      region: REGION,
      vpcId: VPC_ID,
      vpcName: 'payments-prod',
      profile: 'regulated',
      profileSource: 'default',
      compliance: 'COMPLIANT',
      findings: [],
      annotation: 'All vpc-guard rules pass.',
    });
    expect(evaluation!.rules.map((r) => r.ruleId)).toEqual([
      'nat-gateway-forbidden',
      'internet-route-forbidden',
      'endpoint-missing',
      'endpoint-misconfigured',
      'endpoint-policy-too-broad',
      'exemption-expired',
    ]);
  });

  it('keys findings accountId/region/vpcId/ruleId/subject and orders them worst first', () => {
    // Act
    const [evaluation] = evaluate([withNat()], testPolicy(), { now: NOW });
    // Assess
    expect(evaluation!.compliance).toBe('NON_COMPLIANT');
    expect(evaluation!.findings.map((f) => f.key)).toEqual([
      `${ACCOUNT_ID}/${REGION}/${VPC_ID}/nat-gateway-forbidden/${NAT_ID}`,
      `${ACCOUNT_ID}/${REGION}/${VPC_ID}/internet-route-forbidden/${IDS.RTB_PRIVATE}/0.0.0.0/0`,
      `${ACCOUNT_ID}/${REGION}/${VPC_ID}/endpoint-missing/logs`,
    ]);
    expect(evaluation!.annotation).toMatch(
      /^Public NAT gateway nat-0123456789abcdef0 .* \(\+2 more\)$/,
    );
    expect(evaluation!.annotation.length).toBeLessThanOrEqual(256);
    expect(evaluation!.monthlyCost).toEqual({ currentUsd: 36.5, fixUsd: 14.6 });
  });

  it('gives the same output for the same input, whatever the input order', () => {
    // Prepare
    const a = withNat();
    const b = snapshotWith((s) => {
      s.region = 'eu-west-1';
      for (const e of s.vpcEndpoints!) e.serviceName = e.serviceName.replace(REGION, 'eu-west-1');
    });
    // Act
    const first = evaluate([a, b], testPolicy(), { now: NOW });
    const second = evaluate([b, a], testPolicy(), { now: NOW });
    // Assess
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(first.map((e) => e.region)).toEqual(['eu-west-1', REGION]);
  });

  it('marks an exempt VPC NOT_APPLICABLE and keeps its would-be findings as suppressed', () => {
    // Prepare
    const snapshot = withNat({
      'vpc-guard:exempt': 'until=2027-01-31; reason=CHG-4211 vendor appliance',
    });
    // Act
    const [evaluation] = evaluate([snapshot], testPolicy(), { now: NOW });
    // Assess
    expect(evaluation!.compliance).toBe('NOT_APPLICABLE');
    expect(evaluation!.findings).toEqual([]);
    expect(evaluation!.suppressedFindings).toHaveLength(3);
    expect(evaluation!.annotation).toBe(
      'Exempt until 2027-01-31: CHG-4211 vendor appliance (3 findings suppressed)',
    );
    expect(evaluation!.monthlyCost).toEqual({ currentUsd: 0, fixUsd: 0 });
  });

  it('evaluates a VPC in full once its exemption has expired', () => {
    // Prepare
    const snapshot = withNat({ 'vpc-guard:exempt': 'until=2026-09-30; reason=old change' });
    // Act
    const [evaluation] = evaluate([snapshot], testPolicy(), { now: NOW });
    // Assess
    expect(evaluation!.compliance).toBe('NON_COMPLIANT');
    expect(evaluation!.findings.map((f) => f.ruleId)).toContain('exemption-expired');
    expect(evaluation!.findings).toHaveLength(4);
  });

  it.each([
    ['the VPC tag', { 'vpc-guard:profile': 'sandbox' }, ACCOUNT_ID, 'sandbox', 'tag'],
    ['the account map', {}, '222222222222', 'sandbox', 'account'],
    ['the default', {}, ACCOUNT_ID, 'regulated', 'default'],
  ])('resolves the profile from %s', (_name, tags, accountId, profile, source) => {
    // Prepare
    const snapshot = withNat(tags);
    snapshot.accountId = accountId;
    // Act
    const [evaluation] = evaluate([snapshot], testPolicy(), { now: NOW });
    // Assess
    expect(evaluation).toMatchObject({ profile, profileSource: source });
  });

  it('evaluates a VPC whose tag names no profile under its account profile and says so', () => {
    // Prepare
    const snapshot = withNat({ 'vpc-guard:profile': 'sandboxx' });
    // Act
    const [evaluation] = evaluate([snapshot], testPolicy(), { now: NOW });
    // Assess
    expect(evaluation).toMatchObject({
      profile: 'regulated',
      profileSource: 'unknown-tag',
      compliance: 'NON_COMPLIANT',
    });
    expect(evaluation!.profileProblem).toContain('"sandboxx" names no profile');
  });

  it('throws when two snapshots hold the same VPC', () => {
    // Act / Assess
    expect(() => evaluate([withNat(), withNat()], testPolicy(), { now: NOW })).toThrow(
      `${VPC_ID} of ${ACCOUNT_ID}/${REGION} appears in more than one snapshot`,
    );
  });
});

describe('summarizeEvaluations', () => {
  it('counts VPCs by compliance, findings by rule and the monthly costs', () => {
    // Prepare
    const exempt = withNat({ 'vpc-guard:exempt': 'until=2027-01-31; reason=x' });
    exempt.vpcs[0]!.vpcId = 'vpc-0a1b2c3d4e5f60002';
    for (const list of [
      exempt.subnets,
      exempt.routeTables,
      exempt.natGateways,
      exempt.vpcEndpoints,
    ]) {
      for (const item of list) item.vpcId = 'vpc-0a1b2c3d4e5f60002';
    }
    const compliant = snapshotWith((s) => (s.accountId = '333333333333'));
    const evaluations = evaluate([withNat(), exempt, compliant], testPolicy(), { now: NOW });
    // Act
    const summary = summarizeEvaluations(evaluations);
    // Assess
    expect(summary).toMatchObject({
      vpcs: 3,
      compliant: 1,
      nonCompliant: 1,
      notApplicable: 1,
      findings: 3,
      findingsByRule: {
        'nat-gateway-forbidden': 1,
        'internet-route-forbidden': 1,
        'endpoint-missing': 1,
        'exemption-expired': 0,
      },
      monthlyCostUsd: { forbidden: 36.5, fixes: 14.6 },
    });
  });
});
