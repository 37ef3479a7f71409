import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import {
  AccountMismatchError,
  ENDPOINT_MUTATION_BUCKET,
  FindingsStore,
  KmsRecordSigner,
  RateLimiterRegistry,
  VpcGuardError,
  assumeRoleCredentials,
  awsErrorCode,
  createEc2Client,
  createOrganizationsClient,
  describeAwsError,
  getCallerIdentity,
  partitionOf,
  type AssumeRoleOptions,
  type AwsTarget,
  type CallerIdentity,
  type GuardPolicy,
  type MalformedFindingItem,
  type RecordSigner,
} from '@vpc-guard/shared';
import { createAccountScope } from './account-scope';
import { loadConfigAtColdStart } from './cold-start';
import type { PolicySource, RuntimeConfig } from './config';
import type { FunctionName } from './function-names';
import { METRIC, countMetric, logger, tracer } from './observability';
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
  /**
   * Credentials for an account: the member role in hub mode (checked with STS to belong to that
   * account before first use), undefined (own) in standalone mode.
   */
  readonly credentialsFor: (accountId: string) => AwsCredentialIdentityProvider | undefined;
  /** The account of the function's own credentials (STS GetCallerIdentity, once per cold start). */
  readonly ownAccount: () => Promise<string>;
  /**
   * The account the credentials used for `accountId` belong to, from STS: the function's own in
   * standalone mode, the member role's in hub mode. The collector refuses to label what they read
   * with any other account id.
   */
  readonly callerAccountFor: (accountId: string) => Promise<string>;
  /** Whether an account is in scope: the function's own (standalone), a member in scope (hub). */
  readonly accountInScope: (accountId: string) => Promise<boolean>;
  /** The accounts in scope of a hub, sorted (Organizations listings cached). */
  readonly accountsInScope: () => Promise<readonly string[]>;
  readonly sns: SNSClient;
  readonly eventBridge: EventBridgeClient;
  /** S3 in the function's own region: the sweep's run files (SWEEP_BUCKET). */
  readonly s3: S3Client;
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
  /**
   * Signs remediation records with the deployment's KMS HMAC key (RECORD_KEY_ARN); null when none
   * is configured, and then nothing is remediated.
   */
  readonly recordSigner: RecordSigner | null;
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
  /** @default - KMS GenerateMac with RECORD_KEY_ARN (none when it is not set) */
  readonly recordSigner?: RecordSigner | null;
  /**
   * Whose credentials these are (the function's own when undefined).
   * @default - STS GetCallerIdentity with those credentials
   */
  readonly callerIdentity?: (
    credentials: AwsCredentialIdentityProvider | undefined,
  ) => Promise<CallerIdentity>;
}

/** The external id or the kill switch could not be read (an SSM failure), with its AWS cause. */
export class ParameterReadError extends VpcGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ParameterReadError';
  }
}

/** A findings item that failed validation is skipped by the store: say so, and count it. */
function reportMalformedFinding(item: MalformedFindingItem): void {
  logger.warn('malformed findings item skipped', { ...item });
  countMetric(METRIC.findingsMalformed);
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

  const callerIdentity =
    overrides.callerIdentity ??
    ((credentials: AwsCredentialIdentityProvider | undefined) =>
      getCallerIdentity(
        traced(
          new STSClient({
            region,
            retryMode: 'adaptive',
            maxAttempts: 5,
            ...(credentials ? { credentials } : {}),
          }),
        ),
      ));
  // Asked once per cold start; a failed call is not kept, so the next event asks again.
  let own: Promise<string> | undefined;
  const ownAccount = (): Promise<string> => {
    own ??= callerIdentity(undefined).then((identity) => identity.accountId);
    own.catch(() => {
      own = undefined;
    });
    return own;
  };

  const assumeRole = overrides.assumeRole ?? assumeRoleCredentials;
  // One credential provider per account, shared by all its regions' clients (one AssumeRole). Before
  // their first use, STS says whose they are: credentials of any other account are refused, so
  // nothing read with them is ever labelled with the account asked for.
  const memberCredentials = memo<AwsCredentialIdentityProvider>((accountId) => {
    let provider: AwsCredentialIdentityProvider | undefined;
    const assumed: AwsCredentialIdentityProvider = async (properties) => {
      provider ??= assumeRole({
        roleArn: `arn:${partitionOf(region)}:iam::${accountId}:role/${config.memberRoleName}`,
        externalId: await readExternalId(),
        region,
      });
      return provider(properties);
    };
    let verified: Promise<void> | undefined;
    return async (properties) => {
      verified ??= callerIdentity(assumed).then((identity) => {
        if (identity.accountId !== accountId) {
          throw new AccountMismatchError(
            `the member role assumed for account ${accountId} returned credentials of account ${identity.accountId} (${identity.arn}): refused`,
          );
        }
      });
      verified.catch(() => {
        verified = undefined;
      });
      await verified;
      return assumed(properties);
    };
  });
  const credentialsFor = (accountId: string) =>
    config.mode === 'hub' ? memberCredentials(accountId) : undefined;
  const callerAccountFor = async (accountId: string): Promise<string> => {
    if (config.mode === 'standalone') return ownAccount();
    // Resolving the member credentials verifies them: past this point they are the account's.
    await memberCredentials(accountId)();
    return accountId;
  };
  const scope = createAccountScope({
    memberAccounts: config.memberAccounts,
    targetOrganizationalUnits: config.targetOrganizationalUnits,
    excludedAccounts: config.excludedAccounts,
    organizations: () => organizationsClient(),
    cacheSeconds: config.scopeCacheSeconds,
    clock: () => clock().getTime(),
  });

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
  let s3: S3Client | undefined;
  let findings: FindingsStore | null | undefined;
  let organizations: OrganizationsClient | undefined;
  function organizationsClient(): OrganizationsClient {
    return (organizations ??= traced(createOrganizationsClient(region)));
  }
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
  let recordSigner: RecordSigner | null | undefined = overrides.recordSigner;

  return {
    config,
    clock,
    ec2For: (accountId, targetRegion) => ec2(`${accountId}/${targetRegion}`),
    configServiceFor: (accountId, targetRegion) => configService(`${accountId}/${targetRegion}`),
    securityHubFor: (accountId, targetRegion) => securityHub(`${accountId}/${targetRegion}`),
    credentialsFor,
    ownAccount,
    callerAccountFor,
    accountInScope: async (accountId) =>
      config.mode === 'standalone' ? accountId === (await ownAccount()) : scope.includes(accountId),
    accountsInScope: async () =>
      config.mode === 'standalone' ? [await ownAccount()] : scope.accounts(),
    get sns() {
      return (sns ??= traced(new SNSClient({ region })));
    },
    get eventBridge() {
      return (eventBridge ??= traced(new EventBridgeClient({ region })));
    },
    get s3() {
      return (s3 ??= traced(new S3Client({ region })));
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
                {
                  tableName: config.findingsTable,
                  clock,
                  onMalformedItem: reportMalformedFinding,
                },
              );
      }
      return findings;
    },
    organizations: organizationsClient,
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
    get recordSigner() {
      if (recordSigner === undefined) {
        recordSigner =
          config.recordKeyArn === null
            ? null
            : new KmsRecordSigner(traced(new KMSClient({ region })), config.recordKeyArn);
      }
      return recordSigner;
    },
  };
}

/** The pipeline functions' dependencies from the environment, at cold start. */
export function dependenciesAtColdStart(functionName: FunctionName): Dependencies {
  return createDependencies(loadConfigAtColdStart(functionName));
}
