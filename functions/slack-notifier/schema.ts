import { FindingChangeMessageSchema } from '@vpc-guard/shared';
import * as z from 'zod';
import {
  JSONStringified,
  SnsNotificationSchema,
  SnsRecordSchema,
} from '../runtime/event-envelopes';

/**
 * The SNS event the notifier is subscribed with: the SNS record schema (runtime/event-envelopes), each message body decoded
 * with `JSONStringified` and validated as a vpc-guard finding change.
 */
const NotifierRecordSchema = SnsRecordSchema.extend({
  Sns: SnsNotificationSchema.extend({ Message: JSONStringified(FindingChangeMessageSchema) }),
});

export const SlackNotifierEventSchema = z.object({
  Records: z.array(NotifierRecordSchema).min(1),
});
export type SlackNotifierEvent = z.output<typeof SlackNotifierEventSchema>;
