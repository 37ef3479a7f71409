import { AccountIdSchema, RegionSchema, S3BucketNameSchema } from '@vpc-guard/shared';
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

/** An S3 object key (S3's limit: 1,024 bytes; ours are ASCII). */
const S3KeySchema = z.string().min(1).max(1024);

/** Where the list task put a run's targets (a JSON array of {@link SweepTargetSchema}). */
export const SweepTargetsFileReferenceSchema = z.object({
  bucket: S3BucketNameSchema,
  key: S3KeySchema,
});
export type SweepTargetsFileReference = z.output<typeof SweepTargetsFileReferenceSchema>;

/** The Distributed Map's `ResultWriterDetails`: where its ResultWriter put `manifest.json`. */
export const ResultWriterDetailsSchema = z.object({ Bucket: S3BucketNameSchema, Key: S3KeySchema });
export type ResultWriterDetails = z.output<typeof ResultWriterDetailsSchema>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * `a` when `pick` says so, else `b`: the form chosen before validating, so a bad field is named as
 * that form's (a plain union reports only "invalid input" when no form matches).
 */
function chosen<A extends z.ZodType, B extends z.ZodType>(
  pick: (value: unknown) => boolean,
  a: A,
  b: B,
) {
  return z.unknown().transform((value, ctx): z.output<A> | z.output<B> => {
    const result = (pick(value) ? a : b).safeParse(value, { reportInput: true });
    if (result.success) return result.data;
    // Re-raised as they are (their paths are prefixed with this field's by the enclosing schema).
    // (A finished issue is a raw one with its message set: the types only differ in `input`.)
    ctx.issues.push(...(result.error.issues as typeof ctx.issues));
    return z.NEVER;
  });
}

/** A child's result: one target's, or one per item of a batch. */
const SweepChildOutputSchema = chosen(
  Array.isArray,
  z.array(SweepTargetResultSchema),
  SweepTargetResultSchema,
);

/**
 * The summary task's input, inline: the children's results as the Map returns them (one result per
 * item, or an array per batch), and the targets listed, so a target with no result is named as missed.
 */
export const SweepInlineSummaryEventSchema = z.object({
  runId: SweepRunIdSchema,
  results: z.array(SweepChildOutputSchema),
  targets: z.array(SweepTargetSchema).optional(),
});

/**
 * The summary task's input with SWEEP_BUCKET: the targets file the list task wrote and the Map's
 * ResultWriter manifest, both read from S3 (a large run's lists would not fit the state payload).
 */
export const SweepS3SummaryEventSchema = z.object({
  runId: SweepRunIdSchema,
  targets: SweepTargetsFileReferenceSchema,
  results: ResultWriterDetailsSchema,
});

export type SweepS3SummaryEvent = z.output<typeof SweepS3SummaryEventSchema>;
export type SweepSummaryEvent =
  z.output<typeof SweepInlineSummaryEventSchema> | SweepS3SummaryEvent;

/** True for the S3 form of the summary input (its results are the ResultWriter's manifest). */
export function isS3SummaryEvent(event: SweepSummaryEvent): event is SweepS3SummaryEvent {
  return !Array.isArray(event.results);
}

/** The summary task's input: the inline form when `results` is an array, else the S3 form. */
export const SweepSummaryEventSchema = chosen(
  (value) => isObject(value) && Array.isArray(value['results']),
  SweepInlineSummaryEventSchema,
  SweepS3SummaryEventSchema,
);

/** The targets file the list task writes: every target of the run. */
export const SweepTargetsFileSchema = z.array(SweepTargetSchema);

/** One result file of the manifest: its key in the manifest's bucket. */
const ResultFileSchema = z.object({ Key: S3KeySchema, Size: z.number().int().nonnegative() });

/**
 * The ResultWriter's `manifest.json`: the result files of the children that succeeded, failed
 * (failed, timed out or aborted) and never finished. A list with no file may be left out.
 */
export const ResultManifestSchema = z.object({
  ResultFiles: z.object({
    SUCCEEDED: z.array(ResultFileSchema).default([]),
    FAILED: z.array(ResultFileSchema).default([]),
    PENDING: z.array(ResultFileSchema).default([]),
  }),
});

/** A JSON document inside a string field (the ResultWriter's `Input` and `Output`), parsed. */
function jsonText<Schema extends z.ZodType>(schema: Schema) {
  return z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON document in a string' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/**
 * A SUCCEEDED result file: the child executions, each with its output (the child's result, as a
 * JSON string; the object itself is taken too).
 */
export const SucceededResultFileSchema = z.array(
  z.object({
    Output: chosen(
      (value) => typeof value === 'string',
      jsonText(SweepChildOutputSchema),
      SweepChildOutputSchema,
    ),
  }),
);

/**
 * A FAILED result file: the child executions that failed, timed out or were aborted, each with its
 * error and its input (the targets it was given, as a JSON string; the object itself is taken too).
 */
export const FailedResultFileSchema = z.array(
  z.object({
    Error: z.string().optional(),
    Cause: z.string().optional(),
    Input: chosen(
      (value) => typeof value === 'string',
      jsonText(SweepChildEventSchema),
      SweepChildEventSchema,
    ),
  }),
);
