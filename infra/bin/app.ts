import { InputValidationError } from '@vpc-guard/shared';
import { createVpcGuardApp } from '../lib/app';

/**
 * The CDK app entry (infra/cdk.json runs it with tsx). Which stacks: the deployment configuration
 * named by `-c config=FILE` (comma-separated for several) or VPC_GUARD_DEPLOYMENT; by default
 * infra/deployment.json, or both examples when there is none. A bad configuration stops here, before
 * anything is synthesized, with the field, what was received and what was expected.
 */
try {
  createVpcGuardApp().app.synth();
} catch (error) {
  if (!(error instanceof InputValidationError)) throw error;
  process.stderr.write(`vpc-guard deployment configuration rejected:\n${error.message}\n`);
  process.exitCode = 1;
}
