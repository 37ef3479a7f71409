/**
 * The endpoint policies vpc-guard writes (create-endpoint, replace-endpoint-policy), after
 * aws-samples/data-perimeter-policy-examples `vpc_endpoint_policies/`: org identities to org
 * resources, AWS service principals, and the AWS-owned resources a workload needs by name.
 */
import { ORGANIZATION_ID_PATTERN, REGION_PATTERN } from '../aws/shapes';
import { VpcGuardError } from '../errors';
import type { EndpointPolicyTemplate } from '../policy/schema';
import { amazonImageArn, awsOwnedS3ObjectArns, eksAddonRepositoryArn } from './aws-owned';
import { MAX_ENDPOINT_POLICY_LENGTH } from './parse';

/** Where a rendered policy goes. */
export interface EndpointPolicyTemplateOptions {
  /** The organization whose identities (and, for `data-perimeter`, resources) are trusted. */
  readonly organizationId: string;
  readonly region: string;
  /** Short service name: `s3`, `ecr.dkr`, `sts`. */
  readonly service: string;
  readonly type: 'Gateway' | 'Interface';
}

/** A template was asked for with options it cannot honour (a programming error, not bad data). */
export class EndpointPolicyTemplateError extends VpcGuardError {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointPolicyTemplateError';
  }
}

interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Principal: '*' | { readonly AWS: '*' };
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

const SERVICE = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)*$/;

function validate(template: string, options: EndpointPolicyTemplateOptions): void {
  const problems: string[] = [];
  if (template !== 'data-perimeter' && template !== 'principal-org-only') {
    problems.push(`template: expected "data-perimeter" or "principal-org-only", got "${template}"`);
  }
  if (!ORGANIZATION_ID_PATTERN.test(options.organizationId)) {
    problems.push(
      `organizationId: expected an AWS Organizations id such as "o-a1b2c3d4e5", got "${options.organizationId}"`,
    );
  }
  if (!REGION_PATTERN.test(options.region)) {
    problems.push(`region: expected an AWS region such as "us-east-1", got "${options.region}"`);
  }
  if (!SERVICE.test(options.service)) {
    problems.push(`service: expected a short service name such as "s3", got "${options.service}"`);
  }
  if (options.type !== 'Gateway' && options.type !== 'Interface') {
    problems.push(`type: expected "Gateway" or "Interface", got "${String(options.type)}"`);
  }
  if (problems.length > 0) {
    throw new EndpointPolicyTemplateError(
      `cannot render an endpoint policy: ${problems.join('; ')}`,
    );
  }
}

function awsOwnedExceptions(
  template: EndpointPolicyTemplate,
  options: EndpointPolicyTemplateOptions,
  principal: PolicyStatement['Principal'],
): PolicyStatement[] {
  const { organizationId, region, service } = options;
  const orgPrincipals = { StringEquals: { 'aws:PrincipalOrgID': organizationId } };
  if (service === 's3') {
    // Unsigned (yum) and ECR-presigned requests: no organization principal to condition on.
    return [
      {
        Sid: 'AllowRequestsToAWSOwnedResources',
        Effect: 'Allow',
        Principal: principal,
        Action: 's3:GetObject',
        Resource: awsOwnedS3ObjectArns(region),
      },
    ];
  }
  // Under principal-org-only, org identities already reach any resource.
  if (template !== 'data-perimeter') return [];
  if (service === 'ecr.api' || service === 'ecr.dkr') {
    const repositories = eksAddonRepositoryArn(region);
    return repositories === undefined
      ? []
      : [
          {
            Sid: 'AllowRequestsByOrgsIdentitiesToAWSResources',
            Effect: 'Allow',
            Principal: principal,
            Action: [
              'ecr:BatchCheckLayerAvailability',
              'ecr:BatchGetImage',
              'ecr:GetDownloadUrlForLayer',
            ],
            Resource: repositories,
            Condition: orgPrincipals,
          },
        ];
  }
  if (service === 'ec2') {
    return [
      {
        Sid: 'AllowRequestsByOrgsIdentitiesToAWSResources',
        Effect: 'Allow',
        Principal: principal,
        Action: ['ec2:RunInstances', 'ec2:CreateReplaceRootVolumeTask'],
        Resource: amazonImageArn(region),
        Condition: orgPrincipals,
      },
    ];
  }
  return [];
}

/**
 * Renders an endpoint policy (JSON text, at most 20,480 characters) for one service endpoint:
 *
 * - `data-perimeter`: org identities to org resources (`aws:PrincipalOrgID` and `aws:ResourceOrgID`
 *   both equal to the organization), AWS service principals (`aws:PrincipalIsAWSService`), and by
 *   name the AWS-owned resources the service needs: for s3 the Amazon Linux repositories and the ECR
 *   layer bucket, for ecr.api/ecr.dkr the EKS add-on image repositories, for ec2 Amazon's AMIs.
 * - `principal-org-only`: org identities to any resource, AWS service principals, and for s3 the same
 *   AWS-owned buckets. It leaves resources unscoped: meant for profiles with
 *   `requireResourceScope: false`.
 *
 * Gateway endpoints take only `Principal: "*"` (VPC user guide, "Principals for gateway
 * endpoints"); interface endpoints get `{"AWS": "*"}` as in the samples. Throws
 * {@link EndpointPolicyTemplateError} on an unknown template or malformed options.
 */
export function renderEndpointPolicy(
  template: EndpointPolicyTemplate,
  options: EndpointPolicyTemplateOptions,
): string {
  validate(template, options);
  const principal: PolicyStatement['Principal'] = options.type === 'Gateway' ? '*' : { AWS: '*' };
  const { organizationId } = options;
  const orgStatement: PolicyStatement =
    template === 'data-perimeter'
      ? {
          Sid: 'AllowRequestsByOrgsIdentitiesToOrgsResources',
          Effect: 'Allow',
          Principal: principal,
          Action: '*',
          Resource: '*',
          Condition: {
            StringEquals: {
              'aws:PrincipalOrgID': organizationId,
              'aws:ResourceOrgID': organizationId,
            },
          },
        }
      : {
          Sid: 'AllowRequestsByOrgsIdentities',
          Effect: 'Allow',
          Principal: principal,
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalOrgID': organizationId } },
        };
  const statements: PolicyStatement[] = [
    orgStatement,
    {
      Sid: 'AllowRequestsByAWSServicePrincipals',
      Effect: 'Allow',
      Principal: principal,
      Action: '*',
      Resource: '*',
      Condition: { Bool: { 'aws:PrincipalIsAWSService': 'true' } },
    },
    ...awsOwnedExceptions(template, options, principal),
  ];
  const text = JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2);
  if (text.length > MAX_ENDPOINT_POLICY_LENGTH) {
    throw new EndpointPolicyTemplateError(
      `the ${template} policy for ${options.service} is ${text.length} characters, over the ${MAX_ENDPOINT_POLICY_LENGTH} AWS accepts`,
    );
  }
  return text;
}
