import { describe, expect, it } from 'vitest';
import {
  analyzeEndpointPolicy,
  judgeEndpointPolicy,
  type EndpointPolicyJudgeSettings,
} from '../../../shared/src/endpoint-policy';

const ORG = 'o-a1b2c3d4e5';
const STRICT: EndpointPolicyJudgeSettings = {
  allowFullAccess: false,
  requirePrincipalScope: true,
  requireResourceScope: true,
  forbidWildcardActions: false,
};
const LENIENT: EndpointPolicyJudgeSettings = {
  allowFullAccess: true,
  requirePrincipalScope: false,
  requireResourceScope: false,
  forbidWildcardActions: false,
};

const DEFAULT_POLICY =
  '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}';
const ORG_ONLY_STATEMENT = {
  Sid: 'OrgOnly',
  Effect: 'Allow',
  Principal: '*',
  Action: '*',
  Resource: '*',
  Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } },
};
const ORG_ONLY = JSON.stringify({ Statement: [ORG_ONLY_STATEMENT] });
const EDGE_WILDCARD = JSON.stringify({
  Statement: [
    {
      Sid: 'EksImages',
      Effect: 'Allow',
      Principal: '*',
      Action: 'ecr:*',
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:PrincipalOrgID': ORG, 'aws:ResourceAccount': '602401143452' },
      },
    },
  ],
});
const PERIMETER_STATEMENT = {
  Effect: 'Allow',
  Principal: '*',
  Action: '*',
  Resource: '*',
  Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG, 'aws:ResourceOrgID': ORG } },
};
const PERIMETER = JSON.stringify({ Statement: [PERIMETER_STATEMENT] });

const judge = (document: string | undefined, settings: EndpointPolicyJudgeSettings) =>
  judgeEndpointPolicy(
    analyzeEndpointPolicy(document, { organizationId: ORG, region: 'us-east-1' }),
    settings,
  );

describe('judgeEndpointPolicy', () => {
  it.each([
    ['the default policy', DEFAULT_POLICY, STRICT, 'full-access'],
    [
      'the default policy where full access is allowed',
      DEFAULT_POLICY,
      { ...STRICT, allowFullAccess: true },
      'unscoped-principal',
    ],
    ['the default policy where nothing is required', DEFAULT_POLICY, LENIENT, null],
    [
      'the default policy where only full access is forbidden',
      DEFAULT_POLICY,
      { ...LENIENT, allowFullAccess: false },
      'full-access',
    ],
    ['an org-only principal scope', ORG_ONLY, STRICT, 'unscoped-resource'],
    [
      'an org-only principal scope without resource scope required',
      ORG_ONLY,
      { ...STRICT, requireResourceScope: false },
      null,
    ],
    ['a wildcard exception by default', EDGE_WILDCARD, STRICT, null],
    [
      'a wildcard exception where wildcards are forbidden',
      EDGE_WILDCARD,
      { ...STRICT, forbidWildcardActions: true },
      'wildcard-action',
    ],
    [
      'an org perimeter where wildcards are forbidden',
      PERIMETER,
      { ...STRICT, forbidWildcardActions: true },
      null,
    ],
    ['an unparseable policy even when nothing is required', '{"Statement"', LENIENT, 'unparseable'],
    ['an absent policy', undefined, STRICT, null],
  ] as const)('judges %s', (_name, document, settings, worst) => {
    // Prepare
    const profile = settings;
    // Act
    const judgement = judge(document, profile);
    // Assess
    expect(judgement.worst).toBe(worst);
    expect(judgement.violations.length > 0).toBe(worst !== null);
  });

  it('gives one violation per statement, at its worst forbidden verdict, in statement order', () => {
    // Prepare
    const document = JSON.stringify({
      Statement: [
        PERIMETER_STATEMENT,
        ORG_ONLY_STATEMENT,
        { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
      ],
    });
    // Act
    const judgement = judge(document, STRICT);
    // Assess
    expect(judgement.violations).toEqual([
      {
        verdict: 'unscoped-resource',
        statementId: 'OrgOnly',
        reason:
          'Resource "*" with no aws:ResourceOrgID, aws:ResourceOrgPaths or aws:ResourceAccount condition',
      },
      {
        verdict: 'full-access',
        statementId: '#2',
        reason: 'allows any principal any action on any resource',
      },
    ]);
    expect(judgement.worst).toBe('full-access');
  });

  it('reports an unparseable policy with its parse error and no statement', () => {
    // Prepare
    const document = JSON.stringify({
      Statement: [{ Effect: 'allow', Principal: '*', Action: '*', Resource: '*' }],
    });
    // Act
    const judgement = judge(document, STRICT);
    // Assess
    expect(judgement.violations).toEqual([
      {
        verdict: 'unparseable',
        statementId: null,
        reason: 'Statement[0].Effect: expected "Allow" or "Deny", got "allow"',
      },
    ]);
  });
});
