import {
  Aws,
  BootstraplessSynthesizer,
  CfnCondition,
  CfnParameter,
  Fn,
  Stack,
  Stage,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import {
  AccountPrincipal,
  PolicyDocument,
  Role,
  ServicePrincipal,
  type CfnRole,
} from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { HubConfig } from './deployment-config';
import {
  CONFIG_RULE_NAME,
  EC2_API_CALL_EVENT_PATTERN,
  organizationComplianceChangePattern,
} from './guard-events';
import {
  configRuleStatement,
  ec2ReadStatement,
  ec2RemediationFindings,
  ec2RemediationStatements,
  iam5ResourceFinding,
  securityHubImportStatement,
  securityHubProductArnTemplate,
} from './guard-permissions';
import { hubEventBusArnTemplate, hubRoleArnTemplates } from './hub-stack';

/** The member template's parameter that carries the external id (set by the StackSet). */
export const EXTERNAL_ID_PARAMETER_KEY = 'ExternalId';

/** Properties of {@link MemberStack}. */
export interface MemberStackProps extends StackProps {
  /** The hub the member role trusts and the member rule forwards to. */
  readonly hub: HubConfig;
  /**
   * Whether the member role may import findings into the account's Security Hub.
   * @default true
   */
  readonly securityHub?: boolean;
  /**
   * Whether the member role may release the Elastic IPs `remove-nat` marked (the deployment's
   * `releaseElasticIps`).
   * @default false
   */
  readonly releaseElasticIps?: boolean;
}

/**
 * What every member account and region of the target OUs gets, through a service-managed StackSet.
 * Asset-free (no Lambda code, no file asset, no bootstrap needed, no CDK metadata), so it deploys
 * anywhere a StackSet reaches:
 *
 * - the `VpcGuardMember` role (read-only describes, Config evaluations, Security Hub import, and the
 *   few guarded remediation calls, none of them on a resource tagged `vpc-guard:protected`),
 *   trusting only the hub's function roles, with the external id.
 *   IAM is global: the role is created only in the home region (`regions[0]`);
 * - EventBridge rules that forward to the hub's bus the EC2 API calls vpc-guard reacts to and the
 *   compliance changes of the rule the organization Config rule put in the account (Config emits
 *   them on the member account's default bus only), with a role allowed to put events on that bus
 *   only.
 */
export class MemberStack extends Stack {
  readonly memberRole: Role;
  readonly forwardRule: Rule;
  readonly forwardComplianceRule: Rule;

  constructor(scope: Construct, id: string, props: MemberStackProps) {
    super(scope, id, {
      description:
        'vpc-guard member: the VpcGuardMember role and the forwarding of EC2 network changes and ' +
        'Config compliance changes to the hub',
      ...props,
      synthesizer: new BootstraplessSynthesizer(),
      analyticsReporting: false,
    });
    const { hub } = props;

    const externalId = new CfnParameter(this, EXTERNAL_ID_PARAMETER_KEY, {
      type: 'String',
      noEcho: true,
      minLength: 2,
      maxLength: 1224,
      allowedPattern: '[\\w+=,.@:/-]*',
      description: 'The external id the hub presents when it assumes the member role',
    });
    const isHomeRegion = new CfnCondition(this, 'IsMemberRoleRegion', {
      expression: Fn.conditionEquals(Aws.REGION, hub.memberRoleRegion),
    });

    // The hub account, narrowed to the hub's function roles by aws:PrincipalArn: unlike role ARNs
    // as principals, this survives a hub role being recreated and needs no hub role to exist yet.
    const hubRoles = new AccountPrincipal(hub.account).withConditions({
      StringEquals: { 'sts:ExternalId': externalId.valueAsString },
      ArnEquals: { 'aws:PrincipalArn': hubRoleArnTemplates(hub).map((arn) => Fn.sub(arn)) },
    });
    const statements = [
      ec2ReadStatement(),
      configRuleStatement(),
      ...((props.securityHub ?? true) ? [securityHubImportStatement('any')] : []),
      ...ec2RemediationStatements('any', { releaseElasticIps: props.releaseElasticIps ?? false }),
    ];
    this.memberRole = new Role(this, 'MemberRole', {
      roleName: hub.memberRoleName,
      description: 'vpc-guard: assumed by the hub functions to read, report and remediate',
      assumedBy: hubRoles,
      inlinePolicies: { 'vpc-guard': new PolicyDocument({ statements }) },
    });
    (this.memberRole.node.defaultChild as CfnRole).cfnOptions.condition = isHomeRegion;
    Validations.of(this.memberRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Resource "*" only for actions without resource-level permissions: the EC2 Describe ' +
        'calls and AWS Config PutEvaluations/BatchGetResourceConfig/GetResourceConfigHistory.',
    });
    if (props.securityHub ?? true) {
      Validations.of(this.memberRole).acknowledge({
        id: iam5ResourceFinding(securityHubProductArnTemplate('any')),
        reason:
          'The role is global (IAM) and imports findings in every region of the account, so the ' +
          "region of the account's own default product ARN is a wildcard.",
      });
    }
    for (const finding of ec2RemediationFindings('any')) {
      Validations.of(this.memberRole).acknowledge(finding);
    }

    const forwardRole = new Role(this, 'ForwardRole', {
      description:
        'vpc-guard: EventBridge forwards EC2 network and compliance changes to the hub bus',
      assumedBy: new ServicePrincipal('events.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      }),
    });
    const hubBus = EventBus.fromEventBusArn(this, 'HubBus', Fn.sub(hubEventBusArnTemplate(hub)));
    this.forwardRule = new Rule(this, 'ForwardEc2ApiCalls', {
      description: 'vpc-guard: EC2 network changes to the hub event bus',
      eventPattern: EC2_API_CALL_EVENT_PATTERN,
      targets: [new EventBusTarget(hubBus, { role: forwardRole })],
    });
    this.forwardComplianceRule = new Rule(this, 'ForwardConfigComplianceChanges', {
      description:
        'vpc-guard: compliance changes of the organization Config rule to the hub event bus',
      eventPattern: organizationComplianceChangePattern(CONFIG_RULE_NAME),
      targets: [new EventBusTarget(hubBus, { role: forwardRole })],
    });
    for (const rule of [this.forwardRule, this.forwardComplianceRule]) {
      Validations.of(rule).acknowledge({
        id: 'Serverless-EventBusDLQ',
        reason:
          'Forwarding is best effort by design: the periodic Config rule and the hub sweep catch ' +
          'what a lost event misses, and a queue in every member account and region would go unread.',
      });
    }
  }
}

/** A synthesized member template and the stack it came from. */
export interface MemberTemplate {
  readonly stack: MemberStack;
  /** The CloudFormation template, as the StackSet's TemplateBody takes it. */
  readonly template: Record<string, unknown>;
}

/**
 * Synthesizes the member stack in a Stage of its own under `app`, and returns its template for the
 * StackSet. The stage is part of the cloud assembly (so cdk-nag checks it and `cdk synth` writes it
 * to cdk.out) but is not deployed by `cdk deploy --all`: the StackSet deploys it.
 */
export function synthesizeMemberTemplate(
  app: Construct,
  props: MemberStackProps,
  id = 'VpcGuardMemberTemplate',
): MemberTemplate {
  const stage = new Stage(app, id);
  // Construct paths in resource metadata mean nothing in a StackSet: keep the template clean.
  stage.node.setContext('aws:cdk:enable-path-metadata', false);
  const stack = new MemberStack(stage, 'VpcGuardMember', props);
  const assembly = stage.synth();
  const template = assembly.getStackArtifact(stack.artifactId).template as Record<string, unknown>;
  return { stack, template };
}
