import { indexEvaluationsByVpc, publishToSns, renderSnsMessages } from '@vpc-guard/shared';
import { kindOfCode } from '../pipeline-report';
import { transitionsOf, type OutboxSink } from './sink';

/**
 * SNS: one message per alert, with its evidence, published to the deployment's topic (TOPIC_ARN);
 * the Slack notifier and e-mail subscriptions read it there. A message SNS accepted is an alert taken.
 */
export const snsSink: OutboxSink<'sns', 'sns', 'sns'> = {
  name: 'sns',
  stage: 'sns',
  publishedAs: 'sns',
  configured: (config) => config.topicArn !== null,
  send: async (deps, { alerts, evaluations, context, where, failures }) => {
    const topicArn = deps.config.topicArn;
    if (topicArn === null) return { published: 0, taken: [] };
    const messages = renderSnsMessages(
      transitionsOf(alerts),
      indexEvaluationsByVpc(evaluations),
      context,
    );
    const result = await publishToSns(deps.sns, topicArn, messages);
    failures.addBatch('sns', where, result.failed, (first, count) => ({
      kind: first.senderFault ? 'invalid' : kindOfCode(first.code),
      message: `${count} of ${messages.length} messages not published: ${first.code}: ${first.error}`,
    }));
    return {
      published: result.published.length,
      taken: result.published.map((sent) => sent.message.change.finding.key),
    };
  },
};
