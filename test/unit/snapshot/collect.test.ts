import { describe, expect, it } from 'vitest';
import {
  RELEASED_FROM_TAG,
  RELEASED_FROM_VPC_TAG,
  collectNetworkSnapshot,
  type NetworkSnapshotInput,
} from '@vpc-guard/shared';
import {
  ACCOUNT_ID,
  IDS,
  NOW,
  REGION,
  VPC_ID,
  compliantSnapshotInput,
} from '../../fixtures/network';
import { SimulatedAccount } from '../../support/simulated-ec2';

/*
 * The collector's reading of the Elastic IPs vpc-guard marked when it deleted their NAT gateway, and
 * of the security groups (scoped: in the first wave; region-wide: endpoint groups looked up by id),
 * through the real SDK client against the simulated account.
 */

const OTHER_VPC = 'vpc-0a1b2c3d4e5f60002';
const LIVE_NAT = 'nat-0123456789abcdef0';
const LIVE_NAT_ALLOCATION = 'eipalloc-0000000000000000a';
const MARKED = 'eipalloc-0000000000000000b';
const MARKED_ELSEWHERE = 'eipalloc-0000000000000000c';
const MARKED_IN_USE = 'eipalloc-0000000000000000d';
const UNMARKED = 'eipalloc-0000000000000000e';

const markedFrom = (vpcId: string, natGatewayId = 'nat-0ffffffffffffff01') => ({
  [RELEASED_FROM_TAG]: natGatewayId,
  [RELEASED_FROM_VPC_TAG]: vpcId,
});

/** The compliant VPC, another VPC, a live NAT with its address, and addresses marked or not. */
function estate(): NetworkSnapshotInput {
  const input = compliantSnapshotInput();
  input.vpcs!.push({ vpcId: OTHER_VPC, cidrBlocks: ['10.1.0.0/16'] });
  input.natGateways = [
    {
      natGatewayId: LIVE_NAT,
      vpcId: VPC_ID,
      subnetId: IDS.SUBNET_B,
      state: 'available',
      allocationIds: [LIVE_NAT_ALLOCATION],
      publicIps: ['52.1.2.1'],
    },
  ];
  input.elasticIps = [
    { allocationId: MARKED, publicIp: '52.1.2.2', tags: markedFrom(VPC_ID) },
    { allocationId: MARKED_ELSEWHERE, publicIp: '52.1.2.3', tags: markedFrom(OTHER_VPC) },
    {
      allocationId: MARKED_IN_USE,
      publicIp: '52.1.2.4',
      associationId: 'eipassoc-0000000000000000d',
      tags: markedFrom(VPC_ID),
    },
    { allocationId: UNMARKED, publicIp: '52.1.2.5', tags: { Name: 'bastion' } },
  ];
  return input;
}

function collect(account: SimulatedAccount, vpcIds?: string[]) {
  return collectNetworkSnapshot({
    ec2: account.client({ accountId: ACCOUNT_ID, region: REGION }),
    accountId: ACCOUNT_ID,
    region: REGION,
    ...(vpcIds ? { vpcIds } : {}),
    now: () => NOW,
  });
}

describe('collectNetworkSnapshot: Elastic IPs marked for release', () => {
  it('reads only the marked addresses of the region, with one DescribeAddresses call', async () => {
    // Prepare
    const account = SimulatedAccount.fromSnapshots(estate());

    // Act
    const snapshot = await collect(account);

    // Assess
    expect(account.callsOf('DescribeAddresses').map((call) => call.input)).toEqual([
      { Filters: [{ Name: 'tag-key', Values: [RELEASED_FROM_TAG] }] },
    ]);
    expect(snapshot.elasticIps.map((address) => address.allocationId).sort()).toEqual([
      MARKED,
      MARKED_ELSEWHERE,
      MARKED_IN_USE,
    ]);
    expect(snapshot.elasticIps.find((a) => a.allocationId === MARKED)).toEqual({
      allocationId: MARKED,
      publicIp: '52.1.2.2',
      tags: markedFrom(VPC_ID),
    });
  });

  it('keeps the association of a marked address someone uses again', async () => {
    // Prepare
    const account = SimulatedAccount.fromSnapshots(estate());

    // Act
    const snapshot = await collect(account);

    // Assess
    expect(snapshot.elasticIps.find((a) => a.allocationId === MARKED_IN_USE)).toMatchObject({
      associationId: expect.stringMatching(/^eipassoc-/),
      networkInterfaceId: expect.stringMatching(/^eni-/),
    });
  });

  it('reads, in a scoped collection, only the addresses marked from the VPCs in scope', async () => {
    // Prepare
    const account = SimulatedAccount.fromSnapshots(estate());

    // Act
    const snapshot = await collect(account, [VPC_ID]);

    // Assess
    expect(account.callsOf('DescribeAddresses').map((call) => call.input)).toEqual([
      {
        Filters: [
          { Name: 'tag-key', Values: [RELEASED_FROM_TAG] },
          { Name: `tag:${RELEASED_FROM_VPC_TAG}`, Values: [VPC_ID] },
        ],
      },
    ]);
    expect(snapshot.elasticIps.map((address) => address.allocationId).sort()).toEqual([
      MARKED,
      MARKED_IN_USE,
    ]);
  });

  it('makes the same single DescribeAddresses call whatever the number of VPCs', async () => {
    // Prepare
    const input = estate();
    for (let n = 3; n < 40; n += 1)
      input.vpcs!.push({
        vpcId: `vpc-0a1b2c3d4e5f6${n.toString(16).padStart(4, '0')}`,
        cidrBlocks: [`10.${n}.0.0/16`],
      });
    const account = SimulatedAccount.fromSnapshots(input);

    // Act
    await collect(account);

    // Assess
    expect(account.callsOf('DescribeAddresses')).toHaveLength(1);
  });
});

const ENDPOINT_GROUP = 'sg-0000000000000e001';
const MANAGED_GROUP = 'sg-0000000000000e002';
const INSTANCE_GROUP = 'sg-0000000000000e003';
const OTHER_ENDPOINT_GROUP = 'sg-0000000000000e004';

/** The compliant VPC (endpoints in ENDPOINT_GROUP) with a managed and an instance group; another VPC. */
function groupEstate(): NetworkSnapshotInput {
  const input = compliantSnapshotInput();
  input.vpcs!.push({ vpcId: OTHER_VPC, cidrBlocks: ['10.1.0.0/16'] });
  input.vpcEndpoints!.push({
    vpcEndpointId: 'vpce-00000000000000009',
    vpcId: OTHER_VPC,
    serviceName: `com.amazonaws.${REGION}.sts`,
    type: 'Interface',
    state: 'available',
    securityGroupIds: [OTHER_ENDPOINT_GROUP],
  });
  input.securityGroups!.push(
    {
      groupId: MANAGED_GROUP,
      vpcId: VPC_ID,
      groupName: 'vpc-guard',
      tags: { 'vpc-guard:managed': 'true' },
    },
    { groupId: INSTANCE_GROUP, vpcId: VPC_ID, groupName: 'web' },
    { groupId: OTHER_ENDPOINT_GROUP, vpcId: OTHER_VPC, groupName: 'endpoints' },
  );
  return input;
}

const groupIdsOf = (snapshot: { securityGroups: readonly { groupId: string }[] }) =>
  snapshot.securityGroups.map((group) => group.groupId).sort();

describe('collectNetworkSnapshot: security groups', () => {
  it('reads, in a scoped collection, the groups of the VPCs in scope with the other reads, with no lookup by id', async () => {
    // Prepare
    const account = SimulatedAccount.fromSnapshots(groupEstate());

    // Act
    const snapshot = await collect(account, [VPC_ID]);

    // Assess: one call, which needs nothing from the endpoints, so it goes out in the first wave.
    expect(account.callsOf('DescribeSecurityGroups').map((call) => call.input['Filters'])).toEqual([
      [{ Name: 'vpc-id', Values: [VPC_ID] }],
    ]);
    expect(groupIdsOf(snapshot)).toEqual([ENDPOINT_GROUP, MANAGED_GROUP]);
  });

  it('reads, in a region-wide collection, the managed groups, then the endpoint groups by id', async () => {
    // Prepare
    const account = SimulatedAccount.fromSnapshots(groupEstate());

    // Act
    const snapshot = await collect(account);

    // Assess: never every group of the region.
    const filters = account.callsOf('DescribeSecurityGroups').map((call) => call.input['Filters']);
    expect(filters).toEqual([
      [{ Name: 'tag:vpc-guard:managed', Values: ['true'] }],
      [
        {
          Name: 'group-id',
          Values: expect.arrayContaining([ENDPOINT_GROUP, OTHER_ENDPOINT_GROUP]),
        },
      ],
    ]);
    expect(groupIdsOf(snapshot)).toEqual([ENDPOINT_GROUP, MANAGED_GROUP, OTHER_ENDPOINT_GROUP]);
  });
});
