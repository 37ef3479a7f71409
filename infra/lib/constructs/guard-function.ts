import { Duration, Validations } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
  type BundlingOptions,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { GUARD_FUNCTION_BUNDLING } from '@vpc-guard/functions/runtime/bundling';
import { Construct } from 'constructs';
import { LOCK_FILE, REPO_ROOT } from '../paths';

/**
 * The newest Node.js runtime aws-cdk-lib 2.276 knows (cdk-nag AwsSolutions-L1 and Serverless
 * LambdaLatestVersion check for it). Bundles target the same version.
 */
export const GUARD_RUNTIME = Runtime.NODEJS_24_X;

/**
 * Powertools Tracer (and any CommonJS dependency) calls `require` at import: an ESM bundle has none
 * unless the banner creates it (STACK.md, "Bundling").
 */
export const ESM_REQUIRE_BANNER: string = GUARD_FUNCTION_BUNDLING.banner.js;

/**
 * The bundling every vpc-guard function uses: functions/runtime/bundling.ts's esbuild options (the
 * ones the bundle benchmark measures), in NodejsFunction's terms. ESM, minified, `module` before
 * `main` (the SDK's ESM build: smaller and faster to import than its CJS build), the createRequire
 * banner, the AWS SDK bundled (pinned, and faster to import than the runtime's copy), no legal
 * comments, no metafile (it would land in the zip), a linked source map without the sources (stack
 * traces can be mapped back to files and lines). Added here: local esbuild, never Docker.
 */
export const GUARD_BUNDLING: BundlingOptions = {
  format: GUARD_FUNCTION_BUNDLING.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
  target: GUARD_FUNCTION_BUNDLING.target,
  minify: GUARD_FUNCTION_BUNDLING.minify,
  sourceMap: GUARD_FUNCTION_BUNDLING.sourcemap,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: GUARD_FUNCTION_BUNDLING.sourcesContent,
  mainFields: [...GUARD_FUNCTION_BUNDLING.mainFields],
  banner: ESM_REQUIRE_BANNER,
  externalModules: [...GUARD_FUNCTION_BUNDLING.external],
  bundleAwsSDK: true,
  metafile: GUARD_FUNCTION_BUNDLING.metafile,
  esbuildArgs: { '--legal-comments': GUARD_FUNCTION_BUNDLING.legalComments },
  forceDockerBundling: false,
};

/** The Powertools settings every function gets (functions/runtime/config.ts reads them). */
export const POWERTOOLS_SERVICE_NAME = 'vpc-guard';
export const POWERTOOLS_METRICS_NAMESPACE = 'VpcGuard';

/**
 * A dead-letter queue: SQS-managed encryption, TLS enforced by its policy, 14 days to look at what
 * failed. Used for Lambda's asynchronous failures, EventBridge targets and SNS subscriptions.
 */
export function createDeadLetterQueue(scope: Construct, id: string): Queue {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason:
      'This queue is itself the dead-letter queue of a function, rule target or subscription: a ' +
      'redrive policy would only move failed events one queue further.',
  });
  return queue;
}

/** Properties of {@link GuardFunction}. */
export interface GuardFunctionProps {
  /** The handler module (TypeScript), exporting `handler`. */
  readonly entry: string;
  /** What the function does, shown in the Lambda console. */
  readonly description: string;
  /**
   * The execution role. Shared roles are how vpc-guard separates evaluation from remediation: the
   * stack decides which role each function runs as. Log, X-Ray and DLQ permissions are added here.
   */
  readonly role: IRole;
  /** Environment variables, on top of the Powertools settings. @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /** Memory in MB (CPU scales with it). @default 512 */
  readonly memorySize?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /**
   * Reserved concurrency: at most this many copies at once, and always that many available. Set on
   * the remediating function to bound how many changes run in parallel.
   * @default - none: the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /**
   * Where failed asynchronous invocations go, unchanged, after Lambda's retries.
   * @default - a new queue from {@link createDeadLetterQueue}
   */
  readonly deadLetterQueue?: IQueue;
  /** POWERTOOLS_LOG_LEVEL. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Bundling settings merged over {@link GUARD_BUNDLING}. @default - GUARD_BUNDLING as is */
  readonly bundling?: BundlingOptions;
}

/**
 * A vpc-guard Lambda function: a NodejsFunction with the project's bundling defaults, arm64, the
 * newest Node.js runtime, its own log group with a retention, X-Ray active tracing, a dead-letter
 * queue and the Powertools environment.
 */
export class GuardFunction extends Construct {
  /** The function. */
  readonly function: NodejsFunction;
  /** Where failed asynchronous invocations land. */
  readonly deadLetterQueue: IQueue;
  /** The function's log group (created here, so its retention is part of the stack). */
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: GuardFunctionProps) {
    super(scope, id);
    this.deadLetterQueue = props.deadLetterQueue ?? createDeadLetterQueue(this, 'DeadLetterQueue');
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
    });
    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: GUARD_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(1),
      role: props.role,
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      deadLetterQueue: this.deadLetterQueue,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      depsLockFilePath: LOCK_FILE,
      projectRoot: REPO_ROOT,
      bundling: { ...GUARD_BUNDLING, ...props.bundling },
      environment: {
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        // No NODE_OPTIONS=--enable-source-maps: Node would read and parse the source map at every cold
        // start (+12-20 ms, docs/PERFORMANCE.md). Stack traces are mapped offline with the map in the
        // zip, or a function is given NODE_OPTIONS=--enable-source-maps while someone debugs it.
        ...props.environment,
      },
    });
    this.logGroup.grantWrite(props.role);
  }
}
