import 'aws-sdk-client-mock-vitest/extend';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InputValidationError } from '@vpc-guard/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalContext } from '../../functions/runtime/local-context';
import { SlackWebhook, webhookUrlOf } from '../../functions/runtime/slack-webhook';
import { createSlackNotifierHandler } from '../../functions/slack-notifier/create-handler';
import {
  SlackNotifierError,
  type SlackNotifierResult,
} from '../../functions/slack-notifier/notify';
import { asRaw, captureOutput, loadEvent, mocks, resetMocks } from './support/harness';

afterEach(resetMocks);

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:vpc-guard/slack-AbCdEf';
const WEBHOOK = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';

interface Posted {
  readonly url: string;
  readonly body: { text: string; blocks: { type: string; text?: { text: string } }[] };
}

/** A fetch that records each post and answers with `respond` (Slack's "ok" by default). */
function fakeFetch(
  respond: (call: number) => Response | Promise<Response> = () => new Response('ok'),
) {
  const posted: Posted[] = [];
  const fetch = (input: string | URL | Request, init?: RequestInit) => {
    posted.push({
      url: input instanceof Request ? input.url : input.toString(),
      body: JSON.parse(init?.body as string) as Posted['body'],
    });
    return Promise.resolve(respond(posted.length));
  };
  return { fetch, posted };
}

function notifier(fetch: ReturnType<typeof fakeFetch>['fetch']) {
  const webhook = new SlackWebhook({
    secrets: new SecretsManagerClient({ region: 'us-east-1' }),
    secretArn: SECRET_ARN,
    fetch,
  });
  return createSlackNotifierHandler(webhook);
}

const context = () =>
  createLocalContext({ functionName: 'vpc-guard-slack-notifier', region: 'us-east-1' });

async function invoke(handler: ReturnType<typeof notifier>, event: unknown) {
  const output = captureOutput();
  try {
    return {
      result: (await asRaw(handler)(event, context())) as SlackNotifierResult,
      output: output.text(),
    };
  } catch (error) {
    return { error, output: output.text() };
  } finally {
    output.restore();
  }
}

describe('slack-notifier', () => {
  it('posts one Block Kit message per VPC, with every finding, its fix and cost', async () => {
    // Prepare
    mocks.secrets.on(GetSecretValueCommand).resolves({ SecretString: WEBHOOK });
    const slack = fakeFetch();

    // Act
    const { result } = await invoke(
      notifier(slack.fetch),
      loadEvent('slack-notifier/sns-finding-changes.json'),
    );

    // Assess
    expect(result).toEqual({
      changes: 2,
      sent: 1,
      vpcs: ['111111111111/us-east-1/vpc-0aa00000000000001'],
    });
    expect(slack.posted).toHaveLength(1);
    const { url, body } = slack.posted[0]!;
    expect(url).toBe(WEBHOOK);
    expect(body.blocks[0]).toEqual({
      type: 'header',
      text: {
        type: 'plain_text',
        text: 'vpc-guard: 2 new or changed findings in regulated',
        emoji: true,
      },
    });
    expect(body.blocks[1]?.type).toBe('context');
    const sections = body.blocks.filter((b) => b.type === 'section').map((b) => b.text?.text ?? '');
    expect(
      sections.some((s) => s.includes('`nat-gateway-forbidden`') && s.includes('*Fix:* planned:')),
    ).toBe(true);
    expect(sections.some((s) => s.includes('`endpoint-policy-too-broad`'))).toBe(true);
    expect(sections.some((s) => s.includes('*Cost:*'))).toBe(true);
    expect(body.blocks.length).toBeLessThanOrEqual(50);
    expect(body.text).toContain('worst: high');
  });

  it('reads the webhook once and keeps it across invocations', async () => {
    // Prepare
    mocks.secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ url: WEBHOOK }) });
    const slack = fakeFetch();
    const handler = notifier(slack.fetch);
    const event = loadEvent('slack-notifier/sns-finding-changes.json');

    // Act
    await invoke(handler, event);
    await invoke(handler, event);

    // Assess
    expect(slack.posted).toHaveLength(2);
    expect(mocks.secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('never lets the webhook URL reach the logs, not even from an error that contains it', async () => {
    // Prepare: the request fails with an error whose message quotes the URL (as fetch's do).
    mocks.secrets.on(GetSecretValueCommand).resolves({ SecretString: WEBHOOK });
    const slack = fakeFetch(() => {
      throw new TypeError(`fetch failed: getaddrinfo ENOTFOUND for ${WEBHOOK}`);
    });

    // Act
    const { error, output } = await invoke(
      notifier(slack.fetch),
      loadEvent('slack-notifier/sns-finding-changes.json'),
    );

    // Assess
    expect(error).toBeInstanceOf(SlackNotifierError);
    expect(output).toContain('Slack message not sent');
    expect(output).not.toContain(WEBHOOK);
    expect(output).not.toContain('XXXXXXXXXXXXXXXXXXXXXXXX');
    expect(String((error as Error).message)).not.toContain('XXXXXXXXXXXXXXXXXXXXXXXX');
    expect((error as Error).cause).toBeUndefined();
  });

  it('forgets a webhook Slack no longer knows, so a rotated secret is picked up', async () => {
    // Prepare
    mocks.secrets.on(GetSecretValueCommand).resolves({ SecretString: WEBHOOK });
    const slack = fakeFetch((call) =>
      call === 1 ? new Response('no_service', { status: 404 }) : new Response('ok'),
    );
    const handler = notifier(slack.fetch);
    const event = loadEvent('slack-notifier/sns-finding-changes.json');

    // Act
    const first = await invoke(handler, event);
    const second = await invoke(handler, event);

    // Assess
    expect((first.error as Error).message).toContain('Slack answered HTTP 404 (no_service)');
    expect(second.result?.sent).toBe(1);
    expect(mocks.secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('rejects an SNS message that is not a finding change, naming the field, without posting', async () => {
    // Prepare
    mocks.secrets.on(GetSecretValueCommand).resolves({ SecretString: WEBHOOK });
    const slack = fakeFetch();
    const event = loadEvent('slack-notifier/sns-finding-changes.json') as {
      Records: { Sns: { Message: string } }[];
    };
    const message = JSON.parse(event.Records[0]!.Sns.Message) as { finding: { severity: string } };
    message.finding.severity = 'urgent';
    event.Records[0]!.Sns.Message = JSON.stringify(message);

    // Act
    const { error } = await invoke(notifier(slack.fetch), event);

    // Assess
    expect(error).toBeInstanceOf(InputValidationError);
    expect((error as Error).message).toContain('Records[0].Sns.Message.finding.severity: expected');
    expect(slack.posted).toEqual([]);
    expect(mocks.secrets.calls()).toHaveLength(0);
  });

  it.each([
    ['a plain URL', WEBHOOK, WEBHOOK],
    ['JSON with url', JSON.stringify({ url: WEBHOOK }), WEBHOOK],
    ['JSON with webhookUrl', JSON.stringify({ webhookUrl: WEBHOOK }), WEBHOOK],
  ])('reads the webhook from %s', (_name, secret, expected) => {
    expect(webhookUrlOf(secret, SECRET_ARN)).toBe(expected);
  });

  it.each([
    ['not a URL', 'hooks.slack.com/services/T0/B0/secret-part'],
    ['http, not https', 'http://hooks.slack.com/services/T0/B0/secret-part'],
    [
      'JSON without a url key',
      JSON.stringify({ hook: 'https://hooks.slack.com/services/T0/B0/secret-part' }),
    ],
  ])('throws without showing the secret when it is %s', (_name, secret) => {
    expect(() => webhookUrlOf(secret, SECRET_ARN)).toThrow(SECRET_ARN);
    expect(() => webhookUrlOf(secret, SECRET_ARN)).not.toThrow(/secret-part/);
  });
});
