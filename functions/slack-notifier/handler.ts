import { slackWebhookAtColdStart } from '../runtime/slack-webhook';
import { createSlackNotifierHandler } from './create-handler';

/**
 * SNS -> Slack (Lambda entry point). The environment is validated here, at cold start; the webhook
 * is read from Secrets Manager on first use and kept for the container's life.
 */
export const handler = createSlackNotifierHandler(slackWebhookAtColdStart());
