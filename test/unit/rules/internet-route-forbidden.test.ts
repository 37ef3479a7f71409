import { describe, expect, it } from 'vitest';
import { internetRouteForbidden } from '../../../shared/src/rules/internet-route-forbidden';
import type { NetworkSnapshotInput } from '@vpc-guard/shared';
import { IDS, VPC_ID, contextOf, snapshotWith, testPolicy } from '../../fixtures/network';

type RouteInput = NonNullable<
  NonNullable<NetworkSnapshotInput['routeTables']>[number]['routes']
>[number];

function withRoute(route: RouteInput, table: 'main' | 'private' | 'unassociated' = 'private') {
  return snapshotWith((s) => {
    if (table === 'unassociated') {
      s.routeTables!.push({
        routeTableId: 'rtb-0000000000000000c',
        vpcId: VPC_ID,
        routes: [route],
      });
    } else {
      s.routeTables![table === 'main' ? 0 : 1]!.routes!.push(route);
    }
  });
}

describe('internet-route-forbidden', () => {
  it.each<[string, RouteInput, string, number]>([
    [
      'a default route to an internet gateway',
      { destination: '0.0.0.0/0', target: { type: 'igw', id: 'igw-0123456789abcdef0' } },
      'high',
      1,
    ],
    [
      'an IPv6 default route to an egress-only gateway',
      { destination: '::/0', target: { type: 'eigw', id: 'eigw-0123456789abcdef0' } },
      'high',
      1,
    ],
    [
      'a default route to a NAT gateway',
      { destination: '0.0.0.0/0', target: { type: 'nat', id: 'nat-0123456789abcdef0' } },
      'high',
      1,
    ],
    [
      'a split default (0.0.0.0/1) to an internet gateway',
      { destination: '0.0.0.0/1', target: { type: 'igw', id: 'igw-0123456789abcdef0' } },
      'medium',
      1,
    ],
    [
      'a public prefix through a NAT gateway',
      { destination: '52.94.0.0/22', target: { type: 'nat', id: 'nat-0123456789abcdef0' } },
      'medium',
      1,
    ],
    [
      'a blackhole default route left by a deleted NAT',
      {
        destination: '0.0.0.0/0',
        target: { type: 'nat', id: 'nat-0123456789abcdef0' },
        state: 'blackhole',
      },
      'low',
      1,
    ],
  ])('flags %s', (_name, route, severity, count) => {
    // Prepare
    const context = contextOf(withRoute(route));
    // Act
    const result = internetRouteForbidden.evaluate(context);
    // Assess
    expect(result.compliance).toBe('NON_COMPLIANT');
    expect(result.findings).toHaveLength(count);
    expect(result.findings[0]).toMatchObject({
      severity,
      resourceId: IDS.RTB_PRIVATE,
      subject: `${IDS.RTB_PRIVATE}/${route.destination}`,
      evidence: { destination: route.destination, subnets: [{ subnetId: IDS.SUBNET_A }] },
    });
  });

  it.each<[string, RouteInput, 'main' | 'private' | 'unassociated']>([
    [
      'a default route to a transit gateway',
      { destination: '0.0.0.0/0', target: { type: 'tgw', id: 'tgw-0123456789abcdef0' } },
      'private',
    ],
    [
      'a private range through a private NAT gateway',
      { destination: '192.168.0.0/16', target: { type: 'nat', id: 'nat-0123456789abcdef0' } },
      'private',
    ],
    [
      'a peering route',
      { destination: '10.1.0.0/16', target: { type: 'pcx', id: 'pcx-0123456789abcdef0' } },
      'private',
    ],
    [
      'an internet route in a table that serves no subnet',
      { destination: '0.0.0.0/0', target: { type: 'igw', id: 'igw-0123456789abcdef0' } },
      'unassociated',
    ],
    [
      'a blackhole route that is not a default route',
      {
        destination: '10.9.0.0/16',
        target: { type: 'pcx', id: 'pcx-0123456789abcdef0' },
        state: 'blackhole',
      },
      'private',
    ],
  ])('passes %s', (_name, route, table) => {
    // Prepare
    const context = contextOf(withRoute(route, table));
    // Act
    const result = internetRouteForbidden.evaluate(context);
    // Assess
    expect(result).toMatchObject({ compliance: 'COMPLIANT', findings: [] });
  });

  it('names the main table and every subnet it serves implicitly', () => {
    // Prepare
    const context = contextOf(
      withRoute(
        { destination: '0.0.0.0/0', target: { type: 'igw', id: 'igw-0123456789abcdef0' } },
        'main',
      ),
    );
    // Act
    const [finding] = internetRouteForbidden.evaluate(context).findings;
    // Assess
    expect(finding!.evidence).toMatchObject({ main: true, subnets: [{ subnetId: IDS.SUBNET_B }] });
    expect(finding!.message).toContain('main table');
    expect(finding!.fix).toMatchObject({ action: 'remove-internet-route' });
  });

  it.each([
    ['a live NAT the profile forbids', 'available', 'forbidden', 'remove-nat'],
    ['a NAT that is already deleting', 'deleting', 'forbidden', 'remove-internet-route'],
    ['a NAT the profile allows', 'available', 'allowed', 'remove-internet-route'],
  ] as const)('fixes a default route to %s with %s', (_name, natState, natGateway, action) => {
    // Prepare
    const snapshot = withRoute({
      destination: '0.0.0.0/0',
      target: { type: 'nat', id: 'nat-0123456789abcdef0' },
    });
    snapshot.natGateways.push({
      natGatewayId: 'nat-0123456789abcdef0',
      vpcId: VPC_ID,
      subnetId: IDS.SUBNET_B,
      state: natState,
      connectivityType: 'public',
      allocationIds: [],
      publicIps: [],
      privateIps: [],
      tags: {},
    });
    const policy = testPolicy();
    policy.profiles['regulated']!.egress.natGateway = natGateway;
    // Act
    const [finding] = internetRouteForbidden.evaluate(contextOf(snapshot, policy)).findings;
    // Assess
    expect(finding!.fix).toMatchObject({ action });
  });
});
