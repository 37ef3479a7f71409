import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyzeEndpointPolicy,
  type EndpointPolicyAnalysis,
  type StatementVerdict,
} from '../../shared/src/endpoint-policy';
import { endpointPolicyTooBroad } from '../../shared/src/rules/endpoint-policy-too-broad';
import { contextOf, snapshotWith } from '../fixtures/network';
import { propertyRuns } from '../support/property-runs';
import {
  referenceFindings,
  type ReferencePrincipal,
  type ReferenceResource,
} from './iam-reference-evaluator';

/**
 * Endpoint-policy false negatives: policies the analysis must not call scoped, found by reading
 * them as an independent IAM evaluator would. Each names the dimension that is open.
 */

const ORG = 'o-a1b2c3d4e5';
const OTHER = 'o-z9y8x7w6v5';
const REGION = 'us-east-1';
const ORG_PATH = `${ORG}/r-ab12/ou-ab12-11111111/`;
const OTHER_PATH = `${OTHER}/r-zz99/ou-zz99-33333333/`;

const analyze = (statements: readonly object[], region = REGION): EndpointPolicyAnalysis =>
  analyzeEndpointPolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), {
    organizationId: ORG,
    region,
  });
const verdictsOf = (analysis: EndpointPolicyAnalysis): StatementVerdict[][] =>
  analysis.statements.map((statement) => [...statement.verdicts]);
const allVerdicts = (analysis: EndpointPolicyAnalysis): Set<string> =>
  new Set(
    analysis.verdict === 'unparseable'
      ? ['unscoped-principal', 'unscoped-resource']
      : analysis.statements.flatMap((statement) => statement.verdicts),
  );

const orgPrincipals = { StringEquals: { 'aws:PrincipalOrgID': ORG } };
const orgResources = { StringEquals: { 'aws:ResourceOrgID': ORG } };
const allowAll = { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' };

describe('AWS-owned resources as a resource scope', () => {
  it('does not take a region wildcard in an AWS-owned bucket name for a scope', () => {
    // Prepare: anyone can create "aws-ssm-exfil".
    const statement = {
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: 'arn:aws:s3:::aws-ssm-*/*',
      Condition: orgPrincipals,
    };
    // Act
    const analysis = analyze([statement]);
    // Assess
    expect(verdictsOf(analysis)).toEqual([['unscoped-resource']]);
  });

  it('does not waive the principal scope for reads of a region-wildcard bucket pattern', () => {
    // Prepare
    const statement = {
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: ['arn:aws:s3:::amazonlinux-2-repos-*/*', 'arn:aws:s3:::al2023-repos-*/*'],
    };
    // Act
    const analysis = analyze([statement]);
    // Assess
    expect(verdictsOf(analysis)).toEqual([['unscoped-principal', 'unscoped-resource']]);
  });

  it('does not take a look-alike of the Amazon Linux 2023 bucket for AWS-owned', () => {
    // Prepare: only the documented suffix is AWS's; "deadbeef" is anyone's to create.
    const statement = {
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::al2023-repos-us-east-1-deadbeef/*',
    };
    // Act
    const analysis = analyze([statement]);
    // Assess
    expect(verdictsOf(analysis)).toEqual([['unscoped-principal']]);
  });

  it.each([
    ['a write', 's3:PutObject'],
    ['a service wildcard', 's3:*'],
    ['a family of actions', 's3:Get*'],
    ['every action', '*'],
  ])(
    'counts %s on an AWS-owned bucket of the region as outside the organization',
    (_name, action) => {
      // Prepare
      const statement = {
        Effect: 'Allow',
        Principal: '*',
        Action: action,
        Resource: 'arn:aws:s3:::aws-ssm-us-east-1/*',
        Condition: orgPrincipals,
      };
      // Act
      const analysis = analyze([statement]);
      // Assess
      expect(allVerdicts(analysis)).toContain('unscoped-resource');
    },
  );

  it("counts reads of another region's AWS-owned bucket as outside the perimeter", () => {
    // Prepare
    const statement = {
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::amazonlinux-2-repos-eu-west-1/*',
    };
    // Act
    const analysis = analyze([statement]);
    // Assess
    expect(verdictsOf(analysis)).toEqual([['unscoped-principal', 'unscoped-resource']]);
  });

  it("judges AWS-owned buckets against the endpoint's own region in the rule", () => {
    // Prepare: a us-east-1 policy copied onto an eu-west-1 endpoint.
    const document = JSON.stringify({
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::amazonlinux-2-repos-us-east-1/*',
        },
      ],
    });
    const context = contextOf(
      snapshotWith((snapshot) => {
        snapshot.region = 'eu-west-1';
        for (const endpoint of snapshot.vpcEndpoints ?? []) {
          endpoint.serviceName = endpoint.serviceName.replace('us-east-1', 'eu-west-1');
        }
        const s3 = snapshot.vpcEndpoints?.find((endpoint) => endpoint.serviceName.endsWith('.s3'));
        if (s3 === undefined) throw new Error('the fixture has no s3 endpoint');
        s3.policyDocument = document;
      }),
    );
    // Act
    const result = endpointPolicyTooBroad.evaluate(context);
    // Assess
    expect(result.compliance).toBe('NON_COMPLIANT');
    expect(result.findings[0]?.evidence).toMatchObject({ verdict: 'unscoped-principal' });
  });
});

describe('multivalued keys and set operators', () => {
  it('does not trust a Deny perimeter on aws:PrincipalOrgPaths without a set operator', () => {
    // Prepare
    const deny = {
      Sid: 'DenyOutsidePaths',
      Effect: 'Deny',
      Principal: '*',
      Action: '*',
      Resource: '*',
      Condition: { StringNotLike: { 'aws:PrincipalOrgPaths': `${ORG}/*` } },
    };
    // Act
    const analysis = analyze([{ ...allowAll, Condition: orgResources }, deny]);
    // Assess
    expect(analysis.statements[1]?.principalScope).toBeNull();
    expect(verdictsOf(analysis)[0]).toContain('unscoped-principal');
  });

  it('does not trust a Deny perimeter on aws:ResourceOrgPaths without a set operator', () => {
    // Prepare
    const deny = {
      Effect: 'Deny',
      Principal: '*',
      Action: '*',
      Resource: '*',
      Condition: { StringNotLike: { 'aws:ResourceOrgPaths': `${ORG}/*` } },
    };
    // Act
    const analysis = analyze([{ ...allowAll, Condition: orgPrincipals }, deny]);
    // Assess
    expect(verdictsOf(analysis)[0]).toContain('unscoped-resource');
  });

  it('does not trust an Allow that uses a single-valued operator on aws:PrincipalOrgPaths', () => {
    // Prepare
    const statement = {
      ...allowAll,
      Condition: {
        StringLike: { 'aws:PrincipalOrgPaths': `${ORG}/*` },
        StringEquals: { 'aws:ResourceOrgID': ORG },
      },
    };
    // Act
    const analysis = analyze([statement]);
    // Assess
    expect(verdictsOf(analysis)[0]).toContain('unscoped-principal');
  });

  it.each([
    ['an Allow', 'Allow', 'ForAnyValue:StringEquals'],
    ['a Deny', 'Deny', 'ForAllValues:StringNotEquals'],
  ])(
    'does not trust a set operator on single-valued aws:PrincipalOrgID in %s',
    (_n, effect, op) => {
      // Prepare: IAM documents set operators for multivalued keys only.
      const statements =
        effect === 'Allow'
          ? [{ ...allowAll, Condition: { [op]: { 'aws:PrincipalOrgID': ORG }, ...orgResources } }]
          : [
              { ...allowAll, Condition: orgResources },
              { ...allowAll, Effect: 'Deny', Condition: { [op]: { 'aws:PrincipalOrgID': ORG } } },
            ];
      // Act
      const analysis = analyze(statements);
      // Assess
      expect(verdictsOf(analysis)[0]).toContain('unscoped-principal');
    },
  );
});

describe('policy variables in resources', () => {
  it('does not take a bucket named by a policy variable for a named bucket', () => {
    // Prepare: session tags are chosen by whoever assumes the role.
    const statement = {
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: 'arn:aws:s3:::${aws:PrincipalTag/dest}/*',
      Condition: orgPrincipals,
    };
    // Act
    const analysis = analyze([statement]);
    // Assess
    expect(verdictsOf(analysis)).toEqual([['unscoped-resource']]);
  });
});

// ---------------------------------------------------------------------------------------------
// Generated policies against the reference evaluator.

const keysOf = (
  entries: Record<string, readonly string[]>,
): ReadonlyMap<string, readonly string[]> =>
  new Map(Object.entries(entries).map(([key, values]) => [key.toLowerCase(), values]));

const PRINCIPALS: readonly ReferencePrincipal[] = [
  {
    name: 'org role',
    trusted: true,
    ids: ['111111111111', 'arn:aws:iam::111111111111:role/app'],
    keys: keysOf({
      'aws:PrincipalOrgID': [ORG],
      'aws:PrincipalOrgPaths': [ORG_PATH],
      'aws:PrincipalAccount': ['111111111111'],
      'aws:PrincipalArn': ['arn:aws:iam::111111111111:role/app'],
      'aws:PrincipalIsAWSService': ['false'],
      'aws:PrincipalTag/dest': ['corp-exfil'],
    }),
  },
  {
    name: 'role of another organization',
    trusted: false,
    ids: ['999999999999', 'arn:aws:iam::999999999999:role/x'],
    keys: keysOf({
      'aws:PrincipalOrgID': [OTHER],
      'aws:PrincipalOrgPaths': [OTHER_PATH],
      'aws:PrincipalAccount': ['999999999999'],
      'aws:PrincipalArn': ['arn:aws:iam::999999999999:role/x'],
      'aws:PrincipalIsAWSService': ['false'],
      'aws:PrincipalTag/dest': ['corp-data'],
    }),
  },
  {
    name: 'role of a standalone account',
    trusted: false,
    ids: ['888888888888', 'arn:aws:iam::888888888888:role/x'],
    keys: keysOf({
      'aws:PrincipalAccount': ['888888888888'],
      'aws:PrincipalArn': ['arn:aws:iam::888888888888:role/x'],
      'aws:PrincipalIsAWSService': ['false'],
    }),
  },
  { name: 'anonymous caller', trusted: false, ids: [], keys: new Map() },
];

const inside = (arn: string): ReferenceResource => ({
  arn,
  inside: true,
  awsOwnedHere: false,
  keys: keysOf({
    'aws:ResourceOrgID': [ORG],
    'aws:ResourceOrgPaths': [ORG_PATH],
    'aws:ResourceAccount': ['111111111111'],
  }),
});
const outside = (arn: string, org?: string): ReferenceResource => ({
  arn,
  inside: false,
  awsOwnedHere: false,
  keys: keysOf({
    ...(org === undefined
      ? {}
      : { 'aws:ResourceOrgID': [org], 'aws:ResourceOrgPaths': [OTHER_PATH] }),
    'aws:ResourceAccount': [org === undefined ? '888888888888' : '999999999999'],
  }),
});
const awsOwnedHere = (arn: string): ReferenceResource => ({
  arn,
  inside: false,
  awsOwnedHere: true,
  keys: keysOf({ 'aws:ResourceAccount': ['777777777777'] }),
});

const RESOURCES: readonly ReferenceResource[] = [
  inside('arn:aws:s3:::corp-data'),
  inside('arn:aws:s3:::corp-data/report.csv'),
  inside('arn:aws:sqs:us-east-1:111111111111:jobs'),
  outside('arn:aws:s3:::corp-exfil/loot', OTHER),
  outside('arn:aws:s3:::aws-ssm-exfil/loot'),
  outside('arn:aws:s3:::al2023-repos-us-east-1-deadbeef/loot'),
  outside('arn:aws:s3:::aws-ssm-eu-west-1/agent.zip'),
  outside('arn:aws:sqs:us-east-1:999999999999:drop', OTHER),
  awsOwnedHere('arn:aws:s3:::aws-ssm-us-east-1/agent.zip'),
  awsOwnedHere('arn:aws:s3:::amazonlinux-2-repos-us-east-1/core.rpm'),
];
const ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:ListBucket', 'sqs:SendMessage'];

/** A few spellings of one string, as IAM reads keys and operators case-insensitively. */
const spelled = (text: string) => fc.constantFrom(text, text.toLowerCase(), text.toUpperCase());

const principalArb = fc.constantFrom<object>(
  { Principal: '*' },
  { Principal: { AWS: '*' } },
  { Principal: { AWS: ['111111111111', '*'] } },
  { Principal: { AWS: '111111111111' } },
  { Principal: { AWS: 'arn:aws:iam::111111111111:role/app' } },
  { Principal: { AWS: ['arn:aws:iam::111111111111:role/app', 'arn:aws:iam::111111111111:root'] } },
  { Principal: { Service: 'ssm.amazonaws.com' } },
  { NotPrincipal: { AWS: '111111111111' } },
);
const actionArb = fc.oneof(
  fc.constantFrom<object>(
    { Action: '*' },
    { Action: 's3:*' },
    { Action: 's3:GetObject' },
    { Action: ['s3:GetObject', 's3:ListBucket'] },
    { Action: 'S3:PUTOBJECT' },
    { Action: 's3:Get*' },
    { Action: 's3:?*' },
    { Action: '*:*' },
    { Action: 'sqs:SendMessage' },
    { NotAction: 's3:PutObject' },
    { NotAction: 'iam:*' },
  ),
);
const resourceArb = fc.constantFrom<object>(
  { Resource: '*' },
  { Resource: 'arn:aws:s3:::corp-data/*' },
  { Resource: ['arn:aws:s3:::corp-data', 'arn:aws:s3:::corp-data/*'] },
  { Resource: 'arn:aws:s3:::corp-*/*' },
  { Resource: 'arn:aws:s3:::*' },
  { Resource: 'arn:aws:s3:::aws-ssm-*/*' },
  { Resource: 'arn:aws:s3:::aws-ssm-us-east-1/*' },
  { Resource: 'arn:aws:s3:::aws-ssm-eu-west-1/*' },
  { Resource: 'arn:aws:s3:::amazonlinux-2-repos-us-east-1/*' },
  { Resource: 'arn:aws:s3:::al2023-repos-*/*' },
  { Resource: 'arn:aws:s3:::${aws:PrincipalTag/dest}/*' },
  { Resource: 'arn:aws:sqs:us-east-1:111111111111:jobs' },
  { Resource: 'arn:aws:sqs:us-east-1:*:drop' },
  { Resource: 'arn:aws:sqs:*:*:*' },
  { NotResource: 'arn:aws:s3:::corp-data/*' },
  { Resource: ['arn:aws:s3:::corp-data/*', 'arn:aws:s3:::aws-ssm-us-east-1/*'] },
  { Resource: 'arn:aws:s3:::corp-data/${aws:PrincipalTag/dest}' },
);

const VALUES: Readonly<Record<string, readonly (string | string[])[]>> = {
  'aws:PrincipalOrgID': [ORG, ORG.toUpperCase(), OTHER, '*', `${ORG}*`, [ORG, OTHER]],
  'aws:ResourceOrgID': [ORG, ORG.toUpperCase(), OTHER, '*', [ORG, OTHER]],
  'aws:PrincipalOrgPaths': [`${ORG}/*`, `${ORG}/r-ab12/*`, `${OTHER}/*`, '*', `${ORG}*`],
  'aws:ResourceOrgPaths': [`${ORG}/*`, `${OTHER}/*`, '*'],
  // Named accounts are trusted as written (the analysis cannot list the organization's accounts),
  // so only the organization's own account is named.
  'aws:PrincipalAccount': ['111111111111', '*', ['111111111111', '11111111111?']],
  'aws:ResourceAccount': ['111111111111', '*', ['111111111111', '1111111111*']],
  'aws:PrincipalArn': [
    'arn:aws:iam::111111111111:role/*',
    'arn:aws:iam::*:role/app',
    'arn:aws:iam::111111111111:*',
  ],
  'aws:PrincipalIsAWSService': ['true', 'false'],
  'aws:SourceVpc': ['vpc-0a1b2c3d4e5f60001'],
  'aws:PrincipalTag/team': ['data'],
};
const OPERATORS = [
  'StringEquals',
  'StringLike',
  'StringEqualsIgnoreCase',
  'StringNotEquals',
  'StringNotLike',
  'StringEqualsIfExists',
  'StringNotEqualsIfExists',
  'StringNotLikeIfExists',
  'ArnLike',
  'ArnNotLike',
  'ArnNotLikeIfExists',
  'ForAnyValue:StringLike',
  'ForAnyValue:StringEquals',
  'ForAnyValue:StringNotLike',
  'ForAllValues:StringLike',
  'ForAllValues:StringNotLike',
  'ForAllValues:StringNotEquals',
  'ForAllValues:StringNotLikeIfExists',
  'Bool',
  'BoolIfExists',
  'Null',
];

const conditionArb = fc
  .array(
    fc
      .record({
        operator: fc.constantFrom(...OPERATORS).chain((op) => spelled(op)),
        key: fc.constantFrom(...Object.keys(VALUES)),
      })
      .chain(({ operator, key }) =>
        fc.record({
          operator: fc.constant(operator),
          key: spelled(key),
          values: fc.constantFrom(
            ...(operator.toLowerCase() === 'null' ? ['true', 'false'] : (VALUES[key] ?? [])),
          ),
        }),
      ),
    { maxLength: 3 },
  )
  .map((parts) => {
    const condition = new Map<string, Record<string, string | string[]>>();
    for (const { operator, key, values } of parts) {
      const block = condition.get(operator) ?? {};
      block[key] = values;
      condition.set(operator, block);
    }
    return condition.size === 0 ? {} : { Condition: Object.fromEntries(condition) };
  });

const statementArb = fc
  .record({
    effect: fc.constantFrom('Allow', 'Allow', 'Deny'),
    principal: principalArb,
    action: actionArb,
    resource: resourceArb,
    condition: conditionArb,
  })
  .map(({ effect, principal, action, resource, condition }) => ({
    Effect: effect,
    ...principal,
    ...action,
    ...resource,
    ...condition,
  }));

const policyArb = fc
  .array(statementArb, { minLength: 1, maxLength: 3 })
  .map((statements) => ({ Version: '2012-10-17', Statement: statements }));

describe('generated policies against a reference IAM evaluator', () => {
  it('is never more lenient than the reference on principals or resources', () => {
    fc.assert(
      fc.property(policyArb, (policy) => {
        // Prepare
        const reference = referenceFindings(policy, PRINCIPALS, ACTIONS, RESOURCES);
        // Act
        const analysis = analyzeEndpointPolicy(JSON.stringify(policy), {
          organizationId: ORG,
          region: REGION,
        });
        // Assess
        const found = allVerdicts(analysis);
        if (reference.principalOpen !== null) {
          expect(found, `admits ${reference.principalOpen}`).toContain('unscoped-principal');
        }
        if (reference.resourceOpen !== null) {
          expect(found, `admits ${reference.resourceOpen}`).toContain('unscoped-resource');
        }
      }),
      { numRuns: propertyRuns({ quick: 600, deep: 3000 }) },
    );
  });
});
