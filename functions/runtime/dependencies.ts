import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import {
  ENDPOINT_MUTATION_BUCKET,
  FindingsStore,
  RateLimiterRegistry,
  VpcGuardError,
  assumeRoleCredentials,
  awsErrorCode,
  createEc2Client,
  createOrganizationsClient,
  describeAwsError,
  partitionOf,
  type AssumeRoleOptions,
  type AwsTarget,
  type GuardPolicy,
} from '@vpc-guard/shared';
import { loadConfigAtColdStart } from './cold-start';
import type { FunctionName, PolicySource, RuntimeConfig } from './config';
import { tracer } from './observability';
import { PolicyCache, readPolicyText } from './policy-source';

/**
 * What the functions need from outside: AWS clients (created once per cold start and reused by every
 * invocation of the container), the policy, the kill switch and the clock, as one `deps` object. In hub
 * mode every client about an account uses that account's member role.
 */

/** The kill switch as read right now. `on` stops every remediation write. */
export interface KillSwitch {
  readonly state: 'on' | 'off' | 'not-configured';
  /** Why, for records and logs. */
  readonly detail: string;
}

/** The dependencies of the pipeline functions (config-rule, api-event, sweep). */
export interface Dependencies {
  readonly config: RuntimeConfig;
  readonly clock: () => Date;
  /** EC2 of an account and region: the function's own credentials, or the member role in hub mode. */
  readonly ec2For: (accountId: string, region: string) => EC2Client;
  /** AWS Config of an account and region (PutEvaluations must use the rule account's credentials). */
  readonly configServiceFor: (accountId: string, region: string) => ConfigServiceClient;
  /** Security Hub of an account and region (the default product imports only the caller's findings). */
  readonly securityHubFor: (accountId: string, region: string) => SecurityHubClient;
  /** Credentials for an account: the member role in hub mode, undefined (own) in standalone mode. */
  readonly credentialsFor: (accountId: string) => AwsCredentialIdentityProvider | undefined;
  readonly sns: SNSClient;
  readonly eventBridge: EventBridgeClient;
  /** Null when FINDINGS_TABLE is not set (the config rule then only reports to Config). */
  readonly findings: FindingsStore | null;
  readonly organizations: () => OrganizationsClient;
  /** The policy (the configured source unless another is named), cached for POLICY_CACHE_SECONDS. */
  readonly policy: (source?: PolicySource) => Promise<GuardPolicy>;
  /** Reads the kill switch now: never cached, so flipping it takes effect on the next write. */
  readonly killSwitch: () => Promise<KillSwitch>;
  /** Who acts in an account, for remediation records. */
  readonly identity: (accountId: string, invokedFunctionArn: string) => string;
  /** Endpoint mutations per account-region, shared by all invocations of the container. */
  readonly endpointLimiter: RateLimiterRegistry;
}

/** Replaceable parts, for tests, benchmarks and `vpc-guard invoke`. */
export interface DependencyOverrides {
  /** @default - the shared EC2 client factory (adaptive retries; honours AWS_ENDPOINT_URL) */
  readonly ec2Client?: (target: AwsTarget) => EC2Client;
  /** @default assumeRoleCredentials (STS AssumeRole, session name vpc-guard) */
  readonly assumeRole?: (options: AssumeRoleOptions) => AwsCredentialIdentityProvider;
  /** @default - the system clock */
  readonly clock?: () => Date;
  /** @default - fetch, for the S3 policy source */
  readonly fetch?: typeof fetch;
  /** @default - EC2's endpoint bucket (4 burst, 0.3 per second) per account-region */
  readonly endpointLimiter?: RateLimiterRegistry;
}

/** The external id or the kill switch could not be read (an SSM failure), with its AWS cause. */
export class ParameterReadError extends VpcGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ParameterReadError';
  }
}

/** Instruments an SDK client for X-Ray (a no-op outside Lambda). */
function traced<Client extends object>(client: Client): Client {
  return tracer.captureAWSv3Client(client);
}

/** One value per key, created on first use. */
function memo<T>(create: (key: string) => T): (key: string) => T {
  const values = new Map<string, T>();
  return (key) => {
    let value = values.get(key);
    if (value === undefined) {
      value = create(key);
      values.set(key, value);
    }
    return value;
  };
}

/** Builds the pipeline functions' dependencies for one cold start. Clients are made on first use. */
export function createDependencies(
  config: RuntimeConfig,
  overrides: DependencyOverrides = {},
): Dependencies {
  const clock = overrides.clock ?? (() => new Date());
  const region = config.region;
  let ssm: SSMClient | undefined;
  const ssmClient = () => (ssm ??= traced(new SSMClient({ region })));

  const readParameter = async (name: string, what: string): Promise<string | undefined> => {
    try {
      const output = await ssmClient().send(
        new GetParameterCommand({ Name: name, WithDecryption: true }),
      );
      return output.Parameter?.Value;
    } catch (error) {
      if (awsErrorCode(error) === 'ParameterNotFound') return undefined;
      throw new ParameterReadError(`${what} ${name}: ${describeAwsError(error)}`, {
        cause: error,
      });
    }
  };

  // The external id is read once per cold start; a failed read is retried by the next caller.
  let externalId: Promise<string> | undefined;
  const readExternalId = (): Promise<string> => {
    const name = config.externalIdParameter;
    if (name === null)
      return Promise.reject(new ParameterReadError('EXTERNAL_ID_PARAMETER is not set'));
    externalId ??= readParameter(name, 'external id parameter').then((value) => {
      if (value === undefined || value.trim() === '') {
        throw new ParameterReadError(`external id parameter ${name} does not exist or is empty`);
      }
      return value.trim();
    });
    externalId.catch(() => {
      externalId = undefined;
    });
    return externalId;
  };

  const assumeRole = overrides.assumeRole ?? assumeRoleCredentials;
  // One credential provider per account, shared by all its regions' clients (one AssumeRole).
  const memberCredentials = memo<AwsCredentialIdentityProvider>((accountId) => {
    let provider: AwsCredentialIdentityProvider | undefined;
    return async (properties) => {
      provider ??= assumeRole({
        roleArn: `arn:${partitionOf(region)}:iam::${accountId}:role/${config.memberRoleName}`,
        externalId: await readExternalId(),
        region,
      });
      return provider(properties);
    };
  });
  const credentialsFor = (accountId: string) =>
    config.mode === 'hub' ? memberCredentials(accountId) : undefined;

  const ec2Client =
    overrides.ec2Client ??
    ((target: AwsTarget) =>
      createEc2Client({
        region: target.region,
        ...(target.credentials ? { credentials: target.credentials } : {}),
      }));
  const clientOptions = (key: string) => {
    const [accountId = '', clientRegion = region] = key.split('/');
    const credentials = credentialsFor(accountId);
    return { region: clientRegion, ...(credentials ? { credentials } : {}) };
  };
  const ec2 = memo((key) => {
    const { region: targetRegion, credentials } = clientOptions(key);
    const [accountId = ''] = key.split('/');
    return traced(
      ec2Client({ accountId, region: targetRegion, ...(credentials ? { credentials } : {}) }),
    );
  });
  const configService = memo((key) => traced(new ConfigServiceClient(clientOptions(key))));
  const securityHub = memo((key) => traced(new SecurityHubClient(clientOptions(key))));

  let sns: SNSClient | undefined;
  let eventBridge: EventBridgeClient | undefined;
  let findings: FindingsStore | null | undefined;
  let organizations: OrganizationsClient | undefined;
  const policies = new PolicyCache({
    read: (source) =>
      readPolicyText(source, {
        ssm: ssmClient,
        region,
        s3EndpointUrl: config.s3EndpointUrl,
        ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
      }),
    ttlSeconds: config.policyCacheSeconds,
    clock: () => clock().getTime(),
  });
  const endpointLimiter =
    overrides.endpointLimiter ?? new RateLimiterRegistry(ENDPOINT_MUTATION_BUCKET);

  return {
    config,
    clock,
    ec2For: (accountId, targetRegion) => ec2(`${accountId}/${targetRegion}`),
    configServiceFor: (accountId, targetRegion) => configService(`${accountId}/${targetRegion}`),
    securityHubFor: (accountId, targetRegion) => securityHub(`${accountId}/${targetRegion}`),
    credentialsFor,
    get sns() {
      return (sns ??= traced(new SNSClient({ region })));
    },
    get eventBridge() {
      return (eventBridge ??= traced(new EventBridgeClient({ region })));
    },
    get findings() {
      if (findings === undefined) {
        findings =
          config.findingsTable === null
            ? null
            : new FindingsStore(
                DynamoDBDocumentClient.from(traced(new DynamoDBClient({ region })), {
                  marshallOptions: { removeUndefinedValues: true },
                }),
                { tableName: config.findingsTable, clock },
              );
      }
      return findings;
    },
    organizations: () => (organizations ??= traced(createOrganizationsClient(region))),
    policy: (source) => {
      const chosen = source ?? config.policySource;
      if (chosen === null) {
        return Promise.reject(new ParameterReadError('POLICY_SOURCE is not set for this function'));
      }
      return policies.get(chosen);
    },
    killSwitch: async () => {
      const name = config.killSwitchParameter;
      if (name === null) return { state: 'not-configured', detail: 'no kill switch configured' };
      const value = await readParameter(name, 'kill switch parameter');
      if (value === undefined) {
        // Configured but missing: someone meant to have a switch, so fail closed.
        return { state: 'on', detail: `kill switch ${name} does not exist: treated as on` };
      }
      const normalized = value.trim().toLowerCase();
      if (normalized === 'off') return { state: 'off', detail: `kill switch ${name} is off` };
      if (normalized === 'on') return { state: 'on', detail: `kill switch ${name} is on` };
      return {
        state: 'on',
        detail: `kill switch ${name} holds ${JSON.stringify(value.slice(0, 20))}, not "on" or "off": treated as on`,
      };
    },
    identity: (accountId, invokedFunctionArn) =>
      config.mode === 'hub'
        ? `arn:${partitionOf(region)}:sts::${accountId}:assumed-role/${config.memberRoleName}/vpc-guard (via ${invokedFunctionArn})`
        : invokedFunctionArn,
    endpointLimiter,
  };
}

/** The pipeline functions' dependencies from the environment, at cold start. */
export function dependenciesAtColdStart(functionName: FunctionName): Dependencies {
  return createDependencies(loadConfigAtColdStart(functionName));
}
