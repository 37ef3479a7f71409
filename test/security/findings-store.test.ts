import { PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  FindingsStore,
  diffFindings,
  type Finding,
  type MalformedFindingItem,
} from '@vpc-guard/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, type Dynalite } from '../support/dynalite';
import { ACCOUNT, NOW, REGION, REGION_SCOPE, nonCompliant } from '../unit/findings/sample-findings';

/**
 * The findings table is read back as untrusted input: another writer or a corrupted item may put
 * anything there. Each item is validated before use; one that fails is reported and skipped, and
 * never stops the run from reading, diffing and recording the rest. Items are put raw into a real
 * DynamoDB implementation (dynalite), so what the store reads is what DynamoDB would return.
 */

let dynalite: Dynalite;
let tables = 0;

beforeAll(async () => {
  dynalite = await startDynalite();
});

afterAll(async () => {
  await dynalite.stop();
});

const [NAT, STS] = nonCompliant.findings as [Finding, Finding, Finding];
const SCOPE = `${ACCOUNT}/${REGION}`;

/** A table holding the valid, open NAT finding as the store wrote it, and a store that reports. */
async function tableWithOneFinding() {
  tables += 1;
  const tableName = `vpc-guard-findings-trust-${tables}`;
  await dynalite.createFindingsTable(tableName);
  const reported: MalformedFindingItem[] = [];
  const store = new FindingsStore(dynalite.documents, {
    tableName,
    clock: () => NOW,
    alertId: () => 'alert-1',
    onMalformedItem: (item) => reported.push(item),
  });
  const written = await store.apply(
    diffFindings([], [{ ...nonCompliant, findings: [NAT] }], REGION_SCOPE, NOW),
  );
  expect(written.applied.opened).toHaveLength(1);
  const putRaw = (item: Record<string, AttributeValue>) =>
    dynalite.client.send(new PutItemCommand({ TableName: tableName, Item: item }));
  return { tableName, store, reported, putRaw };
}

/** The attributes of a valid open finding item for `finding`, as DynamoDB holds them. */
function validItem(finding: Finding): Record<string, AttributeValue> {
  return {
    pk: { S: finding.key },
    kind: { S: 'finding' },
    scope: { S: SCOPE },
    accountId: { S: finding.accountId },
    region: { S: finding.region },
    vpcId: { S: finding.vpcId },
    ruleId: { S: finding.ruleId },
    subject: { S: finding.subject },
    resourceId: { S: finding.resourceId },
    severity: { S: finding.severity },
    digest: { S: `${finding.severity}:0123456789abcdef0123456789abcdef` },
    message: { S: finding.message },
    profile: { S: 'regulated' },
    vpcName: { S: 'payments-prod' },
    firstSeen: { S: '2026-11-19T08:00:00.000Z' },
    lastSeen: { S: '2026-11-19T08:00:00.000Z' },
    state: { S: 'open' },
  };
}

describe('findings store: stored items are untrusted', () => {
  it('skips and reports an item of the wrong shape, and loads the rest', async () => {
    // Prepare
    const { store, reported, putRaw } = await tableWithOneFinding();
    await putRaw({
      ...validItem(STS),
      severity: { S: 'apocalyptic' },
      state: { N: '1' },
    });

    // Act
    const loaded = await store.load(REGION_SCOPE);

    // Assess
    expect(loaded.map((entry) => entry.key)).toEqual([NAT.key]);
    expect(reported).toHaveLength(1);
    expect(reported[0]?.key).toBe(STS.key);
    expect(reported[0]?.problem).toMatch(/severity/);
    expect(reported[0]?.problem).toMatch(/state/);
  });

  it('skips and reports an item with a number no JavaScript number can hold', async () => {
    // Prepare
    const { store, reported, putRaw } = await tableWithOneFinding();
    await putRaw({ ...validItem(STS), expiresAt: { N: '123456789012345678.5' } });

    // Act
    const loaded = await store.load(REGION_SCOPE);

    // Assess
    expect(loaded.map((entry) => entry.key)).toEqual([NAT.key]);
    expect(reported.map((item) => item.key)).toEqual([STS.key]);
    expect(reported[0]?.problem).toMatch(/expiresAt/);
  });

  it("skips an item whose key names another account's finding than its attributes", async () => {
    // Prepare
    const { store, reported, putRaw } = await tableWithOneFinding();
    await putRaw({ ...validItem(STS), accountId: { S: '222222222222' } });

    // Act
    const loaded = await store.load(REGION_SCOPE);

    // Assess
    expect(loaded.map((entry) => entry.key)).toEqual([NAT.key]);
    expect(reported.map((item) => item.key)).toEqual([STS.key]);
    expect(reported[0]?.problem).toMatch(/pk/);
  });

  it('skips an item in the scope of the index that says it belongs to another region', async () => {
    // Prepare
    const { store, reported, putRaw } = await tableWithOneFinding();
    const elsewhere = { ...STS, region: 'eu-west-1', key: STS.key.replace(REGION, 'eu-west-1') };
    await putRaw({ ...validItem(elsewhere), scope: { S: SCOPE } });

    // Act
    const loaded = await store.load(REGION_SCOPE);

    // Assess
    expect(loaded.map((entry) => entry.key)).toEqual([NAT.key]);
    expect(reported.map((item) => item.key)).toEqual([elsewhere.key]);
    expect(reported[0]?.problem).toMatch(/scope/);
  });

  it('still records and alerts the valid findings of a scope holding a corrupted item', async () => {
    // Prepare
    const { store, reported, putRaw } = await tableWithOneFinding();
    const broken = { ...STS, subject: 'sts-broken', key: `${STS.key}-broken` };
    await putRaw({ ...validItem(broken), lastSeen: { L: [] } });
    const current = [{ ...nonCompliant, findings: [NAT, STS] }];

    // Act
    const stored = await store.load(REGION_SCOPE);
    const result = await store.apply(diffFindings(stored, current, REGION_SCOPE, NOW), {
      sinks: ['sns'],
    });

    // Assess
    expect(reported.map((item) => item.key)).toEqual([broken.key]);
    expect(result.applied.opened.map((transition) => transition.key)).toEqual([STS.key]);
    expect(result.failed).toEqual([]);
  });
});
