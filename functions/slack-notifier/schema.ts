import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SnsNotificationSchema, SnsRecordSchema } from '@aws-lambda-powertools/parser/schemas/sns';
import { FindingChangeMessageSchema } from '@vpc-guard/shared';
import { z } from 'zod';

/**
 * The SNS event the notifier is subscribed with: Powertools' SNS schema, each message body decoded
 * with `JSONStringified` and validated as a vpc-guard finding change.
 */
const NotifierRecordSchema = SnsRecordSchema.extend({
  Sns: SnsNotificationSchema.extend({ Message: JSONStringified(FindingChangeMessageSchema) }),
});

export const SlackNotifierEventSchema = z.object({
  Records: z.array(NotifierRecordSchema).min(1),
});
export type SlackNotifierEvent = z.output<typeof SlackNotifierEventSchema>;
