import * as z from 'zod';

/**
 * The AWS event envelopes the functions take, field for field as Powertools' parser defines them
 * (`@aws-lambda-powertools/parser`: schemas/eventbridge, schemas/sns, helpers). They are written here
 * because the parser's modules import zod as `import { z } from 'zod'`: esbuild cannot shake a
 * namespace that is re-exported by name, so that one import form bundles zod whole, every locale
 * included (~350 KB of each function bundle, see docs/PERFORMANCE.md). With `import * as z` it keeps
 * only what is used.
 */

/** An ISO 8601 date-time; the events' own timestamps may carry an offset. */
export const TimestampSchema = z.iso.datetime({ offset: true });

/**
 * EventBridge event ids are UUIDs; the bound keeps the replay claim's key (`api-event/<id>`) within
 * what the findings table accepts, so an odd id is rejected here rather than after the first read.
 */
export const EventIdSchema = z
  .string()
  .regex(/^[\w:.-]{1,256}$/, 'expected an EventBridge event id such as a UUID');

/** An EventBridge event (Powertools' `EventBridgeSchema`); each function narrows `detail`. */
export const EventBridgeSchema = z.object({
  version: z.string(),
  id: z.string(),
  source: z.string(),
  account: z.string(),
  time: z.iso.datetime(),
  region: z.string(),
  resources: z.array(z.string()),
  'detail-type': z.string(),
  detail: z.unknown(),
  'replay-name': z.string().optional(),
});

const SnsMessageAttributeSchema = z.object({
  Type: z.string(),
  Value: z.string(),
});

/** The `Sns` part of an SNS record (Powertools' `SnsNotificationSchema`). */
export const SnsNotificationSchema = z.object({
  Subject: z.string().nullish(),
  TopicArn: z.string(),
  UnsubscribeUrl: z.url(),
  UnsubscribeURL: z.url().optional(),
  SigningCertUrl: z.url().optional(),
  SigningCertURL: z.url().optional(),
  Type: z.literal('Notification'),
  MessageAttributes: z.record(z.string(), SnsMessageAttributeSchema).optional(),
  Message: z.string(),
  MessageId: z.string(),
  Signature: z.string().optional(),
  SignatureVersion: z.string().optional(),
  Timestamp: z.iso.datetime(),
});

/** One record of an SNS event (Powertools' `SnsRecordSchema`). */
export const SnsRecordSchema = z.object({
  EventSource: z.literal('aws:sns'),
  EventVersion: z.string(),
  EventSubscriptionArn: z.string(),
  Sns: SnsNotificationSchema,
});

/**
 * A string holding JSON, decoded and validated with `schema` (Powertools' `JSONStringified`): text
 * that is not JSON fails with `Invalid JSON - <the parser's message>` at the field's path.
 */
export function JSONStringified<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `Invalid JSON - ${(error as Error).message}` });
        return z.NEVER;
      }
    })
    .pipe(schema);
}
