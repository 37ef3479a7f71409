import { Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Policy, PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import {
  DefinitionBody,
  DistributedMap,
  ItemBatcher,
  JsonPath,
  LogLevel,
  ResultWriterV2,
  S3JsonItemReader,
  StateMachine,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../deployment-config';
import { sweepTaskEntry } from '../paths';
import { createDeadLetterQueue, GuardFunction } from './guard-function';

/**
 * Where the Map writes its results: Step Functions adds the map run's id, so each run has its own
 * folder (the list task writes the targets to `runs/<runId>/targets.json`). A static prefix: the
 * ResultWriter's Prefix is not taken from the state input here.
 */
export const SWEEP_RESULTS_PREFIX = 'runs/results';

/** Properties of {@link SweepStateMachine}. */
export interface SweepStateMachineProps {
  /** The deployment configuration: schedule, concurrency, tolerated failures, batch size. */
  readonly config: DeploymentConfig;
  /**
   * The role of the three task functions: the evaluation role, which reads networks and reports.
   * Never the remediation role: the sweep detects and alerts, only api-event writes.
   */
  readonly role: IRole;
  /** The pipeline functions' environment (GuardService.pipelineEnvironment). */
  readonly environment: Readonly<Record<string, string>>;
  /** @default - RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
}

/**
 * The sweep on Step Functions: EventBridge Scheduler starts the state machine on the sweep
 * schedule; a task lists the run's account-regions into S3; a Distributed Map runs one child per
 * batch of them (one account's regions per batch by default, so they share its AssumeRole), with
 * the configured concurrency and tolerated failures, and writes the children's results to S3; a
 * last task reads them and logs the run summary (missed targets named and counted).
 *
 * Items and results go through S3, not the state's payload: 34,000 account-regions do not fit in
 * Step Functions' 256 KiB, and a Map with an S3 ItemReader has no item-count limit.
 */
export class SweepStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  /** Targets and results of each run, kept 30 days. */
  readonly bucket: Bucket;
  readonly listTargets: GuardFunction;
  readonly child: GuardFunction;
  readonly summary: GuardFunction;
  readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: SweepStateMachineProps) {
    super(scope, id);
    const { config, role } = props;

    this.bucket = new Bucket(this, 'Runs', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // Run data is working state: the findings table and the logs keep what matters.
      lifecycleRules: [{ expiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "The bucket holds only the sweep runs' target lists and results, written and read by " +
        "vpc-guard's own state machine and roles and expired after 30 days; CloudTrail records " +
        'who calls it. Access logs would need a second bucket and add nothing.',
    });

    const environment = { ...props.environment, SWEEP_BUCKET: this.bucket.bucketName };
    const task = (
      taskId: string,
      entry: Parameters<typeof sweepTaskEntry>[0],
      description: string,
      sizes: { memorySize: number; timeout: Duration },
    ) =>
      new GuardFunction(this, taskId, {
        entry: sweepTaskEntry(entry),
        description,
        role,
        environment,
        ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
        ...sizes,
      });
    this.listTargets = task(
      'ListTargets',
      'listTargets',
      "vpc-guard: lists a sweep run's account-regions into S3",
      { memorySize: 512, timeout: Duration.minutes(5) },
    );
    // One batch is one account's regions, swept one after another (bounded per region).
    this.child = task('Child', 'child', 'vpc-guard: sweeps one account-region (or one batch)', {
      memorySize: 1024,
      timeout: Duration.minutes(15),
    });
    this.summary = task('Summary', 'summary', 'vpc-guard: the sweep run summary', {
      memorySize: 512,
      timeout: Duration.minutes(5),
    });
    // Run data only: the task functions read and write objects under runs/, nothing else.
    const runObjects = this.bucket.arnForObjects('runs/*');
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'SweepRunData',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [runObjects],
      }),
    );
    const runObjectsFinding = `AwsSolutions-IAM5[Resource::<${this.logicalIdOf(this.bucket)}.Arn>/runs/*]`;
    const runObjectsReason =
      'Objects under runs/ of the sweep bucket only: each run writes keys named by its run id ' +
      '(targets.json, the result manifest and files), unknown before the run.';
    Validations.of(role).acknowledge({ id: runObjectsFinding, reason: runObjectsReason });

    const list = new LambdaInvoke(this, 'List targets', {
      lambdaFunction: this.listTargets.function,
      payload: TaskInput.fromObject({ runId: JsonPath.stringAt('$$.Execution.Name') }),
      payloadResponseOnly: true,
    });

    const map = new DistributedMap(this, 'Sweep targets', {
      itemReader: new S3JsonItemReader({
        bucketNamePath: JsonPath.stringAt('$.targets.bucket'),
        key: JsonPath.stringAt('$.targets.key'),
      }),
      itemBatcher: new ItemBatcher({ maxItemsPerBatch: config.sweepMaxItemsPerBatch }),
      maxConcurrency: config.sweepMaxConcurrency,
      toleratedFailurePercentage: config.sweepToleratedFailurePercentage,
      // Step Functions adds the map run's id under the prefix, so runs never overwrite each other.
      // CDK grants the state machine the writer's four S3 actions on this bucket's objects.
      resultWriterV2: new ResultWriterV2({ bucket: this.bucket, prefix: SWEEP_RESULTS_PREFIX }),
      // Keep the listing (runId, targets) next to the ResultWriterDetails for the summary.
      resultPath: '$.map',
    });
    const child = new LambdaInvoke(this, 'Sweep one target', {
      lambdaFunction: this.child.function,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
    });
    // A child that could not run (Lambda error, timeout, throttle) is tried once more, later;
    // its claim expired with the first invocation, so the retry is not a "duplicate".
    child.addRetry({
      errors: ['States.ALL'],
      interval: Duration.seconds(2),
      maxAttempts: 2,
      backoffRate: 2,
    });
    map.itemProcessor(child);

    const summarize = new LambdaInvoke(this, 'Summarize', {
      lambdaFunction: this.summary.function,
      payload: TaskInput.fromObject({
        runId: JsonPath.stringAt('$.runId'),
        targets: JsonPath.objectAt('$.targets'),
        results: JsonPath.objectAt('$.map.ResultWriterDetails'),
      }),
      payloadResponseOnly: true,
    });

    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      comment: 'vpc-guard: the scheduled sweep of every account-region',
      definitionBody: DefinitionBody.fromChainable(list.next(map).next(summarize)),
      tracingEnabled: true,
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
      // A first run of 34,000 account-regions is planned for 30 minutes; 2 hours is failure.
      timeout: Duration.hours(2),
    });
    const machineRole = this.stateMachine.role;
    Validations.of(machineRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<${this.logicalIdOf(this.bucket)}>/*]`,
      reason:
        "The sweep bucket's objects only: the ItemReader reads each run's targets and the " +
        'ResultWriter (PutObject, GetObject, ListMultipartUploadParts, AbortMultipartUpload) ' +
        'writes its results under keys named at run time.',
    });
    Validations.of(machineRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Resource "*" only for X-Ray trace writes and CloudWatch Logs log delivery, which have no ' +
        'resource-level permissions.',
    });
    for (const fn of [this.listTargets, this.child, this.summary]) {
      Validations.of(machineRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${this.logicalIdOf(fn.function)}.Arn>:*]`,
        reason: 'The task function and its versions (the ARN with a qualifier), nothing else.',
      });
    }
    // The Distributed Map's own policy: StartExecution, DescribeExecution, StopExecution and
    // RedriveExecution on this state machine's executions (ARNs known only at run time).
    const mapPolicy = this.stateMachine.node.tryFindChild('DistributedMapPolicy');
    if (mapPolicy instanceof Policy) {
      const stack = Stack.of(this);
      const document = stack.resolve(mapPolicy.document.toJSON()) as {
        Statement?: { Resource?: unknown }[];
      };
      const resources = (document.Statement ?? []).flatMap((statement): unknown[] =>
        Array.isArray(statement.Resource)
          ? (statement.Resource as unknown[])
          : [statement.Resource],
      );
      for (const resource of new Set(resources.map(nagResourceName))) {
        if (!resource.includes('*')) continue;
        Validations.of(mapPolicy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${resource}]`,
          reason:
            "The Distributed Map's child executions of this state machine only: execution ARNs " +
            'under its own name, unknown before each run.',
        });
      }
    }

    const scheduleDeadLetterQueue = createDeadLetterQueue(this, 'ScheduleDeadLetterQueue');
    Validations.of(scheduleDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of the Scheduler target (the rule looks only for a ' +
        "queue's redrive policy or a function's DLQ).",
    });
    this.schedule = new Schedule(this, 'Schedule', {
      description: 'vpc-guard: the scheduled sweep',
      schedule: ScheduleExpression.expression(config.sweepSchedule),
      target: new StepFunctionsStartExecution(this.stateMachine, {
        deadLetterQueue: scheduleDeadLetterQueue,
        retryAttempts: 2,
      }),
    });
  }

  /** A resource's logical id, as cdk-nag's finding ids spell it. */
  private logicalIdOf(construct: Construct): string {
    const stack = Stack.of(this);
    const resource = construct.node.defaultChild as CfnElement;
    return stack.resolve(stack.getLogicalId(resource)) as string;
  }
}

/**
 * A resolved resource ARN as cdk-nag names it in a finding id: the parts of an `Fn::Join` joined,
 * a `Ref` as `<Id>`, a `Fn::GetAtt` as `<Id.Attribute>`, any other function as its JSON.
 */
function nagResourceName(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = value as Record<string, unknown>;
  if ('Ref' in object) return `<${String(object.Ref)}>`;
  if ('Fn::GetAtt' in object) return `<${(object['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map(nagResourceName).join(separator);
  }
  return JSON.stringify(value);
}
