import * as z from 'zod';

/**
 * The shapes of the AWS names vpc-guard validates (account ids, partitions, regions, ARNs, EC2
 * resource ids, Organizations ids, SSM parameter names, KMS key references), each defined once for
 * the CLI, the functions and infra. A shape says what a name looks like, not whether it exists:
 * whether a region is one AWS offers is asked on top of this (`isKnownRegion`, regions.ts).
 *
 * This module imports only zod: the CLI's flag parsers load it before any command runs.
 */

/** The partitions AWS has, as ARNs name them (the SDK's partition data). */
export const PARTITIONS = [
  'aws',
  'aws-cn',
  'aws-us-gov',
  'aws-iso',
  'aws-iso-b',
  'aws-iso-e',
  'aws-iso-f',
  'aws-eusc',
] as const;

// Sources of the patterns below, composed into the ARN shapes: no capturing groups, and
// alternatives always inside a group, so that a source can be anchored or embedded as it is.
const ACCOUNT_ID = String.raw`\d{12}`;
const PARTITION = `(?:${PARTITIONS.join('|')})`;
// Two lower-case letters (`eusc` for the European Sovereign Cloud), words, a number:
// `us-east-1`, `us-gov-west-1`, `us-isob-east-1`, `eusc-de-east-1`.
const REGION = String.raw`(?:[a-z]{2}|eusc)(?:-[a-z]+)+-\d{1,2}`;
const HEX_ID = String.raw`[0-9a-f]{8,17}`;
// IAM names: letters, digits and +=,.@_- (a role name at most 64 characters).
const IAM_NAME = String.raw`[\w+=,.@-]`;

/** `^source$`: a source with alternatives at its top level groups them itself. */
function anchored(source: string): RegExp {
  return new RegExp(`^${source}$`);
}

/** The partition shape unanchored, to embed in a larger pattern (no capturing group). */
export const PARTITION_SOURCE = PARTITION;

/** The region shape unanchored, to embed in a larger pattern (no capturing group). */
export const REGION_SOURCE = REGION;

/** A 12-digit AWS account id. */
export const ACCOUNT_ID_PATTERN = anchored(ACCOUNT_ID);

/** A 12-digit AWS account id, e.g. `111111111111`. */
export const AccountIdSchema = z
  .string()
  .regex(ACCOUNT_ID_PATTERN, 'expected a 12-digit AWS account id');

/** An AWS partition, the second field of an ARN: `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`... */
export const PartitionSchema = z.enum(PARTITIONS, {
  error: () => 'expected an AWS partition such as "aws", "aws-cn" or "aws-us-gov"',
});
export type Partition = z.infer<typeof PartitionSchema>;

/** True when `value` is one of {@link PARTITIONS}. */
export function isPartition(value: string): value is Partition {
  return (PARTITIONS as readonly string[]).includes(value);
}

/** The shape of a region name in any partition: `us-east-1`, `us-gov-west-1`, `cn-north-1`. */
export const REGION_PATTERN = anchored(REGION);

/** An AWS region name (shape only; see `isKnownRegion` for the regions AWS offers). */
export const RegionSchema = z
  .string()
  .regex(REGION_PATTERN, 'expected an AWS region such as "us-east-1"');

// The regions outside the `aws` partition, by the prefix of their names (the SDK's partition data).
const PARTITION_OF_REGION_PREFIX: readonly (readonly [prefix: string, partition: Partition])[] = [
  ['cn-', 'aws-cn'],
  ['us-gov-', 'aws-us-gov'],
  ['us-iso-', 'aws-iso'],
  ['us-isob-', 'aws-iso-b'],
  ['eu-isoe-', 'aws-iso-e'],
  ['us-isof-', 'aws-iso-f'],
  ['eusc-', 'aws-eusc'],
];

/** The partition of a region: `aws-cn` for `cn-north-1`, `aws-us-gov` for `us-gov-west-1`, else `aws`. */
export function partitionOf(region: string): Partition {
  return PARTITION_OF_REGION_PREFIX.find(([prefix]) => region.startsWith(prefix))?.[1] ?? 'aws';
}

/** An ARN in its parts: `arn:partition:service:region:account:resource`. */
export interface ArnParts {
  readonly partition: string;
  readonly service: string;
  /** Empty for global resources (IAM, S3). */
  readonly region: string;
  /** Empty where the resource has no account (S3 buckets); `aws` for some AWS-owned ones. */
  readonly account: string;
  /** Everything after the fifth `:`, every further `:` kept: `role/path/name`, `secret:name-AbCdEf`. */
  readonly resource: string;
}

/**
 * Splits an ARN into its parts, or undefined when it is not one (not `arn:`, fewer than six fields).
 * Only the structure is checked, so patterns with `*` split too, and any part may be empty: judge
 * the parts with the shapes here (or validate with {@link ArnSchema}) before trusting them.
 */
export function parseArn(text: string): ArnParts | undefined {
  const fields = text.split(':');
  if (fields.length < 6 || fields[0] !== 'arn') return undefined;
  const [, partition = '', service = '', region = '', account = ''] = fields;
  return { partition, service, region, account, resource: fields.slice(5).join(':') };
}

/** Any ARN of a known partition: service, optional region, optional account (or `aws`), resource. */
export const ARN_PATTERN = anchored(
  String.raw`arn:${PARTITION}:[a-z0-9-]+:(?:${REGION})?:(?:${ACCOUNT_ID}|aws)?:\S+`,
);

/** Any ARN, e.g. `arn:aws:s3:::bucket` or `arn:aws:iam::111111111111:role/Name`. */
export const ArnSchema = z
  .string()
  .regex(ARN_PATTERN, 'expected an ARN such as "arn:aws:iam::111111111111:role/Name"');

/** An IAM role ARN, path allowed; group 1 is the account id. */
export const IAM_ROLE_ARN_PATTERN = new RegExp(
  String.raw`^arn:${PARTITION}:iam::(${ACCOUNT_ID}):role/[\w+=,.@/-]{1,512}$`,
);

/** An IAM role ARN, e.g. `arn:aws:iam::111111111111:role/path/VpcGuardMember`. */
export const IamRoleArnSchema = z
  .string()
  .regex(
    IAM_ROLE_ARN_PATTERN,
    'expected an IAM role ARN such as "arn:aws:iam::111111111111:role/VpcGuardMember"',
  );

/**
 * An STS assumed-role ARN (a role session): groups are the partition, the account id, the role
 * name and the session name. It carries the role's name but not its path.
 */
export const ASSUMED_ROLE_ARN_PATTERN = new RegExp(
  String.raw`^arn:(${PARTITION}):sts::(${ACCOUNT_ID}):assumed-role/(${IAM_NAME}{1,64})/(${IAM_NAME}{1,64})$`,
);

/** An STS assumed-role ARN, e.g. `arn:aws:sts::111111111111:assumed-role/VpcGuardMember/vpc-guard`. */
export const AssumedRoleArnSchema = z
  .string()
  .regex(
    ASSUMED_ROLE_ARN_PATTERN,
    'expected an assumed-role ARN such as "arn:aws:sts::111111111111:assumed-role/Name/session"',
  );

/**
 * The role ARN of a role session: `arn:aws:sts::1…:assumed-role/Name/session` ->
 * `arn:aws:iam::1…:role/Name` (without the path, which the session ARN does not carry). Undefined
 * when `arn` is not an assumed-role ARN.
 */
export function roleArnOfAssumedRole(arn: string): string | undefined {
  const match = ASSUMED_ROLE_ARN_PATTERN.exec(arn);
  return match ? `arn:${match[1]}:iam::${match[2]}:role/${match[3]}` : undefined;
}

/**
 * A role ARN pattern, where `*` stands for any run of characters: a partition or an account of
 * `*`, a role or assumed-role resource with `*` in it (`arn:aws:iam::*:role/vpc-guard-*`).
 */
export const ROLE_ARN_WILDCARD_PATTERN = anchored(
  String.raw`arn:(?:${PARTITION}|\*):(?:iam|sts)::(?:${ACCOUNT_ID}|\*):(?:role|assumed-role)/[\w+=,.@/*-]+`,
);

/** An IAM role name, without its path. */
export const IamRoleNameSchema = z
  .string()
  .regex(anchored(`${IAM_NAME}{1,64}`), 'expected an IAM role name (no path)');

/** The external id a role's trust policy asks for (STS: 2-1224 characters of `[\w+=,.@:/-]`). */
export const EXTERNAL_ID_PATTERN = anchored(String.raw`[\w+=,.@:/-]{2,1224}`);

/** The external id a role's trust policy asks for. */
export const ExternalIdSchema = z
  .string()
  .regex(EXTERNAL_ID_PATTERN, 'expected 2 to 1224 characters of letters, digits and +=,.@:/-_');

/** An SNS topic ARN (standard or FIFO). */
export const SnsTopicArnSchema = z
  .string()
  .regex(
    anchored(String.raw`arn:${PARTITION}:sns:${REGION}:${ACCOUNT_ID}:[\w-]{1,256}(?:\.fifo)?`),
    'expected an SNS topic ARN',
  );

/** A Secrets Manager secret ARN (its name ends with the six characters Secrets Manager adds). */
export const SecretArnSchema = z
  .string()
  .regex(
    anchored(
      String.raw`arn:${PARTITION}:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:[\w/+=.@-]+`,
    ),
    'expected a Secrets Manager secret ARN',
  );

/** An EventBridge bus, by name or by ARN. */
export const EventBusNameOrArnSchema = z
  .string()
  .regex(
    anchored(
      String.raw`(?:[\w.\-/]{1,256}|arn:${PARTITION}:events:${REGION}:${ACCOUNT_ID}:event-bus/[\w.\-/]+)`,
    ),
    'expected an EventBridge bus name or ARN',
  );

/** An AWS Config rule name. */
export const ConfigRuleNameSchema = z
  .string()
  .regex(/^[\w-]{1,128}$/, 'expected an AWS Config rule name');

/** An AWS Config rule ARN; groups are its region and its account id. */
export const CONFIG_RULE_ARN_PATTERN = new RegExp(
  String.raw`^arn:${PARTITION}:config:(${REGION}):(${ACCOUNT_ID}):config-rule/[\w/-]+$`,
);

/** An AWS Config rule ARN, e.g. `arn:aws:config:us-east-1:111111111111:config-rule/config-rule-ab12cd`. */
export const ConfigRuleArnSchema = z
  .string()
  .regex(CONFIG_RULE_ARN_PATTERN, 'expected an AWS Config rule ARN');

// KMS: a key id is a UUID, or `mrk-` and 32 hex digits for a multi-Region key; an alias is
// `alias/` and up to 256 characters of letters, digits, / _ -.
const KMS_KEY_ID = String.raw`(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})`;
const KMS_ALIAS_NAME = String.raw`alias/[\w/-]{1,256}`;
const KMS_ARN = String.raw`arn:${PARTITION}:kms:${REGION}:${ACCOUNT_ID}`;

/** A KMS key id: `1234abcd-12ab-34cd-56ef-1234567890ab`, or `mrk-` and 32 hex digits. */
export const KmsKeyIdSchema = z
  .string()
  .regex(
    anchored(KMS_KEY_ID),
    'expected a KMS key id such as "1234abcd-12ab-34cd-56ef-1234567890ab"',
  );

/** A KMS key ARN: `arn:aws:kms:us-east-1:111111111111:key/<key id>`. */
export const KmsKeyArnSchema = z
  .string()
  .regex(anchored(`${KMS_ARN}:key/${KMS_KEY_ID}`), 'expected a KMS key ARN');

/** A KMS alias name: `alias/vpc-guard-records`. */
export const KmsAliasNameSchema = z
  .string()
  .regex(anchored(KMS_ALIAS_NAME), 'expected a KMS alias name such as "alias/vpc-guard-records"');

/**
 * A KMS key as a caller outside its account or region names it: a key ARN, an alias ARN or an
 * alias name (a bare key id works only in the caller's account and region).
 */
export const KmsKeyReferenceSchema = z
  .string()
  .regex(
    anchored(`(?:${KMS_ARN}:(?:key/${KMS_KEY_ID}|${KMS_ALIAS_NAME})|${KMS_ALIAS_NAME})`),
    'expected a KMS key ARN, alias ARN or alias name',
  );

/** An SSM parameter name: a hierarchy (`/vpc-guard/policy`) or a plain name. */
export const SSM_PARAMETER_NAME_PATTERN = /^\/?[a-zA-Z0-9_.\-/]{1,2047}$/;

/** An SSM parameter name: a hierarchy (`/vpc-guard/policy`) or a plain name. */
export const SsmParameterNameSchema = z
  .string()
  .regex(SSM_PARAMETER_NAME_PATTERN, 'expected an SSM parameter name');

/** An S3 bucket name: 3-63 characters of lower-case letters, digits, dots and hyphens. */
export const S3_BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** An S3 bucket name. */
export const S3BucketNameSchema = z
  .string()
  .regex(S3_BUCKET_NAME_PATTERN, 'expected an S3 bucket name');

/** An AWS Organizations id: `o-` and 10 to 32 lower-case letters or digits. */
export const ORGANIZATION_ID_PATTERN = /^o-[a-z0-9]{10,32}$/;

/** An AWS Organizations id, e.g. `o-a1b2c3d4e5`. */
export const OrganizationIdSchema = z
  .string()
  .regex(ORGANIZATION_ID_PATTERN, 'expected an AWS Organizations id such as "o-a1b2c3d4e5"');

/** An organizational unit id (`ou-<root>-<suffix>`) or the organization root's id (`r-<id>`). */
export const ORGANIZATIONAL_UNIT_ID_PATTERN =
  /^(?:ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/;

/** An OU id or the root id, as StackSets and Organizations take them. */
export const OrganizationalUnitIdSchema = z
  .string()
  .regex(
    ORGANIZATIONAL_UNIT_ID_PATTERN,
    'expected an OU id such as "ou-ab12-cd34ef56" or the root id "r-ab12"',
  );

/** The id prefixes of the EC2 resources vpc-guard reads or writes, by kind. */
export const EC2_ID_PREFIXES = {
  vpc: 'vpc',
  subnet: 'subnet',
  routeTable: 'rtb',
  natGateway: 'nat',
  internetGateway: 'igw',
  egressOnlyInternetGateway: 'eigw',
  vpcEndpoint: 'vpce',
  securityGroup: 'sg',
  elasticIpAllocation: 'eipalloc',
  elasticIpAssociation: 'eipassoc',
  networkInterface: 'eni',
  prefixList: 'pl',
} as const;

/** A kind of EC2 resource id: `vpc`, `subnet`, `routeTable`... */
export type Ec2ResourceIdKind = keyof typeof EC2_ID_PREFIXES;

/** The id of each kind: its prefix, `-`, 8 (older resources) to 17 lower-case hex digits. */
export const EC2_ID_PATTERNS = Object.fromEntries(
  Object.entries(EC2_ID_PREFIXES).map(([kind, prefix]) => [kind, anchored(`${prefix}-${HEX_ID}`)]),
) as { readonly [K in Ec2ResourceIdKind]: RegExp };

/** The schema of an EC2 resource id of one kind, e.g. `ec2IdSchema('vpc')` for `vpc-0a1b2c3d`. */
export function ec2IdSchema(kind: Ec2ResourceIdKind): z.ZodString {
  const prefix = EC2_ID_PREFIXES[kind];
  return z
    .string()
    .regex(
      EC2_ID_PATTERNS[kind],
      `expected an id of the form "${prefix}-" followed by 8 to 17 hex digits`,
    );
}

/** A VPC id: `vpc-0a1b2c3d4e5f60001`. */
export const VpcIdSchema = ec2IdSchema('vpc');
/** A subnet id: `subnet-…`. */
export const SubnetIdSchema = ec2IdSchema('subnet');
/** A route table id: `rtb-…`. */
export const RouteTableIdSchema = ec2IdSchema('routeTable');
/** A NAT gateway id: `nat-…`. */
export const NatGatewayIdSchema = ec2IdSchema('natGateway');
/** An internet gateway id: `igw-…`. */
export const InternetGatewayIdSchema = ec2IdSchema('internetGateway');
/** An egress-only internet gateway id: `eigw-…`. */
export const EgressOnlyInternetGatewayIdSchema = ec2IdSchema('egressOnlyInternetGateway');
/** A VPC endpoint id: `vpce-…`. */
export const VpcEndpointIdSchema = ec2IdSchema('vpcEndpoint');
/** A security group id: `sg-…`. */
export const SecurityGroupIdSchema = ec2IdSchema('securityGroup');
/** An Elastic IP allocation id: `eipalloc-…`. */
export const ElasticIpAllocationIdSchema = ec2IdSchema('elasticIpAllocation');
