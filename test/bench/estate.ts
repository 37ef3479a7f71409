import type { NetworkSnapshotInput } from '../../shared/src/snapshot/schema';

/**
 * A seeded, deterministic estate generator for benchmarks: the same `vpcs` and `seed` always give the
 * same estate. Each VPC looks like a real workload VPC (3 AZs, 6 subnets, 4 route tables, ~10
 * endpoints, a share of NATs and internet gateways), and its endpoint policies mix the shapes found in
 * real estates: the default full-access policy, org data perimeters, account perimeters, the
 * aws-samples shape, Deny perimeters, org-only policies and hand-written role allow-lists. Many texts
 * differ by account, region or VPC, so a policy cache cannot turn the benchmark into a lookup.
 */

type Snapshot = NetworkSnapshotInput;
type VpcInput = NonNullable<Snapshot['vpcs']>[number];
type RouteTableInput = NonNullable<Snapshot['routeTables']>[number];
type EndpointInput = NonNullable<Snapshot['vpcEndpoints']>[number];

/** Options of {@link generateEstate}. */
export interface EstateOptions {
  readonly vpcs: number;
  readonly seed?: number;
  /** VPCs per account and region (one snapshot each). */
  readonly vpcsPerSnapshot?: number;
  readonly organizationId?: string;
}

/** mulberry32: small, fast, good enough to pick shapes; deterministic for a seed. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const REGIONS = [
  {
    region: 'us-east-1',
    zones: ['use1-az1', 'use1-az2', 'use1-az4'],
    s3: 'pl-63a5400a',
    ddb: 'pl-02cd2c6b',
  },
  {
    region: 'eu-west-1',
    zones: ['euw1-az1', 'euw1-az2', 'euw1-az3'],
    s3: 'pl-6da54004',
    ddb: 'pl-6fa54006',
  },
  {
    region: 'us-west-2',
    zones: ['usw2-az1', 'usw2-az2', 'usw2-az3'],
    s3: 'pl-68a54001',
    ddb: 'pl-00a54069',
  },
] as const;

const INTERFACE_SERVICES = [
  'sts',
  'logs',
  'kms',
  'ecr.api',
  'ecr.dkr',
  'secretsmanager',
  'ssm',
  'ec2messages',
  'ssmmessages',
  'monitoring',
] as const;

type PolicyShape =
  | 'default'
  | 'org-perimeter'
  | 'account-perimeter'
  | 'samples'
  | 'deny-perimeter'
  | 'org-only'
  | 'role-allow-list'
  | 'service-wildcard';

/** How often each policy shape appears, roughly as in an estate that is partway to a perimeter. */
const SHAPE_WEIGHTS: readonly (readonly [PolicyShape, number])[] = [
  ['default', 0.18],
  ['org-perimeter', 0.3],
  ['account-perimeter', 0.12],
  ['samples', 0.12],
  ['deny-perimeter', 0.1],
  ['org-only', 0.08],
  ['role-allow-list', 0.06],
  ['service-wildcard', 0.04],
];

function pick<T>(random: () => number, weighted: readonly (readonly [T, number])[]): T {
  let roll = random();
  for (const [value, weight] of weighted) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return weighted[weighted.length - 1]![0];
}

const hex = (value: number, width: number) => value.toString(16).padStart(width, '0');

/** An EC2-style id, unique per (kind, n): `vpc-0` and 16 hex digits. */
function ec2Id(prefix: string, n: number, kind: number): string {
  // Spread the counter over the digits so ids do not share long prefixes (as real ids do not).
  const mixed = Math.imul(n ^ 0x5bd1e995, 0x27d4eb2d) >>> 0;
  return `${prefix}-0${hex(kind, 2)}${hex(mixed, 8)}${hex(n, 6)}`;
}

function policyDocument(
  shape: PolicyShape,
  context: {
    org: string;
    account: string;
    region: string;
    vpcName: string;
    service: string;
    gateway: boolean;
    /** Prefix for statement ids; IaC stacks often stamp their own name in (a per-VPC text). */
    sid: string;
    /** JSON indentation as the account's tooling writes it: 0 (Terraform jsonencode), 2 or 4. */
    indent: number;
  },
): string {
  const principal = context.gateway ? '*' : { AWS: '*' };
  const { org, account, region, service, sid } = context;
  let statements: unknown[];
  switch (shape) {
    case 'default':
      // EC2 returns the default policy in this exact layout.
      return '{\n  "Statement": [\n    {\n      "Action": "*",\n      "Effect": "Allow",\n      "Principal": "*",\n      "Resource": "*"\n    }\n  ]\n}';
    case 'org-perimeter':
      statements = [
        {
          Sid: `${sid}AllowOrgIdentitiesToOrgResources`,
          Effect: 'Allow',
          Principal: principal,
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalOrgID': org, 'aws:ResourceOrgID': org } },
        },
      ];
      break;
    case 'account-perimeter':
      statements = [
        {
          Sid: `${sid}AllowAccount${account}`,
          Effect: 'Allow',
          Principal: principal,
          Action: '*',
          Resource: '*',
          Condition: {
            StringEquals: { 'aws:PrincipalAccount': account, 'aws:ResourceAccount': account },
          },
        },
      ];
      break;
    case 'samples':
      statements = [
        {
          Sid: `${sid}AllowRequestsByOrgsIdentitiesToOrgsResources`,
          Effect: 'Allow',
          Principal: principal,
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalOrgID': org, 'aws:ResourceOrgID': org } },
        },
        {
          Sid: 'AllowRequestsByAWSServicePrincipals',
          Effect: 'Allow',
          Principal: principal,
          Action: '*',
          Resource: '*',
          Condition: { Bool: { 'aws:PrincipalIsAWSService': 'true' } },
        },
      ];
      if (service === 's3') {
        statements.push({
          Sid: 'AllowRequestsToAWSOwnedResources',
          Effect: 'Allow',
          Principal: principal,
          Action: ['s3:GetObject'],
          Resource: [
            `arn:aws:s3:::packages.${region}.amazonaws.com/*`,
            `arn:aws:s3:::repo.${region}.amazonaws.com/*`,
            `arn:aws:s3:::amazonlinux.${region}.amazonaws.com/*`,
            `arn:aws:s3:::amazonlinux-2-repos-${region}/*`,
            `arn:aws:s3:::al2023-repos-${region}-de612dc2/*`,
            `arn:aws:s3:::aws-ssm-${region}/*`,
            `arn:aws:s3:::prod-${region}-starport-layer-bucket/*`,
          ],
        });
      }
      break;
    case 'deny-perimeter':
      statements = [
        { Sid: 'AllowAll', Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
        {
          Sid: `${sid}DenyIdentitiesOutsideOrg`,
          Effect: 'Deny',
          Principal: '*',
          Action: '*',
          Resource: '*',
          Condition: { StringNotEqualsIfExists: { 'aws:PrincipalOrgID': org } },
        },
        {
          Sid: 'DenyResourcesOutsideOrg',
          Effect: 'Deny',
          Principal: '*',
          Action: '*',
          Resource: '*',
          Condition: { StringNotEqualsIfExists: { 'aws:ResourceOrgID': org } },
        },
      ];
      break;
    case 'org-only':
      statements = [
        {
          Sid: `${sid}AllowOrgIdentities`,
          Effect: 'Allow',
          Principal: principal,
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalOrgID': org } },
        },
      ];
      break;
    case 'role-allow-list': {
      // Hand-written: named roles of the account, on resources of the account. Unique per VPC.
      const prefix = service.split('.')[0]!;
      statements = [
        {
          Sid: 'AllowWorkloadRoles',
          Effect: 'Allow',
          Principal: {
            AWS: [
              `arn:aws:iam::${account}:role/${context.vpcName}-app`,
              `arn:aws:iam::${account}:role/${context.vpcName}-deploy`,
            ],
          },
          Action: [`${prefix}:Get*`, `${prefix}:List*`, `${prefix}:Describe*`],
          Resource: `arn:aws:${prefix}:${region}:${account}:*`,
        },
      ];
      break;
    }
    case 'service-wildcard':
      statements = [
        {
          Sid: 'AllowService',
          Effect: 'Allow',
          Principal: '*',
          Action: `${service.split('.')[0]}:*`,
          Resource: '*',
        },
      ];
      break;
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, context.indent);
}

/**
 * Generates `options.vpcs` VPCs as snapshots of `vpcsPerSnapshot` VPCs each, accounts numbered from
 * 100000000000 and spread over three regions, one snapshot at a time (so a caller can validate each
 * and let its input go, as collection does, instead of holding two copies of the estate).
 */
export function* generateSnapshots(options: EstateOptions): Generator<Snapshot> {
  const random = createRandom(options.seed ?? 20261120);
  const org = options.organizationId ?? 'o-a1b2c3d4e5';
  const perSnapshot = options.vpcsPerSnapshot ?? 25;
  let snapshotIndex = -1;
  let counter = 0;
  const next = () => (counter += 1);

  for (let first = 0; first < options.vpcs; first += perSnapshot) {
    snapshotIndex += 1;
    const account = String(100_000_000_000 + Math.floor(snapshotIndex / 2) * 7919);
    const regionInfo = REGIONS[snapshotIndex % REGIONS.length]!;
    const { region } = regionInfo;
    const snapshot = {
      schemaVersion: 1 as const,
      accountId: account,
      region,
      collectedAt: '2026-11-20T09:00:00Z',
      vpcs: [] as VpcInput[],
      subnets: [] as NonNullable<Snapshot['subnets']>,
      routeTables: [] as RouteTableInput[],
      natGateways: [] as NonNullable<Snapshot['natGateways']>,
      internetGateways: [] as NonNullable<Snapshot['internetGateways']>,
      egressOnlyInternetGateways: [],
      vpcEndpoints: [] as EndpointInput[],
      securityGroups: [] as NonNullable<Snapshot['securityGroups']>,
    };
    // Each account leans towards one policy shape, as real accounts follow their team's template.
    const accountShape = pick(random, SHAPE_WEIGHTS);
    const indent = pick(random, [
      [0, 0.5],
      [2, 0.35],
      [4, 0.15],
    ] as const);

    const count = Math.min(perSnapshot, options.vpcs - first);
    for (let i = 0; i < count; i += 1) {
      const n = next();
      const octet = i % 250;
      const base = `10.${octet}`;
      const vpcId = ec2Id('vpc', n, 1);
      const vpcName = `workload-${hex(n, 5)}`;
      const sandbox = random() < 0.12;
      // Template-built VPCs are complete; legacy ones (a third) carry the gaps rules look for.
      const legacy = random() < 0.3;
      const exemptRoll = random();
      const tags: Record<string, string> = {
        Name: vpcName,
        Environment: sandbox ? 'development' : 'production',
        CostCenter: `CC-${1000 + (n % 97)}`,
      };
      if (sandbox) tags['vpc-guard:profile'] = 'sandbox';
      if (exemptRoll < 0.03)
        tags['vpc-guard:exempt'] = 'until=2027-03-31; reason=CHG-4211 migration';
      else if (exemptRoll < 0.05)
        tags['vpc-guard:exempt'] = 'until=2026-09-30; reason=CHG-3870 cut-over';
      snapshot.vpcs.push({
        vpcId,
        ownerId: account,
        cidrBlocks: [`${base}.0.0/16`],
        enableDnsSupport: true,
        enableDnsHostnames: !legacy || random() > 0.1,
        tags,
      });

      const internet = sandbox || (legacy && random() < 0.3);
      const nat = internet && (sandbox || random() < 0.6);
      const appSubnets: string[] = [];
      const tables: RouteTableInput[] = [
        {
          routeTableId: ec2Id('rtb', n, 1),
          vpcId,
          main: true,
          routes: [
            {
              destination: `${base}.0.0/16`,
              target: { type: 'local', id: 'local' },
              origin: 'createroutetable',
            },
          ],
        },
      ];
      const igwId = ec2Id('igw', n, 1);
      const natId = ec2Id('nat', n, 1);
      for (let az = 0; az < 3; az += 1) {
        const zoneId = regionInfo.zones[az]!;
        const zone = `${region}${'abc'[az]}`;
        const app = ec2Id('subnet', n, 10 + az);
        const data = ec2Id('subnet', n, 20 + az);
        appSubnets.push(app);
        snapshot.subnets.push(
          {
            subnetId: app,
            vpcId,
            availabilityZone: zone,
            availabilityZoneId: zoneId,
            cidrBlock: `${base}.${az * 32}.0/19`,
            tags: { Name: `${vpcName}-app-${zone}` },
          },
          {
            subnetId: data,
            vpcId,
            availabilityZone: zone,
            availabilityZoneId: zoneId,
            cidrBlock: `${base}.${96 + az * 8}.0/21`,
            tags: { Name: `${vpcName}-data-${zone}` },
          },
        );
        // Three private tables and a public one: four tables serving subnets (plus main).
        tables.push({
          routeTableId: ec2Id('rtb', n, 10 + az),
          vpcId,
          subnetIds: [app, data],
          routes: [
            {
              destination: `${base}.0.0/16`,
              target: { type: 'local', id: 'local' },
              origin: 'createroutetable',
            },
            ...(nat
              ? [{ destination: '0.0.0.0/0', target: { type: 'nat' as const, id: natId } }]
              : []),
          ],
          tags: { Name: `${vpcName}-private-${zone}` },
        });
      }
      if (internet) {
        const publicSubnet = ec2Id('subnet', n, 30);
        snapshot.subnets.push({
          subnetId: publicSubnet,
          vpcId,
          availabilityZone: `${region}a`,
          availabilityZoneId: regionInfo.zones[0],
          cidrBlock: `${base}.200.0/24`,
          mapPublicIpOnLaunch: true,
          tags: { Name: `${vpcName}-public` },
        });
        tables.push({
          routeTableId: ec2Id('rtb', n, 30),
          vpcId,
          subnetIds: [publicSubnet],
          routes: [
            {
              destination: `${base}.0.0/16`,
              target: { type: 'local', id: 'local' },
              origin: 'createroutetable',
            },
            { destination: '0.0.0.0/0', target: { type: 'igw', id: igwId } },
          ],
        });
        snapshot.internetGateways.push({
          internetGatewayId: igwId,
          attachments: [{ vpcId, state: 'available' }],
        });
        if (nat) {
          snapshot.natGateways.push({
            natGatewayId: natId,
            vpcId,
            subnetId: publicSubnet,
            state: 'available',
            allocationIds: [ec2Id('eipalloc', n, 1)],
            publicIps: [`3.${(n >> 8) & 255}.${n & 255}.${10 + (n % 200)}`],
            privateIps: [`${base}.200.${10 + (n % 200)}`],
          });
        }
      }

      const sgId = ec2Id('sg', n, 1);
      snapshot.securityGroups.push({
        groupId: sgId,
        vpcId,
        groupName: `${vpcName}-endpoints`,
        ingress: [
          { ipProtocol: 'tcp', fromPort: 443, toPort: 443, ipv4Ranges: [`${base}.0.0/16`] },
        ],
      });
      // VPCs follow their account's shape; a few endpoints drift.
      const shapeFor = () => (random() < 0.95 ? accountShape : pick(random, SHAPE_WEIGHTS));
      const sid = random() < 0.3 ? `Workload${hex(n, 5)}` : '';
      const servingTables = tables
        .filter((table) => !table.main)
        .map((table) => table.routeTableId);
      const gateways: [string, string][] = [
        ['s3', regionInfo.s3],
        ['dynamodb', regionInfo.ddb],
      ];
      gateways.forEach(([service, prefixList], index) => {
        const vpceId = ec2Id('vpce', n, index);
        const skipLast = legacy && random() < 0.15;
        const routeTableIds = skipLast ? servingTables.slice(0, -1) : servingTables;
        for (const table of tables) {
          if (routeTableIds.includes(table.routeTableId)) {
            table.routes!.push({ destination: prefixList, target: { type: 'vpce', id: vpceId } });
          }
        }
        snapshot.vpcEndpoints.push({
          vpcEndpointId: vpceId,
          vpcId,
          serviceName: `com.amazonaws.${region}.${service}`,
          type: 'Gateway',
          state: 'available',
          policyDocument: policyDocument(shapeFor(), {
            org,
            account,
            region,
            vpcName,
            service,
            gateway: true,
            sid,
            indent,
          }),
          routeTableIds,
        });
      });
      INTERFACE_SERVICES.forEach((service, index) => {
        // ~8 interface endpoints per VPC: some services are skipped, as in real VPCs.
        if (random() < (legacy ? 0.25 : 0.02)) return;
        const azs = legacy && random() < 0.15 ? 1 : 3;
        snapshot.vpcEndpoints.push({
          vpcEndpointId: ec2Id('vpce', n, 10 + index),
          vpcId,
          serviceName: `com.amazonaws.${region}.${service}`,
          type: 'Interface',
          state: legacy && random() < 0.03 ? 'failed' : 'available',
          policyDocument: policyDocument(shapeFor(), {
            org,
            account,
            region,
            vpcName,
            service,
            gateway: false,
            sid,
            indent,
          }),
          privateDnsEnabled: !legacy || random() > 0.15,
          subnetIds: appSubnets.slice(0, azs),
          securityGroupIds: [sgId],
        });
      });
      snapshot.routeTables.push(...tables);
    }
    yield snapshot;
  }
}

/** The whole estate of {@link generateSnapshots} as one array. */
export function generateEstate(options: EstateOptions): Snapshot[] {
  return [...generateSnapshots(options)];
}
