import { CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import { CfnStackSet } from 'aws-cdk-lib/aws-cloudformation';
import type { Construct } from 'constructs';
import type { HubConfig } from './deployment-config';
import { EXTERNAL_ID_PARAMETER_KEY } from './member-stack';

/** CloudFormation's limit on a TemplateBody. */
export const TEMPLATE_BODY_MAX_BYTES = 51_200;

/** Properties of {@link OrgRolloutStack}. */
export interface OrgRolloutStackProps extends StackProps {
  readonly hub: HubConfig;
  /** The regions of every member account to deploy to. */
  readonly regions: readonly string[];
  /** The synthesized member template (see `synthesizeMemberTemplate`). */
  readonly memberTemplate: Record<string, unknown>;
}

/**
 * The organization rollout: a service-managed StackSet of the member template over the target OUs
 * and regions, with automatic deployment to accounts that join those OUs (and removal from accounts
 * that leave). Deployed in the management account (`callAs: SELF`) or in a StackSets delegated
 * administrator (`callAs: DELEGATED_ADMIN`).
 */
export class OrgRolloutStack extends Stack {
  readonly stackSet: CfnStackSet;

  constructor(scope: Construct, id: string, props: OrgRolloutStackProps) {
    super(scope, id, props);
    const { hub } = props;
    const templateBody = JSON.stringify(props.memberTemplate);
    const bytes = Buffer.byteLength(templateBody, 'utf8');
    if (bytes > TEMPLATE_BODY_MAX_BYTES) {
      throw new Error(
        `OrgRolloutStack: the member template is ${bytes} bytes; a StackSet TemplateBody holds at most ${TEMPLATE_BODY_MAX_BYTES}`,
      );
    }

    // The external id: given in the configuration, or read from its SSM parameter at deploy time
    // (the configuration guarantees this stack then lives in the hub account and region).
    const externalId =
      hub.externalId ??
      new CfnParameter(this, 'ExternalIdValue', {
        type: 'AWS::SSM::Parameter::Value<String>',
        default: hub.externalIdParameterName,
        description: 'The SSM parameter holding the external id of the member role',
      }).valueAsString;

    this.stackSet = new CfnStackSet(this, 'MemberStackSet', {
      stackSetName: hub.rollout.stackSetName,
      description:
        'vpc-guard member: the VpcGuardMember role and the forwarding of EC2 changes to the hub',
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      callAs: hub.rollout.callAs,
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      operationPreferences: {
        failureTolerancePercentage: hub.rollout.failureTolerancePercentage,
        maxConcurrentPercentage: hub.rollout.maxConcurrentPercentage,
        regionConcurrencyType: 'PARALLEL',
      },
      parameters: [{ parameterKey: EXTERNAL_ID_PARAMETER_KEY, parameterValue: externalId }],
      stackInstancesGroup: [
        {
          deploymentTargets: { organizationalUnitIds: [...hub.targetOrganizationalUnits] },
          regions: [...props.regions],
        },
      ],
      templateBody,
    });
  }
}
