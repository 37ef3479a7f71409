import { PARTITION_SOURCE, REGION_SOURCE, partitionOf } from '../aws/shapes';

/**
 * AWS-owned resources that workloads reach through VPC endpoints without being part of the
 * organization: Amazon Linux package repositories, the ECR image-layer bucket, Amazon AMIs. Sources:
 * aws-samples/data-perimeter-policy-examples, `vpc_endpoint_policies/README.md` ("AllowRequestsToAWS
 * OwnedResources", "AllowRequestsByOrgsIdentitiesToAWSResources"), and the EKS user guide's add-on
 * image registries. Data, not logic: extend the lists here when AWS adds a bucket or a region. An
 * exception holds only for the endpoint's own region and only for reads.
 */

/** Reads of AWS-owned S3 objects: what yum, the SSM agent and ECR layer pulls need, nothing more. */
const S3_READS = ['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket'];

/**
 * Names (`{R}` for the region) of AWS-owned S3 buckets, each bound to one region. A name without
 * the region (a global bucket), or with a pattern where the region or a suffix goes, is not here:
 * anyone can create `aws-ssm-exfil` or `al2023-repos-us-east-1-deadbeef`.
 */
const AWS_OWNED_BUCKETS = [
  'packages.{R}.amazonaws.com',
  'repo.{R}.amazonaws.com',
  'amazonlinux.{R}.amazonaws.com',
  'amazonlinux-2-repos-{R}',
  'al2023-repos-{R}-de612dc2',
  'al2023-{R}',
  'prod-{R}-starport-layer-bucket',
  'repo.{R}.emr.amazonaws.com',
  'prod.{R}.appinfo.src',
  'aws-ssm-{R}',
  'aws-windows-downloads-{R}',
  'amazon-ssm-{R}',
  'amazon-ssm-packages-{R}',
  '{R}-birdwatcher-prod',
  'aws-ssm-distributor-file-{R}',
  'aws-ssm-document-attachments-{R}',
  'patch-baseline-snapshot-{R}',
  'aws-patchmanager-macos-{R}',
  'amazoncloudwatch-agent-{R}',
  'aws-codedeploy-{R}',
  'ec2imagebuilder-toe-{R}-prod',
  'ec2imagebuilder-managed-resources-{R}-prod',
  'cloudformation-waitcondition-{R}',
  'aws-ec2-enclave-certificate-{R}-prod',
];

/**
 * Other AWS-owned resources (`{P}` partition, `{R}` region) by ARN prefix, with the actions that
 * only read them. Launching from an Amazon AMI reads the image and writes nothing to it; the
 * data-perimeter samples' other actions on these ARNs (SendCommand, CreateChangeSet...) are not
 * reads, so they get no exception.
 */
const AWS_OWNED_PREFIXES: readonly {
  readonly prefix: string;
  readonly reads: readonly string[];
}[] = [
  { prefix: '{P}:ec2:{R}::image/', reads: ['ec2:RunInstances', 'ec2:CreateReplaceRootVolumeTask'] },
  {
    prefix: '{P}:ssm:{R}::parameter/aws/',
    reads: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
  },
  { prefix: '{P}:ssm:{R}::document/', reads: ['ssm:GetDocument', 'ssm:DescribeDocument'] },
  { prefix: '{P}:imagebuilder:{R}:aws:component/', reads: ['imagebuilder:GetComponent'] },
  { prefix: '{P}:imagebuilder:{R}:aws:image/', reads: ['imagebuilder:GetImage'] },
];

const ANY_PARTITION = `arn:${PARTITION_SOURCE}`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface CompiledKind {
  readonly pattern: RegExp;
  /** Lower-cased: IAM actions are case-insensitive. */
  readonly reads: ReadonlySet<string>;
}

/** The AWS-owned kinds of a region: exact names, a wildcard only after the fixed part. */
function compileRegion(region: string): readonly CompiledKind[] {
  const partition = `arn:${partitionOf(region)}`;
  const fill = (template: string) =>
    template
      .split(/(\{[PR]\})/)
      .map((part) =>
        part === '{P}'
          ? escapeRegExp(partition)
          : part === '{R}'
            ? escapeRegExp(region)
            : escapeRegExp(part),
      )
      .join('');
  const lower = (actions: readonly string[]) => new Set(actions.map((a) => a.toLowerCase()));
  return [
    ...AWS_OWNED_BUCKETS.map((bucket) => ({
      pattern: new RegExp(`^${escapeRegExp(partition)}:s3:::${fill(bucket)}(?:/.*)?$`, 's'),
      reads: lower(S3_READS),
    })),
    ...AWS_OWNED_PREFIXES.map(({ prefix, reads }) => ({
      pattern: new RegExp(`^${fill(prefix)}.+$`, 's'),
      reads: lower(reads),
    })),
  ];
}

/** Any region's AWS-owned S3 buckets and ARN prefixes, to tell "AWS's, elsewhere" from "anyone's". */
const ANY_REGION_PATTERN = new RegExp(
  `^(?:${[
    ...AWS_OWNED_BUCKETS.map(
      (bucket) =>
        `${ANY_PARTITION}:s3:::${escapeRegExp(bucket).replaceAll('\\{R\\}', REGION_SOURCE)}(?:/.*)?`,
    ),
    ...AWS_OWNED_PREFIXES.map(
      ({ prefix }) =>
        `${escapeRegExp(prefix).replaceAll('\\{P\\}', ANY_PARTITION).replaceAll('\\{R\\}', `(?:${REGION_SOURCE})?`)}.+`,
    ),
  ].join('|')})$`,
  's',
);

/** Compiled kinds per region: a handful of regions per process. */
const compiled = new Map<string, readonly CompiledKind[]>();

/** What a Resource value is, as far as AWS-owned resources go. */
export type AwsOwnedMatch =
  /** A documented AWS-owned resource of the endpoint's region; `reads` are the actions exempt on it. */
  | { readonly here: true; readonly reads: ReadonlySet<string> }
  /** A documented AWS-owned resource of another region: outside the organization, no exception. */
  | { readonly here: false };

/**
 * Matches a `Resource` value against the documented AWS-owned resources (Amazon Linux repository
 * buckets, the ECR layer bucket, Amazon AMIs, public SSM parameters...) of `region`. Undefined when
 * the value is not one of them in any region: a pattern over the region (`aws-ssm-*`) names buckets
 * anyone can create, so it is never AWS-owned.
 */
export function matchAwsOwnedResource(resource: string, region: string): AwsOwnedMatch | undefined {
  let kinds = compiled.get(region);
  if (kinds === undefined) {
    kinds = compileRegion(region);
    compiled.set(region, kinds);
  }
  for (const kind of kinds) {
    if (kind.pattern.test(resource)) return { here: true, reads: kind.reads };
  }
  return ANY_REGION_PATTERN.test(resource) ? { here: false } : undefined;
}

/**
 * True when a `Resource` value names only documented AWS-owned resources of `region` (the
 * endpoint's region). Reads of them need no resource condition and, since yum and the SSM agent
 * send unsigned requests, no principal scope.
 */
export function isAwsOwnedResource(resource: string, region: string): boolean {
  return matchAwsOwnedResource(resource, region)?.here === true;
}

/**
 * The AWS-owned S3 objects the data-perimeter template lets anyone read through an S3 endpoint: the
 * Amazon Linux 2 and 2023 repositories (yum sends unsigned requests) and the bucket holding ECR image
 * layers (reached with URLs presigned by an ECR account, so outside the organization).
 */
export function awsOwnedS3ObjectArns(region: string): string[] {
  const partition = partitionOf(region);
  return [
    `packages.${region}.amazonaws.com`,
    `repo.${region}.amazonaws.com`,
    `amazonlinux.${region}.amazonaws.com`,
    `amazonlinux-2-repos-${region}`,
    `al2023-repos-${region}-de612dc2`,
    `al2023-${region}`,
    `prod-${region}-starport-layer-bucket`,
  ].map((bucket) => `arn:${partition}:s3:::${bucket}/*`);
}

const EKS_DEFAULT_REGISTRY = '602401143452';

/**
 * The AWS account that hosts the Amazon EKS add-on images (vpc-cni, kube-proxy, coredns...) in each
 * region, from the EKS user guide "View Amazon container image registries for Amazon EKS add-ons".
 * Regions absent here get no ECR exception: an unknown account is never guessed.
 */
const EKS_ADDON_REGISTRY_ACCOUNTS: Readonly<Record<string, string>> = {
  'us-east-1': EKS_DEFAULT_REGISTRY,
  'us-east-2': EKS_DEFAULT_REGISTRY,
  'us-west-1': EKS_DEFAULT_REGISTRY,
  'us-west-2': EKS_DEFAULT_REGISTRY,
  'ca-central-1': EKS_DEFAULT_REGISTRY,
  'sa-east-1': EKS_DEFAULT_REGISTRY,
  'eu-central-1': EKS_DEFAULT_REGISTRY,
  'eu-north-1': EKS_DEFAULT_REGISTRY,
  'eu-west-1': EKS_DEFAULT_REGISTRY,
  'eu-west-2': EKS_DEFAULT_REGISTRY,
  'eu-west-3': EKS_DEFAULT_REGISTRY,
  'ap-south-1': EKS_DEFAULT_REGISTRY,
  'ap-northeast-1': EKS_DEFAULT_REGISTRY,
  'ap-northeast-2': EKS_DEFAULT_REGISTRY,
  'ap-northeast-3': EKS_DEFAULT_REGISTRY,
  'ap-southeast-1': EKS_DEFAULT_REGISTRY,
  'ap-southeast-2': EKS_DEFAULT_REGISTRY,
  'af-south-1': '877085696533',
  'ap-east-1': '800184023465',
  'ap-south-2': '900889452093',
  'ap-southeast-3': '296578399912',
  'ap-southeast-4': '491585149902',
  'ap-southeast-5': '151610086707',
  'ap-southeast-6': '333609536671',
  'ap-southeast-7': '121268973566',
  'cn-north-1': '918309763551',
  'cn-northwest-1': '961992271922',
};

/** The ECR repositories of the EKS add-on images in a region, or undefined when not known. */
export function eksAddonRepositoryArn(region: string): string | undefined {
  const account = Object.hasOwn(EKS_ADDON_REGISTRY_ACCOUNTS, region)
    ? EKS_ADDON_REGISTRY_ACCOUNTS[region]
    : undefined;
  return account === undefined
    ? undefined
    : `arn:${partitionOf(region)}:ecr:${region}:${account}:repository/*`;
}

/** The Amazon AMIs of a region, which RunInstances must reach from inside the organization. */
export function amazonImageArn(region: string): string {
  return `arn:${partitionOf(region)}:ec2:${region}::image/*`;
}
