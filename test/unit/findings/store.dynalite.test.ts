import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  FindingsStore,
  diffFindings,
  type Evaluation,
  type Finding,
  type FindingScope,
} from '@vpc-guard/shared';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDynalite, type Dynalite } from '../../support/dynalite';
import { ACCOUNT, NOW, NOW_SECONDS, REGION, REGION_SCOPE, nonCompliant } from './sample-findings';

/**
 * The findings store against a real DynamoDB implementation (dynalite on 127.0.0.1): conditions,
 * reserved words, index queries, item limits and marshalling are DynamoDB's, not a mock's.
 */

let dynalite: Dynalite;
let tables = 0;

beforeAll(async () => {
  dynalite = await startDynalite();
});

afterAll(async () => {
  await dynalite.stop();
});

/** A fresh findings table per test, so tests share the server and nothing else. */
async function freshTable(): Promise<string> {
  tables += 1;
  const tableName = `vpc-guard-findings-${tables}`;
  await dynalite.createFindingsTable(tableName);
  return tableName;
}

function storeOf(
  tableName: string,
  options: { clock?: () => Date; alertId?: () => string } = {},
): FindingsStore {
  return new FindingsStore(dynalite.documents, {
    tableName,
    clock: options.clock ?? (() => NOW),
    alertId: options.alertId ?? (() => 'alert-1'),
  });
}

const [NAT, STS] = nonCompliant.findings as [Finding, Finding, Finding];

/** A finding of payments-prod with its own subject (and key), message and VPC. */
function findingWith(
  subject: string,
  overrides: Partial<Pick<Finding, 'message' | 'vpcId'>> = {},
): Finding {
  const vpcId = overrides.vpcId ?? NAT.vpcId;
  return {
    ...NAT,
    vpcId,
    subject,
    key: `${ACCOUNT}/${REGION}/${vpcId}/${NAT.ruleId}/${subject}`,
    message: overrides.message ?? NAT.message,
  };
}

function evaluationWith(
  findings: readonly Finding[],
  overrides: Partial<Pick<Evaluation, 'vpcId' | 'vpcName' | 'profile'>> = {},
): Evaluation {
  return {
    ...nonCompliant,
    ...overrides,
    findings: [...findings],
    compliance: findings.length > 0 ? 'NON_COMPLIANT' : 'COMPLIANT',
  };
}

/** One run: load the scope, diff, record with the sinks, as the pipeline does. */
async function run(
  store: FindingsStore,
  evaluations: readonly Evaluation[],
  scope: FindingScope = REGION_SCOPE,
  at: Date = NOW,
) {
  const stored = await store.load(scope);
  return store.apply(diffFindings(stored, evaluations, scope, at), {
    sinks: ['sns', 'securityhub'],
  });
}

async function rawItem(tableName: string, pk: string) {
  const { Item } = await dynalite.client.send(
    new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk } }, ConsistentRead: true }),
  );
  return Item;
}

describe('FindingsStore on dynalite: conditional writes', () => {
  it('alerts once when two invocations open the same finding at the same time', async () => {
    // Prepare
    const table = await freshTable();
    const first = storeOf(table, { alertId: () => 'alert-first' });
    const second = storeOf(table, { alertId: () => 'alert-second' });
    const evaluation = evaluationWith([NAT]);
    const [readFirst, readSecond] = await Promise.all([
      first.load(REGION_SCOPE),
      second.load(REGION_SCOPE),
    ]);

    // Act
    const [a, b] = await Promise.all([
      first.apply(diffFindings(readFirst, [evaluation], REGION_SCOPE, NOW), { sinks: ['sns'] }),
      second.apply(diffFindings(readSecond, [evaluation], REGION_SCOPE, NOW), { sinks: ['sns'] }),
    ]);

    // Assess
    expect(a.applied.opened.length + b.applied.opened.length).toBe(1);
    expect(a.superseded.length + b.superseded.length).toBe(1);
    expect([...a.failed, ...b.failed]).toEqual([]);
    const winner = a.applied.opened.length === 1 ? 'alert-first' : 'alert-second';
    const { Item } = await dynalite.documents.send(
      new GetCommand({ TableName: table, Key: { pk: NAT.key }, ConsistentRead: true }),
    );
    expect(Item?.['pendingAlert']).toEqual({ id: winner, transition: 'opened' });
  });

  it('resolves once when two invocations both saw the finding open', async () => {
    // Prepare
    const table = await freshTable();
    await run(storeOf(table), [evaluationWith([NAT])]);
    const later = new Date(NOW.getTime() + 60_000);
    const stores = [storeOf(table, { clock: () => later }), storeOf(table, { clock: () => later })];
    const reads = await Promise.all(stores.map((store) => store.load(REGION_SCOPE)));

    // Act
    const results = await Promise.all(
      stores.map((store, index) =>
        store.apply(diffFindings(reads[index]!, [evaluationWith([])], REGION_SCOPE, later)),
      ),
    );

    // Assess
    expect(results.map((result) => result.applied.resolved.length)).toEqual(
      expect.arrayContaining([0, 1]),
    );
    expect(results.flatMap((result) => result.superseded).map((t) => t.kind)).toEqual(['resolved']);
  });

  it('refuses a change written against a digest another invocation already replaced', async () => {
    // Prepare
    const table = await freshTable();
    const store = storeOf(table);
    await run(store, [evaluationWith([NAT])]);
    const stale = await store.load(REGION_SCOPE);
    await run(store, [evaluationWith([{ ...NAT, severity: 'medium' }])]);

    // Act
    const result = await store.apply(
      diffFindings(stale, [evaluationWith([{ ...NAT, severity: 'low' }])], REGION_SCOPE, NOW),
    );

    // Assess
    expect(result.applied.changed).toEqual([]);
    expect(result.superseded.map((t) => t.kind)).toEqual(['changed']);
    const [stored] = await store.load(REGION_SCOPE);
    expect(stored?.severity).toBe('medium');
  });
});

describe('FindingsStore on dynalite: event claims', () => {
  it('claims an event once and refuses its replay while the claim lasts', async () => {
    // Prepare
    const table = await freshTable();
    const store = storeOf(table);

    // Act
    const claims = await Promise.all([
      store.claimEvent('evt-6f2b', 600),
      store.claimEvent('evt-6f2b', 600),
    ]);
    const replay = await store.claimEvent('evt-6f2b', 600);

    // Assess
    expect([...claims].sort()).toEqual([false, true]);
    expect(replay).toBe(false);
    expect(await rawItem(table, 'event#evt-6f2b')).toMatchObject({
      kind: { S: 'event' },
      expiresAt: { N: String(NOW_SECONDS + 600) },
    });
  });

  it('claims an event again once its claim expired, before DynamoDB deleted it', async () => {
    // Prepare
    const table = await freshTable();
    await storeOf(table).claimEvent('evt-expired', 60);
    const later = storeOf(table, { clock: () => new Date(NOW.getTime() + 61_000) });

    // Act
    const claimed = await later.claimEvent('evt-expired', 60);

    // Assess
    expect(claimed).toBe(true);
  });

  it('lets a retry claim the event again after the failed attempt released it', async () => {
    // Prepare
    const table = await freshTable();
    const store = storeOf(table);
    await store.claimEvent('evt-failed', 600);

    // Act
    await store.releaseEvent('evt-failed');
    const retried = await store.claimEvent('evt-failed', 600);

    // Assess
    expect(retried).toBe(true);
  });

  it('keeps a claim out of the index of open findings', async () => {
    // Prepare
    const table = await freshTable();
    const store = storeOf(table);
    await store.claimEvent(`${ACCOUNT}/${REGION}`, 600);

    // Act
    const loaded = await store.load(REGION_SCOPE);

    // Assess
    expect(loaded).toEqual([]);
  });
});

describe('FindingsStore on dynalite: scope queries', () => {
  // Items of ~45 KB: 26 of them pass the 1 MB a query page returns.
  const PAD = 'x'.repeat(45_000);
  const MANY = 26;

  async function writeMany(table: string, vpcId: string): Promise<Finding[]> {
    const findings = Array.from({ length: MANY }, (_, index) =>
      findingWith(`nat-${String(index).padStart(17, '0')}`, { vpcId, message: PAD }),
    );
    const result = await run(storeOf(table), [evaluationWith(findings, { vpcId })]);
    expect(result.applied.opened).toHaveLength(MANY);
    return findings;
  }

  it('reads every open finding of a region past the first page of the index', async () => {
    // Prepare
    const table = await freshTable();
    const findings = await writeMany(table, NAT.vpcId);
    const send = vi.spyOn(dynalite.documents, 'send');

    // Act
    const loaded = await storeOf(table).load(REGION_SCOPE);

    // Assess
    const queries = send.mock.calls.filter(([command]) => command instanceof QueryCommand);
    send.mockRestore();
    expect(queries.length).toBeGreaterThan(1);
    expect(loaded.map((entry) => entry.key).sort()).toEqual(findings.map((f) => f.key).sort());
  });

  it('reads every open finding of a listed VPC past the first page, and none of another VPC', async () => {
    // Prepare
    const table = await freshTable();
    const findings = await writeMany(table, NAT.vpcId);
    const other = findingWith('nat-0ff000000000000a1', { vpcId: 'vpc-0ff0000000000000f' });
    await run(storeOf(table), [evaluationWith([other], { vpcId: other.vpcId })], {
      kind: 'vpcs',
      accountId: ACCOUNT,
      region: REGION,
      vpcIds: [other.vpcId],
    });

    // Act
    const loaded = await storeOf(table).load({
      kind: 'vpcs',
      accountId: ACCOUNT,
      region: REGION,
      vpcIds: [NAT.vpcId],
    });

    // Assess
    expect(loaded).toHaveLength(MANY);
    expect(new Set(loaded.map((entry) => entry.vpcId))).toEqual(new Set([NAT.vpcId]));
    expect(loaded.map((entry) => entry.key).sort()).toEqual(findings.map((f) => f.key).sort());
  });

  it('drops a resolved finding from the index once its alert is delivered, keeping its TTL', async () => {
    // Prepare
    const table = await freshTable();
    const store = storeOf(table);
    await run(store, [evaluationWith([NAT])]);
    const resolved = await run(store, [evaluationWith([])]);
    const [alert] = resolved.applied.resolved;

    // Act
    const settled = await store.settleAlerts([
      { record: alert!.record, delivered: ['sns', 'securityhub'] },
    ]);
    const loaded = await store.load(REGION_SCOPE);

    // Assess
    expect(settled.settled).toHaveLength(1);
    expect(loaded).toEqual([]);
    const item = await rawItem(table, NAT.key);
    expect(item?.['scope']).toBeUndefined();
    expect(item?.['state']).toEqual({ S: 'resolved' });
    expect(item?.['expiresAt']?.N).toMatch(/^\d+$/);
    expect(Number(item?.['expiresAt']?.N)).toBeGreaterThan(NOW_SECONDS);
  });
});

describe('FindingsStore on dynalite: the alert outbox', () => {
  it('keeps an alert owed to the sink that failed and delivers it on a later run', async () => {
    // Prepare
    const table = await freshTable();
    const store = storeOf(table);
    const first = await run(store, [evaluationWith([NAT])]);
    const [opened] = first.applied.opened;
    await store.settleAlerts([{ record: opened!.record, delivered: ['sns'] }]);
    const owed = await rawItem(table, NAT.key);
    const next = storeOf(table, { clock: () => new Date(NOW.getTime() + 60_000) });

    // Act
    const second = await run(next, [evaluationWith([NAT])]);
    const [redelivered] = second.applied.undelivered;
    const done = await next.settleAlerts([
      { record: redelivered!.record, delivered: ['securityhub'] },
    ]);

    // Assess
    expect(owed?.['pendingSinks']).toEqual({ SS: ['securityhub'] });
    expect(owed?.['alertLeaseUntil']).toBeUndefined();
    expect(redelivered?.kind).toBe('opened');
    expect(redelivered?.record.pendingAlert?.sinks).toEqual(['securityhub']);
    expect(done.settled).toHaveLength(1);
    const after = await rawItem(table, NAT.key);
    expect(after?.['pendingAlert']).toBeUndefined();
    expect(after?.['pendingSinks']).toBeUndefined();
    expect((await next.load(REGION_SCOPE))[0]?.pendingAlert).toBeUndefined();
  });

  it('lets one invocation take over an owed alert while another holds its lease', async () => {
    // Prepare
    const table = await freshTable();
    const store = storeOf(table);
    const first = await run(store, [evaluationWith([NAT])]);
    await store.settleAlerts([{ record: first.applied.opened[0]!.record, delivered: [] }]);
    const later = () => new Date(NOW.getTime() + 60_000);
    const [a, b] = [storeOf(table, { clock: later }), storeOf(table, { clock: later })];
    const reads = await Promise.all([a.load(REGION_SCOPE), b.load(REGION_SCOPE)]);

    // Act
    const results = await Promise.all(
      [a, b].map((store, index) =>
        store.apply(diffFindings(reads[index]!, [evaluationWith([NAT])], REGION_SCOPE, later()), {
          sinks: ['sns', 'securityhub'],
        }),
      ),
    );

    // Assess
    expect(results.map((result) => result.applied.undelivered.length).sort()).toEqual([0, 1]);
    expect(results.flatMap((result) => result.superseded)).toHaveLength(1);
  });

  it('never clears a newer alert with the settle of an older one', async () => {
    // Prepare
    const table = await freshTable();
    let ids = 0;
    const store = storeOf(table, { alertId: () => `alert-${(ids += 1)}` });
    const first = await run(store, [evaluationWith([NAT])]);
    await run(store, [evaluationWith([{ ...NAT, severity: 'low' }])]);

    // Act
    const settled = await store.settleAlerts([
      { record: first.applied.opened[0]!.record, delivered: ['sns', 'securityhub'] },
    ]);

    // Assess
    expect(settled.superseded).toHaveLength(1);
    const [stored] = await store.load(REGION_SCOPE);
    expect(stored?.pendingAlert).toMatchObject({ id: 'alert-2', transition: 'changed' });
  });
});

describe('FindingsStore on dynalite: expressions and limits', () => {
  it('is checked by an engine that rejects reserved words used bare in expressions', async () => {
    // Prepare
    const table = await freshTable();
    await run(storeOf(table), [evaluationWith([NAT])]);

    // Act
    const bare = dynalite.client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: NAT.key } },
        UpdateExpression: 'SET message = :m',
        ConditionExpression: 'state = :open',
        ExpressionAttributeValues: { ':m': { S: 'x' }, ':open': { S: 'open' } },
      }),
    );

    // Assess
    await expect(bare).rejects.toThrow(/reserved keyword/);
  });

  it('writes every transition and settle with names the engine accepts', async () => {
    // Prepare
    const table = await freshTable();
    const store = storeOf(table);
    const opened = await run(store, [evaluationWith([NAT, STS])]);

    // Act
    const touched = await store.apply(
      diffFindings(
        await store.load(REGION_SCOPE),
        [evaluationWith([{ ...NAT, message: 'reworded' }, STS], { vpcName: 'renamed' })],
        REGION_SCOPE,
        NOW,
      ),
      { touchUnchanged: true },
    );
    const changedAndResolved = await run(store, [evaluationWith([{ ...NAT, severity: 'low' }])]);
    const settled = await store.settleAlerts(
      [...changedAndResolved.applied.changed, ...changedAndResolved.applied.resolved].map(
        (alert) => ({ record: alert.record, delivered: ['sns'] as const }),
      ),
    );

    // Assess
    expect(opened.failed).toEqual([]);
    expect(touched.failed).toEqual([]);
    expect(touched.applied.unchanged).toHaveLength(0);
    expect(changedAndResolved.failed).toEqual([]);
    expect(changedAndResolved.applied.changed).toHaveLength(1);
    expect(changedAndResolved.applied.resolved).toHaveLength(1);
    expect(settled.failed).toEqual([]);
    expect(settled.settled).toHaveLength(2);
  });

  it('refreshes lastSeen, message and VPC name of an unchanged finding when asked', async () => {
    // Prepare
    const table = await freshTable();
    const store = storeOf(table);
    const first = await run(store, [evaluationWith([NAT])]);
    await store.settleAlerts([
      { record: first.applied.opened[0]!.record, delivered: ['sns', 'securityhub'] },
    ]);
    const later = new Date(NOW.getTime() + 3_600_000);

    // Act
    const result = await storeOf(table, { clock: () => later }).apply(
      diffFindings(
        await store.load(REGION_SCOPE),
        [evaluationWith([{ ...NAT, message: 'reworded' }], { vpcName: 'renamed' })],
        REGION_SCOPE,
        later,
      ),
      { touchUnchanged: true },
    );

    // Assess
    expect(result.failed).toEqual([]);
    expect(result.applied.unchanged).toHaveLength(1);
    const [stored] = await store.load(REGION_SCOPE);
    expect(stored).toMatchObject({
      message: 'reworded',
      vpcName: 'renamed',
      lastSeen: later.toISOString(),
      firstSeen: NOW.toISOString(),
    });
  });

  it('stores and reads back a finding whose item is just under 400 KB', async () => {
    // Prepare
    const table = await freshTable();
    const message = 'm'.repeat(395_000);
    const big = findingWith('nat-0b1000000000000b1', { message });

    // Act
    const result = await run(storeOf(table), [evaluationWith([big])]);
    const loaded = await storeOf(table).load(REGION_SCOPE);

    // Assess
    expect(result.failed).toEqual([]);
    expect(loaded).toHaveLength(1);
    expect(loaded[0]?.message).toBe(message);
  });

  it('reports a finding over 400 KB as a failed write and still records the others', async () => {
    // Prepare
    const table = await freshTable();
    const huge = findingWith('nat-0b2000000000000b2', { message: 'm'.repeat(410_000) });

    // Act
    const result = await run(storeOf(table), [evaluationWith([huge, STS])]);

    // Assess
    expect(result.failed.map((failure) => failure.transition.key)).toEqual([huge.key]);
    expect(result.failed[0]?.error).toMatch(/size/i);
    expect(result.applied.opened.map((transition) => transition.key)).toEqual([STS.key]);
    expect((await storeOf(table).load(REGION_SCOPE)).map((entry) => entry.key)).toEqual([STS.key]);
  });
});

describe('FindingsStore on dynalite: outside strings are data', () => {
  const tricky = [
    '__proto__',
    'constructor',
    'toString',
    '#state',
    ':open',
    'a#b:c.d[0]',
    '${scope}',
    'attribute_not_exists(pk) OR #state = :resolved',
  ];

  it.each(tricky)('round-trips the VPC name and profile %j as data', async (text) => {
    // Prepare
    const table = await freshTable();
    const evaluation = evaluationWith([NAT], { vpcName: text, profile: text });

    // Act
    await run(storeOf(table), [evaluation]);
    const [stored] = await storeOf(table).load(REGION_SCOPE);

    // Assess
    expect(stored).toBeDefined();
    expect(Object.hasOwn(stored!, 'vpcName')).toBe(true);
    expect(stored!.vpcName).toBe(text);
    expect(stored!.profile).toBe(text);
    expect(Object.getPrototypeOf(stored)).toBe(Object.prototype);
  });

  it.each(tricky)('round-trips the subject %j in the key and the item', async (text) => {
    // Prepare
    const table = await freshTable();
    const finding = findingWith(text, { message: `route to ${text} :resolved #digest` });

    // Act
    await run(storeOf(table), [evaluationWith([finding])]);
    const loaded = await storeOf(table).load(REGION_SCOPE);

    // Assess
    expect(loaded).toHaveLength(1);
    expect(loaded[0]).toMatchObject({
      key: finding.key,
      subject: text,
      message: finding.message,
    });
    expect(await rawItem(table, finding.key)).toBeDefined();
  });

  it('claims an event id full of expression syntax as an id', async () => {
    // Prepare
    const table = await freshTable();
    const store = storeOf(table);
    const eventId = '#expiresAt < :now OR attribute_not_exists(pk)';

    // Act
    const first = await store.claimEvent(eventId, 600);
    const replay = await store.claimEvent(eventId, 600);

    // Assess
    expect([first, replay]).toEqual([true, false]);
    expect(await rawItem(table, `event#${eventId}`)).toBeDefined();
  });

  it('keeps a VPC name tag that is empty as an empty string', async () => {
    // Prepare
    const table = await freshTable();

    // Act
    await run(storeOf(table), [evaluationWith([NAT], { vpcName: '' })]);
    const [stored] = await storeOf(table).load(REGION_SCOPE);

    // Assess
    expect(stored?.vpcName).toBe('');
  });
});
