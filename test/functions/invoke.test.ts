import 'aws-sdk-client-mock-vitest/extend';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { regionOfEvent } from '../../functions/cli/commands/invoke';
import { main } from '../../functions/cli/main';
import { REPO_ROOT, recordingContext } from '../cli/support';
import { loadEvent, mocks, resetMocks } from './support/harness';

/**
 * `vpc-guard invoke` runs the real handler modules (handler.ts, which validate the environment at
 * import), in this process, with AWS mocked. Each function's module is imported once per test file,
 * so each test uses a different function.
 */

const EVENTS = 'test/fixtures/events';

afterEach(() => {
  resetMocks();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

/** `vpc-guard invoke FUNCTION --event EVENT` with the test policy. */
function withPolicy(functionName: string, event: string): string[] {
  return ['invoke', functionName, '--event', event, '--policy', `${EVENTS}/policy.yaml`];
}

/**
 * The function's environment. Variables invoke may set itself are stubbed first, so they are restored
 * afterwards; MODE is cleared because Vite sets MODE=test in every vitest process.
 */
function environment(variables: Record<string, string>): void {
  vi.stubEnv('POLICY_SOURCE', undefined);
  vi.stubEnv('AWS_REGION', undefined);
  vi.stubEnv('MODE', undefined);
  for (const [name, value] of Object.entries(variables)) vi.stubEnv(name, value);
}

describe('vpc-guard invoke', () => {
  it('runs the config rule module on an event file, with the policy given, and prints the result', async () => {
    // Prepare: the VPC left the rule's scope, so only Config is called.
    environment({ AWS_REGION: 'us-east-1' });
    mocks.config.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    // The function learns its own account from STS: the event's account.
    mocks.sts.on(GetCallerIdentityCommand).resolves({
      Account: '111111111111',
      Arn: 'arn:aws:sts::111111111111:assumed-role/vpc-guard-config-rule/local',
    });
    const context = recordingContext({ env: process.env });
    const event = loadEvent('config-rule/vpc-change.json');
    event['eventLeftScope'] = true;
    const path = `${REPO_ROOT}/node_modules/.vg-invoke-event.json`;
    writeFileSync(path, JSON.stringify(event));

    // Act
    let code: number;
    try {
      code = await main(withPolicy('config-rule', path), context);
    } finally {
      rmSync(path, { force: true });
    }

    // Assess
    expect(code).toBe(0);
    // The YAML file was handed to the function as JSON, in a scratch file removed afterwards.
    const source = process.env['POLICY_SOURCE'] ?? '';
    expect(source).toMatch(/^file:.*vpc-guard-invoke-.*policy\.json$/);
    expect(existsSync(source.slice('file:'.length))).toBe(false);
    expect(JSON.parse(context.stdout.join(''))).toMatchObject({
      messageType: 'ConfigurationItemChangeNotification',
      resource: { type: 'AWS::EC2::VPC', id: 'vpc-0aa00000000000001' },
    });
    expect(mocks.config).toHaveReceivedCommandWith(PutEvaluationsCommand, {
      Evaluations: [expect.objectContaining({ ComplianceType: 'NOT_APPLICABLE' })],
    });
  });

  it('runs the notifier module end to end: secret, Block Kit, Slack', async () => {
    // Prepare
    environment({
      SLACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:slack-AbCdEf',
    });
    mocks.secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: 'https://hooks.slack.com/services/T0/B0/local' });
    const posted: string[] = [];
    vi.stubGlobal('fetch', (_url: unknown, init?: RequestInit) => {
      posted.push(init?.body as string);
      return Promise.resolve(new Response('ok'));
    });
    const context = recordingContext({ env: process.env });

    // Act
    const code = await main(
      ['invoke', 'slack-notifier', '--event', `${EVENTS}/slack-notifier/sns-finding-changes.json`],
      context,
    );

    // Assess
    expect(code).toBe(0);
    expect(process.env['AWS_REGION']).toBe('us-east-1');
    expect(JSON.parse(context.stdout.join(''))).toEqual({
      changes: 2,
      sent: 1,
      vpcs: ['111111111111/us-east-1/vpc-0aa00000000000001'],
    });
    expect(posted).toHaveLength(1);
    // The logs went to stderr, not into the result.
    expect(context.stderr.join('')).toContain('"service":"vpc-guard"');
  });

  it('exits 2 naming the missing variable when the environment is incomplete', async () => {
    // Prepare: api-event needs FINDINGS_TABLE, TOPIC_ARN and OWN_ROLE_ARNS.
    environment({ AWS_REGION: 'us-east-1', FINDINGS_TABLE: 'vpc-guard-findings' });
    const context = recordingContext({ env: process.env });

    // Act
    const code = await main(
      withPolicy('api-event', `${EVENTS}/api-event/create-route.json`),
      context,
    );

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toMatch(/TOPIC_ARN: required by the api-event function/);
    expect(context.stderr.join('')).toMatch(/OWN_ROLE_ARNS: required by the api-event function/);
    expect(context.stdout).toEqual([]);
  });

  it('exits 2 naming the field when the event does not match its schema, with no AWS call', async () => {
    // Prepare
    environment({
      AWS_REGION: 'us-east-1',
      FINDINGS_TABLE: 'vpc-guard-findings',
      TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:vpc-guard-findings',
    });
    const context = recordingContext({ env: process.env });

    // Act: a CloudTrail event is not a schedule.
    const code = await main(withPolicy('sweep', `${EVENTS}/api-event/create-route.json`), context);

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toMatch(/scheduled event: .*source: expected "aws\.events"/s);
    expect(mocks.ddb.calls()).toHaveLength(0);
  });

  it.each([
    [
      ['invoke', 'sweep', '--event', 'no/such/event.json'],
      /no\/such\/event\.json: cannot read the event file/,
    ],
    [['invoke', 'sweep', '--event', `${EVENTS}/policy.yaml`], /policy\.yaml: not valid JSON/],
    [
      [
        'invoke',
        'sweep',
        '--event',
        `${EVENTS}/sweep/scheduled-event.json`,
        '--policy',
        `${EVENTS}/sweep/scheduled-event.json`,
      ],
      /sweep\/scheduled-event\.json: \d+ problems/,
    ],
    [
      ['invoke', 'lambda', '--event', `${EVENTS}/sweep/scheduled-event.json`],
      /value 'lambda' is invalid for argument 'function'/,
    ],
    [['invoke', 'sweep'], /required option '-e, --event <file>' not specified/],
  ])('exits 2 on bad usage: %j', async (argv, message) => {
    // Prepare
    const context = recordingContext({ env: process.env });

    // Act
    const code = await main(argv, context);

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toMatch(message);
  });

  it.each([
    ['api-event/create-route.json', 'us-east-1'],
    ['config-rule/scheduled.json', 'us-east-1'],
    ['slack-notifier/sns-finding-changes.json', 'us-east-1'],
  ])('finds the region of %s', (fixture, region) => {
    expect(regionOfEvent(loadEvent(fixture))).toBe(region);
  });
});
