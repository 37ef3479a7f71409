import { describe, expect, it } from 'vitest';
import type { NetworkSnapshotInput, VpcContext } from '@vpc-guard/shared';
import type { EndpointPolicySettings } from '../../../shared/src/policy/schema';
import { endpointPolicyTooBroad } from '../../../shared/src/rules/endpoint-policy-too-broad';
import { DEFAULT_POLICY, ORG_ID, contextOf, snapshotWith } from '../../fixtures/network';

const S3 = 'vpce-00000000000000001';
const STS = 'vpce-00000000000000002';
const LOGS = 'vpce-00000000000000003';

type Endpoint = NonNullable<NetworkSnapshotInput['vpcEndpoints']>[number];
const endpoint = (s: NetworkSnapshotInput, id: string): Endpoint =>
  s.vpcEndpoints!.find((e) => e.vpcEndpointId === id)!;
const policy = (...statements: object[]) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements });

const ORG_ONLY_STATEMENT = {
  Sid: 'OrgOnly',
  Effect: 'Allow',
  Principal: '*',
  Action: '*',
  Resource: '*',
  Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } },
};
const ORG_ONLY = policy(ORG_ONLY_STATEMENT);
const LOGS_ANYONE = policy({ Effect: 'Allow', Principal: '*', Action: 'logs:*', Resource: '*' });
const EDGE_WILDCARD = policy({
  Sid: 'EksImages',
  Effect: 'Allow',
  Principal: '*',
  Action: 'ecr:*',
  Resource: 'arn:aws:ecr:us-east-1:602401143452:repository/*',
  Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } },
});

function withPolicy(id: string, document: string | undefined): VpcContext {
  return contextOf(
    snapshotWith((s) => {
      if (document === undefined) delete endpoint(s, id).policyDocument;
      else endpoint(s, id).policyDocument = document;
    }),
  );
}

function withSettings(context: VpcContext, settings: Partial<EndpointPolicySettings>): VpcContext {
  return {
    ...context,
    profile: {
      ...context.profile,
      endpointPolicy: { ...context.profile.endpointPolicy, ...settings },
    },
  };
}

describe('endpoint-policy-too-broad', () => {
  it('passes a VPC whose endpoints all carry the org data perimeter', () => {
    // Prepare
    const context = contextOf(snapshotWith(() => undefined));
    // Act
    const result = endpointPolicyTooBroad.evaluate(context);
    // Assess
    expect(result).toEqual({ compliance: 'COMPLIANT', findings: [] });
  });

  it.each([
    ['the default policy', S3, DEFAULT_POLICY, 'full-access', 'high'],
    ['an org-only principal scope', STS, ORG_ONLY, 'unscoped-resource', 'medium'],
    ['"logs:*" from any principal', LOGS, LOGS_ANYONE, 'unscoped-principal', 'high'],
    ['a policy that is not JSON', STS, '{"Statement": [', 'unparseable', 'medium'],
  ])('flags %s', (_name, id, document, verdict, severity) => {
    // Prepare
    const context = withPolicy(id, document);
    // Act
    const result = endpointPolicyTooBroad.evaluate(context);
    // Assess
    expect(result.compliance).toBe('NON_COMPLIANT');
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({
      severity,
      resourceId: id,
      subject: id,
      evidence: { endpointId: id, verdict },
      fix: {
        action: 'replace-endpoint-policy',
        summary: `Replace with the data-perimeter template for ${ORG_ID}`,
      },
      cost: null,
    });
    expect(result.findings[0]!.message.length).toBeLessThanOrEqual(256);
  });

  it('names the endpoint, service, verdict and statement in the message', () => {
    // Prepare
    const context = withPolicy(S3, DEFAULT_POLICY);
    // Act
    const [finding] = endpointPolicyTooBroad.evaluate(context).findings;
    // Assess
    expect(finding?.message).toBe(
      `${S3} (s3): full-access policy — statement #0 allows any principal any action on any resource`,
    );
  });

  it('carries every statement with its verdicts and reasons as evidence', () => {
    // Prepare
    const context = withPolicy(STS, ORG_ONLY);
    // Act
    const [finding] = endpointPolicyTooBroad.evaluate(context).findings;
    // Assess
    expect(finding?.evidence).toEqual({
      endpointId: STS,
      service: 'sts',
      serviceName: 'com.amazonaws.us-east-1.sts',
      verdict: 'unscoped-resource',
      statements: [
        {
          id: 'OrgOnly',
          effect: 'Allow',
          verdicts: ['unscoped-resource', 'wildcard-action'],
          reasons: [
            'Resource "*" with no aws:ResourceOrgID, aws:ResourceOrgPaths or aws:ResourceAccount condition',
            'Action "*" allows every action',
            `Principals scoped by aws:PrincipalOrgID = ${ORG_ID}`,
          ],
        },
      ],
    });
    expect(finding?.message).toBe(
      `${STS} (sts): unscoped-resource policy — statement OrgOnly: Resource "*" with no aws:ResourceOrgID, aws:ResourceOrgPaths or aws:ResourceAccount condition`,
    );
  });

  it('counts the other violating statements in the message', () => {
    // Prepare
    const context = withPolicy(
      STS,
      policy(ORG_ONLY_STATEMENT, { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }),
    );
    // Act
    const [finding] = endpointPolicyTooBroad.evaluate(context).findings;
    // Assess
    expect(finding?.message).toMatch(
      /full-access policy — statement #1 allows .* \(\+1 more statement\)$/,
    );
  });

  it.each([
    [{}, 'COMPLIANT', []],
    [{ forbidWildcardActions: true }, 'NON_COMPLIANT', ['low']],
  ] as const)(
    'flags a wildcard action at the edge of the perimeter only where the profile forbids it (%j)',
    (settings, compliance, severities) => {
      // Prepare
      const context = withSettings(withPolicy(STS, EDGE_WILDCARD), settings);
      // Act
      const result = endpointPolicyTooBroad.evaluate(context);
      // Assess
      expect(result.compliance).toBe(compliance);
      expect(result.findings.map((finding) => finding.severity)).toEqual(severities);
    },
  );

  it('accepts the default policy where the profile asks for no scope at all', () => {
    // Prepare
    const context = withSettings(withPolicy(S3, DEFAULT_POLICY), {
      allowFullAccess: true,
      requirePrincipalScope: false,
      requireResourceScope: false,
    });
    // Act
    const result = endpointPolicyTooBroad.evaluate(context);
    // Assess
    expect(result).toEqual({ compliance: 'COMPLIANT', findings: [] });
  });

  it("names the profile's template in the fix", () => {
    // Prepare
    const context = withSettings(withPolicy(S3, DEFAULT_POLICY), {
      template: 'principal-org-only',
    });
    // Act
    const [finding] = endpointPolicyTooBroad.evaluate(context).findings;
    // Assess
    expect(finding?.fix?.summary).toBe(
      `Replace with the principal-org-only template for ${ORG_ID}`,
    );
  });

  it.each(['deleted', 'failed', 'rejected', 'deleting'] as const)(
    'ignores a %s endpoint',
    (state) => {
      // Prepare
      const context = contextOf(
        snapshotWith((s) => {
          endpoint(s, S3).policyDocument = DEFAULT_POLICY;
          endpoint(s, S3).state = state;
        }),
      );
      // Act
      const result = endpointPolicyTooBroad.evaluate(context);
      // Assess
      expect(result).toEqual({ compliance: 'COMPLIANT', findings: [] });
    },
  );

  it('is not applicable to a VPC without endpoint policies', () => {
    // Prepare
    const context = contextOf(
      snapshotWith((s) => {
        for (const e of s.vpcEndpoints!) delete e.policyDocument;
      }),
    );
    // Act
    const result = endpointPolicyTooBroad.evaluate(context);
    // Assess
    expect(result).toEqual({
      compliance: 'NOT_APPLICABLE',
      findings: [],
      reason: 'no live VPC endpoint with a policy document',
    });
  });

  it('keeps the message within 256 characters for a long Sid', () => {
    // Prepare
    const context = withPolicy(
      S3,
      policy({
        Sid: 'A'.repeat(300),
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:*',
        Resource: '*',
      }),
    );
    // Act
    const [finding] = endpointPolicyTooBroad.evaluate(context).findings;
    // Assess
    expect(finding?.message.length).toBe(256);
  });
});
