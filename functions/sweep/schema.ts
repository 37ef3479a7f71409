import { EventBridgeSchema } from '../runtime/event-envelopes';
import * as z from 'zod';
import { EventIdSchema } from '../api-event/schema';

/**
 * The sweep's trigger: an EventBridge Scheduler or scheduled-rule event. Its detail is empty; an
 * operator's manual run may put anything there, and it is ignored.
 */
export const SweepEventSchema = EventBridgeSchema.extend({
  id: EventIdSchema,
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  account: z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'),
  detail: z.record(z.string(), z.unknown()),
});
export type SweepEvent = z.output<typeof SweepEventSchema>;
