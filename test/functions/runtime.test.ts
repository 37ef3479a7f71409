import 'aws-sdk-client-mock-vitest/extend';
import { rmSync, writeFileSync } from 'node:fs';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { InputValidationError, type AssumeRoleOptions, type GuardPolicy } from '@vpc-guard/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  loadRuntimeConfig,
  parsePolicySource,
  type EnvironmentVariables,
} from '../../functions/runtime/config';
import { createDependencies } from '../../functions/runtime/dependencies';
import { PolicyReadError, readS3Object } from '../../functions/runtime/policy-source';
import {
  NOW,
  POLICY_PARAMETER,
  TEST_ENVIRONMENT,
  FunctionHarness,
  fixtureText,
  mocks,
  policyJson,
  resetMocks,
} from './support/harness';

afterEach(resetMocks);

function config(functionName: Parameters<typeof loadRuntimeConfig>[0], env: EnvironmentVariables) {
  return loadRuntimeConfig(functionName, { ...TEST_ENVIRONMENT, ...env });
}

describe('runtime configuration', () => {
  it('reads the environment into a typed configuration, with defaults', () => {
    // Act
    const result = loadRuntimeConfig('api-event', {
      AWS_REGION: 'eu-west-1',
      POLICY_SOURCE: 's3://vpc-guard-config/policy.yaml',
      FINDINGS_TABLE: 'findings',
      TOPIC_ARN: 'arn:aws:sns:eu-west-1:111111111111:alerts',
      OWN_ROLE_ARNS:
        'arn:aws:iam::111111111111:role/vpc-guard-api-event, arn:aws:iam::*:role/VpcGuardMember',
    });

    // Assess
    expect(result).toMatchObject({
      region: 'eu-west-1',
      policySource: { kind: 's3', bucket: 'vpc-guard-config', key: 'policy.yaml' },
      policyCacheSeconds: 300,
      eventBusName: 'default',
      securityHub: false,
      mode: 'standalone',
      memberRoleName: 'VpcGuardMember',
      regions: { kind: 'list', regions: ['eu-west-1'] },
      killSwitchParameter: null,
      sweepConcurrency: 4,
      ownRoleArns: [
        'arn:aws:iam::111111111111:role/vpc-guard-api-event',
        'arn:aws:iam::*:role/VpcGuardMember',
      ],
    });
  });

  it.each([
    [
      'api-event',
      { OWN_ROLE_ARNS: undefined },
      /OWN_ROLE_ARNS: required by the api-event function/,
    ],
    ['sweep', { FINDINGS_TABLE: undefined }, /FINDINGS_TABLE: required by the sweep function/],
    ['config-rule', { POLICY_SOURCE: '  ' }, /POLICY_SOURCE: required by the config-rule function/],
    [
      'slack-notifier',
      { SLACK_SECRET_ARN: undefined },
      /SLACK_SECRET_ARN: required by the slack-notifier function/,
    ],
    [
      'api-event',
      { POLICY_SOURCE: 'ssm:' },
      /POLICY_SOURCE: expected "ssm:\/parameter\/name", "s3:\/\/bucket\/key" or "file:/,
    ],
    ['api-event', { POLICY_SOURCE: 's3://Bucket_Name/key' }, /POLICY_SOURCE: expected/],
    ['api-event', { SECURITY_HUB: 'yes' }, /SECURITY_HUB: expected "on" or "off", got "yes"/],
    ['api-event', { MODE: 'hub' }, /EXTERNAL_ID_PARAMETER: required in hub mode/],
    [
      'api-event',
      { OWN_ROLE_ARNS: 'vpc-guard' },
      /OWN_ROLE_ARNS: expected comma-separated IAM role ARNs/,
    ],
    [
      'sweep',
      { REGIONS: 'us-east-1,mars' },
      /REGIONS: expected "all" or comma-separated region names/,
    ],
    ['sweep', { SWEEP_CONCURRENCY: '0' }, /SWEEP_CONCURRENCY: .*1/],
    ['api-event', { AWS_REGION: undefined }, /AWS_REGION: expected string, got nothing/],
  ] as const)('fails fast for %s when %j, naming the variable', (functionName, env, message) => {
    expect(() => config(functionName, env)).toThrow(InputValidationError);
    expect(() => config(functionName, env)).toThrow(message);
  });

  it('names every bad variable at once', () => {
    // Act
    const attempt = () => config('api-event', { TOPIC_ARN: 'alerts', FINDINGS_TABLE: undefined });

    // Assess
    expect(attempt).toThrow(/environment: .*problems/s);
    expect(attempt).toThrow(/TOPIC_ARN: expected an SNS topic ARN/);
  });

  it('always guards against the member role in hub mode, and needs no other own roles', () => {
    // Act
    const result = config('api-event', {
      MODE: 'hub',
      EXTERNAL_ID_PARAMETER: '/vpc-guard/external-id',
      MEMBER_ROLE_NAME: 'GuardMember',
      OWN_ROLE_ARNS: undefined,
    });

    // Assess
    expect(result.ownRoleArns).toEqual(['arn:*:iam::*:role/GuardMember']);
  });

  it.each([
    ['ssm:/vpc-guard/policy', { kind: 'ssm', name: '/vpc-guard/policy' }],
    [
      's3://config.example/vpc-guard/policy.yaml',
      { kind: 's3', bucket: 'config.example', key: 'vpc-guard/policy.yaml' },
    ],
    ['file:policy.yaml', { kind: 'file', path: 'policy.yaml' }],
    ['https://example.com/policy.yaml', undefined],
    ['s3://bucket-only', undefined],
  ])('parses the policy source %s', (text, expected) => {
    expect(parsePolicySource(text)).toEqual(expected);
  });
});

describe('runtime dependencies: the policy', () => {
  it('reads the policy from SSM once per TTL, so an edit takes effect without a deploy', async () => {
    // Prepare
    let now = NOW.getTime();
    const harness = new FunctionHarness({ overrides: { clock: () => new Date(now) } });

    // Act
    await harness.deps.policy();
    await harness.deps.policy();
    now += 301_000;
    harness.parameters.set(POLICY_PARAMETER, policyJson(fixtureText('events/policy-auto.yaml')));
    const edited = await harness.deps.policy();

    // Assess
    expect(mocks.ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
    expect(mocks.ssm).toHaveReceivedCommandWith(GetParameterCommand, {
      Name: POLICY_PARAMETER,
      WithDecryption: true,
    });
    expect(edited.profiles['regulated']?.remediation.mode).toBe('auto');
  });

  it('names the source and the bad field of an invalid policy, and reads it again next time', async () => {
    // Prepare
    const harness = new FunctionHarness({
      policy:
        'version: 1\norganization: { id: o-a1b2c3d4e5 }\nprofiles: {}\nassign: { default: missing }\n',
    });

    // Act
    const first = harness.deps.policy();

    // Assess
    await expect(first).rejects.toThrow(
      /ssm:\/vpc-guard\/policy: assign\.default: expected the name of a profile/,
    );
    harness.parameters.set(POLICY_PARAMETER, policyJson(fixtureText('events/policy.yaml')));
    await expect(harness.deps.policy()).resolves.toMatchObject({ version: 1 });
  });

  it('reads a bundled policy file relative to the working directory', async () => {
    // Prepare: a JSON policy file, as `vpc-guard invoke --policy` writes one.
    const path = 'node_modules/.vg-runtime-policy-auto.json';
    writeFileSync(path, policyJson(fixtureText('events/policy-auto.yaml')));
    const harness = new FunctionHarness({ env: { POLICY_SOURCE: `file:${path}` } });

    // Act
    let policy: GuardPolicy;
    try {
      policy = await harness.deps.policy();
    } finally {
      rmSync(path, { force: true });
    }

    // Assess
    expect(policy.profiles['regulated']?.remediation.mode).toBe('auto');
    expect(mocks.ssm.calls()).toHaveLength(0);
  });

  it('refuses a YAML policy, saying that the functions read JSON', async () => {
    // Prepare: the functions bundle no YAML parser; the stack publishes JSON.
    const harness = new FunctionHarness({
      env: { POLICY_SOURCE: 'file:test/fixtures/events/policy-auto.yaml' },
    });

    // Act
    const policy = harness.deps.policy();

    // Assess
    await expect(policy).rejects.toThrow(InputValidationError);
    await expect(policy).rejects.toThrow(
      /file:test\/fixtures\/events\/policy-auto\.yaml: not valid JSON .*the functions read the policy as JSON/,
    );
  });

  it('reads an S3 policy with a SigV4-signed GET, virtual-hosted', async () => {
    // Prepare
    const requests: { url: string; headers: Record<string, string> }[] = [];
    const fetch = (input: string | URL | Request, init?: RequestInit) => {
      requests.push({
        url: input instanceof Request ? input.url : input.toString(),
        headers: init?.headers as Record<string, string>,
      });
      return Promise.resolve(new Response('version: 1\n'));
    };

    // Act
    const text = await readS3Object({
      bucket: 'vpc-guard-config',
      key: 'policies/prod policy.yaml',
      region: 'eu-west-1',
      credentials: () => Promise.resolve({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' }),
      endpointUrl: null,
      fetch,
    });

    // Assess
    expect(text).toBe('version: 1\n');
    expect(requests[0]?.url).toBe(
      'https://vpc-guard-config.s3.eu-west-1.amazonaws.com/policies/prod%20policy.yaml',
    );
    expect(requests[0]?.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*x-amz-content-sha256[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(requests[0]?.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
  });

  it('uses path-style requests against an endpoint override, and names S3 errors', async () => {
    // Prepare
    const urls: string[] = [];
    const fetch = (input: string | URL | Request) => {
      urls.push(input instanceof Request ? input.url : input.toString());
      return Promise.resolve(
        new Response(
          '<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
          {
            status: 404,
          },
        ),
      );
    };

    // Act
    const attempt = readS3Object({
      bucket: 'vpc-guard-config',
      key: 'policy.yaml',
      region: 'us-east-1',
      credentials: () => Promise.resolve({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' }),
      endpointUrl: 'http://localhost:4566/',
      fetch,
    });

    // Assess
    await expect(attempt).rejects.toThrow(PolicyReadError);
    await expect(attempt).rejects.toThrow(
      's3://vpc-guard-config/policy.yaml: S3 answered HTTP 404 (NoSuchKey)',
    );
    expect(urls).toEqual(['http://localhost:4566/vpc-guard-config/policy.yaml']);
  });
});

describe('runtime dependencies: accounts and the kill switch', () => {
  it('assumes the member role of the account, with the external id, once for all its regions', async () => {
    // Prepare
    const assumed: AssumeRoleOptions[] = [];
    const harness = new FunctionHarness({
      env: { MODE: 'hub', EXTERNAL_ID_PARAMETER: '/vpc-guard/external-id' },
      overrides: {
        assumeRole: (options) => {
          assumed.push(options);
          return () => Promise.resolve({ accessKeyId: 'ASIAMEMBER', secretAccessKey: 'secret' });
        },
      },
    });

    // Act
    const credentials = harness.deps.credentialsFor('222222222222');
    await credentials?.();
    await harness.deps.credentialsFor('222222222222')?.();

    // Assess
    expect(assumed).toEqual([
      {
        roleArn: 'arn:aws:iam::222222222222:role/VpcGuardMember',
        externalId: 'vpc-guard-external-id-42',
        region: 'us-east-1',
      },
    ]);
    expect(harness.deps.ec2For('222222222222', 'us-east-1')).toBe(
      harness.deps.ec2For('222222222222', 'us-east-1'),
    );
  });

  it('uses its own credentials in standalone mode', () => {
    expect(new FunctionHarness().deps.credentialsFor('111111111111')).toBeUndefined();
  });

  it.each([
    [undefined, 'on', 'does not exist: treated as on'],
    ['on', 'on', 'is on'],
    [' OFF\n', 'off', 'is off'],
    ['maybe', 'on', 'not "on" or "off": treated as on'],
  ])('reads kill switch value %j as %s', async (value, state, detail) => {
    // Prepare
    const harness = new FunctionHarness(value === undefined ? {} : { killSwitch: value });

    // Act
    const killSwitch = await harness.deps.killSwitch();

    // Assess
    expect(killSwitch.state).toBe(state);
    expect(killSwitch.detail).toContain(detail);
  });

  it('has no kill switch when none is configured', async () => {
    const harness = new FunctionHarness({ env: { KILL_SWITCH_PARAMETER: undefined } });
    await expect(harness.deps.killSwitch()).resolves.toMatchObject({ state: 'not-configured' });
  });

  it('builds its clients once per cold start', () => {
    // Prepare
    const deps = createDependencies(config('api-event', {}));

    // Assess
    expect(deps.sns).toBe(deps.sns);
    expect(deps.findings).toBe(deps.findings);
    expect(deps.configServiceFor('111111111111', 'us-east-1')).toBe(
      deps.configServiceFor('111111111111', 'us-east-1'),
    );
  });
});
