import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Dependencies } from '../runtime/dependencies';
import { logFailures, parseEvent } from '../runtime/middleware';
import { logger, metrics, tracer } from '../runtime/observability';
import { assertPipelineSucceeded } from '../runtime/pipeline-report';
import { handleApiEvent, type ApiEventResult } from './event';
import { ApiEventSchema } from './schema';

/**
 * The EventBridge handler, wired: Powertools logger, tracer and metrics, the event validated, then
 * the pipeline. A stage that failed fails the invocation after the others ran.
 */
export function createApiEventHandler(deps: Dependencies) {
  return middy()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(logFailures())
    .use(parseEvent(ApiEventSchema, 'EventBridge event'))
    .handler(async (event, context): Promise<ApiEventResult> => {
      const result = await handleApiEvent(event, deps, {
        invokedFunctionArn: context.invokedFunctionArn,
      });
      if (result.report) assertPipelineSucceeded(result.report);
      return result;
    });
}
