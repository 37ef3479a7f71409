import { AccountIdSchema, RegionSchema } from '@vpc-guard/shared';
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

/**
 * A sweep run's id: the Step Functions execution name (or ARN), so every child of one execution
 * shares it and a second execution never collides with the first's claims.
 */
export const SweepRunIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,255}$/, 'expected an execution name or ARN');

/** The list-targets task's input: the run it lists for. */
export const SweepListEventSchema = z.object({ runId: SweepRunIdSchema });
export type SweepListEvent = z.output<typeof SweepListEventSchema>;

/** One child of the sweep: one account-region of one run. */
export const SweepTargetSchema = z.object({
  runId: SweepRunIdSchema,
  accountId: AccountIdSchema,
  region: RegionSchema,
});
export type SweepTarget = z.output<typeof SweepTargetSchema>;

/**
 * The child task's input: one target (a Map iteration), or a Distributed Map batch (`ItemBatcher`
 * wraps the items as `Items`, with `BatchInput` alongside, which the child ignores).
 */
export const SweepChildEventSchema = z.union([
  SweepTargetSchema,
  z.object({ Items: z.array(SweepTargetSchema).min(1), BatchInput: z.unknown().optional() }),
]);
export type SweepChildEvent = z.output<typeof SweepChildEventSchema>;

/** What one child returned (validated again by the summary: it crossed the state machine). */
export const SweepTargetResultSchema = SweepTargetSchema.extend({
  status: z.enum(['ok', 'failed', 'duplicate']),
  vpcs: z.number().int().nonnegative(),
  findings: z.number().int().nonnegative(),
  reason: z.string().optional(),
});

/**
 * The summary task's input: the children's results as the Map returns them (one result per item, or
 * an array per batch), and the targets listed, so a target with no result at all is named as missed.
 */
export const SweepSummaryEventSchema = z.object({
  runId: SweepRunIdSchema,
  results: z.array(z.union([SweepTargetResultSchema, z.array(SweepTargetResultSchema)])),
  targets: z.array(SweepTargetSchema).optional(),
});
export type SweepSummaryEvent = z.output<typeof SweepSummaryEventSchema>;
