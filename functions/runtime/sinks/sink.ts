import type {
  AlertSink,
  AlertingTransition,
  Evaluation,
  FindingChangeOptions,
  FindingTransitions,
} from '@vpc-guard/shared';
import type { RuntimeConfig } from '../config';
import type { Dependencies } from '../dependencies';
import type { FailureLog, TargetSite } from '../pipeline-report';

/**
 * What an alert sink is to the alert outbox: one file per sink (`sns.ts`, `security-hub.ts`), listed
 * in `registry.ts`. The outbox records each alert as owed to every configured sink, sends each sink
 * what it owes, and clears what it took; a sink only renders, sends, and says which alerts it took.
 */

/** The alerts one sink owes in one account and region, and what it needs to send them. */
export interface SinkBatch {
  /** The alerts this sink owes (never empty): new transitions and alerts earlier runs left owed. */
  readonly alerts: readonly AlertingTransition[];
  /** The run's evaluations, for the evidence a sink renders. */
  readonly evaluations: readonly Evaluation[];
  readonly context: FindingChangeOptions;
  readonly where: TargetSite;
  /** Where the sink adds what its batch call rejected (under its own `stage`). */
  readonly failures: FailureLog;
}

/** What a sink did with its batch. */
export interface SinkDelivery {
  /** What it counts as sent, in its own unit (messages published, findings imported). */
  readonly published: number;
  /** Keys of the alerts it took: the outbox stops owing them to this sink. */
  readonly taken: Iterable<string>;
}

/**
 * One alert sink. A call that throws costs the whole batch: the outbox logs it under `stage` and
 * the alerts stay owed. Rejects a batch call reports item by item are the sink's to add to
 * `failures`; they are simply not `taken`. The type arguments repeat the names as literals (not
 * inferred, which would make the report's types circular): the report derives its `published`
 * shape and failure stages from them.
 */
export interface OutboxSink<
  Name extends AlertSink = AlertSink,
  StageName extends string = string,
  PublishedAs extends string = string,
> {
  /**
   * The sink's name as stored with an owed alert (`pendingAlert.sinks`). It never changes once
   * deployed: alerts left owed under it would be dropped as owed to nobody.
   */
  readonly name: Name;
  /** Its stage in the pipeline report's failures. */
  readonly stage: StageName;
  /** Its key in the target report's `published` counts. */
  readonly publishedAs: PublishedAs;
  /** Whether this deployment alerts through it. */
  readonly configured: (config: RuntimeConfig) => boolean;
  /** Sends the batch; throws only when the call as a whole failed. */
  readonly send: (deps: Dependencies, batch: SinkBatch) => Promise<SinkDelivery>;
}

/** A sink's alerts as the renderers take them, by kind. */
export function transitionsOf(alerts: readonly AlertingTransition[]): FindingTransitions {
  return {
    opened: alerts.filter((alert) => alert.kind === 'opened'),
    changed: alerts.filter((alert) => alert.kind === 'changed'),
    resolved: alerts.filter((alert) => alert.kind === 'resolved'),
    unchanged: [],
    undelivered: [],
  };
}
