import {
  DeleteCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { awsErrorCode, classifyAwsError, describeAwsError, type AwsErrorKind } from '../aws/errors';
import { InputValidationError } from '../errors';
import {
  ALERT_SINKS,
  type AlertSink,
  type AlertingTransition,
  type ChangedTransition,
  type FindingScope,
  type FindingTransition,
  type FindingTransitions,
  type OpenedTransition,
  type PendingAlert,
  type ResolvedTransition,
  type StoredFinding,
  type UnchangedTransition,
  withoutPendingAlert,
} from './state';
import {
  FINDINGS_TABLE_SCHEMA,
  UntrustedItemsQueryCommand,
  toItem,
  toStoredFinding,
} from './table-item';

/**
 * The findings table (DynamoDB): one item per finding key, plus event-id claims for replay dedupe.
 * Every write that leads to an alert is conditional on what this invocation read, so two invocations
 * racing on the same VPC (a CloudTrail event and the Config rule, say) alert once between them. The
 * alert itself is an outbox on the item: written with the transition, cleared sink by sink once each
 * sink accepted it, so a sink that fails after the transition was recorded never loses the alert.
 * The table's shape and the validation of its items live in `table-item.ts`.
 */

/** Options of {@link FindingsStore}. */
export interface FindingsStoreOptions {
  readonly tableName: string;
  /** Writes in flight at once during `apply`. @default 8 */
  readonly concurrency?: number;
  /** The clock for event claims and alert leases. @default - the system clock */
  readonly clock?: () => Date;
  /**
   * Seconds an invocation holds the delivery of an alert it recorded or took over. Past that, another
   * may deliver it: the holder died before it could say how delivery went.
   * @default 900 - the longest a Lambda invocation runs
   */
  readonly alertLeaseSeconds?: number;
  /** Makes the id of each new alert. @default - a random UUID */
  readonly alertId?: () => string;
  /**
   * Told of each item `load` read that is not a finding this release can trust (another writer, a
   * corrupted item): it is skipped, never acted on. Log and count it here.
   * @default - the item is skipped silently
   */
  readonly onMalformedItem?: (item: MalformedFindingItem) => void;
}

/** An item of the findings table that failed validation when read back. */
export interface MalformedFindingItem {
  readonly tableName: string;
  /** The item's `pk`, or `?` when it has none that is a string. */
  readonly key: string;
  /** What is wrong, field by field. */
  readonly problem: string;
}

/** Options of {@link FindingsStore.apply}. */
export interface ApplyTransitionsOptions {
  /**
   * Also refresh `lastSeen` (and message, profile, VPC name) of unchanged open findings. Costs one
   * write per open finding per run; without it `lastSeen` is the time of the last transition.
   * @default false
   */
  readonly touchUnchanged?: boolean;
  /**
   * The sinks alerts go to. Each recorded transition's item is marked as owing its alert to them
   * ({@link PendingAlert}), in the same write, until {@link FindingsStore.settleAlerts} says they
   * accepted it. @default [] - nothing is marked, nothing is re-delivered later
   */
  readonly sinks?: readonly AlertSink[];
}

/** A write that failed for a reason other than losing the race. */
export interface FailedFindingWrite {
  readonly transition: FindingTransition;
  readonly errorKind: AwsErrorKind;
  readonly error: string;
}

/** What {@link FindingsStore.apply} did. */
export interface ApplyTransitionsResult {
  /**
   * The transitions this invocation recorded, and the undelivered alerts it took over: alert on
   * these, and only these, to the sinks in `record.pendingAlert.sinks` (when sinks were given). Each
   * `record` is the item as written, with the alert this invocation now holds.
   */
  readonly applied: FindingTransitions;
  /**
   * Transitions that lost a conditional write: another invocation recorded the same change first
   * (and alerts on it), or the entry moved on since it was read; undelivered alerts another
   * invocation is delivering, or that a newer transition replaced. Not an error; no alert.
   */
  readonly superseded: readonly FindingTransition[];
  /** Writes that failed (throttled after the SDK's retries, access denied, ...): no alert was sent. */
  readonly failed: readonly FailedFindingWrite[];
}

/** What a run did with an alert it held: which sinks accepted it. */
export interface AlertDelivery {
  /** The item as {@link FindingsStore.apply} returned it, with the alert this invocation holds. */
  readonly record: StoredFinding;
  /** Sinks that accepted the alert, or no longer need it (switched off). */
  readonly delivered: readonly AlertSink[];
}

/** An alert whose delivery could not be written down: it will be sent again. */
export interface FailedAlertSettle {
  readonly record: StoredFinding;
  readonly errorKind: AwsErrorKind;
  readonly error: string;
}

/** What {@link FindingsStore.settleAlerts} did. */
export interface SettleAlertsResult {
  /** The items as now stored: `pendingAlert` without the sinks that accepted it, or gone. */
  readonly settled: readonly StoredFinding[];
  /** The alert was replaced by a newer transition, or another invocation took it over. */
  readonly superseded: readonly StoredFinding[];
  readonly failed: readonly FailedAlertSettle[];
}

const STATE_NAMES = { '#state': 'state', '#digest': 'digest' } as const;
const ALERT_NAMES = {
  '#pendingAlert': 'pendingAlert',
  '#id': 'id',
  '#alertLeaseUntil': 'alertLeaseUntil',
} as const;

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

/** A write of {@link FindingsStore.apply}: record a transition, or take over an undelivered alert. */
type Job =
  | { readonly kind: 'record'; readonly transition: FindingTransition }
  | { readonly kind: 'take-over'; readonly transition: AlertingTransition };
type WriteFailure = { errorKind: AwsErrorKind; error: string };
type WriteOutcome =
  { written: FindingTransition } | { takenOver: AlertingTransition } | 'superseded' | WriteFailure;

function failureOf(error: unknown): 'superseded' | WriteFailure {
  if (awsErrorCode(error) === 'ConditionalCheckFailedException') return 'superseded';
  return { errorKind: classifyAwsError(error), error: describeAwsError(error) };
}

/**
 * The findings table through the DynamoDB document client. `load` reads the open findings of a scope
 * (and those still owing an alert), `apply` records transitions with conditional writes,
 * `settleAlerts` records which sinks accepted their alerts, `claimEvent` dedupes replayed events.
 */
export class FindingsStore {
  private readonly tableName: string;
  private readonly concurrency: number;
  private readonly clock: () => Date;
  private readonly alertLeaseSeconds: number;
  private readonly alertId: () => string;
  private readonly onMalformedItem: ((item: MalformedFindingItem) => void) | undefined;

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
    this.alertLeaseSeconds = options.alertLeaseSeconds ?? 900;
    this.alertId = options.alertId ?? randomUUID;
    this.onMalformedItem = options.onMalformedItem;
  }

  /**
   * The open findings of a scope, and the resolved ones whose alert is still owed: a region's
   * through one query of the `open-by-scope` index, listed VPCs through one query each. The index is
   * eventually consistent: a finding written a moment ago by another invocation may be missing, which
   * the conditional writes of `apply` make harmless. Items are untrusted input: one that fails
   * validation (or whose key disagrees with its attributes) is skipped and reported to
   * `onMalformedItem`; only DynamoDB's own failures throw.
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
      // Paged by hand: the SDK's paginator cannot send the query that reads numbers as text.
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.client.send(
          new UntrustedItemsQueryCommand(
            startKey === undefined ? input : { ...input, ExclusiveStartKey: startKey },
          ),
        );
        for (const item of page.Items ?? []) {
          const entry = this.readItem(item);
          if (entry !== null) found.push(entry);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
      return found;
    });
    return pages.flat();
  }

  /**
   * A stored item as a finding, or null when it is not one this release can trust: the table is
   * read back as untrusted input (another writer, a corrupted item). A bad item is reported and
   * skipped, so it never stops the run from acting on the rest of its scope.
   */
  private readItem(item: Record<string, unknown>): StoredFinding | null {
    try {
      return toStoredFinding(item, this.tableName);
    } catch (error) {
      if (!(error instanceof InputValidationError)) throw error;
      this.onMalformedItem?.({
        tableName: this.tableName,
        key: typeof item['pk'] === 'string' ? item['pk'] : '?',
        problem: error.message,
      });
      return null;
    }
  }

  /**
   * Records transitions, each with a conditional write:
   * - opened: `attribute_not_exists(pk) OR #state = :resolved` (nobody opened it meanwhile);
   * - changed, resolved: `#state = :open AND #digest = :digest` with the digest that was read;
   * - unchanged (only with `touchUnchanged`): the same condition, refreshing `lastSeen`.
   * With `sinks`, each of those writes also marks the alert as owed to them, leased to this
   * invocation. Undelivered alerts are taken over with a lease of their own:
   * `#pendingAlert.#id = :id AND (attribute_not_exists(#alertLeaseUntil) OR #alertLeaseUntil < :now)`.
   * A `ConditionalCheckFailedException` means another invocation got there first: the transition is
   * reported as superseded and must not alert. Other failures are reported, never thrown, so the
   * writes that worked still alert.
   */
  async apply(
    transitions: FindingTransitions,
    options: ApplyTransitionsOptions = {},
  ): Promise<ApplyTransitionsResult> {
    const sinks = ALERT_SINKS.filter((sink) => options.sinks?.includes(sink));
    const work: Job[] = [
      ...[
        ...transitions.opened,
        ...transitions.changed,
        ...transitions.resolved,
        ...(options.touchUnchanged ? transitions.unchanged : []),
      ].map((transition): Job => ({ kind: 'record', transition })),
      ...transitions.undelivered.map((transition): Job => ({ kind: 'take-over', transition })),
    ];
    const now = this.clock();
    const outcomes = await mapWithConcurrency(work, this.concurrency, (job) =>
      job.kind === 'take-over'
        ? this.takeOver(job.transition, now)
        : this.write(job.transition, sinks, now),
    );
    const opened: OpenedTransition[] = [];
    const changed: ChangedTransition[] = [];
    const resolved: ResolvedTransition[] = [];
    const unchanged: UnchangedTransition[] = [];
    const undelivered: AlertingTransition[] = [];
    const superseded: FindingTransition[] = [];
    const failed: FailedFindingWrite[] = [];
    for (const [index, { transition }] of work.entries()) {
      const outcome = outcomes[index]!;
      if (outcome === 'superseded') superseded.push(transition);
      else if ('errorKind' in outcome) failed.push({ transition, ...outcome });
      else if ('takenOver' in outcome) undelivered.push(outcome.takenOver);
      else if (outcome.written.kind === 'opened') opened.push(outcome.written);
      else if (outcome.written.kind === 'changed') changed.push(outcome.written);
      else if (outcome.written.kind === 'resolved') resolved.push(outcome.written);
      else unchanged.push(outcome.written);
    }
    return {
      applied: { opened, changed, resolved, unchanged, undelivered },
      superseded,
      failed,
    };
  }

  /**
   * Records which sinks accepted the alerts this invocation held, one conditional update per alert
   * (`#pendingAlert.#id = :id AND #alertLeaseUntil = :leaseUntil`: still this alert, still this
   * invocation's lease, so a newer transition's alert is never touched), and releases the lease so
   * the next run may deliver what is left at once. Every sink done: the outbox attributes are
   * removed, and a resolved finding's `scope` with them (it leaves the index). Some done: they are
   * deleted from `pendingSinks`. Never throws for an AWS error: a failed write is reported and the
   * alert will be sent again.
   */
  async settleAlerts(deliveries: readonly AlertDelivery[]): Promise<SettleAlertsResult> {
    const held = deliveries.filter((delivery) => delivery.record.pendingAlert !== undefined);
    const outcomes = await mapWithConcurrency(held, this.concurrency, (delivery) =>
      this.settle(delivery),
    );
    const settled: StoredFinding[] = [];
    const superseded: StoredFinding[] = [];
    const failed: FailedAlertSettle[] = [];
    for (const [index, delivery] of held.entries()) {
      const outcome = outcomes[index]!;
      if (outcome === 'superseded') superseded.push(delivery.record);
      else if ('errorKind' in outcome) failed.push({ record: delivery.record, ...outcome });
      else settled.push(outcome.record);
    }
    return { settled, superseded, failed };
  }

  private async settle(
    delivery: AlertDelivery,
  ): Promise<{ record: StoredFinding } | 'superseded' | WriteFailure> {
    const { record } = delivery;
    const pending = record.pendingAlert!;
    const delivered = pending.sinks.filter((sink) => delivery.delivered.includes(sink));
    const remaining = pending.sinks.filter((sink) => !delivered.includes(sink));
    const names: Record<string, string> = { ...ALERT_NAMES };
    const values: Record<string, unknown> = { ':id': pending.id };
    let update: string;
    let after: StoredFinding;
    if (remaining.length === 0) {
      const resolved = record.state === 'resolved';
      update = `REMOVE #pendingAlert, #pendingSinks, #alertLeaseUntil${resolved ? ', #scope' : ''}`;
      names['#pendingSinks'] = 'pendingSinks';
      if (resolved) names['#scope'] = FINDINGS_TABLE_SCHEMA.openFindingsIndex.partitionKey.name;
      after = withoutPendingAlert(record);
    } else {
      update =
        delivered.length > 0
          ? 'DELETE #pendingSinks :delivered REMOVE #alertLeaseUntil'
          : 'REMOVE #alertLeaseUntil';
      if (delivered.length > 0) {
        names['#pendingSinks'] = 'pendingSinks';
        values[':delivered'] = new Set(delivered);
      }
      // The lease is released with the write: nobody holds the alert until the next run takes it.
      const kept: { -readonly [K in keyof PendingAlert]: PendingAlert[K] } = {
        ...pending,
        sinks: remaining,
      };
      delete kept.leaseUntil;
      after = { ...record, pendingAlert: kept };
    }
    let condition = '#pendingAlert.#id = :id';
    if (pending.leaseUntil !== undefined) {
      condition += ' AND #alertLeaseUntil = :leaseUntil';
      values[':leaseUntil'] = pending.leaseUntil;
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: record.key },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return { record: after };
    } catch (error) {
      return failureOf(error);
    }
  }

  /** Takes over an undelivered alert: a lease, unless another invocation holds one. */
  private async takeOver(transition: AlertingTransition, now: Date): Promise<WriteOutcome> {
    const pending = transition.record.pendingAlert;
    if (pending === undefined) return 'superseded';
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const leaseUntil = nowSeconds + this.alertLeaseSeconds;
    try {
      const output = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: transition.key },
          UpdateExpression: 'SET #alertLeaseUntil = :leaseUntil',
          ConditionExpression:
            '#pendingAlert.#id = :id AND (attribute_not_exists(#alertLeaseUntil) OR #alertLeaseUntil < :now)',
          ExpressionAttributeNames: { ...ALERT_NAMES },
          ExpressionAttributeValues: {
            ':id': pending.id,
            ':leaseUntil': leaseUntil,
            ':now': nowSeconds,
          },
          // The sinks still owed as of now: another invocation may have delivered some since the read.
          ReturnValues: 'ALL_NEW',
        }),
      );
      const record = output.Attributes
        ? toStoredFinding(output.Attributes, this.tableName)
        : { ...transition.record, pendingAlert: { ...pending, leaseUntil } };
      if (record.pendingAlert === undefined) return 'superseded';
      return { takenOver: { ...transition, record } };
    } catch (error) {
      if (error instanceof InputValidationError) {
        return { errorKind: 'invalid', error: error.message };
      }
      return failureOf(error);
    }
  }

  private async write(
    transition: FindingTransition,
    sinks: readonly AlertSink[],
    now: Date,
  ): Promise<WriteOutcome> {
    const written =
      transition.kind === 'unchanged' || sinks.length === 0
        ? transition
        : { ...transition, record: this.withPendingAlert(transition, sinks, now) };
    try {
      const command = this.command(written);
      // Two sends: `send` is overloaded per command type and takes no union of them.
      if (command instanceof UpdateCommand) await this.client.send(command);
      else await this.client.send(command);
      return { written };
    } catch (error) {
      return failureOf(error);
    }
  }

  /** The record with its alert owed to every sink, leased to this invocation, which delivers it. */
  private withPendingAlert(
    transition: AlertingTransition,
    sinks: readonly AlertSink[],
    now: Date,
  ): StoredFinding {
    const severityChanged =
      transition.kind === 'changed' && transition.previous.severity !== transition.record.severity;
    const pendingAlert: PendingAlert = {
      id: this.alertId(),
      transition: transition.kind,
      sinks: [...sinks],
      ...(transition.kind === 'changed' ? { changes: [...transition.changes] } : {}),
      ...(severityChanged ? { previousSeverity: transition.previous.severity } : {}),
      leaseUntil: Math.floor(now.getTime() / 1000) + this.alertLeaseSeconds,
    };
    return { ...transition.record, pendingAlert };
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
