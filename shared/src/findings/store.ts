import {
  DeleteCommand,
  PutCommand,
  UpdateCommand,
  paginateQuery,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { awsErrorCode, classifyAwsError, describeAwsError, type AwsErrorKind } from '../aws/errors';
import { InputValidationError, parseOrThrow } from '../errors';
import { RULE_IDS, SEVERITIES } from '../rules/types';
import type {
  ChangedTransition,
  FindingScope,
  FindingTransition,
  FindingTransitions,
  OpenedTransition,
  ResolvedTransition,
  StoredFinding,
  UnchangedTransition,
} from './state';

/**
 * The findings table (DynamoDB): one item per finding key, plus event-id claims for replay dedupe.
 * Every write that leads to an alert is conditional on what this invocation read, so two invocations
 * racing on the same VPC (a CloudTrail event and the Config rule, say) alert once between them.
 */

/**
 * The table's shape, for the CDK stack that creates it:
 *
 * - partition key `pk` (String): the finding key `accountId/region/vpcId/ruleId/subject`, or
 *   `event#<eventId>` for a replay claim. No sort key.
 * - GSI `open-by-scope`: partition key `scope` (String, `accountId/region`), sort key `vpcId`
 *   (String), projection ALL. Sparse: only open findings carry `scope` (resolving removes it), so the
 *   index holds exactly the open findings and a query never reads resolved or claim items.
 * - TTL attribute `expiresAt` (Number, epoch seconds): on resolved findings and event claims.
 * - On-demand billing; encryption and point-in-time recovery are the stack's choice.
 */
export const FINDINGS_TABLE_SCHEMA = {
  partitionKey: { name: 'pk', type: 'S' },
  openFindingsIndex: {
    name: 'open-by-scope',
    partitionKey: { name: 'scope', type: 'S' },
    sortKey: { name: 'vpcId', type: 'S' },
    projection: 'ALL',
  },
  ttlAttribute: 'expiresAt',
  eventKeyPrefix: 'event#',
} as const;

/** Options of {@link FindingsStore}. */
export interface FindingsStoreOptions {
  readonly tableName: string;
  /** Writes in flight at once during `apply`. @default 8 */
  readonly concurrency?: number;
  /** The clock for event claims. @default - the system clock */
  readonly clock?: () => Date;
}

/** Options of {@link FindingsStore.apply}. */
export interface ApplyTransitionsOptions {
  /**
   * Also refresh `lastSeen` (and message, profile, VPC name) of unchanged open findings. Costs one
   * write per open finding per run; without it `lastSeen` is the time of the last transition.
   * @default false
   */
  readonly touchUnchanged?: boolean;
}

/** A write that failed for a reason other than losing the race. */
export interface FailedFindingWrite {
  readonly transition: FindingTransition;
  readonly errorKind: AwsErrorKind;
  readonly error: string;
}

/** What {@link FindingsStore.apply} did. */
export interface ApplyTransitionsResult {
  /** The transitions this invocation recorded: alert on these, and only these. */
  readonly applied: FindingTransitions;
  /**
   * Transitions that lost a conditional write: another invocation recorded the same change first
   * (and alerts on it), or the entry moved on since it was read. Not an error; no alert.
   */
  readonly superseded: readonly FindingTransition[];
  /** Writes that failed (throttled after the SDK's retries, access denied, ...): no alert was sent. */
  readonly failed: readonly FailedFindingWrite[];
}

const STATE_NAMES = { '#state': 'state', '#digest': 'digest' } as const;

const StoredFindingItemSchema = z.object({
  pk: z.string().min(1),
  accountId: z.string().min(1),
  region: z.string().min(1),
  vpcId: z.string().min(1),
  ruleId: z.enum(RULE_IDS),
  subject: z.string().min(1),
  resourceId: z.string().min(1),
  severity: z.enum(SEVERITIES),
  digest: z.string().min(1),
  message: z.string(),
  profile: z.string(),
  vpcName: z.string().nullable().default(null),
  firstSeen: z.string().min(1),
  lastSeen: z.string().min(1),
  state: z.enum(['open', 'resolved']),
  resolvedAt: z.string().optional(),
  resolution: z.enum(['fixed', 'exempt', 'vpc-gone']).optional(),
  expiresAt: z.number().optional(),
});

function toStoredFinding(item: Record<string, unknown>, tableName: string): StoredFinding {
  const pk = typeof item['pk'] === 'string' ? item['pk'] : '?';
  // `kind` and `scope` are the table's business: the schema strips them.
  const { pk: key, ...rest } = parseOrThrow(StoredFindingItemSchema, item, `${tableName} ${pk}`);
  return { key, ...rest };
}

/** The item of a stored finding: `scope` only while open, which keeps the GSI sparse. */
function toItem(record: StoredFinding): Record<string, unknown> {
  const { key, ...rest } = record;
  const item: Record<string, unknown> = { pk: key, kind: 'finding' };
  for (const [name, value] of Object.entries(rest)) if (value !== undefined) item[name] = value;
  if (record.state === 'open') item['scope'] = `${record.accountId}/${record.region}`;
  return item;
}

async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

type WriteOutcome = 'applied' | 'superseded' | { errorKind: AwsErrorKind; error: string };

/**
 * The findings table through the DynamoDB document client. `load` reads the open findings of a scope,
 * `apply` records transitions with conditional writes, `claimEvent` dedupes replayed events.
 */
export class FindingsStore {
  private readonly tableName: string;
  private readonly concurrency: number;
  private readonly clock: () => Date;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    options: FindingsStoreOptions,
  ) {
    if (options.tableName.trim() === '') {
      throw new InputValidationError('FindingsStoreOptions', [
        { path: 'tableName', message: 'expected a table name, got ""' },
      ]);
    }
    this.tableName = options.tableName;
    this.concurrency = options.concurrency ?? 8;
    this.clock = options.clock ?? (() => new Date());
  }

  /**
   * The open findings of a scope: a region's through one query of the `open-by-scope` index, listed
   * VPCs through one query each. The index is eventually consistent: a finding written a moment ago
   * by another invocation may be missing, which the conditional writes of `apply` make harmless.
   */
  async load(scope: FindingScope): Promise<StoredFinding[]> {
    const index = FINDINGS_TABLE_SCHEMA.openFindingsIndex;
    const scopeValue = `${scope.accountId}/${scope.region}`;
    const queries: QueryCommandInput[] =
      scope.kind === 'region'
        ? [
            {
              TableName: this.tableName,
              IndexName: index.name,
              KeyConditionExpression: '#scope = :scope',
              ExpressionAttributeNames: { '#scope': index.partitionKey.name },
              ExpressionAttributeValues: { ':scope': scopeValue },
            },
          ]
        : [...new Set(scope.vpcIds)].map((vpcId) => ({
            TableName: this.tableName,
            IndexName: index.name,
            KeyConditionExpression: '#scope = :scope AND #vpcId = :vpcId',
            ExpressionAttributeNames: {
              '#scope': index.partitionKey.name,
              '#vpcId': index.sortKey.name,
            },
            ExpressionAttributeValues: { ':scope': scopeValue, ':vpcId': vpcId },
          }));
    const pages = await mapWithConcurrency(queries, this.concurrency, async (input) => {
      const found: StoredFinding[] = [];
      for await (const page of paginateQuery({ client: this.client }, input)) {
        for (const item of page.Items ?? []) found.push(toStoredFinding(item, this.tableName));
      }
      return found;
    });
    return pages.flat();
  }

  /**
   * Records transitions, each with a conditional write:
   * - opened: `attribute_not_exists(pk) OR #state = :resolved` (nobody opened it meanwhile);
   * - changed, resolved: `#state = :open AND #digest = :digest` with the digest that was read;
   * - unchanged (only with `touchUnchanged`): the same condition, refreshing `lastSeen`.
   * A `ConditionalCheckFailedException` means another invocation got there first: the transition is
   * reported as superseded and must not alert. Other failures are reported, never thrown, so the
   * writes that worked still alert.
   */
  async apply(
    transitions: FindingTransitions,
    options: ApplyTransitionsOptions = {},
  ): Promise<ApplyTransitionsResult> {
    const work: FindingTransition[] = [
      ...transitions.opened,
      ...transitions.changed,
      ...transitions.resolved,
      ...(options.touchUnchanged ? transitions.unchanged : []),
    ];
    const outcomes = await mapWithConcurrency(work, this.concurrency, (transition) =>
      this.write(transition),
    );
    const opened: OpenedTransition[] = [];
    const changed: ChangedTransition[] = [];
    const resolved: ResolvedTransition[] = [];
    const unchanged: UnchangedTransition[] = [];
    const superseded: FindingTransition[] = [];
    const failed: FailedFindingWrite[] = [];
    for (const [index, transition] of work.entries()) {
      const outcome = outcomes[index]!;
      if (outcome === 'superseded') superseded.push(transition);
      else if (outcome !== 'applied') failed.push({ transition, ...outcome });
      else if (transition.kind === 'opened') opened.push(transition);
      else if (transition.kind === 'changed') changed.push(transition);
      else if (transition.kind === 'resolved') resolved.push(transition);
      else unchanged.push(transition);
    }
    return { applied: { opened, changed, resolved, unchanged }, superseded, failed };
  }

  private async write(transition: FindingTransition): Promise<WriteOutcome> {
    try {
      const command = this.command(transition);
      if (command instanceof UpdateCommand) await this.client.send(command);
      else await this.client.send(command);
      return 'applied';
    } catch (error) {
      if (awsErrorCode(error) === 'ConditionalCheckFailedException') return 'superseded';
      return { errorKind: classifyAwsError(error), error: describeAwsError(error) };
    }
  }

  private command(transition: FindingTransition): PutCommand | UpdateCommand {
    const TableName = this.tableName;
    switch (transition.kind) {
      case 'opened':
        return new PutCommand({
          TableName,
          Item: toItem(transition.record),
          ConditionExpression: 'attribute_not_exists(pk) OR #state = :resolved',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':resolved': 'resolved' },
        });
      case 'changed':
      case 'resolved':
        return new PutCommand({
          TableName,
          Item: toItem(transition.record),
          ConditionExpression: '#state = :open AND #digest = :digest',
          ExpressionAttributeNames: STATE_NAMES,
          ExpressionAttributeValues: { ':open': 'open', ':digest': transition.previous.digest },
        });
      case 'unchanged': {
        const { record } = transition;
        return new UpdateCommand({
          TableName,
          Key: { pk: record.key },
          UpdateExpression:
            'SET #lastSeen = :lastSeen, #message = :message, #profile = :profile, #vpcName = :vpcName',
          ConditionExpression: '#state = :open AND #digest = :digest',
          ExpressionAttributeNames: {
            ...STATE_NAMES,
            '#lastSeen': 'lastSeen',
            '#message': 'message',
            '#profile': 'profile',
            '#vpcName': 'vpcName',
          },
          ExpressionAttributeValues: {
            ':open': 'open',
            ':digest': transition.previous.digest,
            ':lastSeen': record.lastSeen,
            ':message': record.message,
            ':profile': record.profile,
            ':vpcName': record.vpcName,
          },
        });
      }
    }
  }

  /**
   * Claims an event id, so a replayed event (same id: EventBridge retries, a Lambda async retry, a
   * redelivered SNS message) is processed once. A conditional put: true when this call claimed it,
   * false when it was claimed before and the claim has not expired. Claim before doing the work and
   * {@link releaseEvent} when the work fails, or the retry that should redo it will be dropped.
   *
   * @throws the AWS error when DynamoDB fails for another reason (the caller should fail and retry).
   */
  async claimEvent(eventId: string, ttlSeconds: number): Promise<boolean> {
    if (eventId.trim() === '' || eventId.length > 1024) {
      throw new InputValidationError('claimEvent', [
        { path: 'eventId', message: `expected 1 to 1024 characters, got ${eventId.length}` },
      ]);
    }
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
      throw new InputValidationError('claimEvent', [
        { path: 'ttlSeconds', message: `expected a positive whole number, got ${ttlSeconds}` },
      ]);
    }
    const now = this.clock();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: `${FINDINGS_TABLE_SCHEMA.eventKeyPrefix}${eventId}`,
            kind: 'event',
            claimedAt: now.toISOString(),
            expiresAt: nowSeconds + ttlSeconds,
          },
          // TTL deletion lags by up to days: an expired claim that is still there counts as free.
          ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt < :now',
          ExpressionAttributeNames: { '#expiresAt': FINDINGS_TABLE_SCHEMA.ttlAttribute },
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      );
      return true;
    } catch (error) {
      if (awsErrorCode(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** Gives up a claim, so the event can be processed again (after the work failed). */
  async releaseEvent(eventId: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: `${FINDINGS_TABLE_SCHEMA.eventKeyPrefix}${eventId}` },
      }),
    );
  }
}
