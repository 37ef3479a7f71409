import { Aws, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import {
  AccountRootPrincipal,
  PolicyDocument,
  PolicyStatement,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { CfnKey, Key } from 'aws-cdk-lib/aws-kms';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, type IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import {
  createDeadLetterQueue,
  POWERTOOLS_METRICS_NAMESPACE,
  POWERTOOLS_SERVICE_NAME,
} from './guard-function';
import { KEY_ADMINISTRATION_ACTIONS } from './guard-service';

/**
 * The metric the sweep counts once per account-region it could not read or process
 * (functions/runtime/observability.ts, METRIC.sweepTargetFailures). Test-checked against it.
 */
export const SWEEP_TARGET_FAILURES_METRIC = 'SweepTargetFailures';

/**
 * The metric the sweep's run summary counts its missed account-regions with
 * (METRIC.sweepTargetsMissed). Test-checked against it.
 */
export const SWEEP_TARGETS_MISSED_METRIC = 'SweepTargetsMissed';

/** The period every alarm sums or maximizes over: short enough to page within minutes. */
const ALARM_PERIOD = Duration.minutes(5);

/** Construct ids that mark a queue as a dead-letter queue (createDeadLetterQueue's callers use them). */
const DEAD_LETTER_ID = /dead-?letter/i;

/** Properties of {@link GuardAlarms}. */
export interface GuardAlarmsProps {
  /**
   * E-mail addresses subscribed to the operator topic (each must confirm its subscription).
   * @default - none: the topic is there for operators to subscribe to (e-mail, chat, paging)
   */
  readonly emails?: readonly string[];
}

/**
 * What tells operators that vpc-guard itself is failing: one SNS topic (KMS-encrypted, TLS only)
 * and CloudWatch alarms that notify it. Findings go to the findings topic; this one carries only
 * "vpc-guard is not doing its job": a message in a dead-letter queue, a function that errs or is
 * throttled, a sweep that missed targets, a state machine run that failed or timed out.
 *
 * Call {@link watch} last in a stack, so it finds every dead-letter queue and function above it;
 * the alarm tests check that none is left without its alarms.
 */
export class GuardAlarms extends Construct {
  /** The operators' topic: every alarm's action. */
  readonly topic: Topic;
  /** Every alarm created so far. */
  readonly alarms: Alarm[] = [];
  private readonly action: SnsAction;
  private readonly watched = new Set<IConstruct>();
  private sweepWatched = false;

  constructor(scope: Construct, id: string, props: GuardAlarmsProps = {}) {
    super(scope, id);
    const key = new CfnKey(this, 'TopicKey', {
      description: 'vpc-guard: encrypts the operator alarm topic',
      enableKeyRotation: true,
      keyPolicy: alarmKeyPolicy(),
    });
    this.topic = new Topic(this, 'Topic', {
      displayName: 'vpc-guard alarms',
      masterKey: Key.fromKeyArn(this, 'TopicKeyRef', key.attrArn),
      enforceSSL: true,
    });
    // The topic policy that enforceSSL creates replaces SNS's default one, so CloudWatch is named:
    // only alarms of this account publish.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': Fn.sub(
              'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*',
            ),
          },
        },
      }),
    );
    this.action = new SnsAction(this.topic);

    const emails = props.emails ?? [];
    if (emails.length > 0) {
      const deliveryFailures = createDeadLetterQueue(this, 'DeliveryDeadLetterQueue');
      Validations.of(deliveryFailures).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is the dead-letter queue of the alarm e-mail subscriptions (SNS redrive ' +
          'policies are not what the rule looks for).',
      });
      for (const email of emails) {
        this.topic.addSubscription(
          new EmailSubscription(email, { deadLetterQueue: deliveryFailures }),
        );
      }
    }
  }

  /**
   * Alarms on every dead-letter queue (a queue whose construct id says dead-letter, or a
   * function's) and every Lambda function under `scope`, and on the sweep's missed targets.
   * Idempotent: a queue or function already watched is skipped.
   */
  watch(scope: IConstruct): void {
    for (const node of scope.node.findAll()) {
      if (node instanceof Queue && DEAD_LETTER_ID.test(node.node.id)) {
        this.alarmOnDeadLetterQueue(node);
      } else if (node instanceof LambdaFunction) {
        this.alarmOnFunction(node);
        const queue = node.deadLetterQueue;
        if (queue && Stack.of(queue) === Stack.of(this)) this.alarmOnDeadLetterQueue(queue);
      }
    }
    this.alarmOnSweepTargetFailures();
  }

  /** A message in `queue`: something vpc-guard was asked to do was dropped after its retries. */
  alarmOnDeadLetterQueue(queue: IQueue): void {
    if (!this.once(queue)) return;
    this.addAlarm(
      `${this.idOf(queue)}Messages`,
      queue.metricApproximateNumberOfMessagesVisible({
        period: ALARM_PERIOD,
        statistic: 'Maximum',
      }),
      `vpc-guard: messages in the dead-letter queue ${queue.node.path}: events, invocations or ` +
        'notifications failed after their retries. Look at the messages, fix, then redrive.',
    );
  }

  /** Errors and throttles of `fn`, each > 0 in 5 minutes. */
  alarmOnFunction(fn: LambdaFunction): void {
    if (!this.once(fn)) return;
    const id = this.idOf(fn);
    const options = { period: ALARM_PERIOD, statistic: 'Sum' };
    this.addAlarm(
      `${id}Errors`,
      fn.metricErrors(options),
      `vpc-guard: ${fn.node.path} failed invocations (see its log group).`,
    );
    this.addAlarm(
      `${id}Throttles`,
      fn.metricThrottles(options),
      `vpc-guard: ${fn.node.path} was throttled (reserved concurrency or the account's limit).`,
    );
  }

  /**
   * The sweep's missed account-regions, one alarm over the two metrics that count them: the
   * failures each target reports (the single-function sweep and each Step Functions child), and
   * the run summary's missed targets (failed or without a result, such as a child that timed out).
   * MAX, not the sum: a failed target counted by both is one missed target, and one e-mail.
   * Powertools adds the `service` dimension to both.
   */
  alarmOnSweepTargetFailures(): void {
    if (this.sweepWatched) return;
    this.sweepWatched = true;
    const metric = (metricName: string) =>
      new Metric({
        namespace: POWERTOOLS_METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: POWERTOOLS_SERVICE_NAME },
        period: ALARM_PERIOD,
        statistic: 'Sum',
      });
    this.addAlarm(
      'SweepTargetsMissed',
      new MathExpression({
        expression: 'MAX([FILL(failures, 0), FILL(missed, 0)])',
        usingMetrics: {
          failures: metric(SWEEP_TARGET_FAILURES_METRIC),
          missed: metric(SWEEP_TARGETS_MISSED_METRIC),
        },
        label: 'Sweep targets missed',
        period: ALARM_PERIOD,
      }),
      'vpc-guard: the sweep missed account-regions (no member role, denied, throttled, failed or ' +
        'timed out); its log and run summary name them. Those targets were not checked.',
    );
  }

  /** Failed and timed-out executions of `stateMachine`, each > 0 in 5 minutes. */
  alarmOnStateMachine(stateMachine: IStateMachine): void {
    if (!this.once(stateMachine)) return;
    const id = this.idOf(stateMachine);
    const options = { period: ALARM_PERIOD, statistic: 'Sum' };
    this.addAlarm(
      `${id}Failed`,
      stateMachine.metricFailed(options),
      `vpc-guard: executions of ${stateMachine.node.path} failed.`,
    );
    this.addAlarm(
      `${id}TimedOut`,
      stateMachine.metricTimedOut(options),
      `vpc-guard: executions of ${stateMachine.node.path} timed out.`,
    );
  }

  private once(construct: IConstruct): boolean {
    if (this.watched.has(construct)) return false;
    this.watched.add(construct);
    return true;
  }

  /** A construct id from the watched construct's path inside its stack (unique, readable). */
  private idOf(construct: IConstruct): string {
    const stack = Stack.of(construct);
    return construct.node.scopes
      .slice(stack.node.scopes.length)
      .map((scope) => scope.node.id.replace(/[^A-Za-z0-9]/g, ''))
      .join('');
  }

  private addAlarm(id: string, metric: IMetric, description: string): void {
    const alarm = new Alarm(this, id, {
      metric,
      alarmDescription: description,
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data is no failure: the metrics are emitted only when something happened.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    this.alarms.push(alarm);
  }
}

/**
 * The alarm key's policy: the account administers it (no `kms:*`), and CloudWatch may encrypt
 * alarm messages for the topic on behalf of this account's alarms only. Without the CloudWatch
 * statement, alarms on a KMS-encrypted topic are dropped (Amazon SNS Developer Guide, "Enable
 * compatibility between event sources from AWS services and encrypted topics",
 * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 */
function alarmKeyPolicy(): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'AccountAdministersTheKey',
        principals: [new AccountRootPrincipal()],
        actions: [...KEY_ADMINISTRATION_ACTIONS],
        resources: ['*'],
      }),
      new PolicyStatement({
        sid: 'CloudWatchAlarmsEncrypt',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    ],
  });
}
