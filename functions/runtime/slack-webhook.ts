import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  IncomingWebhook,
  IncomingWebhookHTTPError,
  IncomingWebhookRequestError,
  type FetchFunction,
} from '@slack/webhook';
import {
  ConfigurationError,
  VpcGuardError,
  describeAwsError,
  type SlackMessage,
} from '@vpc-guard/shared';
import { loadConfigAtColdStart } from './cold-start';
import { tracer } from './observability';

/**
 * The Slack incoming webhook: its URL is a secret (anyone holding it can post to the channel), read
 * from Secrets Manager once per container and kept only inside this module. It is never logged, never
 * put in an error message, never attached to an error as its cause: errors from sending are rebuilt
 * from the status code alone, and any URL in their text is blanked.
 */

/**
 * The secret does not hold a usable webhook URL, or cannot be read: a configuration error the operator
 * fixes in Secrets Manager. The message names the secret and what was expected, never its value.
 */
export class SlackWebhookConfigError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = 'SlackWebhookConfigError';
  }
}

/** Slack did not take a message. `status` is Slack's HTTP status, when it answered. */
export class SlackDeliveryError extends VpcGuardError {
  readonly status: number | null;

  constructor(message: string, status: number | null) {
    super(message);
    this.name = 'SlackDeliveryError';
    this.status = status;
  }
}

/** Statuses that mean the webhook itself is no longer valid (revoked, rotated, channel gone). */
const WEBHOOK_GONE = new Set([403, 404, 410]);

/** Keys a JSON secret may hold the URL under. */
const URL_KEYS = ['url', 'webhookUrl', 'webhook_url'];

/** Hosts of Slack incoming webhooks: Slack's own, and GovSlack's. */
const WEBHOOK_HOSTS = new Set(['hooks.slack.com', 'hooks.slack-gov.com']);

/** What a usable secret holds, for the messages (which never show what it does hold). */
const EXPECTED =
  'expected a Slack incoming webhook URL (https://hooks.slack.com/services/...), as the whole ' +
  `secret or under one of the JSON keys ${URL_KEYS.join(', ')}`;

function blankUrls(text: string, url: string | undefined): string {
  const withoutSecret = url ? text.split(url).join('<webhook>') : text;
  return withoutSecret.replace(/https?:\/\/\S+/g, '<url>').slice(0, 300);
}

/** The URL in a JSON secret: a string under one of {@link URL_KEYS} of a JSON object. */
function urlInJson(candidate: string, secretArn: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(candidate);
  } catch {
    throw new SlackWebhookConfigError(
      `${secretArn}: the secret looks like JSON but does not parse; ${EXPECTED}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SlackWebhookConfigError(
      `${secretArn}: the JSON secret is not an object; ${EXPECTED}`,
    );
  }
  const record = parsed as Record<string, unknown>;
  // Own keys only: the secret's JSON is data, whatever keys it has.
  const key = URL_KEYS.find((name) => Object.hasOwn(record, name));
  const value = key === undefined ? undefined : record[key];
  if (key === undefined || typeof value !== 'string') {
    throw new SlackWebhookConfigError(
      key === undefined
        ? `${secretArn}: the JSON secret has none of the keys ${URL_KEYS.join(', ')}, which should hold the webhook URL`
        : `${secretArn}: the JSON secret's ${key} is not a string, expected the webhook URL`,
    );
  }
  return value.trim();
}

/**
 * The webhook URL in a secret: the string itself, or a JSON object's `url` (`webhookUrl`,
 * `webhook_url`). Only an https URL of Slack's webhook host, on the default port, without
 * credentials, under `/services/`, is used: anything else would send findings somewhere else.
 *
 * @throws SlackWebhookConfigError naming the secret and what was expected, never its value.
 */
export function webhookUrlOf(secret: string, secretArn: string): string {
  const trimmed = secret.trim();
  const candidate =
    trimmed.startsWith('{') || trimmed.startsWith('[') ? urlInJson(trimmed, secretArn) : trimmed;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new SlackWebhookConfigError(`${secretArn}: the secret is not a URL; ${EXPECTED}`);
  }
  const problem =
    url.protocol !== 'https:'
      ? 'the webhook URL must use https'
      : !WEBHOOK_HOSTS.has(url.hostname)
        ? `the webhook URL's host is not ${[...WEBHOOK_HOSTS].join(' or ')}`
        : url.username !== '' || url.password !== ''
          ? 'the webhook URL must not carry a user name or password'
          : url.port !== ''
            ? 'the webhook URL must use the default https port'
            : !url.pathname.startsWith('/services/')
              ? 'the webhook URL must be under /services/ (an incoming webhook)'
              : undefined;
  if (problem !== undefined) {
    throw new SlackWebhookConfigError(`${secretArn}: ${problem}; ${EXPECTED}`);
  }
  return candidate;
}

/** Options of {@link SlackWebhook}. */
export interface SlackWebhookOptions {
  readonly secrets: SecretsManagerClient;
  readonly secretArn: string;
  /** @default - the global fetch */
  readonly fetch?: FetchFunction;
  /** Per request. @default 10000 */
  readonly timeoutMs?: number;
}

/** Posts Slack messages through the webhook whose URL the secret holds. */
export class SlackWebhook {
  private webhook: Promise<{ client: IncomingWebhook; url: string }> | undefined;

  constructor(private readonly options: SlackWebhookOptions) {}

  private load(): Promise<{ client: IncomingWebhook; url: string }> {
    this.webhook ??= (async () => {
      let secret: string | undefined;
      try {
        const output = await this.options.secrets.send(
          new GetSecretValueCommand({ SecretId: this.options.secretArn }),
        );
        secret = output.SecretString;
      } catch (error) {
        throw new SlackWebhookConfigError(
          `${this.options.secretArn}: cannot read the secret (${describeAwsError(error)})`,
        );
      }
      if (secret === undefined) {
        throw new SlackWebhookConfigError(
          `${this.options.secretArn}: the secret has no string value`,
        );
      }
      const url = webhookUrlOf(secret, this.options.secretArn);
      const client = new IncomingWebhook(url, {
        timeout: this.options.timeoutMs ?? 10_000,
        ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      });
      return { client, url };
    })();
    // A failed read is not kept: the next invocation reads the secret again.
    this.webhook.catch(() => {
      this.webhook = undefined;
    });
    return this.webhook;
  }

  /** Forgets the webhook, so the next post reads the secret again (after a rotation). */
  forget(): void {
    this.webhook = undefined;
  }

  /**
   * Posts one message. Errors are rebuilt without the URL; a webhook Slack no longer knows (403, 404,
   * 410) is forgotten, so a rotated secret is picked up by the next invocation.
   */
  async post(message: SlackMessage): Promise<void> {
    const { client, url } = await this.load();
    try {
      await client.send({ text: message.text, blocks: [...message.blocks] });
    } catch (error) {
      if (error instanceof IncomingWebhookHTTPError) {
        if (WEBHOOK_GONE.has(error.statusCode)) this.forget();
        const body =
          typeof error.body === 'string' && error.body !== ''
            ? ` (${blankUrls(error.body, url)})`
            : '';
        throw new SlackDeliveryError(
          `Slack answered HTTP ${error.statusCode}${body}`,
          error.statusCode,
        );
      }
      if (error instanceof IncomingWebhookRequestError) {
        const original = error.original;
        throw new SlackDeliveryError(
          `request to Slack failed (${original.name}: ${blankUrls(original.message, url)})`,
          null,
        );
      }
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new SlackDeliveryError(`sending to Slack failed (${blankUrls(text, url)})`, null);
    }
  }
}

/**
 * The notifier's webhook from the environment, at cold start: the Secrets Manager client is made once
 * and the webhook it yields is kept for the container's life.
 */
export function slackWebhookAtColdStart(): SlackWebhook {
  const config = loadConfigAtColdStart('slack-notifier');
  // loadConfigAtColdStart requires SLACK_SECRET_ARN for the notifier; the check keeps the type honest.
  if (config.slackSecretArn === null)
    throw new SlackWebhookConfigError('SLACK_SECRET_ARN is not set');
  return new SlackWebhook({
    secrets: tracer.captureAWSv3Client(new SecretsManagerClient({ region: config.region })),
    secretArn: config.slackSecretArn,
  });
}
