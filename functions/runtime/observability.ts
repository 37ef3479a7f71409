import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { observabilitySettings } from './config';

/**
 * The Powertools logger, metrics and tracer: one of each per cold start, shared by every module of a
 * function. Their settings are read apart from the rest of the configuration, so a configuration
 * error can still be logged as structured JSON.
 */

const settings = observabilitySettings();

/** The structured logger. Handlers attach it with `injectLambdaContext(logger, { resetKeys: true })`. */
export const logger = new Logger({
  serviceName: settings.serviceName,
  ...(settings.logLevel ? { logLevel: settings.logLevel } : {}),
});

/** CloudWatch metrics in the embedded metric format, flushed by the `logMetrics` middleware. */
export const metrics = new Metrics({
  namespace: settings.namespace,
  serviceName: settings.serviceName,
});

/** X-Ray tracing; inert outside Lambda. */
export const tracer = new Tracer({ serviceName: settings.serviceName });

/** Metric names: dashboards and alarms key on them. */
export const METRIC = {
  vpcsEvaluated: 'VpcsEvaluated',
  findingsOpened: 'FindingsOpened',
  findingsChanged: 'FindingsChanged',
  findingsResolved: 'FindingsResolved',
  notificationsSent: 'NotificationsSent',
  /** Alerts a sink failed to take earlier, sent again by this run. */
  alertsRedelivered: 'AlertsRedelivered',
  /** Alerts some sink still owes at the end of a run: each is retried by the next run of its scope. */
  pendingAlerts: 'PendingAlerts',
  remediationActions: 'RemediationActions',
  remediationBlocked: 'RemediationBlocked',
  stageFailures: 'StageFailures',
  eventsIgnored: 'EventsIgnored',
  eventsDuplicate: 'EventsDuplicate',
  eventsRejected: 'EventsRejected',
  /** Items of the findings table that failed validation when read back: skipped, never acted on. */
  findingsMalformed: 'FindingsMalformed',
  sweepTargetFailures: 'SweepTargetFailures',
  /** Account-regions a sweep run did not read (failed, or no result): the alarm's metric. */
  sweepTargetsMissed: 'SweepTargetsMissed',
  slackMessagesSent: 'SlackMessagesSent',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Adds a count; zero counts are left out so dashboards show only what happened. */
export function countMetric(name: MetricName, value = 1): void {
  if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
}
