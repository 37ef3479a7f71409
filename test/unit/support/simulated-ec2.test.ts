import { readFileSync } from 'node:fs';
import {
  AllocateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  CreateVpcEndpointCommand,
  DeleteNatGatewayCommand,
  DeleteRouteCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DeleteVpcEndpointsCommand,
  DescribeAddressesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRegionsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcEndpointServicesCommand,
  DescribeVpcsCommand,
  EC2ServiceException,
  ModifyVpcAttributeCommand,
  ModifyVpcEndpointCommand,
  ReleaseAddressCommand,
  ReplaceRouteCommand,
  paginateDescribeNatGateways,
  paginateDescribeVpcEndpoints,
  paginateDescribeVpcs,
  EC2Client,
  type Filter,
} from '@aws-sdk/client-ec2';
import {
  NetworkSnapshotSchema,
  type NetworkSnapshot,
  type NetworkSnapshotInput,
} from '@vpc-guard/shared';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ENDPOINT_POLICY,
  SimulatedAccount,
  type SimulatedAccountOptions,
} from '../../support/simulated-ec2';

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const REGULATED_VPC = 'vpc-0aa00000000000001';
const SANDBOX_VPC = 'vpc-0bb00000000000002';
const PRIVATE_A = 'subnet-0aa0000000000000a';
const PRIVATE_B = 'subnet-0aa0000000000000b';
const PUBLIC_A = 'subnet-0aa000000000000c1';
const MAIN_TABLE = 'rtb-0aa00000000000001';
const PRIVATE_TABLE = 'rtb-0aa00000000000002';
const NAT = 'nat-0aa00000000000001';
const NAT_ALLOCATION = 'eipalloc-0aa00000000000001';
const IGW = 'igw-0aa00000000000001';
const S3_ENDPOINT = 'vpce-0aa00000000000001';
const STS_ENDPOINT = 'vpce-0aa00000000000002';
const ENDPOINT_GROUP = 'sg-0aa00000000000001';
const S3_PREFIX_LIST = 'pl-63a5400a';
const service = (name: string) => `com.amazonaws.${REGION}.${name}`;

const fixture: NetworkSnapshot = NetworkSnapshotSchema.parse(
  JSON.parse(
    readFileSync(new URL('../../fixtures/simulated/small-account.json', import.meta.url), 'utf8'),
  ),
);

/** The fixture account, and a client on it that retries without waiting (unless told otherwise). */
function simulate(
  options: SimulatedAccountOptions = {},
  snapshots: NetworkSnapshotInput[] = [fixture],
) {
  const account = SimulatedAccount.fromSnapshots(snapshots, options);
  const ec2 = account.client({ retryBackoff: 'none' });
  return { account, ec2 };
}

/** A snapshot with `count` VPCs, gateway endpoints and NAT gateways, for pagination. */
function manyResources(count: number): NetworkSnapshotInput {
  const id = (prefix: string, index: number) => `${prefix}-${index.toString(16).padStart(17, '0')}`;
  const indexes = Array.from({ length: count }, (_, index) => index + 1);
  return {
    schemaVersion: 1,
    accountId: ACCOUNT,
    region: REGION,
    collectedAt: '2025-06-01T12:00:00.000Z',
    vpcs: indexes.map((index) => ({ vpcId: id('vpc', index), cidrBlocks: [`10.${index}.0.0/16`] })),
    subnets: indexes.map((index) => ({
      subnetId: id('subnet', index),
      vpcId: id('vpc', index),
      availabilityZone: 'us-east-1a',
      availabilityZoneId: 'use1-az1',
      cidrBlock: `10.${index}.0.0/24`,
    })),
    vpcEndpoints: indexes.map((index) => ({
      vpcEndpointId: id('vpce', index),
      vpcId: id('vpc', index),
      serviceName: service('s3'),
      type: 'Gateway' as const,
      state: 'available' as const,
    })),
    natGateways: indexes.map((index) => ({
      natGatewayId: id('nat', index),
      vpcId: id('vpc', index),
      subnetId: id('subnet', index),
      state: 'available' as const,
    })),
  };
}

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const page of pages) {
    collected.push(page);
  }
  return collected;
}

async function endpointIds(ec2: EC2Client, Filters?: Filter[]): Promise<string[]> {
  const pages = await collect(paginateDescribeVpcEndpoints({ client: ec2 }, { Filters }));
  return pages
    .flatMap((page) => page.VpcEndpoints ?? [])
    .map((endpoint) => endpoint.VpcEndpointId!);
}

async function routesOf(ec2: EC2Client, routeTableId: string) {
  const { RouteTables } = await ec2.send(
    new DescribeRouteTablesCommand({ RouteTableIds: [routeTableId] }),
  );
  return RouteTables?.[0]?.Routes ?? [];
}

async function natState(ec2: EC2Client, natGatewayId: string) {
  const { NatGateways } = await ec2.send(
    new DescribeNatGatewaysCommand({ NatGatewayIds: [natGatewayId] }),
  );
  return NatGateways?.[0]?.State;
}

function interfaceEndpoint(
  overrides: Partial<ConstructorParameters<typeof CreateVpcEndpointCommand>[0]> = {},
) {
  return new CreateVpcEndpointCommand({
    VpcId: REGULATED_VPC,
    ServiceName: service('logs'),
    VpcEndpointType: 'Interface',
    SubnetIds: [PRIVATE_A, PRIVATE_B],
    SecurityGroupIds: [ENDPOINT_GROUP],
    ...overrides,
  });
}

describe('SimulatedAccount', () => {
  describe('describing resources', () => {
    it('describes VPCs in the shape the SDK returns', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const { Vpcs } = await ec2.send(new DescribeVpcsCommand({ VpcIds: [REGULATED_VPC] }));

      // Assess
      expect(Vpcs).toEqual([
        expect.objectContaining({
          VpcId: REGULATED_VPC,
          OwnerId: ACCOUNT,
          State: 'available',
          CidrBlock: '10.0.0.0/16',
          CidrBlockAssociationSet: [expect.objectContaining({ CidrBlock: '10.0.0.0/16' })],
          IsDefault: false,
          Tags: expect.arrayContaining([{ Key: 'Name', Value: 'regulated' }]),
        }),
      ]);
    });

    it('puts each route target in the field EC2 uses for it', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const privateRoutes = await routesOf(ec2, PRIVATE_TABLE);
      const sandboxRoutes = await routesOf(ec2, 'rtb-0bb00000000000001');

      // Assess
      expect(privateRoutes).toEqual([
        {
          DestinationCidrBlock: '10.0.0.0/16',
          GatewayId: 'local',
          State: 'active',
          Origin: 'CreateRouteTable',
        },
        {
          DestinationCidrBlock: '0.0.0.0/0',
          NatGatewayId: NAT,
          State: 'active',
          Origin: 'CreateRoute',
        },
        {
          DestinationPrefixListId: S3_PREFIX_LIST,
          GatewayId: S3_ENDPOINT,
          State: 'active',
          Origin: 'CreateRoute',
        },
      ]);
      expect(sandboxRoutes).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            DestinationIpv6CidrBlock: '::/0',
            EgressOnlyInternetGatewayId: 'eigw-0bb00000000000001',
          }),
          expect.objectContaining({
            DestinationCidrBlock: '192.168.0.0/16',
            TransitGatewayId: 'tgw-0bb00000000000001',
          }),
        ]),
      );
    });

    it('lists the main and the subnet associations of route tables', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const { RouteTables } = await ec2.send(
        new DescribeRouteTablesCommand({ RouteTableIds: [MAIN_TABLE, PRIVATE_TABLE] }),
      );

      // Assess
      expect(RouteTables?.map((table) => table.Associations)).toEqual([
        [
          expect.objectContaining({
            Main: true,
            RouteTableId: MAIN_TABLE,
            RouteTableAssociationId: expect.stringMatching(/^rtbassoc-/),
          }),
        ],
        [
          expect.objectContaining({ Main: false, SubnetId: PRIVATE_A }),
          expect.objectContaining({ Main: false, SubnetId: PRIVATE_B }),
        ],
      ]);
    });

    it('describes NAT gateways with their addresses', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const { NatGateways } = await ec2.send(new DescribeNatGatewaysCommand({}));

      // Assess
      expect(NatGateways).toEqual([
        expect.objectContaining({
          NatGatewayId: NAT,
          State: 'available',
          VpcId: REGULATED_VPC,
          SubnetId: PUBLIC_A,
          ConnectivityType: 'public',
          CreateTime: new Date('2025-01-15T08:00:00.000Z'),
          NatGatewayAddresses: [
            expect.objectContaining({
              AllocationId: NAT_ALLOCATION,
              PublicIp: '203.0.113.10',
              PrivateIp: '10.0.100.10',
            }),
          ],
        }),
      ]);
    });

    it('describes endpoints with lower-case states, policies as strings and named groups', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const { VpcEndpoints } = await ec2.send(
        new DescribeVpcEndpointsCommand({ VpcEndpointIds: [STS_ENDPOINT] }),
      );

      // Assess
      expect(VpcEndpoints).toEqual([
        expect.objectContaining({
          VpcEndpointId: STS_ENDPOINT,
          VpcEndpointType: 'Interface',
          State: 'available',
          PolicyDocument: expect.stringContaining('aws:PrincipalOrgID'),
          PrivateDnsEnabled: true,
          SubnetIds: [PRIVATE_A, PRIVATE_B],
          Groups: [{ GroupId: ENDPOINT_GROUP, GroupName: 'vpce-https' }],
          CreationTimestamp: new Date('2025-01-15T08:10:00.000Z'),
        }),
      ]);
    });

    it('answers DescribeVpcAttribute with the DNS attributes of the VPC', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const support = await ec2.send(
        new DescribeVpcAttributeCommand({ VpcId: SANDBOX_VPC, Attribute: 'enableDnsSupport' }),
      );
      const hostnames = await ec2.send(
        new DescribeVpcAttributeCommand({ VpcId: SANDBOX_VPC, Attribute: 'enableDnsHostnames' }),
      );

      // Assess
      expect(support.EnableDnsSupport).toEqual({ Value: true });
      expect(hostnames.EnableDnsHostnames).toEqual({ Value: false });
    });

    it('lists the enabled regions and the availability zones of a region', async () => {
      // Prepare
      const { ec2 } = simulate({ regions: ['eu-west-1'] });

      // Act
      const { Regions } = await ec2.send(new DescribeRegionsCommand({}));
      const { AvailabilityZones } = await ec2.send(new DescribeAvailabilityZonesCommand({}));

      // Assess
      expect(Regions?.map((region) => region.RegionName)).toEqual([REGION, 'eu-west-1']);
      expect(AvailabilityZones?.map((zone) => [zone.ZoneName, zone.ZoneId])).toEqual([
        ['us-east-1a', 'use1-az1'],
        ['us-east-1b', 'use1-az2'],
        ['us-east-1c', 'use1-az3'],
      ]);
    });

    it('lists the endpoint services, s3 as both a gateway and an interface service', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const { ServiceDetails } = await ec2.send(
        new DescribeVpcEndpointServicesCommand({ ServiceNames: [service('s3'), service('sts')] }),
      );

      // Assess
      expect(
        ServiceDetails?.map((detail) => [detail.ServiceName, detail.ServiceType?.[0]?.ServiceType]),
      ).toEqual([
        [service('s3'), 'Gateway'],
        [service('s3'), 'Interface'],
        [service('sts'), 'Interface'],
      ]);
      expect(ServiceDetails?.[2]).toMatchObject({
        PrivateDnsName: 'sts.us-east-1.amazonaws.com',
        AvailabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
      });
    });

    it('answers with nothing in an enabled region that has no resources', async () => {
      // Prepare
      const { account } = simulate({ regions: ['eu-west-1'] });
      const ec2 = account.client({ region: 'eu-west-1' });

      // Act
      const { Vpcs } = await ec2.send(new DescribeVpcsCommand({}));

      // Assess
      expect(Vpcs).toEqual([]);
    });

    it("serves a client built elsewhere once attached, by that client's region", async () => {
      // Prepare
      const { account } = simulate({ regions: ['eu-west-1'] });
      const built = new EC2Client({
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example' },
      });

      // Act
      const { Vpcs } = await account.attach(built).send(new DescribeVpcsCommand({}));

      // Assess
      expect(Vpcs).toEqual([]);
      expect(account.calls).toEqual([
        expect.objectContaining({ operation: 'DescribeVpcs', region: 'eu-west-1' }),
      ]);
    });

    it('refuses an account it does not know with AuthFailure', async () => {
      // Prepare
      const { account } = simulate();
      const stranger = account.client({ accountId: '999999999999' });

      // Act
      const attempt = stranger.send(new DescribeVpcsCommand({}));

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'AuthFailure', $fault: 'client' });
    });

    it('keeps the state of each account and region apart', async () => {
      // Prepare
      const other = {
        schemaVersion: 1 as const,
        accountId: '222222222222',
        region: 'eu-west-1',
        collectedAt: fixture.collectedAt,
      };
      const otherVpc = { vpcId: 'vpc-0cc00000000000003', cidrBlocks: ['10.2.0.0/16'] };
      const account = SimulatedAccount.fromSnapshots([fixture, { ...other, vpcs: [otherVpc] }]);

      // Act
      const here = await account.client().send(new DescribeVpcsCommand({}));
      const there = await account
        .client({ accountId: '222222222222', region: 'eu-west-1' })
        .send(new DescribeVpcsCommand({}));

      // Assess
      expect(here.Vpcs?.map((vpc) => vpc.VpcId)).toEqual([REGULATED_VPC, SANDBOX_VPC]);
      expect(there.Vpcs?.map((vpc) => vpc.VpcId)).toEqual(['vpc-0cc00000000000003']);
    });
  });

  describe('filters', () => {
    const subnetIds = async (ec2: EC2Client, Filters: Filter[]) =>
      (await ec2.send(new DescribeSubnetsCommand({ Filters }))).Subnets?.map(
        (subnet) => subnet.SubnetId,
      );

    it.each<{ case: string; run: (ec2: EC2Client) => Promise<unknown>; expected: unknown }>([
      {
        case: 'one filter on vpc-id',
        run: (ec2) => subnetIds(ec2, [{ Name: 'vpc-id', Values: [SANDBOX_VPC] }]),
        expected: ['subnet-0bb0000000000000a'],
      },
      {
        case: 'the values of one filter ORed',
        run: (ec2) => subnetIds(ec2, [{ Name: 'subnet-id', Values: [PRIVATE_B, PUBLIC_A] }]),
        expected: [PRIVATE_B, PUBLIC_A],
      },
      {
        case: 'several filters ANDed',
        run: (ec2) =>
          subnetIds(ec2, [
            { Name: 'vpc-id', Values: [REGULATED_VPC] },
            { Name: 'availability-zone', Values: ['us-east-1a'] },
          ]),
        expected: [PRIVATE_A, PUBLIC_A],
      },
      {
        case: 'a tag:<key> filter with a * wildcard',
        run: (ec2) => subnetIds(ec2, [{ Name: 'tag:Name', Values: ['private-*'] }]),
        expected: [PRIVATE_A, PRIVATE_B],
      },
      {
        case: 'a tag-key filter',
        run: async (ec2) =>
          (
            await ec2.send(
              new DescribeVpcsCommand({
                Filters: [{ Name: 'tag-key', Values: ['vpc-guard:profile'] }],
              }),
            )
          ).Vpcs?.map((vpc) => vpc.VpcId),
        expected: [REGULATED_VPC, SANDBOX_VPC],
      },
      {
        case: 'endpoints by service name with a wildcard',
        run: (ec2) => endpointIds(ec2, [{ Name: 'service-name', Values: ['*.s3'] }]),
        expected: [S3_ENDPOINT],
      },
      {
        case: 'endpoints by type and state',
        run: (ec2) =>
          endpointIds(ec2, [
            { Name: 'vpc-endpoint-type', Values: ['Interface'] },
            { Name: 'vpc-endpoint-state', Values: ['available'] },
          ]),
        expected: [STS_ENDPOINT],
      },
      {
        case: 'endpoints by tag',
        run: (ec2) => endpointIds(ec2, [{ Name: 'tag:vpc-guard:managed', Values: ['true'] }]),
        expected: [STS_ENDPOINT],
      },
      {
        case: 'internet gateways by attachment.vpc-id',
        run: async (ec2) =>
          (
            await ec2.send(
              new DescribeInternetGatewaysCommand({
                Filters: [{ Name: 'attachment.vpc-id', Values: [REGULATED_VPC] }],
              }),
            )
          ).InternetGateways?.map((igw) => igw.InternetGatewayId),
        expected: [IGW],
      },
      {
        case: 'NAT gateways by state and vpc-id',
        run: async (ec2) =>
          (
            await ec2.send(
              new DescribeNatGatewaysCommand({
                Filter: [
                  { Name: 'state', Values: ['pending', 'available'] },
                  { Name: 'vpc-id', Values: [REGULATED_VPC] },
                ],
              }),
            )
          ).NatGateways?.map((nat) => nat.NatGatewayId),
        expected: [NAT],
      },
      {
        case: 'NAT gateways by a state none has',
        run: async (ec2) =>
          (
            await ec2.send(
              new DescribeNatGatewaysCommand({ Filter: [{ Name: 'state', Values: ['deleted'] }] }),
            )
          ).NatGateways,
        expected: [],
      },
      {
        case: 'internet gateways by a VPC without one',
        run: async (ec2) =>
          (
            await ec2.send(
              new DescribeInternetGatewaysCommand({
                Filters: [{ Name: 'attachment.vpc-id', Values: [SANDBOX_VPC] }],
              }),
            )
          ).InternetGateways,
        expected: [],
      },
      {
        case: 'route tables by route.nat-gateway-id',
        run: async (ec2) =>
          (
            await ec2.send(
              new DescribeRouteTablesCommand({
                Filters: [{ Name: 'route.nat-gateway-id', Values: [NAT] }],
              }),
            )
          ).RouteTables?.map((table) => table.RouteTableId),
        expected: [PRIVATE_TABLE],
      },
      {
        case: 'route tables by association.main',
        run: async (ec2) =>
          (
            await ec2.send(
              new DescribeRouteTablesCommand({
                Filters: [{ Name: 'association.main', Values: ['true'] }],
              }),
            )
          ).RouteTables?.map((table) => table.RouteTableId),
        expected: [MAIN_TABLE, 'rtb-0bb00000000000001'],
      },
      {
        case: 'security groups by group-name with a wildcard',
        run: async (ec2) =>
          (
            await ec2.send(
              new DescribeSecurityGroupsCommand({
                Filters: [{ Name: 'group-name', Values: ['vpce-*'] }],
              }),
            )
          ).SecurityGroups?.map((group) => group.GroupId),
        expected: [ENDPOINT_GROUP],
      },
    ])('applies $case', async ({ run, expected }) => {
      // Prepare
      const { ec2 } = simulate({ pageSize: 100 });

      // Act
      const result = await run(ec2);

      // Assess
      expect(result).toEqual(expected);
    });

    it('rejects a filter name EC2 does not know with InvalidParameterValue', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const attempt = ec2.send(
        new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc', Values: [REGULATED_VPC] }] }),
      );

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'InvalidParameterValue',
        message: "The filter 'vpc' is invalid",
      });
    });
  });

  describe('pagination', () => {
    it.each([
      {
        operation: 'DescribeVpcs',
        pages: (ec2: EC2Client, pageSize?: number) =>
          collect(paginateDescribeVpcs({ client: ec2, pageSize }, {})).then((pages) =>
            pages.map((page) => page.Vpcs?.length),
          ),
      },
      {
        operation: 'DescribeVpcEndpoints',
        pages: (ec2: EC2Client, pageSize?: number) =>
          collect(paginateDescribeVpcEndpoints({ client: ec2, pageSize }, {})).then((pages) =>
            pages.map((page) => page.VpcEndpoints?.length),
          ),
      },
      {
        operation: 'DescribeNatGateways',
        pages: (ec2: EC2Client, pageSize?: number) =>
          collect(paginateDescribeNatGateways({ client: ec2, pageSize }, {})).then((pages) =>
            pages.map((page) => page.NatGateways?.length),
          ),
      },
    ])(
      'pages 23 items of $operation five at a time, and by MaxResults when given',
      async ({ pages }) => {
        // Prepare
        const { ec2 } = simulate({}, [manyResources(23)]);

        // Act
        const byDefault = await pages(ec2);
        const byMaxResults = await pages(ec2, 10);

        // Assess
        expect(byDefault).toEqual([5, 5, 5, 5, 3]);
        expect(byMaxResults).toEqual([10, 10, 3]);
      },
    );

    it('returns every item exactly once across the pages', async () => {
      // Prepare
      const { ec2 } = simulate({}, [manyResources(23)]);

      // Act
      const ids = await endpointIds(ec2);

      // Assess
      expect(ids).toHaveLength(23);
      expect(new Set(ids).size).toBe(23);
    });

    it.each([
      {
        operation: 'DescribeVpcEndpoints',
        command: new DescribeVpcEndpointsCommand({ MaxResults: 4 }),
      },
      {
        operation: 'DescribeNatGateways',
        command: new DescribeNatGatewaysCommand({ MaxResults: 1001 }),
      },
      {
        operation: 'DescribeRouteTables',
        command: new DescribeRouteTablesCommand({ MaxResults: 101 }),
      },
      { operation: 'DescribeVpcs', command: new DescribeVpcsCommand({ MaxResults: 2 }) },
    ])(
      'rejects a MaxResults outside the bounds of $operation with InvalidParameterValue',
      async ({ command }) => {
        // Prepare
        const { ec2 } = simulate();

        // Act
        const attempt = ec2.send(command);

        // Assess
        await expect(attempt).rejects.toMatchObject({ name: 'InvalidParameterValue' });
      },
    );

    it('caps DescribeVpcEndpoints at 1000 items as EC2 documents, without an error', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const { VpcEndpoints } = await ec2.send(
        new DescribeVpcEndpointsCommand({ MaxResults: 5000 }),
      );

      // Assess
      expect(VpcEndpoints).toHaveLength(2);
    });

    it.each([
      { case: 'a token it never issued', token: () => 'not-a-token' },
      {
        case: 'a token issued for another query',
        token: async (ec2: EC2Client) =>
          (
            await ec2.send(
              new DescribeVpcsCommand({ Filters: [{ Name: 'state', Values: ['available'] }] }),
            )
          ).NextToken!,
      },
    ])('rejects $case with InvalidPaginationToken', async ({ token }) => {
      // Prepare
      const { ec2 } = simulate({}, [manyResources(23)]);
      const NextToken = await token(ec2);

      // Act
      const attempt = ec2.send(new DescribeVpcsCommand({ NextToken }));

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'InvalidPaginationToken' });
    });
  });

  describe('DryRun', () => {
    it.each([
      { operation: 'CreateVpcEndpoint', command: () => interfaceEndpoint({ DryRun: true }) },
      {
        operation: 'ModifyVpcEndpoint',
        command: () =>
          new ModifyVpcEndpointCommand({
            VpcEndpointId: S3_ENDPOINT,
            ResetPolicy: true,
            DryRun: true,
          }),
      },
      {
        operation: 'DeleteVpcEndpoints',
        command: () =>
          new DeleteVpcEndpointsCommand({ VpcEndpointIds: [STS_ENDPOINT], DryRun: true }),
      },
      {
        operation: 'CreateRoute',
        command: () =>
          new CreateRouteCommand({
            RouteTableId: MAIN_TABLE,
            DestinationCidrBlock: '0.0.0.0/0',
            NatGatewayId: NAT,
            DryRun: true,
          }),
      },
      {
        operation: 'ReplaceRoute',
        command: () =>
          new ReplaceRouteCommand({
            RouteTableId: PRIVATE_TABLE,
            DestinationCidrBlock: '0.0.0.0/0',
            GatewayId: IGW,
            DryRun: true,
          }),
      },
      {
        operation: 'DeleteRoute',
        command: () =>
          new DeleteRouteCommand({
            RouteTableId: PRIVATE_TABLE,
            DestinationCidrBlock: '0.0.0.0/0',
            DryRun: true,
          }),
      },
      {
        operation: 'DeleteNatGateway',
        command: () => new DeleteNatGatewayCommand({ NatGatewayId: NAT, DryRun: true }),
      },
      {
        operation: 'AllocateAddress',
        command: () => new AllocateAddressCommand({ Domain: 'vpc', DryRun: true }),
      },
      {
        operation: 'CreateSecurityGroup',
        command: () =>
          new CreateSecurityGroupCommand({
            GroupName: 'new',
            Description: 'new',
            VpcId: REGULATED_VPC,
            DryRun: true,
          }),
      },
      {
        operation: 'AuthorizeSecurityGroupIngress',
        command: () =>
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: ENDPOINT_GROUP,
            IpPermissions: [
              {
                IpProtocol: 'tcp',
                FromPort: 443,
                ToPort: 443,
                IpRanges: [{ CidrIp: '10.9.0.0/16' }],
              },
            ],
            DryRun: true,
          }),
      },
      {
        operation: 'CreateTags',
        command: () =>
          new CreateTagsCommand({
            Resources: [REGULATED_VPC],
            Tags: [{ Key: 'a', Value: 'b' }],
            DryRun: true,
          }),
      },
      {
        operation: 'DeleteTags',
        command: () =>
          new DeleteTagsCommand({
            Resources: [REGULATED_VPC],
            Tags: [{ Key: 'Name' }],
            DryRun: true,
          }),
      },
      { operation: 'DescribeVpcs', command: () => new DescribeVpcsCommand({ DryRun: true }) },
    ])('answers DryRunOperation to a valid $operation and changes nothing', async ({ command }) => {
      // Prepare
      const { account, ec2 } = simulate();
      const before = account.toSnapshot(ACCOUNT, REGION, fixture.collectedAt);

      // Act
      const attempt = ec2.send(command() as DescribeVpcsCommand);

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'DryRunOperation',
        message: 'Request would have succeeded, but DryRun flag is set.',
        $metadata: { httpStatusCode: 412 },
      });
      expect(account.toSnapshot(ACCOUNT, REGION, fixture.collectedAt)).toEqual(before);
      expect(account.writes()).toEqual([]);
    });

    it.each([
      {
        case: 'an unknown VPC',
        command: interfaceEndpoint({ VpcId: 'vpc-0ff0000000000000f', DryRun: true }),
        code: 'InvalidVpcID.NotFound',
      },
      {
        case: 'a route that already exists',
        command: new CreateRouteCommand({
          RouteTableId: PRIVATE_TABLE,
          DestinationCidrBlock: '0.0.0.0/0',
          GatewayId: IGW,
          DryRun: true,
        }),
        code: 'RouteAlreadyExists',
      },
    ])(
      'validates the request before answering a DryRun: $case gives $code',
      async ({ command, code }) => {
        // Prepare
        const { ec2 } = simulate();

        // Act
        const attempt = ec2.send(command as CreateRouteCommand);

        // Assess
        await expect(attempt).rejects.toMatchObject({ name: code });
      },
    );

    it('answers UnauthorizedOperation to a denied operation, DryRun or not', async () => {
      // Prepare
      const { ec2 } = simulate({ deniedOperations: ['DeleteNatGateway'] });

      // Act
      const dryRun = ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: NAT, DryRun: true }));
      const real = ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: NAT }));

      // Assess
      await expect(dryRun).rejects.toMatchObject({
        name: 'UnauthorizedOperation',
        $metadata: { httpStatusCode: 403 },
      });
      await expect(real).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
      expect(await natState(ec2, NAT)).toBe('available');
    });
  });

  describe('CreateVpcEndpoint', () => {
    it('creates an interface endpoint that is pending, then available on the next call', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const { VpcEndpoint } = await ec2.send(interfaceEndpoint());
      const { VpcEndpoints } = await ec2.send(
        new DescribeVpcEndpointsCommand({ VpcEndpointIds: [VpcEndpoint!.VpcEndpointId!] }),
      );

      // Assess
      expect(VpcEndpoint).toMatchObject({
        VpcEndpointId: expect.stringMatching(/^vpce-[0-9a-f]{17}$/),
        State: 'pending',
        PrivateDnsEnabled: true,
        PolicyDocument: DEFAULT_ENDPOINT_POLICY,
        Groups: [{ GroupId: ENDPOINT_GROUP, GroupName: 'vpce-https' }],
      });
      expect(VpcEndpoints?.[0]?.State).toBe('available');
    });

    it('keeps a new endpoint pending for as many calls as configured, until advance()', async () => {
      // Prepare
      const { account, ec2 } = simulate({ endpointCreationDelayCalls: 10 });
      const { VpcEndpoint } = await ec2.send(interfaceEndpoint());
      const describe = async () =>
        (
          await ec2.send(
            new DescribeVpcEndpointsCommand({ VpcEndpointIds: [VpcEndpoint!.VpcEndpointId!] }),
          )
        ).VpcEndpoints?.[0]?.State;

      // Act
      const stillPending = await describe();
      account.advance();
      const settled = await describe();

      // Assess
      expect(stillPending).toBe('pending');
      expect(settled).toBe('available');
    });

    it('gives a gateway endpoint the default policy and a prefix-list route in each route table', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const { VpcEndpoint } = await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: SANDBOX_VPC,
          ServiceName: service('dynamodb'),
          RouteTableIds: ['rtb-0bb00000000000001'],
        }),
      );
      const routes = await routesOf(ec2, 'rtb-0bb00000000000001');

      // Assess
      expect(VpcEndpoint).toMatchObject({
        VpcEndpointType: 'Gateway',
        PolicyDocument: DEFAULT_ENDPOINT_POLICY,
        PrivateDnsEnabled: false,
      });
      expect(routes).toContainEqual({
        DestinationPrefixListId: expect.stringMatching(/^pl-[0-9a-f]{8}$/),
        GatewayId: VpcEndpoint!.VpcEndpointId,
        State: 'active',
        Origin: 'CreateRoute',
      });
    });

    it('honours TagSpecifications', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const { VpcEndpoint } = await ec2.send(
        interfaceEndpoint({
          TagSpecifications: [
            { ResourceType: 'vpc-endpoint', Tags: [{ Key: 'vpc-guard:managed', Value: 'true' }] },
          ],
        }),
      );

      // Assess
      expect(VpcEndpoint?.Tags).toEqual([{ Key: 'vpc-guard:managed', Value: 'true' }]);
    });

    it('returns the same endpoint for a repeated ClientToken without creating another', async () => {
      // Prepare
      const { account, ec2 } = simulate();

      // Act
      const first = await ec2.send(interfaceEndpoint({ ClientToken: 'vpc-guard-logs-1' }));
      const second = await ec2.send(interfaceEndpoint({ ClientToken: 'vpc-guard-logs-1' }));

      // Assess
      expect(second.VpcEndpoint?.VpcEndpointId).toBe(first.VpcEndpoint?.VpcEndpointId);
      expect(second.ClientToken).toBe('vpc-guard-logs-1');
      expect(account.toSnapshot(ACCOUNT, REGION).vpcEndpoints).toHaveLength(3);
    });

    it('rejects a ClientToken reused with different parameters with IdempotentParameterMismatch', async () => {
      // Prepare
      const { ec2 } = simulate();
      await ec2.send(interfaceEndpoint({ ClientToken: 'vpc-guard-logs-1' }));

      // Act
      const attempt = ec2.send(
        interfaceEndpoint({ ClientToken: 'vpc-guard-logs-1', PrivateDnsEnabled: false }),
      );

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'IdempotentParameterMismatch' });
    });

    it.each([
      {
        case: 'an unknown service',
        command: interfaceEndpoint({ ServiceName: service('nope') }),
        code: 'InvalidServiceName',
      },
      {
        case: 'an unknown VPC',
        command: interfaceEndpoint({ VpcId: 'vpc-0ff0000000000000f' }),
        code: 'InvalidVpcID.NotFound',
      },
      {
        case: 'an unknown subnet',
        command: interfaceEndpoint({ SubnetIds: ['subnet-0ff0000000000000f'] }),
        code: 'InvalidSubnetID.NotFound',
      },
      {
        case: 'two subnets in one availability zone',
        command: interfaceEndpoint({ SubnetIds: [PRIVATE_A, PUBLIC_A] }),
        code: 'DuplicateSubnetsInSameZone',
      },
      {
        case: 'private DNS in a VPC without DNS hostnames',
        command: interfaceEndpoint({
          VpcId: SANDBOX_VPC,
          SubnetIds: ['subnet-0bb0000000000000a'],
          SecurityGroupIds: [],
        }),
        code: 'InvalidParameter',
        message: /enableDnsSupport and enableDnsHostnames/,
      },
      {
        case: 'a second private-DNS endpoint for the same service',
        command: interfaceEndpoint({ ServiceName: service('sts') }),
        code: 'InvalidParameter',
        message:
          /private-dns-enabled cannot be set because there is already a conflicting DNS domain for sts\.us-east-1\.amazonaws\.com/,
      },
      {
        case: 'a gateway endpoint into a table that already routes the service',
        command: new CreateVpcEndpointCommand({
          VpcId: REGULATED_VPC,
          ServiceName: service('s3'),
          RouteTableIds: [PRIVATE_TABLE],
        }),
        code: 'RouteAlreadyExists',
      },
      {
        case: 'route tables on an interface endpoint',
        command: interfaceEndpoint({ RouteTableIds: [PRIVATE_TABLE] }),
        code: 'InvalidParameter',
      },
      {
        case: 'a gateway type for an interface-only service',
        command: new CreateVpcEndpointCommand({
          VpcId: REGULATED_VPC,
          ServiceName: service('kms'),
          VpcEndpointType: 'Gateway',
        }),
        code: 'InvalidParameter',
      },
      {
        case: 'a policy that is not JSON',
        command: interfaceEndpoint({ PolicyDocument: '{"Statement":' }),
        code: 'InvalidPolicyDocument',
      },
      {
        case: 'a gateway policy naming a principal',
        command: new CreateVpcEndpointCommand({
          VpcId: SANDBOX_VPC,
          ServiceName: service('s3'),
          PolicyDocument: JSON.stringify({
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: 'arn:aws:iam::111111111111:root' },
                Action: '*',
                Resource: '*',
              },
            ],
          }),
        }),
        code: 'InvalidPolicyDocument',
      },
    ])('rejects $case with $code', async ({ command, code, message }) => {
      // Prepare
      const { account, ec2 } = simulate();

      // Act
      const attempt = ec2.send(command);

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: code,
        ...(message ? { message: expect.stringMatching(message) } : {}),
      });
      expect(account.writes()).toEqual([]);
    });
  });

  describe('ModifyVpcEndpoint', () => {
    it('replaces the policy document', async () => {
      // Prepare
      const { ec2 } = simulate();
      const policy = JSON.stringify({
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }],
      });

      // Act
      await ec2.send(
        new ModifyVpcEndpointCommand({ VpcEndpointId: S3_ENDPOINT, PolicyDocument: policy }),
      );
      const { VpcEndpoints } = await ec2.send(
        new DescribeVpcEndpointsCommand({ VpcEndpointIds: [S3_ENDPOINT] }),
      );

      // Assess
      expect(VpcEndpoints?.[0]?.PolicyDocument).toBe(policy);
    });

    it('resets the policy of a gateway endpoint, but refuses ResetPolicy on an interface endpoint', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const gateway = await ec2.send(
        new ModifyVpcEndpointCommand({ VpcEndpointId: S3_ENDPOINT, ResetPolicy: true }),
      );
      const onInterface = ec2.send(
        new ModifyVpcEndpointCommand({ VpcEndpointId: STS_ENDPOINT, ResetPolicy: true }),
      );

      // Assess
      expect(gateway.Return).toBe(true);
      await expect(onInterface).rejects.toMatchObject({ name: 'InvalidParameter' });
    });

    it('moves a gateway endpoint between route tables, routes included', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      await ec2.send(
        new ModifyVpcEndpointCommand({
          VpcEndpointId: S3_ENDPOINT,
          AddRouteTableIds: [MAIN_TABLE],
          RemoveRouteTableIds: [PRIVATE_TABLE],
        }),
      );

      // Assess
      expect(await routesOf(ec2, MAIN_TABLE)).toContainEqual(
        expect.objectContaining({
          DestinationPrefixListId: S3_PREFIX_LIST,
          GatewayId: S3_ENDPOINT,
        }),
      );
      expect(await routesOf(ec2, PRIVATE_TABLE)).not.toContainEqual(
        expect.objectContaining({ GatewayId: S3_ENDPOINT }),
      );
    });

    it('refuses a second subnet in a zone the interface endpoint already covers', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const attempt = ec2.send(
        new ModifyVpcEndpointCommand({ VpcEndpointId: STS_ENDPOINT, AddSubnetIds: [PUBLIC_A] }),
      );

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'DuplicateSubnetsInSameZone' });
    });

    it('answers InvalidVpcEndpointId.NotFound for an unknown endpoint', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const attempt = ec2.send(
        new ModifyVpcEndpointCommand({
          VpcEndpointId: 'vpce-0ff0000000000000f',
          ResetPolicy: true,
        }),
      );

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'InvalidVpcEndpointId.NotFound' });
    });
  });

  describe('DeleteVpcEndpoints', () => {
    it('deletes endpoints with their routes and lists unknown ids as unsuccessful', async () => {
      // Prepare
      const { ec2 } = simulate();
      const unknown = 'vpce-0ff0000000000000f';

      // Act
      const { Unsuccessful } = await ec2.send(
        new DeleteVpcEndpointsCommand({ VpcEndpointIds: [S3_ENDPOINT, unknown] }),
      );
      const remaining = await endpointIds(ec2);

      // Assess
      expect(Unsuccessful).toEqual([
        {
          ResourceId: unknown,
          Error: {
            Code: 'InvalidVpcEndpointId.NotFound',
            Message: expect.stringContaining(unknown),
          },
        },
      ]);
      expect(remaining).toEqual([STS_ENDPOINT]);
      expect(await routesOf(ec2, PRIVATE_TABLE)).not.toContainEqual(
        expect.objectContaining({ GatewayId: S3_ENDPOINT }),
      );
    });
  });

  describe('routes', () => {
    it('creates a route, then refuses to create it again with RouteAlreadyExists', async () => {
      // Prepare
      const { ec2 } = simulate();
      const route = {
        RouteTableId: MAIN_TABLE,
        DestinationCidrBlock: '0.0.0.0/0',
        NatGatewayId: NAT,
      };

      // Act
      await ec2.send(new CreateRouteCommand(route));
      const again = ec2.send(new CreateRouteCommand(route));

      // Assess
      await expect(again).rejects.toMatchObject({ name: 'RouteAlreadyExists' });
      expect(await routesOf(ec2, MAIN_TABLE)).toContainEqual(
        expect.objectContaining({
          DestinationCidrBlock: '0.0.0.0/0',
          NatGatewayId: NAT,
          State: 'active',
        }),
      );
    });

    it.each([
      {
        case: 'an unknown route table',
        input: { RouteTableId: 'rtb-0ff0000000000000f', NatGatewayId: NAT },
        code: 'InvalidRouteTableID.NotFound',
      },
      {
        case: 'an unknown NAT gateway',
        input: { RouteTableId: MAIN_TABLE, NatGatewayId: 'nat-0ff0000000000000f' },
        code: 'InvalidNatGatewayID.NotFound',
      },
      {
        case: 'an unknown internet gateway',
        input: { RouteTableId: MAIN_TABLE, GatewayId: 'igw-0ff0000000000000f' },
        code: 'InvalidGatewayID.NotFound',
      },
      {
        case: 'a gateway of another VPC',
        input: { RouteTableId: 'rtb-0bb00000000000001', GatewayId: IGW },
        code: 'InvalidParameterValue',
      },
      {
        case: 'two targets',
        input: { RouteTableId: MAIN_TABLE, GatewayId: IGW, NatGatewayId: NAT },
        code: 'InvalidParameterCombination',
      },
    ])('rejects a route to $case with $code', async ({ input, code }) => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const attempt = ec2.send(
        new CreateRouteCommand({ DestinationCidrBlock: '0.0.0.0/0', ...input }),
      );

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: code });
    });

    it('replaces the target of a route', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      await ec2.send(
        new ReplaceRouteCommand({
          RouteTableId: PRIVATE_TABLE,
          DestinationCidrBlock: '0.0.0.0/0',
          GatewayId: IGW,
        }),
      );

      // Assess
      expect(await routesOf(ec2, PRIVATE_TABLE)).toContainEqual({
        DestinationCidrBlock: '0.0.0.0/0',
        GatewayId: IGW,
        State: 'active',
        Origin: 'CreateRoute',
      });
    });

    it('deletes a route, and answers InvalidRoute.NotFound for one that is not there', async () => {
      // Prepare
      const { ec2 } = simulate();
      const route = { RouteTableId: PRIVATE_TABLE, DestinationCidrBlock: '0.0.0.0/0' };

      // Act
      await ec2.send(new DeleteRouteCommand(route));
      const again = ec2.send(new DeleteRouteCommand(route));

      // Assess
      await expect(again).rejects.toMatchObject({ name: 'InvalidRoute.NotFound' });
      expect(await routesOf(ec2, PRIVATE_TABLE)).not.toContainEqual(
        expect.objectContaining({ DestinationCidrBlock: '0.0.0.0/0' }),
      );
    });
  });

  describe('NAT gateways', () => {
    it('turns a deleted NAT gateway deleting, then deleted, and leaves its routes as blackholes', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const { NatGatewayId } = await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: NAT }));
      const first = await natState(ec2, NAT);
      const second = await natState(ec2, NAT);

      // Assess
      expect(NatGatewayId).toBe(NAT);
      expect([first, second]).toEqual(['deleting', 'deleted']);
      expect(await routesOf(ec2, PRIVATE_TABLE)).toContainEqual(
        expect.objectContaining({
          DestinationCidrBlock: '0.0.0.0/0',
          NatGatewayId: NAT,
          State: 'blackhole',
        }),
      );
    });

    it('keeps the Elastic IP of a deleted NAT gateway allocated, releasable once the NAT is gone', async () => {
      // Prepare
      const { account, ec2 } = simulate({ natDeletionDelayCalls: 5 });
      await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: NAT }));

      // Act
      const whileDeleting = ec2.send(new ReleaseAddressCommand({ AllocationId: NAT_ALLOCATION }));
      await expect(whileDeleting).rejects.toMatchObject({ name: 'AuthFailure' });
      account.advance();
      const { Addresses } = await ec2.send(
        new DescribeAddressesCommand({ AllocationIds: [NAT_ALLOCATION] }),
      );
      await ec2.send(new ReleaseAddressCommand({ AllocationId: NAT_ALLOCATION }));

      // Assess
      expect(Addresses).toEqual([
        expect.objectContaining({ AllocationId: NAT_ALLOCATION, PublicIp: '203.0.113.10' }),
      ]);
      expect(Addresses?.[0]?.AssociationId).toBeUndefined();
      await expect(
        ec2.send(new DescribeAddressesCommand({ AllocationIds: [NAT_ALLOCATION] })),
      ).rejects.toMatchObject({
        name: 'InvalidAllocationID.NotFound',
      });
    });

    it('tags an Elastic IP and finds it by tag-key, tag:, allocation-id and association-id filters', async () => {
      // Prepare
      const { account, ec2 } = simulate();
      const { AllocationId: free } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      const allocations = async (Filters: Filter[]) =>
        ((await ec2.send(new DescribeAddressesCommand({ Filters }))).Addresses ?? [])
          .map((address) => address.AllocationId)
          .sort();
      const heldByNat = await allocations([{ Name: 'association-id', Values: ['eipassoc-*'] }]);
      await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: NAT }));
      account.advance();

      // Act
      await ec2.send(
        new CreateTagsCommand({
          Resources: [NAT_ALLOCATION],
          Tags: [
            { Key: 'vpc-guard:released-from', Value: NAT },
            { Key: 'vpc-guard:released-from-vpc', Value: REGULATED_VPC },
          ],
        }),
      );

      // Assess
      expect(await allocations([{ Name: 'tag-key', Values: ['vpc-guard:released-from'] }])).toEqual(
        [NAT_ALLOCATION],
      );
      expect(
        await allocations([
          { Name: 'tag-key', Values: ['vpc-guard:released-from'] },
          { Name: 'tag:vpc-guard:released-from-vpc', Values: [SANDBOX_VPC] },
        ]),
      ).toEqual([]);
      expect(
        await allocations([{ Name: 'tag:vpc-guard:released-from', Values: ['nat-*'] }]),
      ).toEqual([NAT_ALLOCATION]);
      expect(await allocations([{ Name: 'allocation-id', Values: [free!] }])).toEqual([free]);
      expect(heldByNat).toEqual([NAT_ALLOCATION]);
      expect(await allocations([{ Name: 'association-id', Values: ['eipassoc-*'] }])).toEqual([]);
    });

    it('answers InvalidAllocationID.NotFound to CreateTags on an unknown allocation', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const attempt = ec2.send(
        new CreateTagsCommand({
          Resources: ['eipalloc-0ff0000000000000f'],
          Tags: [{ Key: 'vpc-guard:released-from', Value: NAT }],
        }),
      );

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'InvalidAllocationID.NotFound' });
    });

    it('keeps deleted NAT gateways describable, so callers must filter on state', async () => {
      // Prepare
      const { account, ec2 } = simulate();
      await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: NAT }));
      account.advance();

      // Act
      const all = await ec2.send(new DescribeNatGatewaysCommand({}));
      const live = await ec2.send(
        new DescribeNatGatewaysCommand({ Filter: [{ Name: 'state', Values: ['available'] }] }),
      );

      // Assess
      expect(all.NatGateways?.map((nat) => nat.State)).toEqual(['deleted']);
      expect(live.NatGateways).toEqual([]);
    });

    it.each([
      {
        operation: 'DescribeNatGateways',
        command: new DescribeNatGatewaysCommand({ NatGatewayIds: ['nat-0ff0000000000000f'] }),
      },
      {
        operation: 'DeleteNatGateway',
        command: new DeleteNatGatewayCommand({ NatGatewayId: 'nat-0ff0000000000000f' }),
      },
    ])(
      'answers NatGatewayNotFound to $operation for an unknown NAT gateway',
      async ({ command }) => {
        // Prepare
        const { ec2 } = simulate();

        // Act
        const attempt = ec2.send(command as DeleteNatGatewayCommand);

        // Assess
        await expect(attempt).rejects.toMatchObject({ name: 'NatGatewayNotFound' });
      },
    );

    it('creates a NAT gateway on a free Elastic IP, once per ClientToken', async () => {
      // Prepare
      const { ec2 } = simulate();
      const { AllocationId } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      const create = () =>
        new CreateNatGatewayCommand({
          SubnetId: PUBLIC_A,
          AllocationId,
          ClientToken: 'nat-token-1',
        });

      // Act
      const first = await ec2.send(create());
      const second = await ec2.send(create());
      const taken = ec2.send(
        new CreateNatGatewayCommand({ SubnetId: PUBLIC_A, AllocationId: NAT_ALLOCATION }),
      );

      // Assess
      expect(first.NatGateway).toMatchObject({
        State: 'pending',
        VpcId: REGULATED_VPC,
        NatGatewayAddresses: [expect.objectContaining({ AllocationId })],
      });
      expect(second.NatGateway?.NatGatewayId).toBe(first.NatGateway?.NatGatewayId);
      await expect(taken).rejects.toMatchObject({ name: 'Resource.AlreadyAssociated' });
    });
  });

  describe('security groups', () => {
    it('creates a group, and refuses a second group of the same name in the VPC', async () => {
      // Prepare
      const { ec2 } = simulate();
      const group = {
        GroupName: 'vpc-guard-endpoints',
        Description: 'endpoints',
        VpcId: REGULATED_VPC,
      };

      // Act
      const { GroupId } = await ec2.send(new CreateSecurityGroupCommand(group));
      const again = ec2.send(new CreateSecurityGroupCommand(group));

      // Assess
      expect(GroupId).toMatch(/^sg-[0-9a-f]{17}$/);
      await expect(again).rejects.toMatchObject({ name: 'InvalidGroup.Duplicate' });
    });

    it('adds an ingress rule, and refuses the same rule twice', async () => {
      // Prepare
      const { ec2 } = simulate();
      const rule = {
        GroupId: ENDPOINT_GROUP,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.9.0.0/16' }] },
        ],
      };

      // Act
      const added = await ec2.send(new AuthorizeSecurityGroupIngressCommand(rule));
      const again = ec2.send(new AuthorizeSecurityGroupIngressCommand(rule));

      // Assess
      expect(added.SecurityGroupRules).toEqual([
        expect.objectContaining({ CidrIpv4: '10.9.0.0/16', FromPort: 443, IsEgress: false }),
      ]);
      await expect(again).rejects.toMatchObject({ name: 'InvalidPermission.Duplicate' });
    });

    it('refuses to delete a group an endpoint uses with DependencyViolation, and deletes it once free', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const inUse = ec2.send(new DeleteSecurityGroupCommand({ GroupId: ENDPOINT_GROUP }));
      await expect(inUse).rejects.toMatchObject({ name: 'DependencyViolation' });
      await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [STS_ENDPOINT] }));
      await ec2.send(new DescribeVpcEndpointsCommand({}));
      const deleted = await ec2.send(new DeleteSecurityGroupCommand({ GroupId: ENDPOINT_GROUP }));

      // Assess
      expect(deleted).toMatchObject({ Return: true, GroupId: ENDPOINT_GROUP });
    });
  });

  describe('NotFound codes', () => {
    const unknown = (prefix: string) => `${prefix}-0ff0000000000000f`;
    it.each([
      {
        operation: 'DescribeVpcs',
        command: new DescribeVpcsCommand({ VpcIds: [unknown('vpc')] }),
        code: 'InvalidVpcID.NotFound',
      },
      {
        operation: 'DescribeSubnets',
        command: new DescribeSubnetsCommand({ SubnetIds: [unknown('subnet')] }),
        code: 'InvalidSubnetID.NotFound',
      },
      {
        operation: 'DescribeRouteTables',
        command: new DescribeRouteTablesCommand({ RouteTableIds: [unknown('rtb')] }),
        code: 'InvalidRouteTableID.NotFound',
      },
      {
        operation: 'DescribeSecurityGroups',
        command: new DescribeSecurityGroupsCommand({ GroupIds: [unknown('sg')] }),
        code: 'InvalidGroup.NotFound',
      },
      {
        operation: 'DescribeVpcEndpoints',
        command: new DescribeVpcEndpointsCommand({ VpcEndpointIds: [unknown('vpce')] }),
        code: 'InvalidVpcEndpointId.NotFound',
      },
      {
        operation: 'DescribeAddresses',
        command: new DescribeAddressesCommand({ AllocationIds: [unknown('eipalloc')] }),
        code: 'InvalidAllocationID.NotFound',
      },
      {
        operation: 'DescribeVpcs (malformed id)',
        command: new DescribeVpcsCommand({ VpcIds: ['vpc-xyz'] }),
        code: 'InvalidVpcID.Malformed',
      },
      {
        operation: 'CreateTags',
        command: new CreateTagsCommand({
          Resources: [unknown('vpc')],
          Tags: [{ Key: 'a', Value: 'b' }],
        }),
        code: 'InvalidVpcID.NotFound',
      },
    ])('answers $code to $operation with an unknown id', async ({ command, code }) => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const attempt = ec2.send(command as DescribeVpcsCommand);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(EC2ServiceException);
      await expect(attempt).rejects.toMatchObject({
        name: code,
        Code: code,
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    });
  });

  describe('tags and attributes', () => {
    it('adds and removes tags', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      await ec2.send(
        new CreateTagsCommand({
          Resources: [S3_ENDPOINT, NAT],
          Tags: [{ Key: 'owner', Value: 'network' }],
        }),
      );
      await ec2.send(new DeleteTagsCommand({ Resources: [S3_ENDPOINT], Tags: [{ Key: 'Name' }] }));
      const { VpcEndpoints } = await ec2.send(
        new DescribeVpcEndpointsCommand({ VpcEndpointIds: [S3_ENDPOINT] }),
      );
      const { NatGateways } = await ec2.send(
        new DescribeNatGatewaysCommand({ NatGatewayIds: [NAT] }),
      );

      // Assess
      expect(VpcEndpoints?.[0]?.Tags).toEqual([{ Key: 'owner', Value: 'network' }]);
      expect(NatGateways?.[0]?.Tags).toContainEqual({ Key: 'owner', Value: 'network' });
    });

    it('refuses tag keys in the reserved aws: namespace', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      const attempt = ec2.send(
        new CreateTagsCommand({
          Resources: [REGULATED_VPC],
          Tags: [{ Key: 'aws:owner', Value: 'x' }],
        }),
      );

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    });

    it('turns on DNS hostnames, after which the VPC accepts private DNS endpoints', async () => {
      // Prepare
      const { ec2 } = simulate();

      // Act
      await ec2.send(
        new ModifyVpcAttributeCommand({ VpcId: SANDBOX_VPC, EnableDnsHostnames: { Value: true } }),
      );
      const { VpcEndpoint } = await ec2.send(
        interfaceEndpoint({
          VpcId: SANDBOX_VPC,
          SubnetIds: ['subnet-0bb0000000000000a'],
          SecurityGroupIds: [],
        }),
      );

      // Assess
      expect(VpcEndpoint?.PrivateDnsEnabled).toBe(true);
    });
  });

  describe('throttling', () => {
    it('lets the SDK retry throttled calls, with its own backoff, until they succeed', async () => {
      // Prepare
      const { account } = simulate({
        failOn: [{ operation: 'DescribeVpcs', nth: 1, code: 'RequestLimitExceeded' }],
      });
      const ec2 = account.client();

      // Act
      const result = await ec2.send(new DescribeVpcsCommand({}));

      // Assess
      expect(result.$metadata.attempts).toBe(2);
      expect(account.callsOf('DescribeVpcs').map((call) => call.outcome)).toEqual([
        'RequestLimitExceeded',
        'ok',
      ]);
    });

    it('throws RequestLimitExceeded once maxAttempts are spent', async () => {
      // Prepare
      const { account } = simulate({ throttle: { kind: 'rate', every: 1 } });
      const ec2 = account.client({ maxAttempts: 4, retryBackoff: 'none' });

      // Act
      const attempt = ec2.send(new DescribeVpcsCommand({}));

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: 'RequestLimitExceeded',
        $fault: 'server',
        $metadata: { attempts: 4 },
      });
      expect(account.calls).toHaveLength(4);
    });

    it('is retried in adaptive mode as well', async () => {
      // Prepare
      const { account } = simulate({ throttle: { kind: 'rate', every: 2 } });
      const ec2 = account.client({ retryMode: 'adaptive', retryBackoff: 'none' });
      await ec2.send(new DescribeVpcsCommand({}));

      // Act
      const throttledOnce = await ec2.send(new DescribeVpcsCommand({}));

      // Assess
      expect(throttledOnce.$metadata.attempts).toBe(2);
    });

    it('throttles the endpoint calls by their own bucket, refilled by the clock', async () => {
      // Prepare
      let now = Date.parse('2025-06-01T12:00:00Z');
      const { account } = simulate({ throttle: { kind: 'bucket' }, clock: () => now });
      const ec2 = account.client({ maxAttempts: 1 });
      const modify = () =>
        ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: S3_ENDPOINT, ResetPolicy: true }));
      for (let call = 0; call < 4; call += 1) {
        await modify();
      }

      // Act
      const fifth = modify();
      await expect(fifth).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
      const describeMeanwhile = await ec2.send(new DescribeVpcsCommand({}));
      now += 3_400; // 0.3 tokens per second: one token after ~3.3 s
      const afterRefill = await modify();

      // Assess
      expect(describeMeanwhile.Vpcs).toHaveLength(2);
      expect(afterRefill.Return).toBe(true);
    });

    it('gives each account and region its own buckets', async () => {
      // Prepare
      const now = Date.parse('2025-06-01T12:00:00Z');
      const { account } = simulate({
        throttle: { kind: 'bucket', describe: { capacity: 1, refillPerSecond: 1 } },
        clock: () => now,
        regions: ['eu-west-1'],
      });
      const virginia = account.client({ maxAttempts: 1 });
      const ireland = account.client({ region: 'eu-west-1', maxAttempts: 1 });
      await virginia.send(new DescribeVpcsCommand({}));

      // Act
      const virginiaAgain = virginia.send(new DescribeVpcsCommand({}));
      const irelandFirst = await ireland.send(new DescribeVpcsCommand({}));

      // Assess
      await expect(virginiaAgain).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
      expect(irelandFirst.Vpcs).toEqual([]);
    });
  });

  describe('fault injection', () => {
    it('fails the nth call of an operation with the injected code', async () => {
      // Prepare
      const { ec2 } = simulate({
        failOn: [{ operation: 'CreateVpcEndpoint', nth: 2, code: 'UnauthorizedOperation' }],
      });

      // Act
      const first = await ec2.send(interfaceEndpoint());
      const second = ec2.send(interfaceEndpoint({ ServiceName: service('kms') }));
      await expect(second).rejects.toMatchObject({
        name: 'UnauthorizedOperation',
        $metadata: { attempts: 1 },
      });
      const third = await ec2.send(interfaceEndpoint({ ServiceName: service('kms') }));

      // Assess
      expect(first.VpcEndpoint?.State).toBe('pending');
      expect(third.VpcEndpoint?.ServiceName).toBe(service('kms'));
    });

    it('lets the SDK retry an injected InternalError', async () => {
      // Prepare
      const { account, ec2 } = simulate({
        failOn: [{ operation: 'CreateVpcEndpoint', nth: 1, code: 'InternalError' }],
      });

      // Act
      const created = await ec2.send(interfaceEndpoint());

      // Assess
      expect(created.$metadata.attempts).toBe(2);
      expect(account.callsOf('CreateVpcEndpoint').map((call) => call.outcome)).toEqual([
        'InternalError',
        'ok',
      ]);
    });
  });

  describe('call log', () => {
    it('records every call with its outcome, DryRun flag, account, region and clock', async () => {
      // Prepare
      const { account, ec2 } = simulate({ clock: () => 42 });

      // Act
      await ec2.send(new DescribeVpcsCommand({ VpcIds: [REGULATED_VPC] }));
      await ec2
        .send(new DeleteNatGatewayCommand({ NatGatewayId: NAT, DryRun: true }))
        .catch(() => undefined);
      await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: NAT }));

      // Assess
      expect(account.calls).toEqual([
        {
          seq: 1,
          operation: 'DescribeVpcs',
          input: { VpcIds: [REGULATED_VPC] },
          outcome: 'ok',
          dryRun: false,
          mutating: false,
          accountId: ACCOUNT,
          region: REGION,
          at: 42,
        },
        expect.objectContaining({
          seq: 2,
          operation: 'DeleteNatGateway',
          outcome: 'DryRunOperation',
          dryRun: true,
        }),
        expect.objectContaining({
          seq: 3,
          operation: 'DeleteNatGateway',
          outcome: 'ok',
          dryRun: false,
        }),
      ]);
    });

    it('counts as writes only mutating calls that took effect', async () => {
      // Prepare
      const { account, ec2 } = simulate();

      // Act
      await ec2
        .send(new DeleteNatGatewayCommand({ NatGatewayId: NAT, DryRun: true }))
        .catch(() => undefined);
      await ec2
        .send(new DeleteNatGatewayCommand({ NatGatewayId: 'nat-0ff0000000000000f' }))
        .catch(() => undefined);
      await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: NAT }));
      await ec2.send(new DescribeNatGatewaysCommand({}));

      // Assess
      expect(account.writes().map((call) => [call.operation, call.input.NatGatewayId])).toEqual([
        ['DeleteNatGateway', NAT],
      ]);
    });

    it('forgets the log on resetCalls but keeps the state', async () => {
      // Prepare
      const { account, ec2 } = simulate();
      await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: NAT }));

      // Act
      account.resetCalls();

      // Assess
      expect(account.calls).toEqual([]);
      expect(await natState(ec2, NAT)).toBe('deleting');
    });
  });

  it('throws UnsupportedOperation for an operation it does not implement', async () => {
    // Prepare
    const { ec2 } = simulate();

    // Act
    const attempt = ec2.send(new DescribeInstancesCommand({}));

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'UnsupportedOperation',
      message: expect.stringContaining('DescribeInstances'),
    });
  });

  it('generates the same well-formed ids for the same seed', async () => {
    // Prepare
    const create = async () =>
      (await simulate({ seed: 7 }).ec2.send(interfaceEndpoint())).VpcEndpoint?.VpcEndpointId;

    // Act
    const [first, second] = [await create(), await create()];

    // Assess
    expect(first).toMatch(/^vpce-[0-9a-f]{17}$/);
    expect(second).toBe(first);
  });

  describe('snapshots', () => {
    it('exports the snapshot it was built from', () => {
      // Prepare
      const { account } = simulate();

      // Act
      const exported = account.toSnapshot(ACCOUNT, REGION, fixture.collectedAt);

      // Assess
      expect(exported).toEqual(fixture);
    });

    it('fills what a snapshot left out with the values EC2 would report', () => {
      // Prepare
      const minimal: NetworkSnapshotInput = {
        schemaVersion: 1,
        accountId: ACCOUNT,
        region: REGION,
        collectedAt: fixture.collectedAt,
        vpcs: [{ vpcId: REGULATED_VPC, cidrBlocks: ['10.0.0.0/16'] }],
        natGateways: [
          { natGatewayId: NAT, vpcId: REGULATED_VPC, subnetId: PUBLIC_A, state: 'available' },
        ],
      };
      const account = SimulatedAccount.fromSnapshots(minimal);

      // Act
      const exported = account.toSnapshot(ACCOUNT, REGION, fixture.collectedAt);

      // Assess
      expect(exported.vpcs[0]).toMatchObject({
        ownerId: ACCOUNT,
        enableDnsSupport: true,
        enableDnsHostnames: false,
      });
      expect(exported.natGateways[0]?.createTime).toBe(fixture.collectedAt);
    });

    it('loads marked Elastic IPs from a snapshot and exports them, the unmarked ones left out', async () => {
      // Prepare
      const marked = {
        allocationId: 'eipalloc-0aa0000000000000b',
        publicIp: '198.51.100.7',
        tags: { 'vpc-guard:released-from': 'nat-0aa0000000000000b', Name: 'left over' },
      };
      const { account, ec2 } = simulate({}, [{ ...fixture, elasticIps: [marked] }]);

      // Act
      const described = await ec2.send(
        new DescribeAddressesCommand({ AllocationIds: [marked.allocationId] }),
      );
      const exported = account.toSnapshot(ACCOUNT, REGION, fixture.collectedAt);

      // Assess
      expect(described.Addresses).toEqual([
        expect.objectContaining({ PublicIp: marked.publicIp, AssociationId: undefined }),
      ]);
      expect(exported.elasticIps).toEqual([marked]);
    });

    it('exports the changes made through the API', async () => {
      // Prepare
      const { account, ec2 } = simulate();

      // Act
      const { VpcEndpoint } = await ec2.send(interfaceEndpoint());
      await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: NAT }));
      account.advance();
      const exported = account.toSnapshot(ACCOUNT, REGION);

      // Assess
      expect(exported.vpcEndpoints).toContainEqual(
        expect.objectContaining({
          vpcEndpointId: VpcEndpoint?.VpcEndpointId,
          state: 'available',
          securityGroupIds: [ENDPOINT_GROUP],
        }),
      );
      expect(exported.natGateways).toEqual([
        expect.objectContaining({ natGatewayId: NAT, state: 'deleted' }),
      ]);
      expect(
        exported.routeTables.find((table) => table.routeTableId === PRIVATE_TABLE)?.routes,
      ).toContainEqual(expect.objectContaining({ destination: '0.0.0.0/0', state: 'blackhole' }));
    });
  });
});
