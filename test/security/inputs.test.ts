import 'aws-sdk-client-mock-vitest/extend';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { InputValidationError, parseGuardPolicy } from '@vpc-guard/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CliDependencies } from '../../functions/cli/dependencies';
import { main } from '../../functions/cli/main';
import { SlackWebhookConfigError, webhookUrlOf } from '../../functions/runtime/slack-webhook';
import { REPO_ROOT, recordingContext } from '../cli/support';
import { mocks, resetMocks } from '../functions/support/harness';

/**
 * Bad input is bad input: a hostile or mistaken policy, secret or flag is reported as such (exit 2,
 * the source named), before any AWS call, never as an internal error.
 */

const FIXTURES = `${REPO_ROOT}test/fixtures/cli`;
const POLICY_PATH = `${FIXTURES}/policy.yaml`;
const POLICY_TEXT = readFileSync(POLICY_PATH, 'utf8');
const SNAPSHOT = `${FIXTURES}/non-compliant.json`;
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:vpc-guard/slack-AbCdEf';

let scratch: string | undefined;
afterEach(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
  resetMocks();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

function writeScratch(name: string, text: string): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'vpc-guard-inputs-'));
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

/** The test policy plus aliases that expand to 10^9 strings ("billion laughs") in ten short lines. */
function aliasBomb(): string {
  const lines = ['  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let level = 1; level < 9; level += 1) {
    const previous = String.fromCharCode(96 + level);
    const name = String.fromCharCode(97 + level);
    lines.push(`  ${name}: &${name} [${Array(10).fill(`*${previous}`).join(',')}]`);
  }
  return `${POLICY_TEXT}\nlaughs:\n${lines.join('\n')}\n`;
}

/** Live-run dependencies that fail the test if any AWS client is asked for. */
function noAwsDependencies(calls: string[]): CliDependencies {
  const refuse = (what: string) => () => {
    calls.push(what);
    throw new Error(`${what} must not be called for bad input`);
  };
  return {
    ec2: refuse('ec2'),
    sts: refuse('sts'),
    organizations: refuse('organizations'),
    assumeRole: refuse('assumeRole'),
    terminal: { interactive: false, readLine: () => Promise.resolve(undefined) },
  };
}

describe('a YAML alias bomb in the policy file', () => {
  it.each([
    ['scan', (policy: string) => ['scan', '--snapshot', SNAPSHOT, '--policy', policy]],
    ['policy-json', (policy: string) => ['policy-json', policy]],
  ])('makes %s exit 2 naming the file, not 3', async (_command, argv) => {
    // Prepare
    const policy = writeScratch('bomb.yaml', aliasBomb());
    const context = recordingContext();

    // Act
    const code = await main(argv(policy), context);

    // Assess
    expect(code).toBe(2);
    expect(context.stdout).toEqual([]);
    const stderr = context.stderr.join('');
    expect(stderr).toContain(`vpc-guard: error: ${policy}: `);
    expect(stderr).toMatch(/alias/i);
    expect(stderr).not.toContain('internal error');
  });
});

describe('a malformed Slack webhook secret', () => {
  it.each([
    ['a URL of another host', 'https://evil.example.com/services/T0/B0/secret-part'],
    [
      'a host that only starts like Slack',
      'https://hooks.slack.com.evil.example/services/T0/B0/secret-part',
    ],
    [
      'a Slack URL with credentials in it',
      'https://user:secret-part@hooks.slack.com/services/T0/B0/x',
    ],
    ['a Slack URL on another port', 'https://hooks.slack.com:8443/services/T0/B0/secret-part'],
    ['a Slack URL outside /services/', 'https://hooks.slack.com/api/secret-part'],
    ['JSON whose url is not a string', JSON.stringify({ url: ['secret-part'] })],
    ['JSON that is not an object', '["https://hooks.slack.com/services/T0/B0/secret-part"]'],
  ])('is a configuration error, without the secret, when it is %s', (_case, secret) => {
    // Act
    const act = () => webhookUrlOf(secret, SECRET_ARN);

    // Assess
    expect(act).toThrow(SlackWebhookConfigError);
    expect(act).toThrow(SECRET_ARN);
    expect(act).not.toThrow(/secret-part|evil/);
  });

  it('makes `vpc-guard invoke slack-notifier` exit 2 as a configuration error, never echoing the secret', async () => {
    // Prepare
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('MODE', undefined);
    vi.stubEnv('SLACK_SECRET_ARN', SECRET_ARN);
    mocks.secrets.on(GetSecretValueCommand).resolves({
      SecretString: '{"webhook": "https://hooks.slack.com/services/T0/B0/secret-part"}',
    });
    const posted: unknown[] = [];
    vi.stubGlobal('fetch', (url: unknown) => {
      posted.push(url);
      return Promise.resolve(new Response('ok'));
    });
    const context = recordingContext({ env: process.env });

    // Act
    const code = await main(
      [
        'invoke',
        'slack-notifier',
        '--event',
        'test/fixtures/events/slack-notifier/sns-finding-changes.json',
      ],
      context,
    );

    // Assess
    const stderr = context.stderr.join('');
    expect(code).toBe(2);
    expect(posted).toEqual([]);
    expect(stderr).toContain(
      `vpc-guard: configuration error (SlackWebhookConfigError): ${SECRET_ARN}: `,
    );
    expect(stderr).not.toContain('internal error');
    expect(stderr).not.toContain('secret-part');
  });
});

describe('live-run flags', () => {
  it.each([
    ['an unknown region of the right shape', ['--regions', 'us-east-9'], 'us-east-9'],
    ['an unknown region among known ones', ['--regions', 'us-east-1,eu-west-9'], 'eu-west-9'],
  ])('exit 2 before any AWS call for %s', async (_case, flags, named) => {
    // Prepare
    const calls: string[] = [];
    const context = recordingContext();

    // Act
    const code = await main(['scan', '--live', ...flags], context, noAwsDependencies(calls));

    // Assess
    expect(calls).toEqual([]);
    expect(code).toBe(2);
    expect(context.stderr.join('')).toContain(named);
    expect(context.stderr.join('')).toContain('VPC_GUARD_EXTRA_REGIONS');
  });

  it.each([
    ['a region of the wrong shape', 'us_east_1'],
    ['an unknown region', 'us-east-9'],
  ])('exit 2 before any AWS call when AWS_REGION is %s', async (_case, region) => {
    // Prepare
    const calls: string[] = [];
    const context = recordingContext({ env: { AWS_REGION: region } });

    // Act
    const code = await main(['scan', '--live'], context, noAwsDependencies(calls));

    // Assess
    expect(calls).toEqual([]);
    expect(code).toBe(2);
    expect(context.stderr.join('')).toContain(`AWS_REGION: `);
    expect(context.stderr.join('')).toContain(region);
  });

  it('accept a region AWS launched after this release when VPC_GUARD_EXTRA_REGIONS names it', async () => {
    // Prepare: the region passes validation, so the run goes on to ask STS who is calling.
    const calls: string[] = [];
    const context = recordingContext({ env: { VPC_GUARD_EXTRA_REGIONS: 'us-east-9' } });

    // Act
    const code = await main(
      ['scan', '--live', '--regions', 'us-east-9'],
      context,
      noAwsDependencies(calls),
    );

    // Assess
    expect(calls).toEqual(['sts']);
    expect(code).toBe(2);
    expect(context.stderr.join('')).toContain('cannot tell who is calling AWS');
  });
});

describe('a required endpoint in the policy', () => {
  it.each([
    ['a DNS name', 'kms.amazonaws.com'],
    ['a full service name', 'com.amazonaws.us-east-1.kms'],
    ['a full service name of another partition', 'cn.com.amazonaws.cn-north-1.kms'],
    ['a name with a region in it', 'kms.us-east-1'],
  ])('is rejected naming the field and the expected shape when it is %s', (_case, service) => {
    // Prepare
    const text = POLICY_TEXT.replace('- { service: sts }', `- { service: ${service} }`);

    // Act
    const act = () => parseGuardPolicy(text, 'policy.yaml');

    // Assess
    expect(act).toThrow(InputValidationError);
    expect(act).toThrow(
      /policy\.yaml: profiles\.regulated\.endpoints\.required\[1\]\.service: expected a short service name such as "kms", "ecr\.api" or "s3"/,
    );
    expect(act).toThrow(service);
  });

  it.each([
    'kms',
    'ecr.api',
    'ecr.dkr',
    'sagemaker.runtime',
    'execute-api',
    'kms-fips',
    's3-global.accesspoint',
  ])('accepts the short service name %s', (service) => {
    // Prepare
    const text = POLICY_TEXT.replace('- { service: sts }', `- { service: ${service} }`);

    // Act
    const policy = parseGuardPolicy(text, 'policy.yaml');

    // Assess
    expect(policy.profiles['regulated']?.endpoints.required[1]?.service).toBe(service);
  });
});
