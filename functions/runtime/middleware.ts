import type { MiddlewareObj } from '@middy/core';
import {
  InputValidationError,
  classifyAwsError,
  describeAwsError,
  parseOrThrow,
} from '@vpc-guard/shared';
import type * as z from 'zod';
import { METRIC, countMetric, logger } from './observability';
import { PipelineError } from './pipeline-report';

/**
 * The middy middlewares every handler shares: validate the event at the edge, and log whatever
 * failed in a form alarms and people can read. Powertools' parser middleware throws its own
 * ParseError; vpc-guard raises the InputValidationError its CLI and core raise, naming each bad field.
 */

/**
 * Validates the event with `schema` before the handler runs, replacing it with the parsed value.
 * An invalid event throws an {@link InputValidationError} naming each bad field (`source` first), so
 * Lambda fails the invocation with nothing written and the event reaches the DLQ unchanged.
 */
export function parseEvent<Schema extends z.ZodType>(
  schema: Schema,
  source: string,
): MiddlewareObj<z.output<Schema>> {
  return {
    before: (request) => {
      request.event = parseOrThrow<Schema>(schema, request.event, source);
    },
  };
}

/**
 * Logs the error that fails an invocation, then lets it through (middy rethrows it): a rejected event
 * with its problems, a partial failure with its stage failures, an AWS error classified.
 */
export function logFailures(): MiddlewareObj {
  return {
    onError: (request) => {
      const error = request.error;
      if (error instanceof InputValidationError) {
        countMetric(METRIC.eventsRejected);
        logger.error('event rejected: it does not match its schema', {
          source: error.source,
          problems: error.problems,
        });
      } else if (error instanceof PipelineError) {
        logger.error('invocation failed in part', {
          failures: error.report.failures,
          targets: error.report.targets.length,
        });
      } else {
        logger.error('invocation failed', {
          errorKind: classifyAwsError(error),
          error: describeAwsError(error),
          ...(error instanceof Error ? { errorName: error.name } : {}),
        });
      }
    },
  };
}
