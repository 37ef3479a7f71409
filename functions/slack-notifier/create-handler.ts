import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { logFailures, parseEvent } from '../runtime/middleware';
import { logger, metrics, tracer } from '../runtime/observability';
import type { SlackWebhook } from '../runtime/slack-webhook';
import { postToSlack, type SlackNotifierResult } from './notify';
import { SlackNotifierEventSchema } from './schema';

/**
 * The SNS -> Slack handler, wired: Powertools logger, tracer and metrics, the SNS event and each
 * finding change validated, then the messages. The webhook is shared by every invocation of the
 * container and its URL never reaches the logger.
 */
export function createSlackNotifierHandler(webhook: SlackWebhook) {
  return middy()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(logFailures())
    .use(parseEvent(SlackNotifierEventSchema, 'SNS event'))
    .handler((event): Promise<SlackNotifierResult> => postToSlack(event, webhook));
}
