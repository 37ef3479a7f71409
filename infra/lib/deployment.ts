import type { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from './deployment-config';
import { GuardStack } from './guard-stack';
import { HubStack } from './hub-stack';
import { synthesizeMemberTemplate, type MemberStack } from './member-stack';
import { OrgRolloutStack } from './org-rollout-stack';

/** The stacks of one deployment configuration. */
export interface Deployment {
  /** Standalone: one GuardStack per region. */
  readonly guardStacks: readonly GuardStack[];
  readonly hubStack: HubStack | undefined;
  readonly memberStack: MemberStack | undefined;
  readonly orgRolloutStack: OrgRolloutStack | undefined;
  /** Every stack, in the order they deploy. */
  readonly stacks: readonly Stack[];
}

/** The stack name of the standalone stack of a region. */
export function guardStackName(region: string): string {
  return `VpcGuard-${region}`;
}

/**
 * Adds the stacks a configuration asks for to `app`:
 *
 * - standalone: `VpcGuard-<region>` in each region (the account from the configuration, else the
 *   deploying credentials');
 * - hub: `VpcGuardHub` in the hub account and region, `VpcGuardOrgRollout` (the StackSet) in the
 *   rollout account and region, and the member template in its own stage, `VpcGuardMemberTemplate`,
 *   which the StackSet deploys (never `cdk deploy`).
 */
export function addDeployment(app: Construct, config: DeploymentConfig): Deployment {
  if (config.mode === 'standalone') {
    const guardStacks = config.regions.map(
      (region) =>
        new GuardStack(app, guardStackName(region), {
          stackName: guardStackName(region),
          description: `vpc-guard standalone (${region}): keeps this account's VPCs compliant`,
          env: { account: config.account, region },
          config,
        }),
    );
    return {
      guardStacks,
      hubStack: undefined,
      memberStack: undefined,
      orgRolloutStack: undefined,
      stacks: guardStacks,
    };
  }
  const hub = config.hub!;
  const hubStack = new HubStack(app, 'VpcGuardHub', {
    stackName: 'VpcGuardHub',
    description: 'vpc-guard hub: functions, central event bus, organization Config rule, findings',
    env: { account: hub.account, region: hub.region },
    config,
  });
  const member = synthesizeMemberTemplate(app, {
    hub,
    securityHub: config.securityHub,
    releaseElasticIps: config.releaseElasticIps,
  });
  const orgRolloutStack = new OrgRolloutStack(app, 'VpcGuardOrgRollout', {
    stackName: 'VpcGuardOrgRollout',
    description: 'vpc-guard organization rollout: the member StackSet over the target OUs',
    env: { account: hub.rollout.account, region: hub.rollout.region },
    hub,
    regions: config.regions,
    memberTemplate: member.template,
  });
  // Members forward events to the hub bus and are assumed by the hub roles: deploy the hub first.
  orgRolloutStack.addStackDependency(hubStack, 'member accounts forward events to the hub bus');
  return {
    guardStacks: [],
    hubStack,
    memberStack: member.stack,
    orgRolloutStack,
    stacks: [hubStack, orgRolloutStack],
  };
}
