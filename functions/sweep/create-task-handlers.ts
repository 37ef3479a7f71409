import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Dependencies } from '../runtime/dependencies';
import { logFailures, parseEvent } from '../runtime/middleware';
import { METRIC, countMetric, logger, metrics, tracer } from '../runtime/observability';
import {
  readSweepResults,
  readSweepTargets,
  writeSweepTargets,
  type SweepTargetsReference,
} from './run-files';
import {
  SweepChildEventSchema,
  SweepListEventSchema,
  SweepSummaryEventSchema,
  isS3SummaryEvent,
  type SweepTarget,
} from './schema';
import {
  listSweepTargets,
  summarizeSweep,
  sweepTarget,
  type SweepSummary,
  type SweepTargetListing,
  type SweepTargetResult,
} from './targets';

/**
 * The sweep's Step Functions tasks, wired as the other handlers are (Powertools logger, tracer and
 * metrics, the input validated with its schema): list the targets, sweep one target (or a batch),
 * summarize the run. Only an invalid input or a listing that fails throws: a child's target failure
 * is its result, so the Map's tolerated-failure count is about children that could not run at all.
 */

function withMiddleware() {
  return middy()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(logFailures());
}

/**
 * The first task: `{ runId }` in, the run's targets out (the Distributed Map's items): with
 * SWEEP_BUCKET, written to `runs/<runId>/targets.json` there and referenced, since a large
 * organization's targets would not fit the state payload; without it, inline.
 */
export function createSweepListTargetsHandler(deps: Dependencies) {
  return withMiddleware()
    .use(parseEvent(SweepListEventSchema, 'sweep list-targets input'))
    .handler(async (event): Promise<SweepTargetListing | SweepTargetsReference> => {
      const listing = await listSweepTargets(deps, event);
      const bucket = deps.config.sweepBucket;
      return bucket === null ? listing : writeSweepTargets(deps.s3, bucket, listing);
    });
}

/**
 * The Map's child: one target in, its result out; a batch (`ItemBatcher`'s `{ Items }`) in, one
 * result per item out, the items swept one after another (one account's regions share its role).
 */
export function createSweepChildHandler(deps: Dependencies) {
  return withMiddleware()
    .use(parseEvent(SweepChildEventSchema, 'sweep child input'))
    .handler(async (event, context): Promise<SweepTargetResult | SweepTargetResult[]> => {
      const one = (item: SweepTarget) => {
        logger.appendKeys({ runId: item.runId, accountId: item.accountId, region: item.region });
        // Claimed for as long as this invocation may run: a retry after a timeout finds it free.
        const claimTtlSeconds = Math.max(1, Math.ceil(context.getRemainingTimeInMillis() / 1000));
        return sweepTarget(deps, item, {
          invokedFunctionArn: context.invokedFunctionArn,
          claimTtlSeconds,
        });
      };
      if (!('Items' in event)) return one(event);
      const results: SweepTargetResult[] = [];
      for (const item of event.Items) results.push(await one(item));
      return results;
    });
}

/**
 * The last task: the Map's results in, the run summary out (missed targets counted and logged). The
 * results and targets come inline, or (with SWEEP_BUCKET) as the ResultWriter's manifest and the
 * targets file, read from S3 with `deps`' client.
 */
export function createSweepSummaryHandler(deps?: Pick<Dependencies, 's3'>) {
  return withMiddleware()
    .use(parseEvent(SweepSummaryEventSchema, 'sweep summary input'))
    .handler(async (event): Promise<SweepSummary> => {
      let summary: SweepSummary;
      if (!isS3SummaryEvent(event)) {
        summary = summarizeSweep(event.runId, event.results, event.targets);
      } else {
        if (deps === undefined) throw new Error('the S3 summary input needs an S3 client');
        const s3 = deps.s3;
        const [results, targets] = await Promise.all([
          readSweepResults(s3, event.results),
          readSweepTargets(s3, event.targets),
        ]);
        summary = summarizeSweep(event.runId, results, targets);
      }
      countMetric(METRIC.sweepTargetsMissed, summary.missed.length);
      const log = summary.missed.length > 0 ? logger.warn.bind(logger) : logger.info.bind(logger);
      log('sweep run summary', { summary });
      return summary;
    });
}
