import 'aws-sdk-client-mock-vitest/extend';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type PutCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  FINDINGS_TABLE_SCHEMA,
  FindingsStore,
  diffFindings,
  findingDigest,
  type AlertSink,
  type MalformedFindingItem,
  type PendingAlert,
  type StoredFinding,
} from '@vpc-guard/shared';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  EARLIER,
  NOW,
  NOW_SECONDS,
  REGION,
  REGION_SCOPE,
  compliant,
  nonCompliant,
  storedOpen,
  withoutFindings,
} from './sample-findings';

const TABLE = 'vpc-guard-findings';
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: REGION }));
const ddb = mockClient(DynamoDBDocumentClient);
const [NAT, STS] = nonCompliant.findings;

function store(): FindingsStore {
  return new FindingsStore(documentClient, {
    tableName: TABLE,
    clock: () => NOW,
    alertId: () => 'alert-1',
  });
}

function conditionFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
  });
}

function throttled(): Error {
  return Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: {},
  });
}

/** The item as stored, `pk` for `key`, `scope` while open. */
function itemOf(record: StoredFinding): Record<string, unknown> {
  const { key, ...rest } = record;
  return {
    pk: key,
    kind: 'finding',
    ...rest,
    ...(record.state === 'open' ? { scope: `${record.accountId}/${record.region}` } : {}),
  };
}

afterEach(() => {
  ddb.reset();
});

describe('FINDINGS_TABLE_SCHEMA', () => {
  it('describes the key, the sparse index of open findings and the TTL attribute', () => {
    // Prepare
    const schema = FINDINGS_TABLE_SCHEMA;

    // Act
    const shape = JSON.parse(JSON.stringify(schema)) as unknown;

    // Assess
    expect(shape).toEqual({
      partitionKey: { name: 'pk', type: 'S' },
      openFindingsIndex: {
        name: 'open-by-scope',
        partitionKey: { name: 'scope', type: 'S' },
        sortKey: { name: 'vpcId', type: 'S' },
        projection: 'ALL',
      },
      ttlAttribute: 'expiresAt',
      eventKeyPrefix: 'event#',
    });
  });
});

describe('FindingsStore.load', () => {
  it("queries the open-by-scope index for a region's open findings, page by page", async () => {
    // Prepare
    const nat = storedOpen(NAT!, nonCompliant);
    const sts = storedOpen(STS!, nonCompliant);
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [itemOf(nat)], LastEvaluatedKey: { pk: nat.key } })
      .resolvesOnce({ Items: [itemOf(sts)] });

    // Act
    const found = await store().load(REGION_SCOPE);

    // Assess
    expect(found).toEqual([nat, sts]);
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(ddb).toHaveReceivedNthCommandWith(QueryCommand, 1, {
      TableName: TABLE,
      IndexName: 'open-by-scope',
      KeyConditionExpression: '#scope = :scope',
      ExpressionAttributeNames: { '#scope': 'scope' },
      ExpressionAttributeValues: { ':scope': `${ACCOUNT}/${REGION}` },
    });
    expect(ddb).toHaveReceivedNthCommandWith(QueryCommand, 2, {
      ExclusiveStartKey: { pk: nat.key },
    });
  });

  it('queries each listed VPC on the index sort key', async () => {
    // Prepare
    ddb.on(QueryCommand).resolves({ Items: [] });
    const vpcIds = [nonCompliant.vpcId, compliant.vpcId, nonCompliant.vpcId];

    // Act
    await store().load({ kind: 'vpcs', accountId: ACCOUNT, region: REGION, vpcIds });

    // Assess
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: TABLE,
      IndexName: 'open-by-scope',
      KeyConditionExpression: '#scope = :scope AND #vpcId = :vpcId',
      ExpressionAttributeNames: { '#scope': 'scope', '#vpcId': 'vpcId' },
      ExpressionAttributeValues: { ':scope': `${ACCOUNT}/${REGION}`, ':vpcId': compliant.vpcId },
    });
  });

  it('skips a malformed stored item and reports it, naming the item', async () => {
    // Prepare
    const nat = storedOpen(NAT!, nonCompliant);
    ddb.on(QueryCommand).resolves({ Items: [{ pk: 'broken', state: 'open' }, itemOf(nat)] });
    const reported: MalformedFindingItem[] = [];
    const findings = new FindingsStore(documentClient, {
      tableName: TABLE,
      onMalformedItem: (item) => reported.push(item),
    });

    // Act
    const found = await findings.load(REGION_SCOPE);

    // Assess
    expect(found).toEqual([nat]);
    expect(reported).toEqual([
      {
        tableName: TABLE,
        key: 'broken',
        problem: expect.stringMatching(/vpc-guard-findings broken/),
      },
    ]);
  });
});

describe('FindingsStore.apply', () => {
  it('opens a finding only if it does not exist or is resolved', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    const transitions = diffFindings([], [nonCompliant], REGION_SCOPE, NOW);

    // Act
    const result = await store().apply(transitions);

    // Assess
    expect(result.applied.opened).toHaveLength(3);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: TABLE,
      Item: itemOf(transitions.opened[0]!.record),
      ConditionExpression: 'attribute_not_exists(pk) OR #state = :resolved',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':resolved': 'resolved' },
    });
  });

  it('resolves conditionally on the digest it read, dropping scope and setting the TTL', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    const nat = storedOpen(NAT!, nonCompliant);
    const fixed = withoutFindings(nonCompliant, [
      'nat-gateway-forbidden',
      'endpoint-missing',
      'endpoint-policy-too-broad',
    ]);
    const transitions = diffFindings([nat], [fixed], REGION_SCOPE, NOW);

    // Act
    const result = await store().apply(transitions);

    // Assess
    expect(result.applied.resolved).toHaveLength(1);
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.ConditionExpression).toBe('#state = :open AND #digest = :digest');
    expect(put.ExpressionAttributeNames).toEqual({ '#state': 'state', '#digest': 'digest' });
    expect(put.ExpressionAttributeValues).toEqual({ ':open': 'open', ':digest': nat.digest });
    expect(put.Item).toMatchObject({
      pk: nat.key,
      state: 'resolved',
      expiresAt: NOW_SECONDS + 30 * 86_400,
    });
    expect(put.Item).not.toHaveProperty('scope');
  });

  it('writes a changed finding conditionally on the previous digest', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    const stale = storedOpen(NAT!, nonCompliant, { digest: 'medium:0000' });
    const transitions = diffFindings(
      [stale],
      [withoutFindings(nonCompliant, ['endpoint-missing', 'endpoint-policy-too-broad'])],
      REGION_SCOPE,
      NOW,
    );

    // Act
    const result = await store().apply(transitions);

    // Assess
    expect(result.applied.changed).toHaveLength(1);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      ConditionExpression: '#state = :open AND #digest = :digest',
      ExpressionAttributeValues: { ':open': 'open', ':digest': 'medium:0000' },
    });
  });

  it('reports a lost conditional write as superseded, and keeps the writes that worked', async () => {
    // Prepare
    const transitions = diffFindings([], [nonCompliant], REGION_SCOPE, NOW);
    ddb
      .on(PutCommand)
      .resolves({})
      .on(PutCommand, { Item: { pk: STS!.key } })
      .rejects(conditionFailed());

    // Act
    const result = await store().apply(transitions);

    // Assess
    expect(result.superseded.map((t) => t.key)).toEqual([STS!.key]);
    expect(result.applied.opened.map((t) => t.key)).not.toContain(STS!.key);
    expect(result.applied.opened).toHaveLength(2);
    expect(result.failed).toEqual([]);
  });

  it('reports other write failures, classified, without throwing', async () => {
    // Prepare
    const transitions = diffFindings([], [nonCompliant], REGION_SCOPE, NOW);
    ddb
      .on(PutCommand)
      .resolves({})
      .on(PutCommand, { Item: { pk: NAT!.key } })
      .rejects(throttled());

    // Act
    const result = await store().apply(transitions);

    // Assess
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]).toMatchObject({
      transition: { key: NAT!.key },
      errorKind: 'throttled',
      error: 'ThrottlingException: Rate exceeded',
    });
    expect(result.applied.opened).toHaveLength(2);
  });

  it('writes nothing for unchanged findings unless asked to touch them', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});
    const previous = nonCompliant.findings.map((f) => storedOpen(f, nonCompliant));
    const transitions = diffFindings(previous, [nonCompliant], REGION_SCOPE, NOW);

    // Act
    const quiet = await store().apply(transitions);
    const touched = await store().apply(transitions, { touchUnchanged: true });

    // Assess
    expect(quiet.applied.unchanged).toEqual([]);
    expect(touched.applied.unchanged).toHaveLength(3);
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 3);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: TABLE,
      Key: { pk: NAT!.key },
      UpdateExpression:
        'SET #lastSeen = :lastSeen, #message = :message, #profile = :profile, #vpcName = :vpcName',
      ConditionExpression: '#state = :open AND #digest = :digest',
      ExpressionAttributeValues: {
        ':open': 'open',
        ':digest': previous[0]!.digest,
        ':lastSeen': NOW.toISOString(),
        ':message': NAT!.message,
        ':profile': 'regulated',
        ':vpcName': 'payments-prod',
      },
    });
  });

  it('lets only one of two racing invocations record (and alert on) the same change', async () => {
    // Prepare: a table that evaluates the two conditions the store writes.
    const table = new Map<string, Record<string, unknown>>();
    ddb.on(PutCommand).callsFake((input: PutCommandInput) => {
      const item = input.Item!;
      const existing = table.get(item['pk'] as string);
      const values = input.ExpressionAttributeValues ?? {};
      const allowed =
        input.ConditionExpression === 'attribute_not_exists(pk) OR #state = :resolved'
          ? existing === undefined || existing['state'] === 'resolved'
          : existing?.['state'] === 'open' && existing['digest'] === values[':digest'];
      if (!allowed) throw conditionFailed();
      table.set(item['pk'] as string, item);
      return {};
    });
    const first = diffFindings([], [nonCompliant], REGION_SCOPE, NOW);
    const second = diffFindings([], [nonCompliant], REGION_SCOPE, NOW);

    // Act
    const [a, b] = await Promise.all([store().apply(first), store().apply(second)]);

    // Assess
    expect(a.applied.opened.length + b.applied.opened.length).toBe(3);
    expect(a.superseded.length + b.superseded.length).toBe(3);
    expect(table.size).toBe(3);
  });
});

describe('FindingsStore.claimEvent', () => {
  it('claims a new event id with a conditional put and a TTL', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});

    // Act
    const claimed = await store().claimEvent('6f2b0c3e-event', 3600);

    // Assess
    expect(claimed).toBe(true);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: TABLE,
      Item: {
        pk: 'event#6f2b0c3e-event',
        kind: 'event',
        claimedAt: NOW.toISOString(),
        expiresAt: NOW_SECONDS + 3600,
      },
      ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt < :now',
      ExpressionAttributeNames: { '#expiresAt': 'expiresAt' },
      ExpressionAttributeValues: { ':now': NOW_SECONDS },
    });
  });

  it('returns false for a replayed event id', async () => {
    // Prepare
    ddb.on(PutCommand).resolvesOnce({}).rejects(conditionFailed());
    const findings = store();

    // Act
    const first = await findings.claimEvent('evt-1', 600);
    const replay = await findings.claimEvent('evt-1', 600);

    // Assess
    expect([first, replay]).toEqual([true, false]);
  });

  it('throws other DynamoDB errors, so the invocation fails and is retried', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(throttled());

    // Act
    const claiming = store().claimEvent('evt-1', 600);

    // Assess
    await expect(claiming).rejects.toThrow('Rate exceeded');
  });

  it.each([
    ['an empty event id', '', 600, /eventId/],
    ['a zero TTL', 'evt-1', 0, /ttlSeconds/],
    ['a fractional TTL', 'evt-1', 1.5, /ttlSeconds/],
  ])('throws for %s without writing', async (_what, eventId, ttl, message) => {
    // Prepare
    ddb.on(PutCommand).resolves({});

    // Act
    const claiming = store().claimEvent(eventId, ttl);

    // Assess
    await expect(claiming).rejects.toThrow(message);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
  });

  it('releases a claim by deleting it, so a retry can process the event', async () => {
    // Prepare
    ddb.on(DeleteCommand).resolves({});

    // Act
    await store().releaseEvent('evt-1');

    // Assess
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
      TableName: TABLE,
      Key: { pk: 'event#evt-1' },
    });
  });
});

describe('FindingsStore: alerts owed (the outbox)', () => {
  const BOTH: readonly AlertSink[] = ['sns', 'securityhub'];
  const LEASE = NOW_SECONDS + 900;

  function owing(overrides: Partial<PendingAlert> = {}): PendingAlert {
    return { id: 'alert-1', transition: 'opened', sinks: ['sns', 'securityhub'], ...overrides };
  }

  it('marks a recorded transition as owing its alert to each sink, leased to this invocation', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    const transitions = diffFindings([], [nonCompliant], REGION_SCOPE, NOW);

    // Act
    const result = await store().apply(transitions, { sinks: BOTH });

    // Assess
    const record = transitions.opened[0]!.record;
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: {
        ...itemOf(record),
        pendingAlert: { id: 'alert-1', transition: 'opened' },
        pendingSinks: new Set(['sns', 'securityhub']),
        alertLeaseUntil: LEASE,
      },
      ConditionExpression: 'attribute_not_exists(pk) OR #state = :resolved',
    });
    expect(result.applied.opened[0]!.record).toEqual({
      ...record,
      pendingAlert: { ...owing(), leaseUntil: LEASE },
    });
  });

  it('marks a changed alert with what changed and the severity before', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    const stale = storedOpen(NAT!, nonCompliant, {
      severity: 'medium',
      digest: findingDigest({ ...NAT!, severity: 'medium' }),
    });
    const transitions = diffFindings([stale], [nonCompliant], REGION_SCOPE, NOW);

    // Act
    await store().apply({ ...transitions, opened: [] }, { sinks: ['sns'] });

    // Assess
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.Item).toMatchObject({
      pendingAlert: {
        id: 'alert-1',
        transition: 'changed',
        changes: ['severity'],
        previousSeverity: 'medium',
      },
      pendingSinks: new Set(['sns']),
    });
  });

  it('keeps a resolved finding in the index while its alert is owed', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    const nat = storedOpen(NAT!, nonCompliant);
    const transitions = diffFindings([nat], [compliant], REGION_SCOPE, NOW);

    // Act
    await store().apply(transitions, { sinks: BOTH });

    // Assess
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.Item).toMatchObject({
      state: 'resolved',
      scope: `${ACCOUNT}/${REGION}`,
      pendingAlert: { transition: 'resolved' },
    });
  });

  it('reads the alert an item owes, with its sinks and lease, and ignores sinks it does not know', async () => {
    // Prepare
    const nat = storedOpen(NAT!, nonCompliant);
    const sts = storedOpen(STS!, nonCompliant);
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          ...itemOf(nat),
          pendingAlert: { id: 'alert-1', transition: 'opened' },
          pendingSinks: new Set(['securityhub', 'pager']),
          alertLeaseUntil: LEASE,
        },
        // Two invocations each delivered a part: the set is gone, nothing is owed.
        { ...itemOf(sts), pendingAlert: { id: 'alert-2', transition: 'opened' } },
      ],
    });

    // Act
    const found = await store().load(REGION_SCOPE);

    // Assess
    expect(found).toEqual([
      { ...nat, pendingAlert: owing({ sinks: ['securityhub'], leaseUntil: LEASE }) },
      sts,
    ]);
  });

  it('takes over an owed alert with a lease only when nobody holds it, reading the sinks still owed', async () => {
    // Prepare
    const stored = storedOpen(NAT!, nonCompliant, { pendingAlert: owing() });
    const transitions = diffFindings([stored], [nonCompliant], REGION_SCOPE, NOW);
    ddb.on(UpdateCommand).resolves({
      Attributes: {
        ...itemOf(stored),
        pendingAlert: { id: 'alert-1', transition: 'opened' },
        pendingSinks: new Set(['securityhub']),
        alertLeaseUntil: LEASE,
      },
    });

    // Act
    const result = await store().apply({ ...transitions, opened: [] }, { sinks: BOTH });

    // Assess
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: TABLE,
      Key: { pk: NAT!.key },
      UpdateExpression: 'SET #alertLeaseUntil = :leaseUntil',
      ConditionExpression:
        '#pendingAlert.#id = :id AND (attribute_not_exists(#alertLeaseUntil) OR #alertLeaseUntil < :now)',
      ExpressionAttributeNames: {
        '#pendingAlert': 'pendingAlert',
        '#id': 'id',
        '#alertLeaseUntil': 'alertLeaseUntil',
      },
      ExpressionAttributeValues: { ':id': 'alert-1', ':leaseUntil': LEASE, ':now': NOW_SECONDS },
      ReturnValues: 'ALL_NEW',
    });
    expect(result.applied.undelivered).toHaveLength(1);
    expect(result.applied.undelivered[0]!.record.pendingAlert).toEqual(
      owing({ sinks: ['securityhub'], leaseUntil: LEASE }),
    );
    expect(result.applied.opened).toEqual([]);
  });

  it('reports an owed alert another invocation holds, or a newer transition replaced, as superseded', async () => {
    // Prepare
    const stored = storedOpen(NAT!, nonCompliant, { pendingAlert: owing() });
    const transitions = diffFindings([stored], [nonCompliant], REGION_SCOPE, NOW);
    ddb.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const result = await store().apply(transitions, { sinks: BOTH });

    // Assess
    expect(result.superseded.map((t) => t.key)).toEqual([NAT!.key]);
    expect(result.applied.undelivered).toEqual([]);
    expect(result.failed).toEqual([]);
  });

  it.each([
    [
      'removes the outbox once every sink took the alert',
      'open' as const,
      ['sns', 'securityhub'] as AlertSink[],
      'REMOVE #pendingAlert, #pendingSinks, #alertLeaseUntil',
      { '#pendingSinks': 'pendingSinks' },
      {},
      undefined,
    ],
    [
      'also takes a resolved finding out of the index once every sink took its alert',
      'resolved' as const,
      ['sns', 'securityhub'] as AlertSink[],
      'REMOVE #pendingAlert, #pendingSinks, #alertLeaseUntil, #scope',
      { '#pendingSinks': 'pendingSinks', '#scope': 'scope' },
      {},
      undefined,
    ],
    [
      'deletes the sinks that took the alert and releases the lease',
      'open' as const,
      ['sns'] as AlertSink[],
      'DELETE #pendingSinks :delivered REMOVE #alertLeaseUntil',
      { '#pendingSinks': 'pendingSinks' },
      { ':delivered': new Set(['sns']) },
      ['securityhub'],
    ],
    [
      'only releases the lease when no sink took the alert',
      'open' as const,
      [] as AlertSink[],
      'REMOVE #alertLeaseUntil',
      {},
      {},
      ['sns', 'securityhub'],
    ],
  ])('%s', async (_what, state, delivered, update, names, values, left) => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});
    const record: StoredFinding = {
      ...storedOpen(NAT!, nonCompliant),
      state,
      pendingAlert: owing({ leaseUntil: LEASE }),
    };

    // Act
    const result = await store().settleAlerts([{ record, delivered }]);

    // Assess
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(input).toEqual({
      TableName: TABLE,
      Key: { pk: NAT!.key },
      UpdateExpression: update,
      ConditionExpression: '#pendingAlert.#id = :id AND #alertLeaseUntil = :leaseUntil',
      ExpressionAttributeNames: {
        '#pendingAlert': 'pendingAlert',
        '#id': 'id',
        '#alertLeaseUntil': 'alertLeaseUntil',
        ...names,
      },
      ExpressionAttributeValues: { ':id': 'alert-1', ':leaseUntil': LEASE, ...values },
    });
    expect(result.settled).toHaveLength(1);
    expect(result.settled[0]!.pendingAlert).toEqual(
      left === undefined ? undefined : owing({ sinks: left as AlertSink[] }),
    );
  });

  it('drops a settle a newer transition superseded, reports other failures, and writes nothing for alerts not held', async () => {
    // Prepare
    const held = (key: string): StoredFinding => ({
      ...storedOpen(NAT!, nonCompliant),
      key,
      pendingAlert: owing({ leaseUntil: LEASE }),
    });
    ddb
      .on(UpdateCommand, { Key: { pk: 'newer' } })
      .rejects(conditionFailed())
      .on(UpdateCommand, { Key: { pk: 'throttled' } })
      .rejects(throttled());

    // Act
    const result = await store().settleAlerts([
      { record: held('newer'), delivered: ['sns'] },
      { record: held('throttled'), delivered: ['sns'] },
      { record: storedOpen(NAT!, nonCompliant, { lastSeen: EARLIER }), delivered: ['sns'] },
    ]);

    // Assess
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 2);
    expect(result.superseded.map((r) => r.key)).toEqual(['newer']);
    expect(result.failed).toEqual([
      expect.objectContaining({ errorKind: 'throttled', record: held('throttled') }),
    ]);
    expect(result.settled).toEqual([]);
  });
});
