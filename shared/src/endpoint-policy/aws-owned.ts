/**
 * AWS-owned resources that workloads reach through VPC endpoints without being part of the
 * organization: Amazon Linux package repositories, the ECR image-layer bucket, Amazon AMIs. Sources:
 * aws-samples/data-perimeter-policy-examples, `vpc_endpoint_policies/README.md` ("AllowRequestsToAWS
 * OwnedResources", "AllowRequestsByOrgsIdentitiesToAWSResources"), and the EKS user guide's add-on
 * image registries. Data, not logic: extend the lists here when AWS adds a bucket or a region.
 */

/** A region code, or `*` (a pattern over every region). */
const REGION = String.raw`(?:[a-z]{2}(?:-[a-z]+)+-\d|\*)`;
const PARTITION = String.raw`arn:aws(?:-cn|-us-gov)?`;

/** Bucket names (regular expressions, `{R}` for the region) of AWS-owned S3 buckets. */
const AWS_OWNED_BUCKETS = [
  String.raw`packages\.{R}\.amazonaws\.com`,
  String.raw`repo\.{R}\.amazonaws\.com`,
  String.raw`amazonlinux\.{R}\.amazonaws\.com`,
  String.raw`amazonlinux-2-repos-{R}`,
  String.raw`al2023-repos-(?:{R}-[0-9a-f]{8}|\*)`,
  String.raw`al2023-{R}`,
  String.raw`prod-{R}-starport-layer-bucket`,
  String.raw`repo\.{R}\.emr\.amazonaws\.com`,
  String.raw`prod\.{R}\.appinfo\.src`,
  String.raw`aws-ssm-{R}`,
  String.raw`aws-windows-downloads-{R}`,
  String.raw`amazon-ssm-{R}`,
  String.raw`amazon-ssm-packages-{R}`,
  String.raw`{R}-birdwatcher-prod`,
  String.raw`aws-ssm-distributor-file-{R}`,
  String.raw`aws-ssm-document-attachments-{R}`,
  String.raw`patch-baseline-snapshot-{R}`,
  String.raw`aws-patchmanager-macos-{R}`,
  String.raw`amazoncloudwatch-agent(?:-{R})?`,
  String.raw`aws-codedeploy-{R}`,
  String.raw`ec2imagebuilder-toe-{R}-prod`,
  String.raw`ec2imagebuilder-managed-resources-{R}-prod`,
  String.raw`cloudformation-waitcondition-{R}`,
  String.raw`aws-ec2-enclave-certificate-{R}-prod`,
];

/** Non-S3 ARNs of AWS-owned resources: AWS publishes them with no account, or the account `aws`. */
const AWS_OWNED_ARNS = [
  // Every AMI ARN carries no account; Amazon's are the ones RunInstances needs from outside the org.
  String.raw`{P}:ec2:(?:{R})?::image/.*`,
  String.raw`{P}:ssm:(?:{R})?::(?:parameter/aws/|document/|automation-definition/).*`,
  String.raw`{P}:cloudformation:{R}:aws:transform/.*`,
  String.raw`{P}:imagebuilder:{R}:aws:(?:component|image)/.*`,
];

const AWS_OWNED_PATTERN = new RegExp(
  `^(?:${[
    ...AWS_OWNED_BUCKETS.map((bucket) => String.raw`{P}:s3:::${bucket}(?:/.*)?`),
    ...AWS_OWNED_ARNS,
  ]
    .map((source) => source.replaceAll('{P}', PARTITION).replaceAll('{R}', REGION))
    .join('|')})$`,
);

/**
 * True when a `Resource` value names only AWS-owned resources (an Amazon Linux repository bucket, the
 * ECR layer bucket, Amazon AMIs, public SSM parameters...). Such a statement needs no resource
 * condition, and, when read-only, no principal scope: yum and the SSM agent reach these buckets with
 * unsigned requests.
 */
export function isAwsOwnedResource(resource: string): boolean {
  return AWS_OWNED_PATTERN.test(resource);
}

/** The partition of a region: `aws-cn` for China, `aws-us-gov` for GovCloud, else `aws`. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
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
  const account = EKS_ADDON_REGISTRY_ACCOUNTS[region];
  return account === undefined
    ? undefined
    : `arn:${partitionOf(region)}:ecr:${region}:${account}:repository/*`;
}

/** The Amazon AMIs of a region, which RunInstances must reach from inside the organization. */
export function amazonImageArn(region: string): string {
  return `arn:${partitionOf(region)}:ec2:${region}::image/*`;
}
