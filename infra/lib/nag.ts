import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * Registers cdk-nag's AwsSolutions and Serverless packs as validation plugins (cdk-nag v3), so every
 * synth of `app` fails on a finding that is not acknowledged. Acknowledgements live next to their
 * construct, with their reason: `Validations.of(construct).acknowledge({ id, reason })`.
 */
export function addNagChecks(app: IConstruct): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}
