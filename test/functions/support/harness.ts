import { readFileSync } from 'node:fs';
import {
  ConfigServiceClient,
  GetComplianceDetailsByConfigRuleCommand,
  GetResourceConfigHistoryCommand,
  PutEvaluationsCommand,
} from '@aws-sdk/client-config-service';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BatchImportFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { AssumeRoleOptions, CallerIdentity, NetworkSnapshotInput } from '@vpc-guard/shared';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context } from 'aws-lambda';
import { parse as parseYaml } from 'yaml';
import { loadRuntimeConfig, type RuntimeConfig } from '../../../functions/runtime/config';
import type { FunctionName } from '../../../functions/runtime/function-names';
import {
  createDependencies,
  type Dependencies,
  type DependencyOverrides,
} from '../../../functions/runtime/dependencies';
import { createLocalContext } from '../../../functions/runtime/local-context';
import { TEST_RECORD_SIGNER } from '../../support/record-key';
import { SimulatedAccount, type SimulatedAccountOptions } from '../../support/simulated-ec2';
import { FakeFindingsTable } from './fake-table';

/**
 * What every function test runs against: the simulated EC2 account (the small account fixture by
 * default) for EC2, aws-sdk-client-mock for everything else, with answers shaped like AWS's, and the
 * functions' own dependency wiring on top. Mocks are module singletons: reset them in `afterEach`.
 */

export const ACCOUNT = '111111111111';
export const REGION = 'us-east-1';
export const VPC = 'vpc-0aa00000000000001';
export const SANDBOX_VPC = 'vpc-0bb00000000000002';
export const NOW = new Date('2026-11-20T10:00:00.000Z');
export const TABLE = 'vpc-guard-findings';
export const TOPIC = 'arn:aws:sns:us-east-1:111111111111:vpc-guard-findings';
export const POLICY_PARAMETER = '/vpc-guard/policy';
export const KILL_SWITCH_PARAMETER = '/vpc-guard/kill-switch';
export const EXTERNAL_ID_PARAMETER = '/vpc-guard/external-id';

const FIXTURES = new URL('../../fixtures/', import.meta.url);

/** The environment the functions run with in the tests (what the CDK stack sets). */
export const TEST_ENVIRONMENT: Readonly<Record<string, string>> = {
  AWS_REGION: REGION,
  POLICY_SOURCE: `ssm:${POLICY_PARAMETER}`,
  POLICY_CACHE_SECONDS: '300',
  FINDINGS_TABLE: TABLE,
  TOPIC_ARN: TOPIC,
  EVENT_BUS_NAME: 'vpc-guard',
  SECURITY_HUB: 'on',
  OWN_ROLE_ARNS: 'arn:aws:iam::*:role/vpc-guard-*',
  KILL_SWITCH_PARAMETER,
  RECORD_KEY_ARN: 'alias/vpc-guard-records',
  CONFIG_RULE_NAME: 'vpc-guard',
  SLACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:vpc-guard/slack-AbCdEf',
};

/** An event fixture from test/fixtures/events, parsed as JSON. */
export function loadEvent(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`events/${path}`, FIXTURES), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** A fixture file's text. */
export function fixtureText(path: string): string {
  return readFileSync(new URL(path, FIXTURES), 'utf8');
}

/**
 * A YAML policy as the stack publishes it to the SSM parameter: its data as compact JSON, not
 * validated (tests feed invalid policies too), since the functions read JSON only.
 */
export function policyJson(yaml: string): string {
  return JSON.stringify(parseYaml(yaml));
}

/** The small simulated account: two VPCs in 111111111111/us-east-1, one badly non-compliant. */
export function smallAccount(): NetworkSnapshotInput {
  return JSON.parse(fixtureText('simulated/small-account.json')) as NetworkSnapshotInput;
}

/** The AWS mocks (module singletons; aws-sdk-client-mock patches each client class once). */
export const mocks = {
  sns: mockClient(SNSClient),
  securityHub: mockClient(SecurityHubClient),
  config: mockClient(ConfigServiceClient),
  eventBridge: mockClient(EventBridgeClient),
  ssm: mockClient(SSMClient),
  ddb: mockClient(DynamoDBDocumentClient),
  secrets: mockClient(SecretsManagerClient),
  /** STS, for the functions' real dependencies (the harness answers GetCallerIdentity itself). */
  sts: mockClient(STSClient),
};

/** Resets every mock: call in `afterEach`. */
export function resetMocks(): void {
  for (const mock of Object.values(mocks)) mock.reset();
}

/**
 * STS GetCallerIdentity as the tests' accounts answer it: the function's own credentials belong to
 * {@link ACCOUNT}; assumed credentials to the account they carry.
 */
export async function simulatedCallerIdentity(
  credentials: AwsCredentialIdentityProvider | undefined,
): Promise<CallerIdentity> {
  if (credentials === undefined) {
    return {
      accountId: ACCOUNT,
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/vpc-guard-function/fn`,
    };
  }
  const resolved = await credentials();
  if (resolved.accountId === undefined) throw new Error('simulated STS: credentials of no account');
  return {
    accountId: resolved.accountId,
    arn: `arn:aws:sts::${resolved.accountId}:assumed-role/VpcGuardMember/vpc-guard`,
  };
}

/** Options of {@link FunctionHarness}. */
export interface HarnessOptions {
  readonly functionName?: FunctionName;
  /**
   * A fixture under test/fixtures/events (`policy.yaml`, `policy-auto.yaml`) or YAML text, put into
   * the policy parameter as JSON ({@link policyJson}).
   */
  readonly policy?: string;
  /** Environment overrides; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The kill switch parameter's value; absent means the parameter does not exist. */
  readonly killSwitch?: string;
  readonly snapshots?: readonly NetworkSnapshotInput[];
  readonly account?: SimulatedAccountOptions;
  readonly overrides?: DependencyOverrides;
}

/** A function under test: its configuration, dependencies, the simulated account and the mocks. */
export class FunctionHarness {
  readonly account: SimulatedAccount;
  readonly table = new FakeFindingsTable(TABLE);
  readonly config: RuntimeConfig;
  readonly deps: Dependencies;
  readonly parameters = new Map<string, string>();
  /** Milliseconds added to every mocked AWS call (benchmarks). */
  latencyMs = 0;
  /** When each mocked call (not EC2, which the simulated account logs) started, for benchmarks. */
  readonly mockedCalls: { readonly service: string; readonly at: number }[] = [];

  constructor(options: HarnessOptions = {}) {
    const env: Record<string, string | undefined> = { ...TEST_ENVIRONMENT, ...options.env };
    this.config = loadRuntimeConfig(options.functionName ?? 'api-event', env);
    this.account = SimulatedAccount.fromSnapshots(options.snapshots ?? [smallAccount()], {
      pageSize: 50,
      ...options.account,
    });
    const policy = options.policy ?? 'policy.yaml';
    this.parameters.set(
      POLICY_PARAMETER,
      policyJson(policy.includes('\n') ? policy : fixtureText(`events/${policy}`)),
    );
    if (options.killSwitch !== undefined)
      this.parameters.set(KILL_SWITCH_PARAMETER, options.killSwitch);
    this.parameters.set(EXTERNAL_ID_PARAMETER, 'vpc-guard-external-id-42');
    const assumeRole = options.overrides?.assumeRole;
    this.deps = createDependencies(this.config, {
      ec2Client: (target) =>
        this.account.client({
          accountId: target.accountId,
          region: target.region,
          retryBackoff: 'none',
        }),
      clock: () => NOW,
      callerIdentity: simulatedCallerIdentity,
      // RECORD_KEY_ARN names the deployment's KMS key; the tests sign with the local test key.
      recordSigner: this.config.recordKeyArn === null ? null : TEST_RECORD_SIGNER,
      ...options.overrides,
      // STS's answer for a member role: the role's account, unless the test's credentials say otherwise.
      ...(assumeRole
        ? {
            assumeRole: (assumeOptions: AssumeRoleOptions) => {
              const provider = assumeRole(assumeOptions);
              const accountId = /^arn:[\w-]+:iam::(\d{12}):/.exec(assumeOptions.roleArn)?.[1];
              return async (properties) => {
                const credentials = await provider(properties);
                return credentials.accountId || accountId === undefined
                  ? credentials
                  : { ...credentials, accountId };
              };
            },
          }
        : {}),
    });
    this.installMocks();
  }

  private async delay(service: string): Promise<void> {
    this.mockedCalls.push({ service, at: Date.now() });
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
  }

  /** Default answers, shaped like AWS's. Tests override single commands after this. */
  installMocks(): void {
    this.table.install(mocks.ddb);
    mocks.ssm.on(GetParameterCommand).callsFake(async (input: { Name: string }) => {
      await this.delay('ssm');
      const value = this.parameters.get(input.Name);
      if (value === undefined) {
        throw new ParameterNotFound({
          message: `Parameter ${input.Name} not found.`,
          $metadata: {},
        });
      }
      return { Parameter: { Name: input.Name, Type: 'String', Value: value, Version: 1 } };
    });
    mocks.sns
      .on(PublishBatchCommand)
      .callsFake(async (input: { PublishBatchRequestEntries: { Id: string }[] }) => {
        await this.delay('sns');
        return {
          Successful: input.PublishBatchRequestEntries.map((entry) => ({
            Id: entry.Id,
            MessageId: `msg-${entry.Id}-${Math.random().toString(16).slice(2)}`,
          })),
          Failed: [],
        };
      });
    mocks.securityHub
      .on(BatchImportFindingsCommand)
      .callsFake(async (input: { Findings: unknown[] }) => {
        await this.delay('securityhub');
        return { SuccessCount: input.Findings.length, FailedCount: 0, FailedFindings: [] };
      });
    mocks.config.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    mocks.config.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [] });
    mocks.config.on(GetResourceConfigHistoryCommand).resolves({ configurationItems: [] });
    mocks.eventBridge.on(PutEventsCommand).callsFake(async (input: { Entries: unknown[] }) => {
      await this.delay('events');
      return {
        FailedEntryCount: 0,
        Entries: input.Entries.map((_, index) => ({ EventId: `event-${index}` })),
      };
    });
    mocks.secrets.on(GetSecretValueCommand).rejects(new Error('no secret configured in this test'));
  }

  /** A Lambda context for `functionName`. */
  context(functionName = `vpc-guard-${this.config.functionName}`): Context {
    return createLocalContext({ functionName, region: REGION, accountId: ACCOUNT });
  }

  /** EC2 calls that changed something (DryRun excluded). */
  ec2Writes() {
    return this.account.writes();
  }

  /** Every AWS write of any kind: EC2, DynamoDB, SNS, Security Hub, Config, EventBridge. */
  awsWrites(): number {
    return (
      this.ec2Writes().length +
      mocks.ddb.commandCalls(PutCommand).length +
      mocks.ddb.commandCalls(UpdateCommand).length +
      mocks.ddb.commandCalls(DeleteCommand).length +
      mocks.sns.commandCalls(PublishBatchCommand).length +
      mocks.securityHub.commandCalls(BatchImportFindingsCommand).length +
      mocks.config.commandCalls(PutEvaluationsCommand).length +
      mocks.eventBridge.commandCalls(PutEventsCommand).length
    );
  }
}

/**
 * A handler as Lambda calls it: with the raw event. (Middy types the wrapped handler with the parsed
 * event, since its parser middleware runs first; a test sends the raw JSON, as Lambda does.)
 */
export type RawHandler = (event: unknown, context: Context) => Promise<unknown>;

/** The handler `middy` built, as Lambda sees it. */
export function asRaw(handler: object): RawHandler {
  return handler as RawHandler;
}

/** Captured stdout and stderr (the logger's and metrics' output), muted while captured. */
export interface CapturedOutput {
  text(): string;
  /** The JSON log lines. */
  logs(): Record<string, unknown>[];
  restore(): void;
}

/** Captures everything written to stdout and stderr until `restore`. */
export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const stdout = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  const capture = (chunk: unknown) => {
    chunks.push(
      typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'),
    );
    return true;
  };
  process.stdout.write = capture;
  process.stderr.write = capture;
  return {
    text: () => chunks.join(''),
    logs: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            return {};
          }
        }),
    restore: () => {
      process.stdout.write = stdout;
      process.stderr.write = stderr;
    },
  };
}

/** How a handler run ended: what it returned or threw, and what it wrote meanwhile. */
export interface CapturedRun {
  readonly result?: unknown;
  readonly error?: unknown;
  readonly output: CapturedOutput;
}

/** Runs a handler on a raw event with its output captured; a failure is returned, not thrown. */
export async function runCapturingFailure(
  handler: object,
  event: unknown,
  context: Context,
): Promise<CapturedRun> {
  const output = captureOutput();
  try {
    return { result: await asRaw(handler)(event, context), output };
  } catch (error) {
    return { error, output };
  } finally {
    output.restore();
  }
}
