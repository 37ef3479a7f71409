import { describe, expect, it } from 'vitest';
import { natGatewayForbidden } from '../../../shared/src/rules/nat-gateway-forbidden';
import { IDS, VPC_ID, contextOf, snapshotWith, testPolicy } from '../../fixtures/network';

const NAT_ID = 'nat-0123456789abcdef0';

function withNat(
  state: 'pending' | 'available' | 'deleting' | 'deleted' | 'failed',
  connectivityType = 'public',
) {
  return snapshotWith((s) => {
    s.natGateways = [
      {
        natGatewayId: NAT_ID,
        vpcId: VPC_ID,
        subnetId: IDS.SUBNET_B,
        state,
        connectivityType: connectivityType as 'public' | 'private',
        allocationIds: ['eipalloc-0123456789abcdef0'],
        publicIps: connectivityType === 'public' ? ['52.1.2.3'] : [],
        privateIps: ['10.0.2.10'],
      },
    ];
    s.routeTables![1]!.routes!.push({
      destination: '0.0.0.0/0',
      target: { type: 'nat', id: NAT_ID },
    });
  });
}

describe('nat-gateway-forbidden', () => {
  it.each([
    ['available', 'NON_COMPLIANT', 1],
    ['pending', 'NON_COMPLIANT', 1],
    ['deleting', 'COMPLIANT', 0],
    ['deleted', 'COMPLIANT', 0],
    ['failed', 'COMPLIANT', 0],
  ] as const)('judges a %s NAT gateway in a regulated VPC as %s', (state, compliance, count) => {
    // Prepare
    const context = contextOf(withNat(state));
    // Act
    const result = natGatewayForbidden.evaluate(context);
    // Assess
    expect(result.compliance).toBe(compliance);
    expect(result.findings).toHaveLength(count);
  });

  it('flags a NAT gateway with its subnet, addresses and the routes that point at it', () => {
    // Prepare
    const context = contextOf(withNat('available'));
    // Act
    const [finding] = natGatewayForbidden.evaluate(context).findings;
    // Assess
    expect(finding).toMatchObject({
      severity: 'high',
      resourceId: NAT_ID,
      subject: NAT_ID,
      fix: { action: 'remove-nat' },
      evidence: {
        subnetId: IDS.SUBNET_B,
        availabilityZone: 'us-east-1b',
        allocationIds: ['eipalloc-0123456789abcdef0'],
        publicIps: ['52.1.2.3'],
        routes: [{ routeTableId: IDS.RTB_PRIVATE, destination: '0.0.0.0/0', state: 'active' }],
      },
    });
    expect(finding!.message).toContain('forbidden by profile "regulated"');
    expect(finding!.message.length).toBeLessThanOrEqual(256);
  });

  it('prices a forbidden NAT by the hour and says data processing is excluded', () => {
    // Prepare
    const context = contextOf(withNat('available'));
    // Act
    const [finding] = natGatewayForbidden.evaluate(context).findings;
    // Assess: 730 h x $0.045 + 1 IPv4 x 730 h x $0.005
    expect(finding!.cost).toMatchObject({
      kind: 'current',
      monthlyUsd: 36.5,
      pricingRegion: 'us-east-1',
    });
    expect(finding!.cost!.excludes.join(' ')).toContain('data processing');
  });

  it('rates a private NAT gateway lower than a public one', () => {
    // Prepare
    const context = contextOf(withNat('available', 'private'));
    // Act
    const [finding] = natGatewayForbidden.evaluate(context).findings;
    // Assess
    expect(finding!.severity).toBe('medium');
  });

  it('does not apply where the profile allows NAT gateways', () => {
    // Prepare
    const snapshot = withNat('available');
    snapshot.vpcs[0]!.tags['vpc-guard:profile'] = 'sandbox';
    const context = contextOf(snapshot, testPolicy());
    // Act
    const result = natGatewayForbidden.evaluate(context);
    // Assess
    expect(result).toMatchObject({ compliance: 'NOT_APPLICABLE', findings: [] });
    expect(result.reason).toContain('sandbox');
  });
});
