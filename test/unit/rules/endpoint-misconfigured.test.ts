import { describe, expect, it } from 'vitest';
import { endpointMisconfigured } from '../../../shared/src/rules/endpoint-misconfigured';
import type { NetworkSnapshotInput } from '@vpc-guard/shared';
import { IDS, VPC_ID, contextOf, snapshotWith } from '../../fixtures/network';

type Change = (s: NetworkSnapshotInput) => void;
const endpoint = (s: NetworkSnapshotInput, id: string) =>
  s.vpcEndpoints!.find((e) => e.vpcEndpointId === id)!;
const STS = 'vpce-00000000000000002';
const S3 = 'vpce-00000000000000001';

describe('endpoint-misconfigured', () => {
  it('passes a VPC whose required endpoints are all well configured', () => {
    // Prepare
    const context = contextOf(snapshotWith(() => undefined));
    // Act
    const result = endpointMisconfigured.evaluate(context);
    // Assess
    expect(result).toEqual({ compliance: 'COMPLIANT', findings: [] });
  });

  it.each<[string, Change, string, string]>([
    [
      'a failed interface endpoint',
      (s) => (endpoint(s, STS).state = 'failed'),
      'sts/state',
      'create-endpoint',
    ],
    [
      'a rejected interface endpoint',
      (s) => (endpoint(s, STS).state = 'rejected'),
      'sts/state',
      'create-endpoint',
    ],
    [
      'a deleted gateway endpoint',
      (s) => (endpoint(s, S3).state = 'deleted'),
      's3/state',
      'create-endpoint',
    ],
    [
      'private DNS off',
      (s) => (endpoint(s, STS).privateDnsEnabled = false),
      'sts/private-dns',
      'enable-private-dns',
    ],
    [
      'an interface endpoint in one of two AZs',
      (s) => (endpoint(s, STS).subnetIds = [IDS.SUBNET_A]),
      'sts/coverage',
      'extend-endpoint-coverage',
    ],
    [
      'a gateway endpoint missing the main table',
      (s) => (endpoint(s, S3).routeTableIds = [IDS.RTB_PRIVATE]),
      's3/route-tables',
      'extend-endpoint-coverage',
    ],
  ])('flags %s', (_name, change, subject, action) => {
    // Prepare
    const context = contextOf(snapshotWith(change));
    // Act
    const result = endpointMisconfigured.evaluate(context);
    // Assess
    expect(result.compliance).toBe('NON_COMPLIANT');
    expect(result.findings.map((f) => [f.subject, f.fix?.action])).toEqual([[subject, action]]);
    expect(result.findings[0]!.message.length).toBeLessThanOrEqual(256);
  });

  it('names the VPC DNS attributes that block private DNS and says the fix is blocked', () => {
    // Prepare
    const context = contextOf(
      snapshotWith((s) => {
        endpoint(s, STS).privateDnsEnabled = false;
        s.vpcs![0]!.enableDnsHostnames = false;
      }),
    );
    // Act
    const [finding] = endpointMisconfigured.evaluate(context).findings;
    // Assess
    expect(finding!.message).toContain('enableDnsHostnames');
    expect(finding!.evidence).toMatchObject({ blockedBy: ['enableDnsHostnames'] });
    expect(finding!.fix!.summary).toMatch(/^Blocked/);
  });

  it('judges private DNS without blocking when the VPC DNS attributes were not collected', () => {
    // Prepare
    const context = contextOf(
      snapshotWith((s) => {
        endpoint(s, STS).privateDnsEnabled = false;
        delete s.vpcs![0]!.enableDnsHostnames;
        delete s.vpcs![0]!.enableDnsSupport;
      }),
    );
    // Act
    const [finding] = endpointMisconfigured.evaluate(context).findings;
    // Assess
    expect(finding!.evidence).toMatchObject({
      vpcDns: { enableDnsHostnames: 'unknown' },
      blockedBy: [],
    });
  });

  it('names the missing AZs and prices the extra endpoint ENIs', () => {
    // Prepare
    const context = contextOf(snapshotWith((s) => (endpoint(s, STS).subnetIds = [IDS.SUBNET_A])));
    // Act
    const [finding] = endpointMisconfigured.evaluate(context).findings;
    // Assess
    expect(finding!.evidence).toMatchObject({
      coveredZones: ['us-east-1a'],
      missingZones: ['us-east-1b'],
    });
    expect(finding!.cost).toMatchObject({ kind: 'fix', monthlyUsd: 7.3 });
  });

  it('counts zone coverage across two endpoints of the same service', () => {
    // Prepare
    const context = contextOf(
      snapshotWith((s) => {
        endpoint(s, STS).subnetIds = [IDS.SUBNET_A];
        s.vpcEndpoints!.push({
          ...endpoint(s, STS),
          vpcEndpointId: 'vpce-0000000000000000f',
          subnetIds: [IDS.SUBNET_B],
          privateDnsEnabled: false,
        });
      }),
    );
    // Act
    const result = endpointMisconfigured.evaluate(context);
    // Assess
    expect(result.findings).toEqual([]);
  });

  it('flags an interface endpoint whose security groups admit nothing on 443', () => {
    // Prepare
    const context = contextOf(
      snapshotWith((s) => {
        s.securityGroups![0]!.ingress = [
          { ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipv4Ranges: ['10.0.0.0/16'] },
        ];
      }),
    );
    // Act
    const result = endpointMisconfigured.evaluate(context);
    // Assess
    expect(result.findings.map((f) => f.subject)).toEqual([
      'sts/security-groups',
      'logs/security-groups',
    ]);
  });

  it('does not judge security groups it has not collected', () => {
    // Prepare
    const context = contextOf(snapshotWith((s) => (s.securityGroups = [])));
    // Act
    const result = endpointMisconfigured.evaluate(context);
    // Assess
    expect(result.findings).toEqual([]);
  });

  it('ignores a gateway endpoint route table that serves no subnet', () => {
    // Prepare
    const context = contextOf(
      snapshotWith((s) => {
        s.routeTables!.push({ routeTableId: 'rtb-0000000000000000e', vpcId: VPC_ID, routes: [] });
      }),
    );
    // Act
    const result = endpointMisconfigured.evaluate(context);
    // Assess
    expect(result.findings).toEqual([]);
  });
});
