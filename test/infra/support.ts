import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { loadRuntimeConfig } from '../../functions/runtime/config';
import type { FunctionName } from '../../functions/runtime/function-names';
import { parseGuardPolicy } from '@vpc-guard/shared';
import {
  BUNDLED_POLICY_FILE,
  parseDeploymentConfig,
  type DeploymentConfig,
  type DeploymentConfigInput,
} from '../../infra/lib/deployment-config';
import { addNagChecks } from '../../infra/lib/nag';
import { INFRA_DIR, loadCdkJsonContext } from '../../infra/lib/paths';

/** Shared set-up of the infra tests: apps with cdk.json's flags, example configs, IAM walkers. */

/** Options of {@link createTestApp}. */
export interface TestAppOptions {
  /** Run the real bundling (esbuild). @default false */
  readonly bundle?: boolean;
  /**
   * CDK's built-in CloudFormation schema validation: about 3 s of WASM start-up per process. The
   * app test runs it over every stack; the per-stack tests leave it out. @default false
   */
  readonly cloudFormationValidation?: boolean;
  /** @default - a temporary directory */
  readonly outdir?: string;
}

/** An App with infra/cdk.json's context and cdk-nag, bundling skipped unless asked for. */
export function createTestApp(options: TestAppOptions = {}): App {
  const app = new App({
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
    context: {
      ...loadCdkJsonContext(),
      // As under the CLI (without --debug): no construct stack traces, which make synth slow.
      'aws:cdk:disable-stack-trace': true,
      // No bundling in template tests: the bundling test runs it once, for real.
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  addNagChecks(app);
  return app;
}

/** The example configuration files, as JSON. */
export const EXAMPLE_FILES = {
  standalone: resolve(INFRA_DIR, 'deployment.standalone.example.json'),
  hub: resolve(INFRA_DIR, 'deployment.example.json'),
} as const;

/**
 * An organization id only the tests use. Synth refuses the organization id the examples ship with, so
 * the tests deploy the examples as a newcomer would after editing them: with an organization of
 * their own.
 */
export const TEST_ORGANIZATION_ID = 'o-vpcguardtest1';

/** An example configuration, with the test organization and fields replaced (undefined removes). */
export function exampleConfig(
  kind: keyof typeof EXAMPLE_FILES,
  overrides: Partial<Record<keyof DeploymentConfigInput, unknown>> = {},
): DeploymentConfig {
  return parseDeploymentConfig(exampleInput(kind, overrides), {
    source: `${kind} example`,
    baseDir: INFRA_DIR,
  });
}

/** The JSON of an example configuration file exactly as it ships. */
export function shippedExampleInput(kind: keyof typeof EXAMPLE_FILES): Record<string, unknown> {
  return JSON.parse(readFileSync(EXAMPLE_FILES[kind], 'utf8')) as Record<string, unknown>;
}

/** The policy file an example configuration names (the bundled default when it names none). */
export function shippedExamplePolicyFile(kind: keyof typeof EXAMPLE_FILES): string {
  const policy = shippedExampleInput(kind)['policy'] as { file?: string } | undefined;
  return policy?.file === undefined ? BUNDLED_POLICY_FILE : resolve(INFRA_DIR, policy.file);
}

const testPolicyFiles = new Map<string, string>();

/**
 * The policy an example names, copied with {@link TEST_ORGANIZATION_ID} in place of the example's
 * organization (written once per process).
 */
export function testPolicyFile(kind: keyof typeof EXAMPLE_FILES): string {
  const source = shippedExamplePolicyFile(kind);
  const known = testPolicyFiles.get(source);
  if (known !== undefined) return known;
  const text = readFileSync(source, 'utf8');
  const exampleOrganization = parseGuardPolicy(text, source).organization.id;
  const file = join(mkdtempSync(join(tmpdir(), 'vpc-guard-test-policy-')), 'policy.yaml');
  writeFileSync(file, text.replaceAll(exampleOrganization, TEST_ORGANIZATION_ID));
  testPolicyFiles.set(source, file);
  return file;
}

/**
 * The JSON of an example configuration, made deployable with the test organization (its policy a
 * copy naming {@link TEST_ORGANIZATION_ID}), with fields replaced or removed.
 */
export function exampleInput(
  kind: keyof typeof EXAMPLE_FILES,
  overrides: Partial<Record<keyof DeploymentConfigInput, unknown>> = {},
): Record<string, unknown> {
  const data = shippedExampleInput(kind);
  const policy = (data['policy'] ?? { source: 'ssm' }) as Record<string, unknown>;
  if (policy['source'] === 'ssm') data['policy'] = { ...policy, file: testPolicyFile(kind) };
  if (data['mode'] === 'hub') data['organizationId'] = TEST_ORGANIZATION_ID;
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete data[key];
    else data[key] = value;
  }
  return data;
}

/** Every unacknowledged cdk-nag finding under `scope`, as `rule at construct-path` lines. */
export function nagFindings(scope: IConstruct): string[] {
  const findings: string[] = [];
  for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
    for (const violation of pack.validateScope(scope).violations) {
      for (const resource of violation.violatingResources) {
        findings.push(`${violation.ruleName} at ${resource.constructPath ?? '?'}`);
      }
    }
  }
  return findings;
}

/** A CloudFormation template as JSON. */
export type TemplateJson = { Resources: Record<string, CfnResourceJson> } & Record<string, unknown>;
export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
}

/** An IAM policy statement as it appears in a template. */
export interface StatementJson {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** Where a statement lives: the resource, its type, and (identity policies) the roles it applies to. */
export interface LocatedStatement {
  readonly logicalId: string;
  readonly type: string;
  /** Logical ids of the roles an identity policy is attached to (a role's own policies: itself). */
  readonly roles: readonly string[];
  readonly kind: 'identity' | 'trust' | 'resource';
  readonly statement: StatementJson;
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function statementsOf(document: unknown): StatementJson[] {
  return asArray((document as { Statement?: StatementJson | StatementJson[] })?.Statement);
}

/**
 * Every IAM statement of a template: role trust and inline policies, identity policies, and the
 * resource policies of keys, queues, topics and event buses.
 */
export function allStatements(template: TemplateJson): LocatedStatement[] {
  const located: LocatedStatement[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    const add = (kind: LocatedStatement['kind'], document: unknown, roles: string[] = []) => {
      for (const statement of statementsOf(document)) {
        located.push({ logicalId, type: resource.Type, roles, kind, statement });
      }
    };
    switch (resource.Type) {
      case 'AWS::IAM::Role':
        add('trust', props['AssumeRolePolicyDocument'], [logicalId]);
        for (const policy of asArray(props['Policies'] as { PolicyDocument: unknown }[])) {
          add('identity', policy.PolicyDocument, [logicalId]);
        }
        break;
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
        add(
          'identity',
          props['PolicyDocument'],
          asArray(props['Roles'] as { Ref: string }[]).map((role) => role.Ref),
        );
        break;
      case 'AWS::KMS::Key':
        add('resource', props['KeyPolicy']);
        break;
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::SNS::TopicPolicy':
        add('resource', props['PolicyDocument']);
        break;
      case 'AWS::Events::EventBusPolicy':
        located.push({
          logicalId,
          type: resource.Type,
          roles: [],
          kind: 'resource',
          statement: props['Statement'] as StatementJson,
        });
        break;
      default:
        break;
    }
  }
  return located;
}

/** The actions of a statement. */
export function actionsOf(statement: StatementJson): string[] {
  return asArray(statement.Action);
}

/** Logical ids of the resources of one type. */
export function logicalIdsOf(template: TemplateJson, type: string): string[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id]) => id);
}

/** The one logical id of a type whose id starts with `prefix` (CDK appends a hash). */
export function logicalIdOf(template: TemplateJson, type: string, prefix: string): string {
  const ids = logicalIdsOf(template, type).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) {
    throw new Error(`expected one ${type} named ${prefix}*, found ${ids.join(', ') || 'none'}`);
  }
  return ids[0]!;
}

/**
 * Values that stand in for CloudFormation intrinsics in a function's environment, so the variables
 * can be checked the way the function checks them at cold start.
 */
export function resolveEnvironmentForTest(
  variables: Record<string, unknown>,
): Record<string, string> {
  const standIns: Record<string, string> = {
    FINDINGS_TABLE: 'vpc-guard-findings',
    TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:vpc-guard-findings',
    EVENT_BUS_NAME: 'vpc-guard',
    OWN_ROLE_ARNS:
      'arn:aws:iam::111111111111:role/vpc-guard-remediation,arn:aws:iam::111111111111:role/vpc-guard-evaluation',
    REGIONS: 'us-east-1',
    SWEEP_BUCKET: 'vpc-guard-sweep-runs',
    RECORD_KEY_ARN: 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    SLACK_SECRET_ARN:
      'arn:aws:secretsmanager:us-east-1:111111111111:secret:vpc-guard/slack-webhook',
  };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value === 'string') env[name] = value;
    else if (standIns[name] !== undefined) env[name] = standIns[name];
    else
      throw new Error(`no stand-in for the intrinsic value of ${name}: ${JSON.stringify(value)}`);
  }
  return env;
}

/** The four functions and the logical-id prefix of each in the templates. */
export const GUARD_FUNCTIONS: readonly (readonly [FunctionName, string])[] = [
  ['config-rule', 'GuardConfigRule'],
  ['api-event', 'GuardApiEvent'],
  ['sweep', 'GuardSweep'],
  ['slack-notifier', 'GuardSlackNotifier'],
];

/**
 * Each function's environment in a template, run through the validation the function itself runs at
 * cold start (functions/runtime/config.ts), intrinsics replaced by stand-ins.
 */
export function runtimeConfigsOf(
  template: TemplateJson,
): { name: FunctionName; config: ReturnType<typeof loadRuntimeConfig> }[] {
  return GUARD_FUNCTIONS.map(([name, prefix]) => {
    const id = logicalIdOf(template, 'AWS::Lambda::Function', prefix);
    const { Variables } = template.Resources[id]!.Properties!['Environment'] as {
      Variables: Record<string, unknown>;
    };
    const config = loadRuntimeConfig(name, {
      AWS_REGION: 'us-east-1',
      ...resolveEnvironmentForTest(Variables),
    });
    return { name, config };
  });
}

/**
 * Statements that name an action with `*`. vpc-guard allows none; the only ones are the TLS guards of
 * queues (`sqs:*` denied without aws:SecureTransport), which cdk-nag's SQS4 requires in that form.
 */
export function wildcardActionStatements(template: TemplateJson): LocatedStatement[] {
  return allStatements(template).filter((located) =>
    actionsOf(located.statement).some((action) => action.includes('*')),
  );
}

/** True for a statement that only denies requests made without TLS. */
export function isTlsGuard(statement: StatementJson): boolean {
  const secureTransport = statement.Condition?.['Bool']?.['aws:SecureTransport'];
  return statement.Effect === 'Deny' && (secureTransport === 'false' || secureTransport === false);
}
