import { describe, expect, it } from 'vitest';
import {
  EndpointPolicyTemplateError,
  MAX_ENDPOINT_POLICY_LENGTH,
  analyzeEndpointPolicy,
  judgeEndpointPolicy,
  renderEndpointPolicy,
  type EndpointPolicyJudgeSettings,
} from '../../../shared/src/endpoint-policy';

const ORG = 'o-a1b2c3d4e5';
const ENDPOINTS = [
  ['s3', 'Gateway'],
  ['dynamodb', 'Gateway'],
  ['sts', 'Interface'],
  ['logs', 'Interface'],
  ['kms', 'Interface'],
  ['ecr.api', 'Interface'],
  ['ecr.dkr', 'Interface'],
  ['secretsmanager', 'Interface'],
  ['s3', 'Interface'],
  ['ec2', 'Interface'],
] as const;
const STRICTEST: EndpointPolicyJudgeSettings = {
  allowFullAccess: false,
  requirePrincipalScope: true,
  requireResourceScope: true,
  forbidWildcardActions: true,
};

interface RenderedPolicy {
  readonly Version: string;
  readonly Statement: readonly { readonly Sid: string; readonly Principal: unknown }[];
}

const render = (
  template: 'data-perimeter' | 'principal-org-only',
  service: string,
  type: 'Gateway' | 'Interface',
  region = 'us-east-1',
) => renderEndpointPolicy(template, { organizationId: ORG, region, service, type });

const parsePolicy = (text: string) => JSON.parse(text) as RenderedPolicy;

describe('renderEndpointPolicy', () => {
  it.each(ENDPOINTS)(
    'renders a data-perimeter policy for %s (%s) that the analyzer judges scoped',
    (service, type) => {
      // Prepare
      const options = { organizationId: ORG, region: 'us-east-1' };
      // Act
      const text = render('data-perimeter', service, type);
      const analysis = analyzeEndpointPolicy(text, options);
      // Assess
      expect(text.length).toBeLessThanOrEqual(MAX_ENDPOINT_POLICY_LENGTH);
      expect(analysis.verdict).toBe('scoped');
      expect(judgeEndpointPolicy(analysis, STRICTEST).worst).toBeNull();
    },
  );

  it.each([
    ['s3', 'eu-west-1'],
    ['s3', 'cn-north-1'],
    ['ec2', 'ap-southeast-2'],
    ['ec2', 'us-gov-west-1'],
    ['ecr.dkr', 'af-south-1'],
  ])(
    "renders a data-perimeter policy for %s in %s that is scoped for that region's endpoint",
    (service, region) => {
      // Prepare
      const options = { organizationId: ORG, region };
      // Act
      const text = render('data-perimeter', service, 'Interface', region);
      const analysis = analyzeEndpointPolicy(text, options);
      // Assess
      expect(analysis.statements.map((statement) => statement.verdicts)).toEqual(
        analysis.statements.map(() => ['scoped']),
      );
    },
  );

  it.each(ENDPOINTS)(
    'renders a principal-org-only policy for %s (%s) scoped on principals',
    (service, type) => {
      // Prepare
      const options = { organizationId: ORG, region: 'us-east-1' };
      // Act
      const text = render('principal-org-only', service, type);
      const analysis = analyzeEndpointPolicy(text, options);
      // Assess
      expect(text.length).toBeLessThanOrEqual(MAX_ENDPOINT_POLICY_LENGTH);
      expect(analysis.statements.every((statement) => statement.principalScope !== null)).toBe(
        true,
      );
      // It leaves resources open by design: it is for profiles that do not require a resource scope.
      expect(analysis.verdict).toBe('unscoped-resource');
      expect(
        judgeEndpointPolicy(analysis, {
          ...STRICTEST,
          requireResourceScope: false,
          forbidWildcardActions: false,
        }).worst,
      ).toBeNull();
    },
  );

  it('allows org identities to org resources and AWS service principals', () => {
    // Prepare
    const service = 'sts';
    // Act
    const policy = parsePolicy(render('data-perimeter', service, 'Interface'));
    // Assess
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowRequestsByOrgsIdentitiesToOrgsResources',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG, 'aws:ResourceOrgID': ORG } },
        },
        {
          Sid: 'AllowRequestsByAWSServicePrincipals',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: '*',
          Resource: '*',
          Condition: { Bool: { 'aws:PrincipalIsAWSService': 'true' } },
        },
      ],
    });
  });

  it('uses Principal "*" on every statement of a gateway endpoint policy', () => {
    // Prepare
    const service = 's3';
    // Act
    const policy = parsePolicy(render('data-perimeter', service, 'Gateway'));
    // Assess
    expect(policy.Statement.map((statement) => statement.Principal)).toEqual(['*', '*', '*']);
  });

  it('names the Amazon Linux repositories and the ECR layer bucket for s3', () => {
    // Prepare
    const region = 'eu-west-1';
    // Act
    const policy = parsePolicy(render('data-perimeter', 's3', 'Gateway', region));
    // Assess
    expect(policy.Statement[2]).toMatchObject({
      Sid: 'AllowRequestsToAWSOwnedResources',
      Action: 's3:GetObject',
      Resource: expect.arrayContaining([
        'arn:aws:s3:::amazonlinux-2-repos-eu-west-1/*',
        'arn:aws:s3:::al2023-repos-eu-west-1-de612dc2/*',
        'arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*',
      ]),
    });
  });

  it.each([
    ['ecr.dkr', 'us-east-1', 'arn:aws:ecr:us-east-1:602401143452:repository/*'],
    ['ecr.api', 'af-south-1', 'arn:aws:ecr:af-south-1:877085696533:repository/*'],
    ['ec2', 'cn-north-1', 'arn:aws-cn:ec2:cn-north-1::image/*'],
  ])('names the AWS-owned resources %s needs in %s', (service, region, resource) => {
    // Prepare
    const type = 'Interface';
    // Act
    const policy = parsePolicy(render('data-perimeter', service, type, region));
    // Assess
    expect(policy.Statement[2]).toMatchObject({
      Sid: 'AllowRequestsByOrgsIdentitiesToAWSResources',
      Resource: resource,
      Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } },
    });
  });

  it('guesses no EKS registry account for a region it does not know', () => {
    // Prepare
    const region = 'mx-central-1';
    // Act
    const policy = parsePolicy(render('data-perimeter', 'ecr.api', 'Interface', region));
    // Assess
    expect(policy.Statement).toHaveLength(2);
  });

  it.each([
    ['organization id', { organizationId: 'o-BAD' }, /organizationId: expected/],
    ['region', { region: 'mars-1' }, /region: expected/],
    ['service name', { service: 'S3 Gateway' }, /service: expected/],
  ])('throws when given a malformed %s', (_name, override, message) => {
    // Prepare
    const options = {
      organizationId: ORG,
      region: 'us-east-1',
      service: 's3',
      type: 'Gateway' as const,
      ...override,
    };
    // Act
    const act = () => renderEndpointPolicy('data-perimeter', options);
    // Assess
    expect(act).toThrow(EndpointPolicyTemplateError);
    expect(act).toThrow(message);
  });
});
