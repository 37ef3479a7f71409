import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { KNOWN_REGIONS_BY_PARTITION } from '../../../shared/src/aws/regions';
import {
  AccountIdSchema,
  ArnSchema,
  AssumedRoleArnSchema,
  ConfigRuleArnSchema,
  EC2_ID_PREFIXES,
  ElasticIpAllocationIdSchema,
  EventBusNameOrArnSchema,
  ExternalIdSchema,
  IamRoleArnSchema,
  IamRoleNameSchema,
  KmsAliasNameSchema,
  KmsKeyArnSchema,
  KmsKeyIdSchema,
  KmsKeyReferenceSchema,
  OrganizationIdSchema,
  OrganizationalUnitIdSchema,
  PartitionSchema,
  ROLE_ARN_WILDCARD_PATTERN,
  RegionSchema,
  S3BucketNameSchema,
  SecretArnSchema,
  SecurityGroupIdSchema,
  SnsTopicArnSchema,
  SsmParameterNameSchema,
  SubnetIdSchema,
  VpcEndpointIdSchema,
  VpcIdSchema,
  ec2IdSchema,
  parseArn,
  partitionOf,
  roleArnOfAssumedRole,
  type Ec2ResourceIdKind,
} from '../../../shared/src/aws/shapes';

/** The first issue's message, or undefined when `value` passes. */
function problem(schema: z.ZodType, value: string): string | undefined {
  const result = schema.safeParse(value);
  return result.success ? undefined : result.error.issues[0]?.message;
}

interface ShapeCase {
  readonly name: string;
  readonly schema: z.ZodType;
  readonly accepts: readonly string[];
  readonly rejects: readonly string[];
  /** What the message of a rejection names. */
  readonly expected: RegExp;
}

const SHAPES: readonly ShapeCase[] = [
  {
    name: 'account id',
    schema: AccountIdSchema,
    accepts: ['111111111111', '000000000000'],
    rejects: ['11111111111', '1111111111111', '11111111111a', ' 111111111111', '1111-1111-1111'],
    expected: /expected a 12-digit AWS account id/,
  },
  {
    name: 'partition',
    schema: PartitionSchema,
    accepts: ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f'],
    rejects: ['AWS', 'aws-', 'awscn', 'aws-gov', 'aws-us', 'aws-iso-bb', 'aws-china', '*'],
    expected: /expected an AWS partition such as "aws"/,
  },
  {
    name: 'region',
    schema: RegionSchema,
    accepts: [
      'us-east-1',
      'us-gov-west-1',
      'cn-north-1',
      'il-central-1',
      'ap-southeast-5',
      'mx-central-1',
      'us-iso-east-1',
      'us-isob-east-1',
      'eu-isoe-west-1',
      'eusc-de-east-1',
    ],
    rejects: [
      'us-east-1a',
      'US-EAST-1',
      'us_east_1',
      'useast1',
      'us-east',
      'us-east-123',
      'mars-1',
      'Europe',
      'u-east-1',
    ],
    expected: /expected an AWS region such as "us-east-1"/,
  },
  {
    name: 'ARN',
    schema: ArnSchema,
    accepts: [
      'arn:aws:s3:::my-bucket/key',
      'arn:aws:iam::111111111111:role/Name',
      'arn:aws-cn:ec2:cn-north-1:111111111111:vpc/vpc-0a1b2c3d',
      'arn:aws:ssm:us-east-1::parameter/aws/service/ami',
      'arn:aws:imagebuilder:us-east-1:aws:component/x',
    ],
    rejects: [
      'arn:aws:s3:::',
      'arn:awsx:s3:::bucket',
      'arn:aws:iam::11111111111:role/Name',
      'arn:aws:ec2:us-east-1a:111111111111:vpc/vpc-0a1b2c3d',
      'aws:iam::111111111111:role/Name',
    ],
    expected: /expected an ARN such as/,
  },
  {
    name: 'IAM role ARN',
    schema: IamRoleArnSchema,
    accepts: [
      'arn:aws:iam::111111111111:role/VpcGuardMember',
      'arn:aws:iam::111111111111:role/service-role/path/VpcGuard+Member=,.@_-',
      'arn:aws-us-gov:iam::111111111111:role/VpcGuardMember',
      'arn:aws-cn:iam::111111111111:role/VpcGuardMember',
      'arn:aws-iso-b:iam::111111111111:role/VpcGuardMember',
    ],
    rejects: [
      'arn:aws:iam::111111111111:user/alice',
      'arn:aws:iam::111111111111:role/',
      'arn:aws:iam:us-east-1:111111111111:role/VpcGuardMember',
      'arn:aws:sts::111111111111:role/VpcGuardMember',
      'arn:aws:iam::{accountId}:role/VpcGuardMember',
      'arn:aws-x:iam::111111111111:role/VpcGuardMember',
      'VpcGuardMember',
    ],
    expected: /expected an IAM role ARN such as/,
  },
  {
    name: 'assumed-role ARN',
    schema: AssumedRoleArnSchema,
    accepts: [
      'arn:aws:sts::111111111111:assumed-role/VpcGuardMember/vpc-guard',
      'arn:aws-us-gov:sts::111111111111:assumed-role/Name/i-0a1b2c3d4e5f60001',
    ],
    rejects: [
      'arn:aws:sts::111111111111:assumed-role/VpcGuardMember',
      'arn:aws:sts::111111111111:assumed-role/a/b/c',
      'arn:aws:iam::111111111111:assumed-role/Name/session',
      'arn:aws:sts::111111111111:federated-user/alice',
    ],
    expected: /expected an assumed-role ARN such as/,
  },
  {
    name: 'IAM role name',
    schema: IamRoleNameSchema,
    accepts: ['VpcGuardMember', 'a+b=c,d.e@f_g-h', 'x'.repeat(64)],
    rejects: ['', 'path/Name', 'x'.repeat(65), 'with space'],
    expected: /expected an IAM role name \(no path\)/,
  },
  {
    name: 'external id',
    schema: ExternalIdSchema,
    accepts: ['ab', 'vpc-guard:1234/x=y', 'x'.repeat(1224)],
    rejects: ['a', 'x'.repeat(1225), 'with space', 'semi;colon'],
    expected: /expected 2 to 1224 characters/,
  },
  {
    name: 'SNS topic ARN',
    schema: SnsTopicArnSchema,
    accepts: [
      'arn:aws:sns:us-east-1:111111111111:vpc-guard-findings',
      'arn:aws-cn:sns:cn-north-1:111111111111:alerts.fifo',
    ],
    rejects: [
      'alerts',
      'arn:aws:sns:us-east-1:111111111111:',
      'arn:aws:sqs:us-east-1:111111111111:q',
    ],
    expected: /expected an SNS topic ARN/,
  },
  {
    name: 'Secrets Manager secret ARN',
    schema: SecretArnSchema,
    accepts: ['arn:aws:secretsmanager:us-east-1:111111111111:secret:slack-AbCdEf'],
    rejects: ['slack', 'arn:aws:secretsmanager:us-east-1:111111111111:slack-AbCdEf'],
    expected: /expected a Secrets Manager secret ARN/,
  },
  {
    name: 'EventBridge bus',
    schema: EventBusNameOrArnSchema,
    accepts: ['default', 'vpc-guard', 'arn:aws:events:us-east-1:111111111111:event-bus/vpc-guard'],
    rejects: ['', 'bus name', 'arn:aws:events:us-east-1:111111111111:rule/x'],
    expected: /expected an EventBridge bus name or ARN/,
  },
  {
    name: 'Config rule ARN',
    schema: ConfigRuleArnSchema,
    accepts: ['arn:aws:config:us-east-1:111111111111:config-rule/config-rule-ab12cd'],
    rejects: [
      'arn:aws:config:us-east-1:111111111111:rule/config-rule-ab12cd',
      'arn:aws:config::111111111111:config-rule/config-rule-ab12cd',
    ],
    expected: /expected an AWS Config rule ARN/,
  },
  {
    name: 'KMS key id',
    schema: KmsKeyIdSchema,
    accepts: ['1234abcd-12ab-34cd-56ef-1234567890ab', `mrk-${'a'.repeat(32)}`],
    rejects: [
      '1234abcd-12ab-34cd-56ef-1234567890a',
      '1234ABCD-12AB-34CD-56EF-1234567890AB',
      'mrk-1',
    ],
    expected: /expected a KMS key id such as/,
  },
  {
    name: 'KMS key ARN',
    schema: KmsKeyArnSchema,
    accepts: [
      'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      `arn:aws-us-gov:kms:us-gov-west-1:111111111111:key/mrk-${'0'.repeat(32)}`,
    ],
    rejects: [
      'arn:aws:kms:us-east-1:111111111111:alias/vpc-guard-records',
      'arn:aws:kms:us-east-1:111111111111:key/not-a-key',
      '1234abcd-12ab-34cd-56ef-1234567890ab',
    ],
    expected: /expected a KMS key ARN/,
  },
  {
    name: 'KMS alias name',
    schema: KmsAliasNameSchema,
    accepts: ['alias/vpc-guard-records', 'alias/team/records_1'],
    rejects: ['vpc-guard-records', 'alias/', 'alias/with space'],
    expected: /expected a KMS alias name such as/,
  },
  {
    name: 'KMS key reference',
    schema: KmsKeyReferenceSchema,
    accepts: [
      'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'arn:aws:kms:us-east-1:111111111111:alias/vpc-guard-records',
      'alias/vpc-guard-records',
    ],
    rejects: ['', 'arn:aws:kms:us-east-1:111111111111:alias/', 'arn:aws:s3:::bucket'],
    expected: /expected a KMS key ARN, alias ARN or alias name/,
  },
  {
    name: 'SSM parameter name',
    schema: SsmParameterNameSchema,
    accepts: ['/vpc-guard/policy', 'vpc-guard-policy', '/a_b.c-d/e'],
    rejects: ['', '/with space', 'semi;colon', `/${'x'.repeat(2048)}`],
    expected: /expected an SSM parameter name/,
  },
  {
    name: 'S3 bucket name',
    schema: S3BucketNameSchema,
    accepts: ['vpc-guard-config', 'a.b.c', 'abc'],
    rejects: ['ab', 'Upper', '-leading', 'trailing-', 'x'.repeat(64)],
    expected: /expected an S3 bucket name/,
  },
  {
    name: 'Organizations id',
    schema: OrganizationIdSchema,
    accepts: ['o-a1b2c3d4e5', `o-${'a'.repeat(32)}`],
    rejects: ['o-BAD', 'o-a1b2c3d4e', 'a1b2c3d4e5', `o-${'a'.repeat(33)}`],
    expected: /expected an AWS Organizations id such as "o-a1b2c3d4e5"/,
  },
  {
    name: 'OU or root id',
    schema: OrganizationalUnitIdSchema,
    accepts: ['ou-ab12-cd34ef56', 'r-ab12'],
    rejects: ['workloads', 'ou-ab12', 'r-ab1', 'OU-AB12-CD34EF56'],
    expected: /expected an OU id such as "ou-ab12-cd34ef56" or the root id "r-ab12"/,
  },
];

describe.each(SHAPES)('the $name shape', ({ schema, accepts, rejects, expected }) => {
  it.each(accepts)('accepts %s', (value) => {
    // Act
    const found = problem(schema, value);

    // Assess
    expect(found).toBeUndefined();
  });

  it.each(rejects)('rejects %s, saying what was expected', (value) => {
    // Act
    const found = problem(schema, value);

    // Assess
    expect(found).toMatch(expected);
  });
});

describe('EC2 resource id shapes', () => {
  const KINDS = Object.keys(EC2_ID_PREFIXES) as Ec2ResourceIdKind[];

  it.each(KINDS)('accept a %s id of 8 and of 17 hex digits', (kind) => {
    // Prepare
    const prefix = EC2_ID_PREFIXES[kind];
    const schema = ec2IdSchema(kind);

    // Act
    const short = problem(schema, `${prefix}-0a1b2c3d`);
    const long = problem(schema, `${prefix}-0a1b2c3d4e5f60718`);

    // Assess
    expect(short).toBeUndefined();
    expect(long).toBeUndefined();
  });

  it.each(KINDS)('reject near-misses of a %s id, naming the prefix expected', (kind) => {
    // Prepare
    const prefix = EC2_ID_PREFIXES[kind];
    const schema = ec2IdSchema(kind);
    const nearMisses = [
      `${prefix}-0a1b2c3`,
      `${prefix}-0a1b2c3d4e5f607189`,
      `${prefix}-0A1B2C3D`,
      `${prefix}-0a1b2c3g`,
      `${prefix}0a1b2c3d`,
      `x${prefix}-0a1b2c3d`,
    ];

    // Act
    const messages = nearMisses.map((value) => problem(schema, value));

    // Assess
    for (const message of messages) {
      expect(message).toBe(
        `expected an id of the form "${prefix}-" followed by 8 to 17 hex digits`,
      );
    }
  });

  it.each([
    [VpcIdSchema, 'subnet-0a1b2c3d'],
    [SubnetIdSchema, 'vpc-0a1b2c3d'],
    [VpcEndpointIdSchema, 'vpc-0a1b2c3d'],
    [SecurityGroupIdSchema, 'sgr-0a1b2c3d'],
    [ElasticIpAllocationIdSchema, 'eipassoc-0a1b2c3d'],
  ])('reject an id of another kind (%#)', (schema, value) => {
    // Act
    const found = problem(schema, value);

    // Assess
    expect(found).toMatch(/^expected an id of the form/);
  });
});

describe('partitionOf', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['il-central-1', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
    ['eu-isoe-west-1', 'aws-iso-e'],
    ['us-isof-south-1', 'aws-iso-f'],
  ])('puts %s in %s', (region, partition) => {
    // Act
    const found = partitionOf(region);

    // Assess
    expect(found).toBe(partition);
  });

  it('knows the partition of every region on the known list', () => {
    // Act
    const misplaced = [...KNOWN_REGIONS_BY_PARTITION].flatMap(([partition, regions]) =>
      regions.filter((region) => partitionOf(region) !== partition),
    );

    const unnamed = [...KNOWN_REGIONS_BY_PARTITION.keys()].filter(
      (partition) => problem(PartitionSchema, partition) !== undefined,
    );

    // Assess
    expect(misplaced).toEqual([]);
    expect(unnamed).toEqual([]);
  });

  it('gives every known region the region shape', () => {
    // Act
    const shapeless = [...KNOWN_REGIONS_BY_PARTITION.values()]
      .flat()
      .filter((region) => problem(RegionSchema, region) !== undefined);

    // Assess
    expect(shapeless).toEqual([]);
  });
});

describe('parseArn', () => {
  it('splits an ARN into its parts, keeping every colon of the resource', () => {
    // Act
    const parts = parseArn('arn:aws:secretsmanager:us-east-1:111111111111:secret:slack:AbCdEf');

    // Assess
    expect(parts).toEqual({
      partition: 'aws',
      service: 'secretsmanager',
      region: 'us-east-1',
      account: '111111111111',
      resource: 'secret:slack:AbCdEf',
    });
  });

  it('splits a pattern with wildcards, which the shapes then judge', () => {
    // Act
    const parts = parseArn('arn:*:iam::*:role/vpc-guard-*');

    // Assess
    expect(parts).toMatchObject({ partition: '*', service: 'iam', region: '', account: '*' });
  });

  it('keeps an empty part empty, for the caller to judge', () => {
    // Act
    const parts = parseArn('arn:aws:s3:::');

    // Assess
    expect(parts).toEqual({
      partition: 'aws',
      service: 's3',
      region: '',
      account: '',
      resource: '',
    });
  });

  it.each(['', 'arn:aws:iam::111111111111', 'urn:aws:iam::1:role/x', 'role/x'])(
    'returns undefined for %j',
    (text) => {
      // Act
      const parts = parseArn(text);

      // Assess
      expect(parts).toBeUndefined();
    },
  );
});

describe('roleArnOfAssumedRole', () => {
  it.each([
    [
      'arn:aws:sts::111111111111:assumed-role/VpcGuardMember/vpc-guard',
      'arn:aws:iam::111111111111:role/VpcGuardMember',
    ],
    [
      'arn:aws-us-gov:sts::111111111111:assumed-role/Name/session',
      'arn:aws-us-gov:iam::111111111111:role/Name',
    ],
  ])('turns %s into %s', (session, role) => {
    // Act
    const found = roleArnOfAssumedRole(session);

    // Assess
    expect(found).toBe(role);
  });

  it.each([
    'arn:aws:iam::111111111111:role/VpcGuardMember',
    'arn:aws:sts::111111111111:assumed-role/Name',
    'arn:aws:sts::1:assumed-role/Name/session',
    'arn:aws:iam::111111111111:user/a:role/X',
  ])('returns undefined for %s, not a role session', (arn) => {
    // Act
    const found = roleArnOfAssumedRole(arn);

    // Assess
    expect(found).toBeUndefined();
  });
});

describe('role ARN patterns with wildcards', () => {
  it.each([
    'arn:aws:iam::111111111111:role/vpc-guard-api-event',
    'arn:aws:iam::*:role/VpcGuardMember',
    'arn:*:iam::*:role/VpcGuardMember',
    'arn:aws:sts::111111111111:assumed-role/vpc-guard-*/*',
    'arn:aws-cn:iam::111111111111:role/path/vpc-guard-*',
  ])('accept %s', (pattern) => {
    // Act
    const matches = ROLE_ARN_WILDCARD_PATTERN.test(pattern);

    // Assess
    expect(matches).toBe(true);
  });

  it.each([
    'vpc-guard',
    'arn:aws:iam::111111111111:user/vpc-guard',
    'arn:aws:iam::1111:role/x',
    'arn:aws*:iam::*:role/x',
    'arn:aws:iam:us-east-1:*:role/x',
  ])('reject %s', (pattern) => {
    // Act
    const matches = ROLE_ARN_WILDCARD_PATTERN.test(pattern);

    // Assess
    expect(matches).toBe(false);
  });
});
