import type { AlertSink } from '@vpc-guard/shared';
import type { RuntimeConfig } from '../config';
import { securityHubSink } from './security-hub';
import { snsSink } from './sns';

/** Every alert sink, in report order. A new sink is one file here and one line in this list. */
export const SINKS = [snsSink, securityHubSink] as const;

/** A sink of the registry, with its names as literal types. */
export type RegisteredSink = (typeof SINKS)[number];

/** The pipeline stages the sinks fail under. */
export type SinkStage = RegisteredSink['stage'];

/** What each sink counts as sent in one account and region, by its `publishedAs` key. */
export type PublishedCounts = { readonly [Sink in RegisteredSink as Sink['publishedAs']]: number };

/** Accepts only `never`: a compile-time check. */
type Nothing<Left extends never> = Left;

/**
 * A check, never used as a type: every name the findings store keeps an alert owed under
 * (`ALERT_SINKS`, shared) has a sink here. A stored name without one fails the type check on this
 * line, naming it; a sink whose name is not stored fails on its own file (`OutboxSink<Name>`).
 */
export type EveryStoredNameHasASink = Nothing<Exclude<AlertSink, RegisteredSink['name']>>;

/** The sinks this deployment alerts through. */
export function configuredSinks(config: RuntimeConfig): RegisteredSink[] {
  return SINKS.filter((sink) => sink.configured(config));
}

/** The `published` counts, one per sink, from `count`. */
export function publishedCounts(count: (sink: RegisteredSink) => number): PublishedCounts {
  // The keys are the registry's own constants, never outside values.
  return Object.fromEntries(
    SINKS.map((sink) => [sink.publishedAs, count(sink)]),
  ) as PublishedCounts;
}

/** The `published` counts of a target no sink was sent anything for. */
export const NOTHING_PUBLISHED: PublishedCounts = publishedCounts(() => 0);
