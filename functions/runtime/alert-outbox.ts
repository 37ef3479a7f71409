import {
  diffFindings,
  type AlertSink,
  type AlertingTransition,
  type Evaluation,
  type FindingChangeOptions,
  type FindingScope,
  type StoredFinding,
} from '@vpc-guard/shared';
import type { Dependencies } from './dependencies';
import { METRIC, countMetric, logger } from './observability';
import type { FailureLog, TargetReport, TargetSite } from './pipeline-report';
import {
  configuredSinks,
  publishedCounts,
  type PublishedCounts,
  type RegisteredSink,
} from './sinks/registry';

/**
 * The alert outbox: what changed since the stored findings, and the alerts it owes. Each transition
 * is recorded with its alert owed to every configured sink (`sinks/registry.ts`), conditionally, so of
 * two invocations racing on a VPC one alerts; the alerts earlier runs left owed are taken over and
 * sent again; each sink is sent what it still owes, and what it took is written back. What a sink
 * did not take stays owed on its finding's item, for the next run of the scope.
 */

/** One diff of a scope: its evaluations against what the store holds for it. */
export interface DiffRequest {
  readonly scope: FindingScope;
  readonly evaluations: readonly Evaluation[];
  readonly stored: Promise<StoredFinding[]>;
  readonly context: FindingChangeOptions;
  /**
   * Also send the alerts earlier runs left owed. The follow-up after remediation does not: what it
   * did not change was just attempted by the same invocation.
   */
  readonly redeliver: boolean;
  readonly failures: FailureLog;
}

/** What a diff recorded and sent, and the stored findings as it left them. */
export interface Alerted {
  readonly transitions: Omit<NonNullable<TargetReport['transitions']>, 'pendingAlerts'>;
  readonly published: PublishedCounts;
  /** The stored findings as this invocation left them: what it read, with what it wrote. */
  readonly stored: StoredFinding[];
  /** Keys of the alerts this invocation held (recorded or took over), delivered or not. */
  readonly held: readonly string[];
}

/** The first diff of a run and its follow-up after remediation, as one. */
export function mergeAlerted(first: Alerted, second: Alerted): Alerted {
  return {
    transitions: {
      opened: first.transitions.opened + second.transitions.opened,
      changed: first.transitions.changed + second.transitions.changed,
      resolved: first.transitions.resolved + second.transitions.resolved,
      superseded: first.transitions.superseded + second.transitions.superseded,
      redelivered: first.transitions.redelivered + second.transitions.redelivered,
    },
    published: publishedCounts(
      ({ publishedAs }) => first.published[publishedAs] + second.published[publishedAs],
    ),
    stored: second.stored,
    held: [...new Set([...first.held, ...second.held])],
  };
}

/**
 * Counts (metric and log) the alerts this invocation held that some sink still owes at its end. Each
 * is retried by every later run of its scope until a sink takes it, or, resolved, until its TTL.
 */
export function countPendingAlerts(alerted: Alerted, where: TargetSite): number {
  const byKey = new Map(alerted.stored.map((entry) => [entry.key, entry]));
  const owed = alerted.held
    .map((key) => byKey.get(key))
    .filter((entry) => entry?.pendingAlert !== undefined);
  countMetric(METRIC.pendingAlerts, owed.length);
  if (owed.length > 0) {
    logger.warn('alerts still owed: a later run sends them again', {
      ...where,
      pendingAlerts: owed.length,
      alerts: owed.slice(0, 20).map((entry) => ({
        key: entry!.key,
        transition: entry!.pendingAlert!.transition,
        sinks: entry!.pendingAlert!.sinks,
      })),
    });
  }
  return owed.length;
}

/** The stored findings after this run: each entry it wrote replaces the one it read. */
function storedAfter(
  stored: readonly StoredFinding[],
  written: readonly StoredFinding[],
): StoredFinding[] {
  const byKey = new Map(stored.map((entry) => [entry.key, entry]));
  for (const record of written) byKey.set(record.key, record);
  return [...byKey.values()];
}

/**
 * Diffs the evaluations against the stored findings, records the transitions (conditional writes:
 * of two invocations racing on a VPC, one alerts) with their alerts owed to every sink, takes over
 * the alerts earlier runs left owed, publishes each alert to the sinks that owe it, and records which
 * took it. What a sink did not take stays owed, for the next run.
 */
export async function diffAndNotify(
  deps: Dependencies,
  request: DiffRequest,
): Promise<Alerted | null> {
  const { scope, failures } = request;
  const where = {
    accountId: scope.accountId,
    region: scope.region,
    vpcIds: scope.kind === 'vpcs' ? scope.vpcIds : [],
  };
  const store = deps.findings;
  if (!store) return null;
  let stored: StoredFinding[];
  try {
    stored = await request.stored;
  } catch (error) {
    // Without the stored state every finding would look new: alert on nothing rather than everything.
    failures.add('findings-load', where, error);
    return null;
  }
  const diff = diffFindings(stored, request.evaluations, scope, deps.clock());
  const transitions = request.redeliver ? diff : { ...diff, undelivered: [] };
  const sinks = configuredSinks(deps.config);
  const names: readonly AlertSink[] = sinks.map((sink) => sink.name);
  const applied = await store.apply(transitions, { sinks: names });
  const owedKeys = new Set(transitions.undelivered.map((transition) => transition.key));
  const [notRecorded, notTaken] = [
    applied.failed.filter((failed) => !owedKeys.has(failed.transition.key)),
    applied.failed.filter((failed) => owedKeys.has(failed.transition.key)),
  ];
  failures.addBatch('findings-store', where, notRecorded, (first, count) => ({
    kind: first.errorKind,
    message: `${count} finding transition(s) not recorded, so not alerted: ${first.error}`,
  }));
  failures.addBatch('findings-store', where, notTaken, (first, count) => ({
    kind: first.errorKind,
    message: `${count} owed alert(s) not taken over, so not sent again (still owed): ${first.error}`,
  }));
  const { opened, changed, resolved, undelivered } = applied.applied;
  countMetric(METRIC.findingsOpened, opened.length);
  countMetric(METRIC.findingsChanged, changed.length);
  countMetric(METRIC.findingsResolved, resolved.length);
  countMetric(METRIC.alertsRedelivered, undelivered.length);
  const alerts: AlertingTransition[] = [...opened, ...changed, ...resolved, ...undelivered];
  const { published, accepted } = await notify(
    deps,
    alerts,
    sinks,
    request.evaluations,
    request.context,
    where,
    failures,
  );
  const settled = await store.settleAlerts(
    alerts.map((alert) => ({
      record: alert.record,
      // A sink switched off since the alert was recorded owes it no more.
      delivered: (alert.record.pendingAlert?.sinks ?? []).filter(
        (sink) => !names.includes(sink) || (accepted.get(sink)?.has(alert.key) ?? false),
      ),
    })),
  );
  failures.addBatch('findings-store', where, settled.failed, (first, count) => ({
    kind: first.errorKind,
    message: `${count} alert outcome(s) not recorded: those alerts stay owed and are sent again: ${first.error}`,
  }));
  return {
    transitions: {
      opened: opened.length,
      changed: changed.length,
      resolved: resolved.length,
      superseded: applied.superseded.length,
      redelivered: undelivered.length,
    },
    published,
    stored: storedAfter(stored, [
      ...applied.applied.unchanged.map((transition) => transition.record),
      ...alerts.map((alert) => alert.record),
      ...settled.settled,
    ]),
    held: alerts.filter((alert) => alert.record.pendingAlert !== undefined).map((a) => a.key),
  };
}

/** Which alerts (by finding key) each sink took. */
type Accepted = ReadonlyMap<AlertSink, ReadonlySet<string>>;

/**
 * Sends each configured sink, side by side, the alerts it owes (`record.pendingAlert.sinks`), and
 * says which alerts each took. A sink whose call throws took none: they stay owed.
 */
async function notify(
  deps: Dependencies,
  alerts: readonly AlertingTransition[],
  sinks: readonly RegisteredSink[],
  evaluations: readonly Evaluation[],
  context: FindingChangeOptions,
  where: TargetSite,
  failures: FailureLog,
): Promise<{ published: PublishedCounts; accepted: Accepted }> {
  const deliveries = await Promise.all(
    sinks.map(async (sink) => {
      const owed = alerts.filter(
        (alert) => alert.record.pendingAlert?.sinks.includes(sink.name) ?? false,
      );
      if (owed.length === 0) return { sink, published: 0, taken: new Set<string>() };
      try {
        const delivery = await sink.send(deps, {
          alerts: owed,
          evaluations,
          context,
          where,
          failures,
        });
        return { sink, published: delivery.published, taken: new Set(delivery.taken) };
      } catch (error) {
        failures.add(sink.stage, where, error, owed.length);
        return { sink, published: 0, taken: new Set<string>() };
      }
    }),
  );
  const sent = new Map(deliveries.map((delivery) => [delivery.sink.name, delivery]));
  countMetric(
    METRIC.notificationsSent,
    deliveries.reduce((total, delivery) => total + delivery.published, 0),
  );
  return {
    published: publishedCounts((sink) => sent.get(sink.name)?.published ?? 0),
    accepted: new Map(deliveries.map((delivery) => [delivery.sink.name, delivery.taken])),
  };
}
