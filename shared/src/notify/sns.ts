import { createHash } from 'node:crypto';
import {
  PublishBatchCommand,
  type MessageAttributeValue,
  type PublishBatchRequestEntry,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { awsErrorCode, describeAwsError } from '../aws/errors';
import type { Evaluation } from '../evaluate';
import type { FindingTransitions } from '../findings/state';
import { packBatches, utf8Bytes } from './batches';
import {
  buildFindingChanges,
  type FindingChangeMessage,
  type FindingChangeOptions,
} from './finding-change';

/**
 * SNS: one message per finding state change. The body is a {@link FindingChangeMessage} as JSON; the
 * subject is for e-mail readers; the message attributes let subscriptions filter (only `high` and
 * `critical`, only one account, only `opened`).
 */

/** PublishBatch takes at most 10 entries per call (SNS API reference, PublishBatch). */
export const SNS_BATCH_ENTRIES = 10;
/**
 * Message size limit, and also the limit of a whole PublishBatch request: 256 KiB (262,144 bytes),
 * body and attributes together (SNS API reference, PublishBatch).
 */
export const SNS_MAX_BYTES = 262_144;
/** Subjects must be less than 100 characters, without line breaks or control characters (Publish). */
export const SNS_SUBJECT_MAX = 99;

/** The attributes SNS subscription filter policies can match on. */
export const SNS_ATTRIBUTE_NAMES = [
  'severity',
  'accountId',
  'region',
  'ruleId',
  'profile',
  'state',
] as const;
export type SnsAttributeName = (typeof SNS_ATTRIBUTE_NAMES)[number];

/** One rendered SNS message. */
export interface SnsMessage {
  readonly subject: string;
  /** The JSON of {@link change}. */
  readonly body: string;
  readonly attributes: Readonly<Record<SnsAttributeName, MessageAttributeValue>>;
  /** What the body says, as data (for a caller that also wants to notify Slack directly). */
  readonly change: FindingChangeMessage;
}

/** Options of {@link renderSnsMessages}. */
export type SnsMessageOptions = FindingChangeOptions;

/** Keeps printable ASCII only, one line: e-mail subjects and SNS's own rule. */
function asciiLine(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/ {2,}/g, ' ')
    .trim();
}

function clipAscii(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, Math.max(0, limit - 3))}...`;
}

/**
 * `[vpc-guard] OPENED high nat-gateway-forbidden payments-prod (111111111111/us-east-1)`: printable
 * ASCII, at most {@link SNS_SUBJECT_MAX} characters; the VPC name gives way first when it is long.
 */
export function snsSubject(change: FindingChangeMessage): string {
  const head = asciiLine(
    `[vpc-guard] ${change.transition.toUpperCase()} ${change.finding.severity} ${change.finding.ruleId}`,
  );
  const where = asciiLine(`(${change.vpc.accountId}/${change.vpc.region})`);
  const name = asciiLine(change.vpc.vpcName ?? change.vpc.vpcId) || change.vpc.vpcId;
  const room = SNS_SUBJECT_MAX - head.length - where.length - 2;
  if (room >= 8) return `${head} ${clipAscii(name, room)} ${where}`;
  return clipAscii(`${head} ${name} ${where}`, SNS_SUBJECT_MAX);
}

function stringAttribute(value: string): MessageAttributeValue {
  // SNS rejects empty attribute values; '-' keeps the attribute present for filter policies.
  return { DataType: 'String', StringValue: value === '' ? '-' : value };
}

function attributesOf(
  change: FindingChangeMessage,
): Record<SnsAttributeName, MessageAttributeValue> {
  return {
    severity: stringAttribute(change.finding.severity),
    accountId: stringAttribute(change.finding.accountId),
    region: stringAttribute(change.finding.region),
    ruleId: stringAttribute(change.finding.ruleId),
    profile: stringAttribute(change.vpc.profile),
    state: stringAttribute(change.transition),
  };
}

/** Bytes SNS counts for a message: body, subject, and each attribute's name, type and value. */
export function snsMessageBytes(
  message: Pick<SnsMessage, 'subject' | 'body' | 'attributes'>,
): number {
  let bytes = utf8Bytes(message.body) + utf8Bytes(message.subject);
  for (const [name, value] of Object.entries(message.attributes)) {
    bytes += utf8Bytes(name) + utf8Bytes(value.DataType ?? '') + utf8Bytes(value.StringValue ?? '');
  }
  return bytes;
}

function toSnsMessage(change: FindingChangeMessage): SnsMessage {
  const subject = snsSubject(change);
  const attributes = attributesOf(change);
  const message = { subject, body: JSON.stringify(change), attributes, change };
  if (snsMessageBytes(message) <= SNS_MAX_BYTES) return message;
  // Evidence is the only unbounded part (an endpoint policy's statements): leave it out, and say so.
  const trimmed: FindingChangeMessage = {
    ...change,
    finding: { ...change.finding, evidence: null },
    evidenceOmitted: true,
  };
  return { subject, body: JSON.stringify(trimmed), attributes, change: trimmed };
}

/**
 * One SNS message per opened, changed or resolved finding: JSON body (the finding, the transition,
 * the VPC's evaluation summary, the fix planned, applied or blocked when a plan or record is given),
 * a readable subject, and the filterable attributes `severity`, `accountId`, `region`, `ruleId`,
 * `profile`, `state` (the transition). Pure.
 */
export function renderSnsMessages(
  transitions: FindingTransitions,
  evaluationsByVpc: ReadonlyMap<string, Evaluation>,
  options: SnsMessageOptions = {},
): SnsMessage[] {
  return buildFindingChanges(transitions, evaluationsByVpc, options).map(toSnsMessage);
}

/** A message SNS accepted. */
export interface PublishedSnsMessage {
  readonly message: SnsMessage;
  readonly messageId: string;
}

/** A message SNS did not accept, with its error. */
export interface FailedSnsMessage {
  readonly message: SnsMessage;
  readonly code: string;
  readonly error: string;
  /** True when the request was at fault (retrying it unchanged will not help). */
  readonly senderFault: boolean;
}

/** What {@link publishToSns} did: every message is in exactly one of the two lists. */
export interface PublishToSnsResult {
  readonly published: readonly PublishedSnsMessage[];
  readonly failed: readonly FailedSnsMessage[];
}

function fifoFields(topicArn: string, change: FindingChangeMessage) {
  if (!topicArn.endsWith('.fifo')) return {};
  // FIFO topics: one group per VPC keeps a VPC's alerts in order; the dedupe id repeats for a replay.
  const dedupe = createHash('sha256')
    .update(`${change.finding.key}|${change.transition}|${change.at}`)
    .digest('hex');
  return {
    MessageGroupId: `${change.vpc.accountId}/${change.vpc.region}/${change.vpc.vpcId}`.slice(
      0,
      128,
    ),
    MessageDeduplicationId: dedupe,
  };
}

/**
 * Publishes with PublishBatch: at most 10 messages and 256 KiB per call. Each entry's outcome is
 * reported; a call that fails as a whole marks its entries failed and the next batches still go out,
 * so a partial failure never hides what was published. Never throws for an AWS error.
 */
export async function publishToSns(
  sns: SNSClient,
  topicArn: string,
  messages: readonly SnsMessage[],
): Promise<PublishToSnsResult> {
  const published: PublishedSnsMessage[] = [];
  const failed: FailedSnsMessage[] = [];
  const batches = packBatches(messages, SNS_BATCH_ENTRIES, SNS_MAX_BYTES, snsMessageBytes);
  for (const batch of batches) {
    const entries: PublishBatchRequestEntry[] = batch.map((message, index) => ({
      Id: String(index),
      Message: message.body,
      Subject: message.subject,
      MessageAttributes: { ...message.attributes },
      ...fifoFields(topicArn, message.change),
    }));
    try {
      const output = await sns.send(
        new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: entries }),
      );
      const succeeded = new Map((output.Successful ?? []).map((entry) => [entry.Id, entry]));
      const rejected = new Map((output.Failed ?? []).map((entry) => [entry.Id, entry]));
      for (const [index, message] of batch.entries()) {
        const ok = succeeded.get(String(index));
        const bad = rejected.get(String(index));
        if (ok && !bad) {
          published.push({ message, messageId: ok.MessageId ?? '' });
        } else {
          failed.push({
            message,
            code: bad?.Code ?? 'NoResult',
            error: bad?.Message ?? 'PublishBatch reported no result for this entry',
            senderFault: bad?.SenderFault ?? false,
          });
        }
      }
    } catch (error) {
      const code = awsErrorCode(error) ?? 'Error';
      const text = describeAwsError(error);
      for (const message of batch) failed.push({ message, code, error: text, senderFault: false });
    }
  }
  return { published, failed };
}
