import { Aws, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { CfnConfigRule } from 'aws-cdk-lib/aws-config';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { CfnPermission } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { GuardAlarms } from './constructs/guard-alarms';
import { GuardService } from './constructs/guard-service';
import type { SweepStateMachine } from './constructs/sweep-state-machine';
import { addSweepAndAlarms } from './guard-operations';
import type { DeploymentConfig } from './deployment-config';
import {
  CONFIG_RULE_DESCRIPTION,
  CONFIG_RULE_NAME,
  CONFIG_RULE_RESOURCE_TYPES,
  EC2_API_CALL_EVENT_PATTERN,
  configComplianceChangePattern,
} from './guard-events';
import {
  configRuleStatement,
  ec2ReadStatement,
  ec2RemediationFindings,
  ec2RemediationStatements,
  securityHubImportStatement,
} from './guard-permissions';

/** Properties of {@link GuardStack}. */
export interface GuardStackProps extends StackProps {
  /** A standalone deployment configuration. */
  readonly config: DeploymentConfig;
}

/**
 * vpc-guard in one account and region (the standalone topology): the functions, the AWS Config
 * custom rule (change-triggered on the VPC resource types, plus periodic), the EventBridge rules
 * (CloudTrail EC2 calls, the rule's compliance changes, the sweep schedule), the findings table, the
 * SNS topic, the kill switch and the policy parameter. Deploy one per region.
 */
export class GuardStack extends Stack {
  readonly service: GuardService;
  readonly configRule: CfnConfigRule;
  /** The operator topic and the alarms on every dead-letter queue and function above. */
  readonly alarms: GuardAlarms;
  /** The sweep on Step Functions, started by EventBridge Scheduler. */
  readonly sweepStateMachine: SweepStateMachine;

  constructor(scope: Construct, id: string, props: GuardStackProps) {
    super(scope, id, props);
    const { config } = props;
    if (config.mode !== 'standalone') {
      throw new Error(`GuardStack: expected a standalone configuration, got mode "${config.mode}"`);
    }

    this.service = new GuardService(this, 'Guard', {
      config,
      environment: {
        // Each regional stack sweeps its own region.
        REGIONS: Aws.REGION,
        CONFIG_RULE_NAME,
      },
    });
    const { evaluationRole, remediationRole, configRule, apiEvent, sweep } = this.service;

    // Least privilege: both roles read networks and report; only the remediation role (api-event)
    // holds the mutating EC2 calls.
    for (const role of [evaluationRole, remediationRole]) {
      role.addToPolicy(ec2ReadStatement());
      role.addToPolicy(configRuleStatement());
      if (config.securityHub) role.addToPolicy(securityHubImportStatement('stack'));
    }
    const permissions = { releaseElasticIps: config.releaseElasticIps };
    for (const statement of ec2RemediationStatements('stack', permissions)) {
      remediationRole.addToPolicy(statement);
    }
    for (const finding of ec2RemediationFindings('stack')) {
      Validations.of(remediationRole).acknowledge(finding);
    }

    // AWS Config invokes the rule function only on behalf of this account (confused deputy).
    const configInvoke = new CfnPermission(this, 'ConfigRuleInvoke', {
      action: 'lambda:InvokeFunction',
      functionName: configRule.function.functionArn,
      principal: 'config.amazonaws.com',
      sourceAccount: Aws.ACCOUNT_ID,
    });
    this.configRule = new CfnConfigRule(this, 'ConfigRule', {
      configRuleName: CONFIG_RULE_NAME,
      description: CONFIG_RULE_DESCRIPTION,
      scope: { complianceResourceTypes: [...CONFIG_RULE_RESOURCE_TYPES] },
      maximumExecutionFrequency: config.periodicFrequency,
      source: {
        owner: 'CUSTOM_LAMBDA',
        sourceIdentifier: configRule.function.functionArn,
        sourceDetails: [
          { eventSource: 'aws.config', messageType: 'ConfigurationItemChangeNotification' },
          {
            eventSource: 'aws.config',
            messageType: 'OversizedConfigurationItemChangeNotification',
          },
          {
            eventSource: 'aws.config',
            messageType: 'ScheduledNotification',
            maximumExecutionFrequency: config.periodicFrequency,
          },
        ],
      },
    });
    this.configRule.addResourceDependency(configInvoke);

    const apiEventTarget = new LambdaFunction(apiEvent.function, {
      deadLetterQueue: apiEvent.deadLetterQueue,
    });
    new Rule(this, 'Ec2ApiCalls', {
      description: 'vpc-guard: EC2 network changes (CloudTrail) to the api-event function',
      eventPattern: EC2_API_CALL_EVENT_PATTERN,
      targets: [apiEventTarget],
    });
    new Rule(this, 'ComplianceChanges', {
      description: 'vpc-guard: compliance changes of its Config rule to the api-event function',
      eventPattern: configComplianceChangePattern(CONFIG_RULE_NAME),
      targets: [apiEventTarget],
    });
    new Rule(this, 'SweepSchedule', {
      description: 'vpc-guard: the scheduled sweep',
      schedule: Schedule.expression(config.sweepSchedule),
      targets: [new LambdaFunction(sweep.function, { deadLetterQueue: sweep.deadLetterQueue })],
    });

    // The sweep on Step Functions (the SweepSchedule rule above still starts the single-function
    // sweep until that is retired), then the alarms: last, so they see every queue and function.
    ({ sweepStateMachine: this.sweepStateMachine, alarms: this.alarms } = addSweepAndAlarms(this, {
      config,
      service: this.service,
      evaluationRole,
    }));
  }
}
