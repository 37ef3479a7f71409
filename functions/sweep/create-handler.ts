import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Dependencies } from '../runtime/dependencies';
import { logFailures, parseEvent } from '../runtime/middleware';
import { logger, metrics, tracer } from '../runtime/observability';
import { assertPipelineSucceeded } from '../runtime/pipeline-report';
import { SweepEventSchema } from './schema';
import { sweep, type SweepResult } from './sweep';

/**
 * The scheduled sweep, wired: Powertools logger, tracer and metrics, the event validated, then the
 * sweep. A failed account or region fails the invocation after every other one was swept.
 */
export function createSweepHandler(deps: Dependencies) {
  return middy()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(logFailures())
    .use(parseEvent(SweepEventSchema, 'scheduled event'))
    .handler(async (event, context): Promise<SweepResult> => {
      const result = await sweep(event, deps, context.invokedFunctionArn);
      assertPipelineSucceeded(result.report);
      return result;
    });
}
