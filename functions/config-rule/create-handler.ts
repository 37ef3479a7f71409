import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Dependencies } from '../runtime/dependencies';
import { logFailures, parseEvent } from '../runtime/middleware';
import { logger, metrics, tracer } from '../runtime/observability';
import { assertPipelineSucceeded } from '../runtime/pipeline-report';
import { evaluateConfigRuleEvent, type ConfigRuleResult } from './rule';
import { ConfigRuleEventSchema } from './schema';

/**
 * The AWS Config rule handler, wired: Powertools logger, tracer and metrics, the event validated,
 * then the rule. A stage that failed fails the invocation after the others ran.
 */
export function createConfigRuleHandler(deps: Dependencies) {
  return middy()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(logFailures())
    .use(parseEvent(ConfigRuleEventSchema, 'config rule event'))
    .handler(async (event, context): Promise<ConfigRuleResult> => {
      const result = await evaluateConfigRuleEvent(event, deps, context.invokedFunctionArn);
      assertPipelineSucceeded(result.report);
      return result;
    });
}
