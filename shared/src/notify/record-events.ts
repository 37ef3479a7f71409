import {
  PutEventsCommand,
  type EventBridgeClient,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { awsErrorCode, describeAwsError } from '../aws/errors';
import type { RemediationMode } from '../policy/schema';
import {
  recordNeedsAttention,
  summarizeOutcomes,
  type ActionOutcome,
  type ActionRecord,
  type RemediationRecord,
} from '../remediation/record';
import { packBatches, utf8Bytes } from './batches';
import { ec2ResourceArn } from './ec2-arns';

/**
 * Remediation records as EventBridge events, one per VPC of a run, so other systems (ticketing, a
 * change log, a second approval) can react to what vpc-guard changed. The full record stays in the
 * structured log and the records directory; an event trims it to fit EventBridge's size limit.
 */

export const RECORD_EVENT_SOURCE = 'vpc-guard';
export const RECORD_EVENT_DETAIL_TYPE = 'vpc-guard remediation';
export const RECORD_EVENT_SCHEMA_VERSION = 1;
/** PutEvents takes at most 10 entries per call (EventBridge API reference). */
export const EVENTBRIDGE_BATCH_ENTRIES = 10;
/**
 * An entry must be under 256 KB, counted as 14 bytes for `Time` plus the UTF-8 bytes of `Source`,
 * `DetailType`, `Detail` and each `Resources` item (EventBridge user guide, "Calculating PutEvents
 * event entry size"). The same budget bounds a whole request here, to stay clear of request limits.
 */
export const EVENTBRIDGE_MAX_ENTRY_BYTES = 262_144 - 1;

/** Options of {@link renderRecordEvents}. */
export interface RecordEventOptions {
  /** The bus name or ARN (a hub's central bus in organization mode). */
  readonly busName: string;
  /** @default {@link EVENTBRIDGE_MAX_ENTRY_BYTES} (a lower figure is for tests) */
  readonly maxEntryBytes?: number;
}

/** The `detail` of a remediation event: one VPC's part of a run. */
export interface RecordEventDetail {
  readonly schemaVersion: typeof RECORD_EVENT_SCHEMA_VERSION;
  readonly runId: string;
  readonly kind: RemediationRecord['kind'];
  readonly execution: RemediationRecord['execution'];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly identity: string;
  readonly rollbackOf: string | null;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly vpcName: string | null;
  readonly profile: string | null;
  readonly mode: RemediationMode | null;
  readonly notes: readonly string[];
  readonly summary: Readonly<Record<ActionOutcome, number>>;
  readonly needsAttention: boolean;
  /** The VPC's actions; trimmed when the event would pass the size limit (see `trimmed`). */
  readonly actions: readonly unknown[];
  /** What was left out to fit 256 KB, or null when the event is complete. */
  readonly trimmed: string | null;
}

/** The bytes EventBridge counts for an entry. */
export function putEventsEntryBytes(entry: PutEventsRequestEntry): number {
  return (
    (entry.Time ? 14 : 0) +
    utf8Bytes(entry.Source ?? '') +
    utf8Bytes(entry.DetailType ?? '') +
    utf8Bytes(entry.Detail ?? '') +
    (entry.Resources ?? []).reduce((sum, resource) => sum + utf8Bytes(resource), 0)
  );
}

/** One VPC's share of a record: the VPC fields of its event, and its actions. */
interface VpcPart extends Pick<
  RecordEventDetail,
  'accountId' | 'region' | 'vpcId' | 'vpcName' | 'profile' | 'mode' | 'notes'
> {
  readonly actions: ActionRecord[];
}

function partsOf(record: RemediationRecord): VpcPart[] {
  const parts = new Map<string, VpcPart>();
  for (const vpc of record.plan?.vpcs ?? []) {
    parts.set(`${vpc.accountId}/${vpc.region}/${vpc.vpcId}`, {
      accountId: vpc.accountId,
      region: vpc.region,
      vpcId: vpc.vpcId,
      vpcName: vpc.vpcName,
      profile: vpc.profile,
      mode: vpc.mode,
      notes: vpc.notes,
      actions: [],
    });
  }
  for (const action of record.actions) {
    const id = `${action.accountId}/${action.region}/${action.vpcId}`;
    let part = parts.get(id);
    if (part === undefined) {
      part = {
        accountId: action.accountId,
        region: action.region,
        vpcId: action.vpcId,
        vpcName: null,
        profile: null,
        mode: null,
        notes: [],
        actions: [],
      };
      parts.set(id, part);
    }
    part.actions.push(action);
  }
  return [...parts.values()];
}

type Trim = {
  readonly label: string;
  readonly apply: (actions: readonly ActionRecord[]) => unknown[];
};

/** Ways to shrink the actions, gentlest first; each is tried until the entry fits. */
const TRIMS: readonly Trim[] = [
  {
    label: 'call inputs left out',
    apply: (actions) =>
      actions.map((a) => ({ ...a, calls: a.calls.map(({ input: _input, ...call }) => call) })),
  },
  {
    label: 'calls and before/after states left out',
    apply: (actions) =>
      actions.map(({ calls, before: _before, after: _after, ...a }) => ({
        ...a,
        callCount: calls.length,
      })),
  },
  {
    label: 'only ids, outcomes and details kept',
    apply: (actions) =>
      actions.map((a) => ({ id: a.id, action: a.action, outcome: a.outcome, detail: a.detail })),
  },
];

function entryFor(
  record: RemediationRecord,
  part: VpcPart,
  busName: string,
  actions: readonly unknown[],
  trimmed: string | null,
): PutEventsRequestEntry {
  const detail: RecordEventDetail = {
    schemaVersion: RECORD_EVENT_SCHEMA_VERSION,
    runId: record.runId,
    kind: record.kind,
    execution: record.execution,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    identity: record.identity,
    rollbackOf: record.rollbackOf ?? null,
    accountId: part.accountId,
    region: part.region,
    vpcId: part.vpcId,
    vpcName: part.vpcName,
    profile: part.profile,
    mode: part.mode,
    notes: part.notes,
    summary: summarizeOutcomes(part.actions),
    needsAttention: recordNeedsAttention({ ...record, summary: summarizeOutcomes(part.actions) }),
    actions,
    trimmed,
  };
  const finished = new Date(record.finishedAt);
  return {
    Source: RECORD_EVENT_SOURCE,
    DetailType: RECORD_EVENT_DETAIL_TYPE,
    EventBusName: busName,
    Resources: [ec2ResourceArn(part.accountId, part.region, part.vpcId)],
    ...(Number.isNaN(finished.getTime()) ? {} : { Time: finished }),
    Detail: JSON.stringify(detail),
  };
}

/**
 * One PutEvents entry per VPC of a remediation record (`source: vpc-guard`, `detail-type: vpc-guard
 * remediation`, the VPC's ARN as resource, the run's end as time). An entry that would pass 256 KB is
 * trimmed step by step (call inputs, then calls and states, then all but ids and outcomes, then the
 * last actions) and its `detail.trimmed` says what was cut. Pure.
 */
export function renderRecordEvents(
  record: RemediationRecord,
  options: RecordEventOptions,
): PutEventsRequestEntry[] {
  const limit = options.maxEntryBytes ?? EVENTBRIDGE_MAX_ENTRY_BYTES;
  return partsOf(record).map((part) => {
    const full = entryFor(record, part, options.busName, part.actions, null);
    if (putEventsEntryBytes(full) <= limit) return full;
    const labels: string[] = [];
    let actions: unknown[] = part.actions;
    for (const trim of TRIMS) {
      labels.push(trim.label);
      actions = trim.apply(part.actions);
      const entry = entryFor(record, part, options.busName, actions, labels.join('; '));
      if (putEventsEntryBytes(entry) <= limit) return entry;
    }
    // Still too large: keep the first actions that fit, and count the rest.
    for (let keep = actions.length - 1; keep >= 0; keep -= 1) {
      const note = `${labels.join('; ')}; ${part.actions.length - keep} of ${part.actions.length} actions left out`;
      const entry = entryFor(record, part, options.busName, actions.slice(0, keep), note);
      if (putEventsEntryBytes(entry) <= limit || keep === 0) return entry;
    }
    return entryFor(record, part, options.busName, [], 'all actions left out');
  });
}

/** An entry EventBridge did not accept. */
export interface FailedEventEntry {
  readonly entry: PutEventsRequestEntry;
  readonly errorCode: string;
  readonly errorMessage: string;
}

/** What {@link putRecordEvents} did. */
export interface PutRecordEventsResult {
  readonly sent: number;
  /** The total of PutEvents' `FailedEntryCount`, plus the entries of calls that failed as a whole. */
  readonly failedEntryCount: number;
  readonly failed: readonly FailedEventEntry[];
}

/**
 * Sends entries with PutEvents, at most 10 per call. PutEvents reports failures per entry (in request
 * order) with `FailedEntryCount`; those, and calls that fail as a whole, are reported and the other
 * batches still go. Never throws for an AWS error.
 */
export async function putRecordEvents(
  client: EventBridgeClient,
  entries: readonly PutEventsRequestEntry[],
): Promise<PutRecordEventsResult> {
  let sent = 0;
  const failed: FailedEventEntry[] = [];
  const batches = packBatches(
    entries,
    EVENTBRIDGE_BATCH_ENTRIES,
    EVENTBRIDGE_MAX_ENTRY_BYTES,
    putEventsEntryBytes,
  );
  for (const batch of batches) {
    try {
      const output = await client.send(new PutEventsCommand({ Entries: batch }));
      const results = output.Entries ?? [];
      for (const [index, entry] of batch.entries()) {
        const result = results[index];
        if (result?.EventId && !result.ErrorCode) {
          sent += 1;
        } else {
          failed.push({
            entry,
            errorCode: result?.ErrorCode ?? 'NoResult',
            errorMessage: result?.ErrorMessage ?? 'PutEvents reported no result for this entry',
          });
        }
      }
    } catch (error) {
      const errorCode = awsErrorCode(error) ?? 'Error';
      const errorMessage = describeAwsError(error);
      for (const entry of batch) failed.push({ entry, errorCode, errorMessage });
    }
  }
  return { sent, failedEntryCount: failed.length, failed };
}
