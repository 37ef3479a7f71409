import { describe, expect, it } from 'vitest';
import {
  InputValidationError,
  guardPolicyAsJson,
  parseGuardPolicy,
  parseGuardPolicyJson,
} from '@vpc-guard/shared';
import { TEST_POLICY_YAML } from '../../fixtures/network';

const MINIMAL = `
version: 1
organization: { id: o-a1b2c3d4e5 }
profiles:
  regulated:
    endpoints:
      required:
        - { service: s3, type: Gateway }
        - { service: sts }
assign: { default: regulated }
`;

function problemsOf(text: string): string {
  try {
    parseGuardPolicy(text, 'policy.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(InputValidationError);
    return (error as Error).message;
  }
  throw new Error('expected the policy to be rejected');
}

describe('parseGuardPolicy', () => {
  it('fills every default of a minimal policy', () => {
    // Act
    const policy = parseGuardPolicy(MINIMAL);
    // Assess
    expect(policy.profiles['regulated']).toEqual({
      egress: { natGateway: 'allowed', internetRoute: 'allowed' },
      endpoints: {
        required: [
          { service: 's3', type: 'Gateway' },
          { service: 'sts', type: 'Interface' },
        ],
        privateDns: 'required',
        coverage: 'every-workload-az',
      },
      endpointPolicy: {
        allowFullAccess: false,
        requirePrincipalScope: true,
        requireResourceScope: true,
        forbidWildcardActions: false,
        template: 'data-perimeter',
      },
      remediation: { mode: 'notify', actions: [], maxChangesPerRun: 10 },
    });
    expect(policy.assign).toEqual({ tag: 'vpc-guard:profile', accounts: {}, default: 'regulated' });
    expect(policy.exemptions).toEqual({ tag: 'vpc-guard:exempt', maxDays: 366 });
  });

  it('reads the same policy from JSON', () => {
    // Prepare
    const json = JSON.stringify(parseGuardPolicy(TEST_POLICY_YAML));
    // Act
    const policy = parseGuardPolicy(json, 'policy.json');
    // Assess
    expect(policy).toEqual(parseGuardPolicy(TEST_POLICY_YAML));
  });

  it.each([
    [
      'a lower-case endpoint type',
      MINIMAL.replace('type: Gateway', 'type: gateway'),
      'policy.yaml: profiles.regulated.endpoints.required[0].type: expected "Gateway" or "Interface", got "gateway"',
    ],
    [
      'an unknown remediation mode',
      MINIMAL.replace('assign:', '    remediation: { mode: yolo }\nassign:'),
      'profiles.regulated.remediation.mode: expected "off", "notify", "dry-run" or "auto", got "yolo"',
    ],
    [
      'a misspelt key',
      MINIMAL.replace('assign:', '    remediaton: { mode: auto }\nassign:'),
      'profiles.regulated: unknown key "remediaton"',
    ],
    [
      'a default that names no profile',
      MINIMAL.replace('default: regulated', 'default: regulatd'),
      'assign.default: expected the name of a profile ("regulated"), got "regulatd"',
    ],
    [
      'an account mapped to no profile',
      MINIMAL.replace('assign: {', 'assign: { accounts: { "111111111111": nope },'),
      'assign.accounts.111111111111: expected the name of a profile',
    ],
    [
      'a malformed account id',
      MINIMAL.replace('assign: {', 'assign: { accounts: { "1234": regulated },'),
      'expected a 12-digit AWS account id',
    ],
    [
      'a bad organization id',
      MINIMAL.replace('o-a1b2c3d4e5', 'org-1'),
      'organization.id: expected an AWS Organizations id',
    ],
    [
      'a gateway endpoint for a service that has none',
      MINIMAL.replace('{ service: sts }', '{ service: sts, type: Gateway }'),
      'profiles.regulated.endpoints.required[1].type: expected "Interface" for "sts"',
    ],
    [
      'a service listed twice',
      MINIMAL.replace('{ service: sts }', '{ service: s3, type: Gateway }'),
      'required[1].service: expected each service once',
    ],
    [
      'auto mode with nothing allowed',
      MINIMAL.replace('assign:', '    remediation: { mode: auto }\nassign:'),
      'profiles.regulated.remediation.actions: expected at least one action',
    ],
    [
      'an unknown action',
      MINIMAL.replace('assign:', '    remediation: { mode: auto, actions: [delete-vpc] }\nassign:'),
      'profiles.regulated.remediation.actions[0]: expected "remove-nat"',
    ],
    [
      'a negative change cap',
      MINIMAL.replace('assign:', '    remediation: { maxChangesPerRun: -1 }\nassign:'),
      'profiles.regulated.remediation.maxChangesPerRun: Too small',
    ],
    ['a missing version', MINIMAL.replace('version: 1', ''), 'version: expected 1, got nothing'],
    [
      'a template that would be flagged as soon as written',
      MINIMAL.replace('assign:', '    endpointPolicy: { template: principal-org-only }\nassign:'),
      'profiles.regulated.endpointPolicy.template: expected "data-perimeter" while requireResourceScope or forbidWildcardActions is true',
    ],
    ['a future version', MINIMAL.replace('version: 1', 'version: 2'), 'version: expected 1, got 2'],
    ['broken YAML', 'version: 1\n  profiles: [', 'not valid YAML or JSON'],
    ['an empty file', '', 'expected a policy, got an empty document'],
    ['a list instead of a map', '- 1\n- 2', 'expected object, got an array'],
  ])('rejects %s, naming the field and what was expected', (_name, text, expected) => {
    // Act
    const message = problemsOf(text);
    // Assess
    expect(message).toContain(expected);
  });

  it('lists every problem of a policy at once', () => {
    // Prepare
    const text = MINIMAL.replace('type: Gateway', 'type: gateway').replace(
      'assign:',
      '    remediation: { mode: yolo }\nassign:',
    );
    // Act
    const message = problemsOf(text);
    // Assess
    expect(message).toMatch(/^policy\.yaml: \d+ problems/);
    expect(message).toContain('required[0].type');
    expect(message).toContain('remediation.mode');
  });
});

describe('guardPolicyAsJson and parseGuardPolicyJson (what the functions read)', () => {
  it('turns a YAML policy into compact JSON that reads as the same policy', () => {
    // Act
    const json = guardPolicyAsJson(`# the team's policy\n${MINIMAL}`, 'policy.yaml');
    // Assess: the document as written (no defaults filled in, no comment), on one line.
    expect(JSON.parse(json)).toEqual({
      version: 1,
      organization: { id: 'o-a1b2c3d4e5' },
      profiles: {
        regulated: {
          endpoints: { required: [{ service: 's3', type: 'Gateway' }, { service: 'sts' }] },
        },
      },
      assign: { default: 'regulated' },
    });
    expect(json).not.toContain('\n');
    expect(parseGuardPolicyJson(json, 'policy.json')).toEqual(parseGuardPolicy(MINIMAL));
  });

  it('refuses to convert an invalid policy, naming the field', () => {
    // Act
    const convert = () =>
      guardPolicyAsJson(MINIMAL.replace('type: Gateway', 'type: gateway'), 'policy.yaml');
    // Assess
    expect(convert).toThrow(InputValidationError);
    expect(convert).toThrow(/policy\.yaml: profiles\.regulated\.endpoints\.required\[0\]\.type/);
  });

  it.each([
    [
      'YAML',
      MINIMAL,
      /^ssm:\/vpc-guard\/policy: not valid JSON \(.*\): the functions read the policy as JSON/,
    ],
    [
      'an empty document',
      'null',
      /^ssm:\/vpc-guard\/policy: expected a policy, got an empty document$/,
    ],
  ])('refuses %s, saying why', (_name, text, expected) => {
    // Act
    const parse = () => parseGuardPolicyJson(text, 'ssm:/vpc-guard/policy');
    // Assess
    expect(parse).toThrow(InputValidationError);
    expect(parse).toThrow(expected);
  });
});
