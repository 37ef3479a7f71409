import { VpcGuardError, groupChangesByVpc, renderSlackMessage } from '@vpc-guard/shared';
import { METRIC, countMetric, logger } from '../runtime/observability';
import {
  SlackDeliveryError,
  SlackWebhookConfigError,
  type SlackWebhook,
} from '../runtime/slack-webhook';
import type { SlackNotifierEvent } from './schema';

/**
 * From SNS finding changes to Slack: one Block Kit message per VPC (what is wrong, the evidence, the
 * fix planned, applied or blocked, the monthly cost), a "resolved" message when that is all that
 * changed. Every VPC's message is attempted; a failure fails the invocation afterwards, so SNS retries.
 */

/** What the notifier did. */
export interface SlackNotifierResult {
  /** Finding changes received. */
  readonly changes: number;
  /** Messages Slack took (one per VPC). */
  readonly sent: number;
  readonly vpcs: readonly string[];
}

/** Some messages did not reach Slack; the others did. */
export class SlackNotifierError extends VpcGuardError {
  readonly sent: number;
  readonly failed: readonly { readonly vpc: string; readonly error: string }[];

  constructor(sent: number, failed: readonly { vpc: string; error: string }[]) {
    super(
      `${failed.length} of ${sent + failed.length} Slack message(s) not sent: ${failed
        .map((f) => `${f.vpc}: ${f.error}`)
        .join('; ')}`,
    );
    this.name = 'SlackNotifierError';
    this.sent = sent;
    this.failed = failed;
  }
}

/** Posts the changes of an SNS event to Slack, one message per VPC. */
export async function postToSlack(
  event: SlackNotifierEvent,
  webhook: SlackWebhook,
): Promise<SlackNotifierResult> {
  const changes = event.Records.map((record) => record.Sns.Message);
  const notifications = groupChangesByVpc(changes);
  let sent = 0;
  const failed: { vpc: string; error: string }[] = [];
  const vpcs: string[] = [];
  // One after another: Slack allows about one message per second per webhook.
  for (const notification of notifications) {
    const vpc = `${notification.vpc.accountId}/${notification.vpc.region}/${notification.vpc.vpcId}`;
    vpcs.push(vpc);
    try {
      await webhook.post(renderSlackMessage(notification));
      sent += 1;
    } catch (error) {
      if (error instanceof SlackWebhookConfigError) {
        // No message can go out until the secret is fixed: fail the invocation, named, so SNS
        // retries and the alarm on the notifier's errors tells the operator.
        logger.error('Slack webhook secret is unusable: configuration error', {
          errorName: error.name,
          error: error.message,
        });
        throw error;
      }
      if (!(error instanceof SlackDeliveryError)) throw error;
      logger.error('Slack message not sent', { vpc, status: error.status, error: error.message });
      failed.push({ vpc, error: error.message });
    }
  }
  countMetric(METRIC.slackMessagesSent, sent);
  if (failed.length > 0) throw new SlackNotifierError(sent, failed);
  return { changes: changes.length, sent, vpcs };
}
