import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { addDeployment, type Deployment } from './deployment';
import { loadDeploymentConfig } from './deployment-config';
import { addNagChecks } from './nag';
import { INFRA_DIR, loadCdkJsonContext } from './paths';

/** The configuration used when none is named. */
export const DEFAULT_CONFIG_FILE = resolve(INFRA_DIR, 'deployment.json');

/** The examples, synthesized when there is no infra/deployment.json: every kind of stack. */
export const EXAMPLE_CONFIG_FILES = [
  resolve(INFRA_DIR, 'deployment.standalone.example.json'),
  resolve(INFRA_DIR, 'deployment.example.json'),
] as const;

/**
 * The configuration files to deploy: those named (comma-separated, relative to `cwd`), else
 * infra/deployment.json, else both examples.
 */
export function configFiles(named: unknown, cwd: string = process.cwd()): string[] {
  if (typeof named === 'string' && named.trim() !== '') {
    return named
      .split(',')
      .map((file) => file.trim())
      .filter((file) => file !== '')
      .map((file) => resolve(cwd, file));
  }
  return existsSync(DEFAULT_CONFIG_FILE) ? [DEFAULT_CONFIG_FILE] : [...EXAMPLE_CONFIG_FILES];
}

/** Options of {@link createVpcGuardApp}. */
export interface VpcGuardAppOptions {
  /** Context on top of infra/cdk.json's (the CLI adds its own through CDK_CONTEXT_JSON). */
  readonly context?: Readonly<Record<string, unknown>>;
  /** @default - CDK_OUTDIR, else infra/cdk.out */
  readonly outdir?: string;
  /** Where VPC_GUARD_DEPLOYMENT is read. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The vpc-guard CDK app: cdk.json's feature flags, cdk-nag on every synth, and the stacks of the
 * deployment configuration(s) named by the `config` context (`cdk synth -c config=deployment.json`)
 * or VPC_GUARD_DEPLOYMENT.
 *
 * @throws InputValidationError when a configuration is missing or invalid (nothing is synthesized).
 */
export function createVpcGuardApp(options: VpcGuardAppOptions = {}): {
  app: App;
  deployments: Deployment[];
} {
  const env = options.env ?? process.env;
  const app = new App({
    // Synthesized by the caller, never at process exit: a rejected configuration writes nothing.
    autoSynth: false,
    context: { ...loadCdkJsonContext(), ...options.context },
    outdir: options.outdir ?? env['CDK_OUTDIR'] ?? resolve(INFRA_DIR, 'cdk.out'),
  });
  addNagChecks(app);
  const named: unknown = app.node.tryGetContext('config') ?? env['VPC_GUARD_DEPLOYMENT'];
  const deployments = configFiles(named).map((file) =>
    addDeployment(app, loadDeploymentConfig(file)),
  );
  return { app, deployments };
}
