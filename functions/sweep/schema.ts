import { AccountIdSchema } from '@vpc-guard/shared';
import * as z from 'zod';
import { EventBridgeSchema, EventIdSchema } from '../runtime/event-envelopes';

/**
 * The sweep's trigger: an EventBridge Scheduler or scheduled-rule event. Its detail is empty; an
 * operator's manual run may put anything there, and it is ignored.
 */
export const SweepEventSchema = EventBridgeSchema.extend({
  id: EventIdSchema,
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  account: AccountIdSchema,
  detail: z.record(z.string(), z.unknown()),
});
export type SweepEvent = z.output<typeof SweepEventSchema>;
