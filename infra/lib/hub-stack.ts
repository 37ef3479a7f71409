import { Fn, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { CfnOrganizationConfigRule } from 'aws-cdk-lib/aws-config';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { AnyPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnPermission } from 'aws-cdk-lib/aws-lambda';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import type { GuardAlarms } from './constructs/guard-alarms';
import { GuardService } from './constructs/guard-service';
import type { SweepStateMachine } from './constructs/sweep-state-machine';
import { addSweepAndAlarms } from './guard-operations';
import type { DeploymentConfig, HubConfig } from './deployment-config';
import {
  CONFIG_RULE_DESCRIPTION,
  CONFIG_RULE_NAME,
  CONFIG_RULE_RESOURCE_TYPES,
  EC2_API_CALL_EVENT_PATTERN,
  organizationComplianceChangePattern,
} from './guard-events';
import { iam5ResourceFinding } from './guard-permissions';

/**
 * The ARNs of the Config rules an organization Config rule puts in member accounts: Config's
 * multi-account setup creates them as service-linked rules under this path.
 */
export const ORGANIZATION_CONFIG_RULE_ARNS =
  'arn:${AWS::Partition}:config:*:*:config-rule/aws-service-rule/config-multiaccountsetup.amazonaws.com/*';

/**
 * The names of the hub's function roles. Fixed, because the member template (synthesized apart from
 * the hub stack) names them in its trust policy.
 */
export const HUB_ROLE_NAMES = {
  evaluation: 'VpcGuardHubEvaluation',
  remediation: 'VpcGuardHubRemediation',
} as const;

/** The ARNs of the hub's function roles, the only principals the member role trusts. */
export function hubRoleArnTemplates(hub: HubConfig): string[] {
  return [HUB_ROLE_NAMES.evaluation, HUB_ROLE_NAMES.remediation].map(
    (name) => `arn:\${AWS::Partition}:iam::${hub.account}:role/${name}`,
  );
}

/** The ARN of the hub's event bus (the member rules' target). */
export function hubEventBusArnTemplate(hub: HubConfig): string {
  return `arn:\${AWS::Partition}:events:${hub.region}:${hub.account}:event-bus/${hub.eventBusName}`;
}

/** The `Fn::Sub` text of the member role ARN in every account. */
export function memberRoleArnTemplate(hub: HubConfig): string {
  return `arn:\${AWS::Partition}:iam::*:role/${hub.memberRoleName}`;
}

/** Properties of {@link HubStack}. */
export interface HubStackProps extends StackProps {
  /** A hub-mode deployment configuration. */
  readonly config: DeploymentConfig;
}

/**
 * The hub of the organization topology (a security or delegated-administrator account): the
 * functions, the central event bus (only the organization may put events on it) with the rule for
 * the EC2 calls the member accounts forward, the organization Config rule, the findings table, SNS
 * and Slack. The functions reach member accounts only through the member role (external id, session
 * `vpc-guard`), which also imports their Security Hub findings and writes their Config evaluations.
 */
export class HubStack extends Stack {
  readonly service: GuardService;
  readonly bus: EventBus;
  readonly organizationConfigRule: CfnOrganizationConfigRule | undefined;
  /** The operator topic and the alarms on every dead-letter queue and function above. */
  readonly alarms: GuardAlarms;
  /** The sweep on Step Functions, started by EventBridge Scheduler. */
  readonly sweepStateMachine: SweepStateMachine;

  constructor(scope: Construct, id: string, props: HubStackProps) {
    super(scope, id, props);
    const { config } = props;
    const hub = config.hub;
    if (config.mode !== 'hub' || hub === undefined) {
      throw new Error(`HubStack: expected a hub configuration, got mode "${config.mode}"`);
    }

    this.bus = new EventBus(this, 'Bus', {
      eventBusName: hub.eventBusName,
      description:
        'vpc-guard: EC2 network changes and Config compliance changes forwarded by every member account',
    });
    this.bus.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OrganizationMembersPutEvents',
        principals: [new AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': hub.organizationId } },
      }),
    );

    let externalIdParameterArn: string;
    if (hub.externalId !== undefined) {
      externalIdParameterArn = new StringParameter(this, 'ExternalId', {
        parameterName: hub.externalIdParameterName,
        stringValue: hub.externalId,
        description: 'vpc-guard: the external id the member role requires',
      }).parameterArn;
    } else {
      // Created by an operator before the first deploy (DEPLOY.md); only read here.
      externalIdParameterArn = Fn.sub(
        `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${hub.externalIdParameterName}`,
      );
    }

    this.service = new GuardService(this, 'Guard', {
      config,
      eventBus: this.bus,
      roleNames: HUB_ROLE_NAMES,
      environment: {
        REGIONS: config.regions.join(','),
        MEMBER_ROLE_NAME: hub.memberRoleName,
        EXTERNAL_ID_PARAMETER: hub.externalIdParameterName,
        MEMBER_ACCOUNTS:
          hub.sweepAccounts === 'organization' ? 'organization' : hub.sweepAccounts.join(','),
        // Events and sweeps act only on accounts under the OUs the member StackSet targets.
        ...(hub.sweepAccounts === 'organization'
          ? { TARGET_OUS: hub.targetOrganizationalUnits.join(',') }
          : {}),
        // Accounts out of scope (the exclusion list, the management account): never swept, their
        // events ignored.
        ...(hub.excludedAccounts.length > 0
          ? { EXCLUDED_ACCOUNTS: hub.excludedAccounts.join(',') }
          : {}),
      },
    });
    const { evaluationRole, remediationRole, configRule, apiEvent, sweep } = this.service;

    const memberRoles = memberRoleArnTemplate(hub);
    for (const role of [evaluationRole, remediationRole]) {
      role.addToPolicy(
        new PolicyStatement({
          sid: 'ReadExternalId',
          actions: ['ssm:GetParameter'],
          resources: [externalIdParameterArn],
        }),
      );
      role.addToPolicy(
        new PolicyStatement({
          sid: 'AssumeMemberRoles',
          actions: ['sts:AssumeRole'],
          resources: [Fn.sub(memberRoles)],
          // Only roles in accounts of this organization.
          conditions: { StringEquals: { 'aws:ResourceOrgID': hub.organizationId } },
        }),
      );
      Validations.of(role).acknowledge({
        id: iam5ResourceFinding(memberRoles),
        reason:
          `The member role exists in every account of the target OUs, including accounts that ` +
          `join later; the account is a wildcard, bound to the organization by aws:ResourceOrgID.`,
      });
    }
    if (hub.sweepAccounts === 'organization') {
      // Every pipeline function checks that an event's account is under the target OUs.
      for (const role of [evaluationRole, remediationRole]) {
        role.addToPolicy(
          new PolicyStatement({
            sid: 'ListOrganizationAccounts',
            actions: [
              'organizations:ListAccounts',
              'organizations:ListAccountsForParent',
              'organizations:ListOrganizationalUnitsForParent',
            ],
            resources: ['*'],
          }),
        );
      }
    }

    const apiEventTarget = new LambdaFunction(apiEvent.function, {
      deadLetterQueue: apiEvent.deadLetterQueue,
    });
    new Rule(this, 'ForwardedEc2ApiCalls', {
      description: 'vpc-guard: EC2 network changes forwarded by member accounts to api-event',
      eventBus: this.bus,
      eventPattern: EC2_API_CALL_EVENT_PATTERN,
      targets: [apiEventTarget],
    });
    // The member accounts forward the compliance changes of the rules the organization Config rule
    // created in them (Config emits them on each member account's default bus, never the hub's).
    new Rule(this, 'ForwardedConfigComplianceChanges', {
      description: 'vpc-guard: Config compliance changes forwarded by member accounts to api-event',
      eventBus: this.bus,
      eventPattern: organizationComplianceChangePattern(CONFIG_RULE_NAME),
      targets: [apiEventTarget],
    });
    new Rule(this, 'SweepSchedule', {
      description: 'vpc-guard: the scheduled sweep of every member account and region',
      schedule: Schedule.expression(config.sweepSchedule),
      targets: [new LambdaFunction(sweep.function, { deadLetterQueue: sweep.deadLetterQueue })],
    });

    if (hub.organizationConfigRule) {
      // Config in each member account invokes the hub function for the organization rule. Lambda's
      // AddPermission (AWS::Lambda::Permission) takes only SourceAccount, SourceArn (matched with
      // ArnLike), PrincipalOrgID and EventSourceToken: there is no free condition, so
      // aws:SourceOrgID cannot be written, and PrincipalOrgID (aws:PrincipalOrgID) is absent from
      // requests a service principal makes, so it would shut Config out. The member accounts are
      // not known here (new ones join), so no SourceAccount can be named. What binds the caller:
      // SourceArn admits only rules that Config's organization setup
      // (config-multiaccountsetup.amazonaws.com) created in member accounts, not a rule anyone
      // writes by hand in any account; and the function rejects every invocation for an account
      // outside this organization's target OUs before any AWS call (functions/runtime/event-account).
      const configInvoke = new CfnPermission(this, 'OrganizationConfigRuleInvoke', {
        action: 'lambda:InvokeFunction',
        functionName: configRule.function.functionArn,
        principal: 'config.amazonaws.com',
        sourceArn: Fn.sub(ORGANIZATION_CONFIG_RULE_ARNS),
      });
      this.organizationConfigRule = new CfnOrganizationConfigRule(this, 'OrganizationConfigRule', {
        organizationConfigRuleName: CONFIG_RULE_NAME,
        // Config deploys an organization rule to every account of the organization but those named
        // here, the management account included (Config Developer Guide, "Enabling AWS Config Rules
        // Across all Accounts in Your Organization"; API Reference, OrganizationConfigRule
        // ExcludedAccounts, at most 1000). The rule's target OUs are not a setting of it: accounts
        // outside them are excluded by the function, which rejects an account out of scope.
        ...(hub.excludedAccounts.length > 0 ? { excludedAccounts: [...hub.excludedAccounts] } : {}),
        organizationCustomRuleMetadata: {
          description: CONFIG_RULE_DESCRIPTION,
          lambdaFunctionArn: configRule.function.functionArn,
          organizationConfigRuleTriggerTypes: [
            'ConfigurationItemChangeNotification',
            'OversizedConfigurationItemChangeNotification',
            'ScheduledNotification',
          ],
          resourceTypesScope: [...CONFIG_RULE_RESOURCE_TYPES],
          maximumExecutionFrequency: config.periodicFrequency,
        },
      });
      this.organizationConfigRule.addResourceDependency(configInvoke);
    } else {
      this.organizationConfigRule = undefined;
    }

    // The sweep on Step Functions (the SweepSchedule rule above still starts the single-function
    // sweep until that is retired), then the alarms: last, so they see every queue and function.
    ({ sweepStateMachine: this.sweepStateMachine, alarms: this.alarms } = addSweepAndAlarms(this, {
      config,
      service: this.service,
      evaluationRole,
    }));
  }
}
