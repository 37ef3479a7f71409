import 'aws-sdk-client-mock-vitest/extend';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import {
  EVENTBRIDGE_MAX_ENTRY_BYTES,
  putEventsEntryBytes,
  putRecordEvents,
  renderRecordEvents,
  type RecordEventDetail,
} from '@vpc-guard/shared';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { nonCompliant } from '../findings/sample-findings';
import {
  NAT_ACTION,
  PLAN,
  POLICY_ACTION,
  actionRecord,
  plan,
  record,
  vpcPlan,
} from './sample-remediation';

const BUS = 'vpc-guard-hub';
const eventBridge = mockClient(EventBridgeClient);
const client = new EventBridgeClient({ region: 'us-east-1' });

afterEach(() => {
  eventBridge.reset();
});

function detailOf(entry: PutEventsRequestEntry): RecordEventDetail {
  return JSON.parse(entry.Detail!) as RecordEventDetail;
}

function sampleEntries(count: number): PutEventsRequestEntry[] {
  return Array.from({ length: count }, (_, index) => ({
    Source: 'vpc-guard',
    DetailType: 'vpc-guard remediation',
    EventBusName: BUS,
    Detail: JSON.stringify({ index }),
  }));
}

/** A record whose one action made a call with a large input (a 20 KB endpoint policy, repeated). */
function bulkyRecord(calls: number) {
  const bulky = actionRecord(POLICY_ACTION, 'verified', {
    calls: Array.from({ length: calls }, (_, index) => ({
      operation: 'ModifyVpcEndpoint',
      input: {
        VpcEndpointId: 'vpce-0a000000000000f1',
        PolicyDocument: `${index}${'p'.repeat(20_480)}`,
      },
      dryRun: false,
      result: 'ok',
      at: '2026-11-20T10:00:02.000Z',
    })),
  });
  return record([bulky], PLAN);
}

describe('renderRecordEvents', () => {
  it('renders one vpc-guard remediation event per VPC of the record', () => {
    // Prepare
    const other = vpcPlan([], {
      vpcId: 'vpc-0a0000000000000b9',
      vpcName: null,
      notes: ['mode notify'],
    });
    const run = record(
      [actionRecord(NAT_ACTION, 'verified'), actionRecord(POLICY_ACTION, 'failed')],
      plan([PLAN.vpcs[0]!, other]),
    );

    // Act
    const entries = renderRecordEvents(run, { busName: BUS });

    // Assess
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      Source: 'vpc-guard',
      DetailType: 'vpc-guard remediation',
      EventBusName: BUS,
      Resources: [`arn:aws:ec2:us-east-1:111111111111:vpc/${nonCompliant.vpcId}`],
      Time: new Date('2026-11-20T10:02:00.000Z'),
    });
    expect(detailOf(entries[0]!)).toMatchObject({
      schemaVersion: 1,
      runId: 'run-20261120-100000',
      kind: 'apply',
      execution: 'apply',
      vpcId: nonCompliant.vpcId,
      vpcName: 'payments-prod',
      profile: 'regulated',
      mode: 'auto',
      summary: { verified: 1, failed: 1 },
      needsAttention: true,
      trimmed: null,
    });
    expect(detailOf(entries[0]!).actions).toHaveLength(2);
    expect(detailOf(entries[1]!)).toMatchObject({
      vpcId: 'vpc-0a0000000000000b9',
      actions: [],
      notes: ['mode notify'],
      needsAttention: false,
    });
  });

  it.each([
    [20_000, 'call inputs left out', 1],
    [1_200, 'call inputs left out; calls and before/after states left out', 1],
    [
      1_000,
      'call inputs left out; calls and before/after states left out; only ids, outcomes and details kept; 1 of 1 actions left out',
      0,
    ],
  ])('trims an event over %i bytes and says what it cut', (limit, trimmed, actions) => {
    // Prepare
    const run = bulkyRecord(3);

    // Act
    const [entry] = renderRecordEvents(run, { busName: BUS, maxEntryBytes: limit });

    // Assess
    expect(putEventsEntryBytes(entry!)).toBeLessThanOrEqual(limit);
    expect(detailOf(entry!).trimmed).toBe(trimmed);
    expect(detailOf(entry!).actions).toHaveLength(actions);
  });

  it('keeps a real record under 256 KB, cutting the call inputs first', () => {
    // Prepare
    const run = bulkyRecord(20);

    // Act
    const [entry] = renderRecordEvents(run, { busName: BUS });

    // Assess
    expect(putEventsEntryBytes(entry!)).toBeLessThanOrEqual(EVENTBRIDGE_MAX_ENTRY_BYTES);
    expect(detailOf(entry!).trimmed).toBe('call inputs left out');
    const [action] = detailOf(entry!).actions as { id: string; calls: object[] }[];
    expect(action!.id).toBe(POLICY_ACTION.id);
    expect(action!.calls).toHaveLength(20);
    for (const call of action!.calls) expect(call).not.toHaveProperty('input');
  });

  it('counts the actions it had to leave out when trimming is not enough', () => {
    // Prepare
    const actions = Array.from({ length: 40 }, (_, index) =>
      actionRecord({ ...NAT_ACTION, id: `${NAT_ACTION.id}-${index}` }, 'verified', {
        detail: 'd'.repeat(200),
      }),
    );
    const run = record(actions, PLAN);

    // Act
    const [entry] = renderRecordEvents(run, { busName: BUS, maxEntryBytes: 4_000 });

    // Assess
    const detail = detailOf(entry!);
    expect(putEventsEntryBytes(entry!)).toBeLessThanOrEqual(4_000);
    expect(detail.trimmed).toMatch(/; (\d+) of 40 actions left out$/);
    const left = Number(/; (\d+) of 40/.exec(detail.trimmed!)![1]);
    expect(detail.actions.length + left).toBe(40);
    expect(detail.summary.verified).toBe(40);
  });
});

describe('putRecordEvents', () => {
  it('sends at most 10 entries per PutEvents call', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, index) => ({ EventId: `e-${index}` })),
    }));
    const entries = sampleEntries(23);

    // Act
    const result = await putRecordEvents(client, entries);

    // Assess
    const sizes = eventBridge
      .commandCalls(PutEventsCommand)
      .map((c) => c.args[0].input.Entries!.length);
    expect(sizes).toEqual([10, 10, 3]);
    expect(eventBridge).toHaveReceivedCommandWith(PutEventsCommand, { Entries: entries.slice(20) });
    expect(result).toEqual({ sent: 23, failedEntryCount: 0, failed: [] });
  });

  it('reports failed entries and failed calls, and sends the rest', async () => {
    // Prepare
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [
          { EventId: 'e-0' },
          { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' },
          ...Array.from({ length: 8 }, (_, i) => ({ EventId: `e-${i + 2}` })),
        ],
      })
      .rejectsOnce(
        Object.assign(new Error('bus not found'), {
          name: 'ResourceNotFoundException',
          $metadata: {},
        }),
      );
    const entries = sampleEntries(12);

    // Act
    const result = await putRecordEvents(client, entries);

    // Assess
    expect(result.sent).toBe(9);
    expect(result.failedEntryCount).toBe(3);
    expect(result.failed[0]).toEqual({
      entry: entries[1],
      errorCode: 'InternalFailure',
      errorMessage: 'try again',
    });
    expect(result.failed.slice(1).map((f) => [f.entry, f.errorCode])).toEqual([
      [entries[10], 'ResourceNotFoundException'],
      [entries[11], 'ResourceNotFoundException'],
    ]);
  });
});
