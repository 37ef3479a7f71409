import { describe, expect, it } from 'vitest';
import { endpointMissing } from '../../../shared/src/rules/endpoint-missing';
import { REGION, VPC_ID, contextOf, snapshotWith, testPolicy } from '../../fixtures/network';

describe('endpoint-missing', () => {
  it('passes a VPC that has every required endpoint', () => {
    // Prepare
    const context = contextOf(snapshotWith(() => undefined));
    // Act
    const result = endpointMissing.evaluate(context);
    // Assess
    expect(result).toEqual({ compliance: 'COMPLIANT', findings: [] });
  });

  it.each([
    ['sts', 'Interface', 'vpce-00000000000000002'],
    ['logs', 'Interface', 'vpce-00000000000000003'],
    ['s3', 'Gateway', 'vpce-00000000000000001'],
  ])('flags a missing %s %s endpoint with its fix and cost', (service, type, endpointId) => {
    // Prepare
    const context = contextOf(
      snapshotWith((s) => {
        s.vpcEndpoints = s.vpcEndpoints!.filter((e) => e.vpcEndpointId !== endpointId);
      }),
    );
    // Act
    const result = endpointMissing.evaluate(context);
    // Assess
    expect(result.compliance).toBe('NON_COMPLIANT');
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({
      resourceId: VPC_ID,
      subject: service,
      evidence: { service, serviceName: `com.amazonaws.${REGION}.${service}`, requiredType: type },
      fix: { action: 'create-endpoint' },
      cost: { kind: 'fix', monthlyUsd: type === 'Gateway' ? 0 : 14.6 },
    });
  });

  it('does not take ec2messages for ec2: services match exactly, never by substring', () => {
    // Prepare
    const policy = testPolicy().profiles;
    policy['regulated']!.endpoints.required.push({ service: 'ec2', type: 'Interface' });
    const context = contextOf(
      snapshotWith((s) => {
        s.vpcEndpoints!.push({
          vpcEndpointId: 'vpce-0000000000000ec2a',
          vpcId: VPC_ID,
          serviceName: `com.amazonaws.${REGION}.ec2messages`,
          type: 'Interface',
          state: 'available',
        });
      }),
      { ...testPolicy(), profiles: policy },
    );
    // Act
    const result = endpointMissing.evaluate(context);
    // Assess
    expect(result.findings.map((f) => f.subject)).toEqual(['ec2']);
  });

  it("does not count another region's endpoint for the service", () => {
    // Prepare
    const context = contextOf(
      snapshotWith((s) => {
        const sts = s.vpcEndpoints!.find((e) => e.vpcEndpointId === 'vpce-00000000000000002')!;
        sts.serviceName = 'com.amazonaws.us-west-2.sts';
      }),
    );
    // Act
    const result = endpointMissing.evaluate(context);
    // Assess
    expect(result.findings.map((f) => f.subject)).toEqual(['sts']);
  });

  it('reports an endpoint of the wrong type as missing, naming what it found', () => {
    // Prepare
    const context = contextOf(
      snapshotWith((s) => {
        const s3 = s.vpcEndpoints!.find((e) => e.vpcEndpointId === 'vpce-00000000000000001')!;
        s3.type = 'Interface';
        s3.routeTableIds = [];
      }),
    );
    // Act
    const [finding] = endpointMissing.evaluate(context).findings;
    // Assess
    expect(finding!.subject).toBe('s3');
    expect(finding!.message).toContain('wrong type');
    expect(finding!.evidence).toMatchObject({
      wrongTypeEndpoints: [{ endpointId: 'vpce-00000000000000001', type: 'Interface' }],
    });
  });

  it('leaves endpoints that exist but are failed to endpoint-misconfigured', () => {
    // Prepare
    const context = contextOf(
      snapshotWith((s) => {
        s.vpcEndpoints!.find((e) => e.vpcEndpointId === 'vpce-00000000000000002')!.state = 'failed';
      }),
    );
    // Act
    const result = endpointMissing.evaluate(context);
    // Assess
    expect(result.findings).toEqual([]);
  });

  it('does not apply to a profile that requires no endpoints', () => {
    // Prepare
    const snapshot = snapshotWith((s) => {
      s.vpcs![0]!.tags = { 'vpc-guard:profile': 'sandbox' };
      s.vpcEndpoints = [];
    });
    // Act
    const result = endpointMissing.evaluate(contextOf(snapshot));
    // Assess
    expect(result.compliance).toBe('NOT_APPLICABLE');
  });
});
