import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/**
 * A Lambda context for running a handler outside Lambda (`vpc-guard invoke`, tests, benchmarks):
 * the fields Powertools and middy read, a deadline that counts down, and the callbacks as no-ops.
 */

/** Options of {@link createLocalContext}. */
export interface LocalContextOptions {
  readonly functionName: string;
  readonly region: string;
  /** The account in the function ARN. @default '000000000000' */
  readonly accountId?: string;
  /** @default 900000 (Lambda's 15-minute maximum) */
  readonly timeoutMs?: number;
  /** @default 1024 */
  readonly memoryMb?: number;
  /** Milliseconds since the epoch, for the deadline. @default Date.now */
  readonly clock?: () => number;
}

/** A Lambda-like context whose `getRemainingTimeInMillis` counts down from `timeoutMs`. */
export function createLocalContext(options: LocalContextOptions): Context {
  const clock = options.clock ?? Date.now;
  const deadline = clock() + (options.timeoutMs ?? 900_000);
  const accountId = options.accountId ?? '000000000000';
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${options.region}:${accountId}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryMb ?? 1024),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `local/${new Date(clock()).toISOString().slice(0, 10)}/${randomUUID()}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - clock()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
