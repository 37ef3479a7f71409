import { describe, expect, it } from 'vitest';
import {
  analyzeEndpointPolicy,
  type EndpointPolicyAnalysis,
} from '../../../shared/src/endpoint-policy';

const ORG = 'o-a1b2c3d4e5';
const OTHER = 'o-z9y8x7w6v5';
const DEFAULT_POLICY =
  '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}';

const analyze = (document: string | object | undefined): EndpointPolicyAnalysis =>
  analyzeEndpointPolicy(document, { organizationId: ORG, region: 'us-east-1' });
const policy = (...statements: object[]) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements });
const allowAll = { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' };

describe('analyzeEndpointPolicy', () => {
  it('reports the default policy as full access with every verdict of its statement', () => {
    // Prepare
    const document = DEFAULT_POLICY;
    // Act
    const analysis = analyze(document);
    // Assess
    expect(analysis.verdict).toBe('full-access');
    expect(analysis.statements).toEqual([
      {
        id: '#0',
        index: 0,
        effect: 'Allow',
        verdicts: ['full-access', 'unscoped-principal', 'unscoped-resource', 'wildcard-action'],
        reasons: [
          'allows any principal any action on any resource',
          'Principal "*" with no aws:PrincipalOrgID, aws:PrincipalAccount or account-bound aws:PrincipalArn condition',
          'Resource "*" with no aws:ResourceOrgID, aws:ResourceOrgPaths or aws:ResourceAccount condition',
          'Action "*" allows every action',
        ],
        issues: expect.any(Array),
        principalScope: null,
        resourceScope: null,
      },
    ]);
  });

  it('names statements by Sid, else by their 0-based index', () => {
    // Prepare
    const document = policy({ ...allowAll, Sid: 'AllowAll' }, { ...allowAll, Sid: '' }, allowAll);
    // Act
    const ids = analyze(document).statements.map((statement) => statement.id);
    // Assess
    expect(ids).toEqual(['AllowAll', '#1', '#2']);
  });

  it('returns not-applicable for an absent document', () => {
    // Prepare
    const document = undefined;
    // Act
    const analysis = analyze(document);
    // Assess
    expect(analysis).toEqual({ verdict: 'not-applicable', statements: [] });
  });

  it('returns the parse error instead of throwing on a bad document', () => {
    // Prepare
    const document = policy({ ...allowAll, Effect: 'allow' });
    // Act
    const analysis = analyze(document);
    // Assess
    expect(analysis).toEqual({
      verdict: 'unparseable',
      statements: [],
      parseError: 'Statement[0].Effect: expected "Allow" or "Deny", got "allow"',
    });
  });

  it.each([
    ['null JSON', 'null'],
    ['a number', '42'],
    ['a JSON string', '"policy"'],
    ['a null statement', '{"Statement":[null]}'],
    ['a statement list of strings', '{"Statement":["Allow"]}'],
    ['a condition block that is a list', policy({ ...allowAll, Condition: [] })],
  ])('answers unparseable rather than throwing for %s', (_name, document) => {
    // Prepare
    const input = document;
    // Act
    const analysis = analyze(input);
    // Assess
    expect(analysis.verdict).toBe('unparseable');
    expect(analysis.parseError).toEqual(expect.any(String));
  });

  it('answers unparseable for an object that cannot be serialised', () => {
    // Prepare
    const cyclic: Record<string, unknown> = { Statement: [] };
    cyclic['self'] = cyclic;
    // Act
    const analysis = analyze(cyclic);
    // Assess
    expect(analysis.verdict).toBe('unparseable');
    expect(analysis.parseError).toMatch(/^policy could not be serialised/);
  });

  it('describes the keys and values of an org data perimeter', () => {
    // Prepare
    const document = policy({
      ...allowAll,
      Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG, 'aws:ResourceOrgID': ORG } },
    });
    // Act
    const [statement] = analyze(document).statements;
    // Assess
    expect(statement?.verdicts).toEqual(['scoped']);
    expect(statement?.principalScope).toEqual({
      by: 'condition',
      keys: ['aws:PrincipalOrgID'],
      values: [ORG],
      accounts: [],
      description: `aws:PrincipalOrgID = ${ORG}`,
    });
    expect(statement?.resourceScope?.description).toBe(`aws:ResourceOrgID = ${ORG}`);
    expect(statement?.reasons).toContain(
      `Action "*" inside the organization's perimeter: the recommended shape`,
    );
  });

  it('keeps the org-only principal scope and reports only the resources as unscoped', () => {
    // Prepare
    const document = policy({
      ...allowAll,
      Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } },
    });
    // Act
    const [statement] = analyze(document).statements;
    // Assess
    expect(statement?.verdicts).toEqual(['unscoped-resource', 'wildcard-action']);
    expect(statement?.principalScope?.keys).toEqual(['aws:PrincipalOrgID']);
    expect(statement?.resourceScope).toBeNull();
  });

  it.each([
    [
      'aws:PrincipalAccount',
      { StringEquals: { 'aws:PrincipalAccount': ['111111111111'] } },
      ['111111111111'],
    ],
    [
      'an account-bound aws:PrincipalArn',
      { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::222222222222:role/app-*' } },
      ['222222222222'],
    ],
  ])('notes the accounts of %s in the evidence', (_name, condition, accounts) => {
    // Prepare
    const document = policy({
      ...allowAll,
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::corp-data-lake/*',
      Condition: condition,
    });
    // Act
    const [statement] = analyze(document).statements;
    // Assess
    expect(statement?.verdicts).toEqual(['scoped']);
    expect(statement?.principalScope?.accounts).toEqual(accounts);
    expect(statement?.reasons.join(' ')).toContain('account ids trusted as written');
  });

  it.each([
    [
      'another organization',
      { StringEquals: { 'aws:PrincipalOrgID': OTHER } },
      `aws:PrincipalOrgID admits ${OTHER}, another organization than ${ORG}`,
    ],
    [
      'org paths of another organization',
      { 'ForAnyValue:StringLike': { 'aws:PrincipalOrgPaths': `${OTHER}/r-zz99/*` } },
      `aws:PrincipalOrgPaths admits ${OTHER}, another organization than ${ORG}`,
    ],
    [
      'StringEqualsIfExists',
      { StringEqualsIfExists: { 'aws:PrincipalOrgID': ORG } },
      'StringEqualsIfExists on aws:PrincipalOrgID passes when the key is absent',
    ],
    [
      'StringNotEquals',
      { StringNotEquals: { 'aws:PrincipalOrgID': OTHER } },
      'StringNotEquals on aws:PrincipalOrgID in an Allow admits every value it does not name',
    ],
    [
      'a wildcard account in aws:PrincipalArn',
      { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/ci' } },
      'aws:PrincipalArn "arn:aws:iam::*:role/ci" is not bound to an account',
    ],
  ])('says why %s is not a principal scope', (_name, condition, note) => {
    // Prepare
    const document = policy({ ...allowAll, Condition: condition });
    // Act
    const [statement] = analyze(document).statements;
    // Assess
    expect(statement?.verdicts[0]).toBe('unscoped-principal');
    expect(statement?.issues[0]?.reason).toContain(note);
  });

  it('scopes every Allow a Deny perimeter covers and describes the perimeter on the Deny', () => {
    // Prepare
    const document = policy(allowAll, {
      Sid: 'DenyOutsideOrg',
      Effect: 'Deny',
      Principal: '*',
      Action: '*',
      Resource: '*',
      Condition: { StringNotEqualsIfExists: { 'aws:PrincipalOrgID': ORG } },
    });
    // Act
    const [allow, deny] = analyze(document).statements;
    // Assess
    expect(allow?.principalScope).toMatchObject({
      by: 'deny-perimeter',
      statementId: 'DenyOutsideOrg',
      keys: ['aws:PrincipalOrgID'],
    });
    expect(allow?.verdicts).toEqual(['unscoped-resource', 'wildcard-action']);
    expect(deny).toMatchObject({ effect: 'Deny', verdicts: ['scoped'] });
    expect(deny?.reasons).toEqual([
      `Deny perimeter on principals: denies every request where aws:PrincipalOrgID ≠ ${ORG}, for every action on every resource`,
    ]);
  });

  it.each([
    ['s3:*', 'covers an Allow of s3:GetObject and s3:Get*', ['s3:GetObject', 's3:Get*'], 'scoped'],
    [
      's3:Get*',
      'covers an Allow of two Get actions by glob',
      ['s3:GetObject', 's3:GetObjectVersion'],
      'scoped',
    ],
    [
      's3:GetObject',
      'leaves s3:PutObject of the Allow open',
      ['s3:GetObject', 's3:PutObject'],
      'unscoped-principal',
    ],
    ['sqs:*', 'leaves an Allow of s3 actions open', ['s3:GetObject'], 'unscoped-principal'],
    ['s3:*', 'leaves an Allow of every action open', '*', 'unscoped-principal'],
  ])('reads that a Deny perimeter on %s %s', (denied, _name, allowed, verdict) => {
    // Prepare
    const document = policy(
      { ...allowAll, Action: allowed, Resource: 'arn:aws:s3:::corp-data-lake/*' },
      {
        Effect: 'Deny',
        Principal: '*',
        Action: denied,
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:PrincipalOrgID': ORG } },
      },
    );
    // Act
    const [allow] = analyze(document).statements;
    // Assess
    expect(allow?.verdicts[0]).toBe(verdict);
  });

  it('says which actions a partial Deny perimeter leaves open', () => {
    // Prepare
    const document = policy(allowAll, {
      Sid: 'DenyPutsOutsideOrg',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: '*',
      Condition: { StringNotEqualsIfExists: { 'aws:PrincipalOrgID': ORG } },
    });
    // Act
    const [allow] = analyze(document).statements;
    // Assess
    expect(allow?.verdicts[0]).toBe('full-access');
    expect(allow?.reasons.join(' ')).toContain(
      'Deny DenyPutsOutsideOrg bounds principals only for s3:PutObject on every resource',
    );
  });

  it.each([
    ['names its principals', { Principal: { AWS: '111111111111' } }],
    [
      'adds an unrelated condition',
      { Condition: { StringNotEquals: { 'aws:PrincipalOrgID': ORG, 'aws:SourceVpc': 'vpc-1' } } },
    ],
    [
      'uses ForAnyValue (false when the key is absent)',
      { Condition: { 'ForAnyValue:StringNotEquals': { 'aws:PrincipalOrgID': ORG } } },
    ],
    [
      'trusts another organization',
      { Condition: { StringNotEquals: { 'aws:PrincipalOrgID': OTHER } } },
    ],
  ])('does not read a Deny that %s as a perimeter', (_name, override) => {
    // Prepare
    const document = policy(
      { ...allowAll, Action: 's3:GetObject', Resource: 'arn:aws:s3:::corp-data-lake/*' },
      {
        Effect: 'Deny',
        Principal: '*',
        Action: '*',
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:PrincipalOrgID': ORG } },
        ...override,
      },
    );
    // Act
    const [allow, deny] = analyze(document).statements;
    // Assess
    expect(allow?.verdicts[0]).toBe('unscoped-principal');
    expect(deny?.principalScope).toBeNull();
    expect(deny?.reasons[0]).toContain('is not a perimeter');
  });

  it('treats an unconditional Deny as closing what it covers', () => {
    // Prepare
    const document = policy(
      { ...allowAll, Action: 's3:PutObject' },
      { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*' },
    );
    // Act
    const analysis = analyze(document);
    // Assess
    expect(analysis.verdict).toBe('scoped');
    expect(analysis.statements[0]?.principalScope?.description).toBe('denied outright by #1');
  });

  it('flags wildcard actions at the edge of the perimeter but not inside it', () => {
    // Prepare
    const inside = {
      Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG, 'aws:ResourceOrgID': ORG } },
    };
    const edge = {
      Condition: {
        StringEquals: { 'aws:PrincipalOrgID': ORG, 'aws:ResourceAccount': '602401143452' },
      },
    };
    // Act
    const verdicts = [inside, edge].map(
      (extra) => analyze(policy({ ...allowAll, Action: 'ecr:*', ...extra })).verdict,
    );
    // Assess
    expect(verdicts).toEqual(['scoped', 'wildcard-action']);
  });

  it('waives the principal scope for reads of AWS-owned resources only', () => {
    // Prepare
    const repos = ['arn:aws:s3:::amazonlinux-2-repos-us-east-1/*'];
    // Act
    const reads = analyze(policy({ ...allowAll, Action: 's3:GetObject', Resource: repos }));
    const writes = analyze(policy({ ...allowAll, Action: 's3:PutObject', Resource: repos }));
    // Assess
    expect(reads.statements[0]?.principalScope?.by).toBe('aws-owned-resource');
    expect(reads.verdict).toBe('scoped');
    // A write to an AWS-owned bucket reaches a resource outside the organization, from anyone.
    expect(writes.statements[0]?.verdicts).toEqual(['unscoped-principal', 'unscoped-resource']);
    expect(writes.statements[0]?.issues[0]?.reason).toContain(
      'AWS-owned resources waive the principal scope only for reads of them',
    );
    expect(writes.statements[0]?.issues[1]?.reason).toContain(
      'is AWS-owned, outside the organization: only s3:getobject, s3:getobjectversion, s3:listbucket on it are exempt, not s3:PutObject',
    );
  });

  it("exempts AWS-owned resources only in the endpoint's own region", () => {
    // Prepare
    const document = policy({
      ...allowAll,
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::amazonlinux-2-repos-us-east-1/*',
    });
    // Act
    const here = analyzeEndpointPolicy(document, { organizationId: ORG, region: 'us-east-1' });
    const there = analyzeEndpointPolicy(document, { organizationId: ORG, region: 'eu-west-1' });
    // Assess
    expect(here.verdict).toBe('scoped');
    expect(there.statements[0]?.verdicts).toEqual(['unscoped-principal', 'unscoped-resource']);
    expect(there).not.toBe(here);
  });

  it('answers the same analysis for the same document and organization', () => {
    // Prepare
    const document = policy({ ...allowAll, Sid: 'Memo' });
    // Act
    const first = analyze(document);
    const second = analyze(document);
    const otherOrg = analyzeEndpointPolicy(document, {
      organizationId: OTHER,
      region: 'us-east-1',
    });
    // Assess
    expect(second).toBe(first);
    expect(otherOrg).not.toBe(first);
    expect(Object.isFrozen(first.statements[0])).toBe(true);
  });

  it('reads an object document the same as its JSON text', () => {
    // Prepare
    const object = {
      Statement: [{ ...allowAll, Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } } }],
    };
    // Act
    const fromObject = analyze(object);
    const fromText = analyze(JSON.stringify(object));
    // Assess
    expect(fromObject).toEqual(fromText);
  });
});
