import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputValidationError } from '@vpc-guard/shared';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadDeploymentConfig, parseDeploymentConfig } from '../../infra/lib/deployment-config';
import { INFRA_DIR } from '../../infra/lib/paths';
import { TEST_ORGANIZATION_ID, exampleInput, testPolicyFile } from './support';

const scratch = mkdtempSync(join(tmpdir(), 'vpc-guard-config-'));

/** A policy file made from the examples' (with the test organization), with `mutate` applied. */
function policyFile(name: string, mutate: (policy: Record<string, unknown>) => void): string {
  const policy = parseYaml(readFileSync(testPolicyFile('standalone'), 'utf8')) as Record<
    string,
    unknown
  >;
  mutate(policy);
  const file = join(scratch, name);
  writeFileSync(file, stringifyYaml(policy));
  return file;
}

function parse(data: unknown) {
  return parseDeploymentConfig(data, { source: 'deployment.json', baseDir: INFRA_DIR });
}

/** The message of the error `parse(data)` throws. */
function rejection(data: unknown): string {
  try {
    parse(data);
  } catch (error) {
    expect(error).toBeInstanceOf(InputValidationError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be rejected');
}

/** An example configuration (made the operator's: the test organization) written to a file. */
function exampleFile(kind: 'standalone' | 'hub'): string {
  const file = join(scratch, `${kind}.json`);
  writeFileSync(file, JSON.stringify(exampleInput(kind)));
  return file;
}

describe('loadDeploymentConfig', () => {
  it("loads the standalone example once its policy names the operator's organization", () => {
    // Act
    const config = loadDeploymentConfig(exampleFile('standalone'));
    // Assess
    expect(config.mode).toBe('standalone');
    expect(config.account).toBe('111111111111');
    expect(config.regions).toEqual(['us-east-1', 'eu-west-1']);
    expect(config.hub).toBeUndefined();
    expect(config.releaseElasticIps).toBe(false);
    expect(config.policy).toMatchObject({
      source: 'ssm',
      parameterName: '/vpc-guard/policy',
      tier: 'Standard',
    });
  });

  it('loads the hub example, with the rollout in the hub account by default', () => {
    const config = loadDeploymentConfig(exampleFile('hub'));
    expect(config.hub).toMatchObject({
      account: '222222222222',
      region: 'us-east-1',
      organizationId: TEST_ORGANIZATION_ID,
      memberRoleName: 'VpcGuardMember',
      memberRoleRegion: 'us-east-1',
      externalIdParameterName: '/vpc-guard/external-id',
      eventBusName: 'vpc-guard',
      rollout: { account: '222222222222', region: 'us-east-1', callAs: 'DELEGATED_ADMIN' },
    });
  });

  it('excludes the configured accounts, and the management account when the StackSet calls as SELF', () => {
    const none = parse(exampleInput('hub'));
    expect(none.hub!.excludedAccounts).toEqual([]);
    const listed = parse(
      exampleInput('hub', { excludedAccounts: ['999999999999', '444444444444'] }),
    );
    expect(listed.hub!.excludedAccounts).toEqual(['444444444444', '999999999999']);
    // Only the management account calls as SELF on a service-managed StackSet.
    const self = parse(
      exampleInput('hub', {
        excludedAccounts: ['444444444444'],
        rollout: { account: '999999999999', callAs: 'SELF' },
      }),
    );
    expect(self.hub!.excludedAccounts).toEqual(['444444444444', '999999999999']);
  });

  it('throws naming the file when it does not exist', () => {
    expect(() => loadDeploymentConfig(join(scratch, 'absent.json'))).toThrow(
      /expected a deployment configuration file, but .*absent\.json does not exist/,
    );
  });

  it('throws naming the file when it is not JSON', () => {
    const file = join(scratch, 'broken.json');
    writeFileSync(file, '{ "mode": ');
    expect(() => loadDeploymentConfig(file)).toThrow(/broken\.json: not valid JSON/);
  });
});

describe('parseDeploymentConfig', () => {
  it('fills the documented defaults of a minimal standalone configuration', () => {
    // Act
    const file = testPolicyFile('standalone');
    const config = parse({
      mode: 'standalone',
      regions: ['eu-west-1'],
      policy: { source: 'ssm', file },
    });
    // Assess
    expect(config).toMatchObject({
      account: undefined,
      slackSecretName: undefined,
      notificationEmails: [],
      periodicFrequency: 'TwentyFour_Hours',
      killSwitchParameterName: '/vpc-guard/kill-switch',
      sweepSchedule: 'rate(1 day)',
      securityHub: true,
      remediationConcurrency: 2,
      logRetentionDays: 90,
      releaseElasticIps: false,
      policy: { source: 'ssm', parameterName: '/vpc-guard/policy' },
    });
  });

  it('reads the policy from S3 without publishing it', () => {
    const config = parse({
      mode: 'standalone',
      regions: ['eu-west-1'],
      policy: { source: 's3', bucket: 'network-policies', key: 'vpc-guard/policy.yaml' },
    });
    expect(config.policy).toEqual({
      source: 's3',
      bucket: 'network-policies',
      key: 'vpc-guard/policy.yaml',
    });
  });

  it('publishes a policy above 4 KB to an Advanced parameter', () => {
    const file = policyFile('large.yaml', (policy) => {
      (policy['profiles'] as Record<string, Record<string, unknown>>)['regulated']!['description'] =
        'x'.repeat(4000);
    });
    const config = parse({
      mode: 'standalone',
      regions: ['eu-west-1'],
      policy: { source: 'ssm', file },
    });
    expect(config.policy).toMatchObject({ source: 'ssm', tier: 'Advanced' });
  });

  it.each([
    {
      case: 'a policy too large for SSM',
      input: () => ({
        mode: 'standalone',
        regions: ['eu-west-1'],
        policy: {
          source: 'ssm',
          file: policyFile('huge.yaml', (policy) => {
            (policy['profiles'] as Record<string, Record<string, unknown>>)['regulated']![
              'description'
            ] = 'x'.repeat(9000);
          }),
        },
      }),
      message:
        /policy\.file: expected a policy of at most 8192 bytes .* got \d+ bytes .*"source": "s3"/,
    },
    {
      case: 'a policy that fails its own schema',
      input: () => ({
        mode: 'standalone',
        regions: ['eu-west-1'],
        policy: {
          source: 'ssm',
          file: policyFile('bad.yaml', (policy) => (policy['version'] = 2)),
        },
      }),
      message: /policy\.file \(.*bad\.yaml\) version: expected 1, got 2/,
    },
    {
      case: 'a policy that releases Elastic IPs without the grant',
      input: () => ({
        mode: 'standalone',
        regions: ['eu-west-1'],
        policy: {
          source: 'ssm',
          file: policyFile('release.yaml', (policy) => {
            (policy['profiles'] as Record<string, Record<string, unknown>>)['regulated']![
              'remediation'
            ] = { mode: 'auto', actions: ['remove-nat', 'release-elastic-ip'] };
          }),
        },
      }),
      message: /releaseElasticIps: expected true when the policy enables release-elastic-ip/,
    },
    {
      case: 'a policy file that does not exist',
      input: () => ({
        mode: 'standalone',
        regions: ['eu-west-1'],
        policy: { source: 'ssm', file: 'missing.yaml' },
      }),
      message: /policy\.file: expected a readable policy file, got "missing\.yaml"/,
    },
    {
      case: 'an unknown mode',
      input: () => ({ mode: 'org', regions: ['eu-west-1'] }),
      message: /mode: expected "standalone" or "hub", got "org"/,
    },
    {
      case: 'no region',
      input: () => ({ mode: 'standalone', regions: [] }),
      message: /regions: expected at least one region/,
    },
    {
      case: 'a region twice',
      input: () => ({ mode: 'standalone', regions: ['eu-west-1', 'eu-west-1'] }),
      message: /regions: expected each region once, got \["eu-west-1","eu-west-1"\]/,
    },
    {
      case: 'a malformed region',
      input: () => ({ mode: 'standalone', regions: ['Europe'] }),
      message: /regions\[0\]: expected an AWS region such as "us-east-1", got "Europe"/,
    },
    {
      case: 'a periodic frequency Config does not know',
      input: () => ({ mode: 'standalone', regions: ['eu-west-1'], periodicFrequency: 'Daily' }),
      message:
        /periodicFrequency: expected "One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours" or "TwentyFour_Hours", got "Daily"/,
    },
    {
      case: 'a schedule with the wrong plural',
      input: () => ({ mode: 'standalone', regions: ['eu-west-1'], sweepSchedule: 'rate(1 hours)' }),
      message: /sweepSchedule: expected an EventBridge schedule .*, got "rate\(1 hours\)"/,
    },
    {
      case: 'a log retention CloudWatch does not offer',
      input: () => ({ mode: 'standalone', regions: ['eu-west-1'], logRetentionDays: 42 }),
      message: /logRetentionDays: expected a CloudWatch Logs retention in days: .*, got 42/,
    },
    {
      case: 'an e-mail address that is not one',
      input: () => ({ mode: 'standalone', regions: ['eu-west-1'], notificationEmails: ['secops'] }),
      message: /notificationEmails\[0\]: expected an e-mail address, got "secops"/,
    },
    {
      case: 'a misspelt key',
      input: () => ({ mode: 'standalone', regions: ['eu-west-1'], killSwitchParameter: '/x' }),
      message: /unknown key "killSwitchParameter"/,
    },
    {
      case: 'a hub-only field in standalone mode',
      input: () => ({ mode: 'standalone', regions: ['eu-west-1'], organizationId: 'o-a1b2c3d4e5' }),
      message:
        /organizationId: only meaningful in hub mode, got "o-a1b2c3d4e5" with mode "standalone"/,
    },
    {
      case: 'a hub account that is not an account id',
      input: () => exampleInput('hub', { hubAccount: '12345' }),
      message: /hubAccount: expected a 12-digit AWS account id, got "12345"/,
    },
    {
      case: 'a hub without organization',
      input: () => exampleInput('hub', { organizationId: undefined }),
      message: /organizationId: required in hub mode: the organization the bus admits, got nothing/,
    },
    {
      case: 'a hub without target OUs',
      input: () => exampleInput('hub', { targetOrganizationalUnits: undefined }),
      message:
        /targetOrganizationalUnits: required in hub mode: the OUs the StackSet targets, got nothing/,
    },
    {
      case: 'a malformed OU id',
      input: () => exampleInput('hub', { targetOrganizationalUnits: ['workloads'] }),
      message: /targetOrganizationalUnits\[0\]: expected an OU id .*, got "workloads"/,
    },
    {
      case: 'an organization other than the policy names',
      input: () => exampleInput('hub', { organizationId: 'o-otherorg0001' }),
      message:
        /organizationId: expected the organization the policy names \(o-vpcguardtest1, in .*policy\.yaml\), got "o-otherorg0001"/,
    },
    {
      case: 'a rollout elsewhere without the external id',
      input: () =>
        exampleInput('hub', {
          externalId: undefined,
          rollout: { account: '333333333333', callAs: 'SELF' },
        }),
      message: /externalId: required when the rollout stack is not in the hub account and region/,
    },
    {
      case: 'an external id STS would refuse',
      input: () => exampleInput('hub', { externalId: 'x' }),
      message: /externalId: expected 2 to 1224 characters .*, got "x"/,
    },
    {
      case: 'an excluded account that is not an account id',
      input: () => exampleInput('hub', { excludedAccounts: ['12345'] }),
      message: /excludedAccounts\[0\]: expected a 12-digit AWS account id, got "12345"/,
    },
    {
      case: 'an excluded account twice',
      input: () => exampleInput('hub', { excludedAccounts: ['999999999999', '999999999999'] }),
      message: /excludedAccounts: expected each account once/,
    },
    {
      case: 'excluded accounts in standalone mode',
      input: () => ({
        mode: 'standalone',
        regions: ['eu-west-1'],
        excludedAccounts: ['999999999999'],
      }),
      message: /excludedAccounts: only meaningful in hub mode, got \["999999999999"\]/,
    },
    {
      case: 'a StackSet call-as value CloudFormation does not know',
      input: () => exampleInput('hub', { rollout: { callAs: 'ADMIN' } }),
      message: /rollout\.callAs: expected "SELF" or "DELEGATED_ADMIN", got "ADMIN"/,
    },
  ])(
    'throws naming the field, what it got and what it expects, for $case',
    ({ input, message }) => {
      expect(rejection(input())).toMatch(message);
    },
  );

  it('names the configuration in every message', () => {
    expect(rejection({ mode: 'standalone' })).toMatch(/^deployment\.json: regions: expected array/);
  });
});
