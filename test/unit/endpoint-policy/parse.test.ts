import { describe, expect, it } from 'vitest';
import {
  MAX_ENDPOINT_POLICY_LENGTH,
  parseEndpointPolicy,
} from '../../../shared/src/endpoint-policy';

const allowAll = { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' };
const withStatement = (statement: object) => JSON.stringify({ Statement: [statement] });

describe('parseEndpointPolicy', () => {
  it.each([
    ['bad JSON', '{"Statement": [', /^policy is not valid JSON: /],
    ['an empty string', '', /^policy is empty$/],
    ['a JSON array', '[]', /^policy: expected a JSON object, got an array$/],
    [
      'no Statement',
      '{"Version":"2012-10-17"}',
      /^policy: expected a Statement element, got none$/,
    ],
    ['an empty Statement list', '{"Statement":[]}', /^Statement: expected at least one statement/],
    [
      'an unknown top-level element',
      '{"Statement":[],"Statements":[]}',
      /unknown element "Statements"/,
    ],
    [
      'an unknown Version',
      JSON.stringify({ Version: '2020-01-01', Statement: allowAll }),
      /^Version: expected/,
    ],
    [
      'Effect "allow"',
      withStatement({ ...allowAll, Effect: 'allow' }),
      /Effect: expected "Allow" or "Deny", got "allow"/,
    ],
    [
      'no Effect',
      withStatement({ Principal: '*', Action: '*', Resource: '*' }),
      /Effect: expected .* got nothing/,
    ],
    [
      'no Principal',
      withStatement({ Effect: 'Allow', Action: '*', Resource: '*' }),
      /expected a Principal element/,
    ],
    [
      'both Principal and NotPrincipal',
      withStatement({ ...allowAll, NotPrincipal: '*' }),
      /got both/,
    ],
    [
      'a bare principal ARN',
      withStatement({ ...allowAll, Principal: 'arn:aws:iam::111111111111:root' }),
      /Principal: expected "\*" or an object/,
    ],
    [
      'an unknown principal type',
      withStatement({ ...allowAll, Principal: { User: 'x' } }),
      /expected the keys AWS, Service/,
    ],
    [
      'no Action',
      withStatement({ Effect: 'Allow', Principal: '*', Resource: '*' }),
      /expected Action or NotAction, got neither/,
    ],
    [
      'no Resource',
      withStatement({ Effect: 'Allow', Principal: '*', Action: '*' }),
      /expected Resource or NotResource, got neither/,
    ],
    [
      'an empty Action list',
      withStatement({ ...allowAll, Action: [] }),
      /Action: expected a string or a non-empty list/,
    ],
    [
      'a number as a resource',
      withStatement({ ...allowAll, Resource: [42] }),
      /Resource\[0\]: expected a non-empty string, got 42/,
    ],
    [
      'an unknown statement element',
      withStatement({ ...allowAll, Conditions: {} }),
      /unknown element "Conditions"/,
    ],
    [
      'an unknown condition operator',
      withStatement({
        ...allowAll,
        Condition: { StringEqualz: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
      }),
      /unknown condition operator "StringEqualz"/,
    ],
    [
      'a condition value that is an object',
      withStatement({
        ...allowAll,
        Condition: { StringEquals: { 'aws:PrincipalOrgID': { id: 1 } } },
      }),
      /expected a string, number or boolean, got an object/,
    ],
    [
      'more than 20,480 characters',
      JSON.stringify({ Statement: allowAll, Id: 'x'.repeat(MAX_ENDPOINT_POLICY_LENGTH) }),
      /over the 20480 AWS accepts/,
    ],
  ])('refuses %s with the reason', (_name, document, reason) => {
    // Prepare
    const input = document;
    // Act
    const result = parseEndpointPolicy(input);
    // Assess
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error).toMatch(reason);
  });

  it('splits condition operators into set prefix, base and IfExists, and lower-cases keys', () => {
    // Prepare
    const document = withStatement({
      ...allowAll,
      Condition: {
        'ForAnyValue:StringLikeIfExists': { 'AWS:PrincipalOrgPaths': ['o-a1b2c3d4e5/*'] },
        Bool: { 'aws:PrincipalIsAWSService': true },
        Null: { 'aws:ResourceOrgID': 'false' },
      },
    });
    // Act
    const result = parseEndpointPolicy(document);
    // Assess
    expect(result.ok && result.policy.statements[0]?.conditions).toEqual([
      {
        operator: 'ForAnyValue:StringLikeIfExists',
        base: 'stringlike',
        ifExists: true,
        setOperator: 'ForAnyValue',
        key: 'aws:principalorgpaths',
        keyText: 'AWS:PrincipalOrgPaths',
        values: ['o-a1b2c3d4e5/*'],
      },
      {
        operator: 'Bool',
        base: 'bool',
        ifExists: false,
        setOperator: null,
        key: 'aws:principalisawsservice',
        keyText: 'aws:PrincipalIsAWSService',
        values: ['true'],
      },
      {
        operator: 'Null',
        base: 'null',
        ifExists: false,
        setOperator: null,
        key: 'aws:resourceorgid',
        keyText: 'aws:ResourceOrgID',
        values: ['false'],
      },
    ]);
  });

  it('normalises single values, a single statement and typed principals into lists', () => {
    // Prepare
    const document = {
      Statement: {
        Sid: 'Named',
        Effect: 'Deny',
        Principal: { AWS: '111111111111', Service: ['ec2.amazonaws.com'] },
        NotAction: 's3:GetObject',
        Resource: 'arn:aws:s3:::corp-data-lake/*',
      },
    };
    // Act
    const result = parseEndpointPolicy(document);
    // Assess
    expect(result.ok && result.policy.statements).toEqual([
      {
        index: 0,
        id: 'Named',
        effect: 'Deny',
        principal: {
          negated: false,
          wildcard: false,
          entries: [
            { type: 'AWS', values: ['111111111111'] },
            { type: 'Service', values: ['ec2.amazonaws.com'] },
          ],
          text: 'Principal {"AWS":"111111111111","Service":["ec2.amazonaws.com"]}',
        },
        actions: { negated: true, values: ['s3:GetObject'] },
        resources: { negated: false, values: ['arn:aws:s3:::corp-data-lake/*'] },
        conditions: [],
      },
    ]);
  });

  it('decodes a URL-encoded document', () => {
    // Prepare
    const document = encodeURIComponent(withStatement(allowAll));
    // Act
    const result = parseEndpointPolicy(document);
    // Assess
    expect(result.ok && result.policy.statements.length).toBe(1);
  });

  it('accepts a document of exactly 20,480 characters', () => {
    // Prepare
    const base = JSON.stringify({ Id: '', Statement: allowAll });
    const document = JSON.stringify({
      Id: 'x'.repeat(MAX_ENDPOINT_POLICY_LENGTH - base.length),
      Statement: allowAll,
    });
    // Act
    const result = parseEndpointPolicy(document);
    // Assess
    expect(document.length).toBe(MAX_ENDPOINT_POLICY_LENGTH);
    expect(result.ok).toBe(true);
  });
});
