import {
  ACCOUNT_ID_PATTERN,
  ConfigRuleNameSchema,
  EventBusNameOrArnSchema,
  IamRoleNameSchema,
  InputValidationError,
  KmsKeyReferenceSchema,
  ORGANIZATIONAL_UNIT_ID_PATTERN,
  ROLE_ARN_WILDCARD_PATTERN,
  RegionSchema,
  S3BucketNameSchema,
  S3_BUCKET_NAME_PATTERN,
  SSM_PARAMETER_NAME_PATTERN,
  SecretArnSchema,
  SnsTopicArnSchema,
  SsmParameterNameSchema,
  describeIssue,
  formatIssuePath,
  parseRegionSelection,
  type InputProblem,
  type RegionSelection,
} from '@vpc-guard/shared';
import * as z from 'zod';
import type { FunctionName } from './function-names';

/**
 * The environment of every vpc-guard function, validated once at cold start. This is the only module
 * that reads `process.env`: everything else gets a {@link RuntimeConfig}. A bad or missing setting fails
 * the cold start with a message naming the variable, instead of a wrong decision later.
 */

/** Where the policy is read from: an SSM parameter, an S3 object, or a file bundled with the function. */
export type PolicySource =
  | { readonly kind: 'ssm'; readonly name: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'file'; readonly path: string };

const POLICY_SOURCE_HINT =
  'expected "ssm:/parameter/name", "s3://bucket/key" or "file:path/to/policy.json"';

/** Parses `ssm:/name`, `s3://bucket/key` or `file:path`; undefined when the text is none of them. */
export function parsePolicySource(text: string): PolicySource | undefined {
  if (text.startsWith('ssm:')) {
    const name = text.slice('ssm:'.length);
    return SSM_PARAMETER_NAME_PATTERN.test(name) ? { kind: 'ssm', name } : undefined;
  }
  if (text.startsWith('s3://')) {
    const rest = text.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const key = slash < 0 ? '' : rest.slice(slash + 1);
    return S3_BUCKET_NAME_PATTERN.test(bucket) && key !== '' && key.length <= 1024
      ? { kind: 's3', bucket, key }
      : undefined;
  }
  if (text.startsWith('file:')) {
    const path = text.slice('file:'.length);
    return path.trim() === '' ? undefined : { kind: 'file', path };
  }
  return undefined;
}

/** The text form of a policy source, as `POLICY_SOURCE` takes it (for logs and cache keys). */
export function describePolicySource(source: PolicySource): string {
  switch (source.kind) {
    case 'ssm':
      return `ssm:${source.name}`;
    case 's3':
      return `s3://${source.bucket}/${source.key}`;
    case 'file':
      return `file:${source.path}`;
  }
}

/** A policy location, validated: the form `POLICY_SOURCE` and the Config rule's parameters take. */
export const PolicySourceSchema = z.string().transform((text, ctx) => {
  const source = parsePolicySource(text.trim());
  if (source === undefined) {
    ctx.addIssue({ code: 'custom', message: `${POLICY_SOURCE_HINT}, got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return source;
});

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

const onOff = z.enum(['on', 'off']).transform((value) => value === 'on');

const commaList = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

const integer = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);

/** Who vpc-guard's own changes come from, for the loop guard: role ARN patterns, `*` as wildcard. */
const RoleArnListSchema = z.string().transform((text, ctx) => {
  const items = commaList(text);
  const bad = items.filter((item) => !ROLE_ARN_WILDCARD_PATTERN.test(item));
  if (items.length === 0 || bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected comma-separated IAM role ARNs such as "arn:aws:iam::111111111111:role/VpcGuardApiEvent" (* as a wildcard), got ${JSON.stringify(bad[0] ?? text)}`,
    });
    return z.NEVER;
  }
  return items;
});

const MemberAccountsSchema = z.string().transform((text, ctx) => {
  if (text.trim() === 'organization') return { kind: 'organization' as const };
  const ids = commaList(text);
  if (ids.length === 0 || ids.some((id) => !ACCOUNT_ID_PATTERN.test(id))) {
    ctx.addIssue({
      code: 'custom',
      message: `expected "organization" or comma-separated 12-digit account ids, got ${JSON.stringify(text)}`,
    });
    return z.NEVER;
  }
  return { kind: 'list' as const, accountIds: [...new Set(ids)] };
});

/** Accounts a hub leaves out (never swept, their events ignored), comma-separated. */
const ExcludedAccountsSchema = z.string().transform((text, ctx) => {
  const ids = commaList(text);
  const bad = ids.find((id) => !ACCOUNT_ID_PATTERN.test(id));
  if (bad !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected comma-separated 12-digit account ids, got ${JSON.stringify(bad)}`,
    });
    return z.NEVER;
  }
  return [...new Set(ids)];
});

/** The OUs (or the root) whose accounts a hub admits, comma-separated. */
const TargetOusSchema = z.string().transform((text, ctx) => {
  const ids = commaList(text);
  const bad = ids.find((id) => !ORGANIZATIONAL_UNIT_ID_PATTERN.test(id));
  if (ids.length === 0 || bad !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected comma-separated OU ids such as "ou-ab12-cd34ef56" or the root id "r-ab12", got ${JSON.stringify(bad ?? text)}`,
    });
    return z.NEVER;
  }
  return [...new Set(ids)];
});

const RegionsSchema = z.string().transform((text, ctx): RegionSelection => {
  try {
    return parseRegionSelection(text, 'REGIONS');
  } catch (error) {
    if (!(error instanceof InputValidationError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.problems.map((p) => p.message).join('; ') });
    return z.NEVER;
  }
});

const HttpUrlSchema = z.url({ protocol: /^https?$/ });

/** The raw environment as Lambda (or `vpc-guard invoke`) sets it; every value is a string. */
const EnvironmentSchema = z.object({
  AWS_REGION: RegionSchema,
  POLICY_SOURCE: PolicySourceSchema.optional(),
  POLICY_CACHE_SECONDS: integer(0, 86_400, 300),
  FINDINGS_TABLE: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'expected a DynamoDB table name')
    .optional(),
  TOPIC_ARN: SnsTopicArnSchema.optional(),
  EVENT_BUS_NAME: EventBusNameOrArnSchema.default('default'),
  SECURITY_HUB: onOff.default(false),
  MODE: z.enum(['standalone', 'hub']).default('standalone'),
  MEMBER_ROLE_NAME: IamRoleNameSchema.default('VpcGuardMember'),
  EXTERNAL_ID_PARAMETER: SsmParameterNameSchema.optional(),
  MEMBER_ACCOUNTS: MemberAccountsSchema.default({ kind: 'organization' }),
  TARGET_OUS: TargetOusSchema.optional(),
  EXCLUDED_ACCOUNTS: ExcludedAccountsSchema.optional(),
  SCOPE_CACHE_SECONDS: integer(0, 86_400, 300),
  KILL_SWITCH_PARAMETER: SsmParameterNameSchema.optional(),
  RECORD_KEY_ARN: KmsKeyReferenceSchema.optional(),
  SLACK_SECRET_ARN: SecretArnSchema.optional(),
  REGIONS: RegionsSchema.optional(),
  OWN_ROLE_ARNS: RoleArnListSchema.optional(),
  CONFIG_RULE_NAME: ConfigRuleNameSchema.optional(),
  CONFIG_TEST_MODE: onOff.default(false),
  SWEEP_CONCURRENCY: integer(1, 64, 4),
  SWEEP_BUCKET: S3BucketNameSchema.optional(),
  // Read only for the S3 policy fetch: the SDK clients honour these variables themselves.
  AWS_ENDPOINT_URL_S3: HttpUrlSchema.optional(),
  AWS_ENDPOINT_URL: HttpUrlSchema.optional(),
  POWERTOOLS_SERVICE_NAME: z.string().min(1).max(128).default('vpc-guard'),
  POWERTOOLS_METRICS_NAMESPACE: z.string().min(1).max(255).default('VpcGuard'),
  POWERTOOLS_LOG_LEVEL: z
    .string()
    .transform((value) => value.toUpperCase())
    .pipe(z.enum(LOG_LEVELS))
    .optional(),
});

type Environment = z.output<typeof EnvironmentSchema>;
type VariableName = keyof Environment;

/** What each function cannot run without, with why (the fail-fast message says it). */
const REQUIRED: Readonly<Record<FunctionName, Partial<Record<VariableName, string>>>> = {
  'config-rule': { POLICY_SOURCE: 'the policy the VPCs are evaluated against' },
  'api-event': {
    POLICY_SOURCE: 'the policy the VPCs are evaluated against',
    FINDINGS_TABLE: 'the open findings, for alerting only on changes and for replay dedupe',
    TOPIC_ARN: 'where finding changes are published',
    OWN_ROLE_ARNS:
      "vpc-guard's own roles, whose changes must not trigger it again (the loop guard)",
  },
  sweep: {
    POLICY_SOURCE: 'the policy the VPCs are evaluated against',
    FINDINGS_TABLE: 'the open findings, for alerting only on changes',
    TOPIC_ARN: 'where finding changes are published',
  },
  'slack-notifier': { SLACK_SECRET_ARN: 'the secret holding the Slack webhook URL' },
};

/** Logger, metrics and tracer settings: read on their own, so a config error can still be logged. */
export interface ObservabilitySettings {
  readonly serviceName: string;
  readonly namespace: string;
  readonly logLevel?: (typeof LOG_LEVELS)[number];
}

/**
 * Accounts a hub sweeps and takes events of: listed, or every active account of the organization
 * (under `targetOrganizationalUnits` when those are set).
 */
export type MemberAccounts =
  | { readonly kind: 'organization' }
  | { readonly kind: 'list'; readonly accountIds: readonly string[] };

/** The validated environment of one function. */
export interface RuntimeConfig {
  readonly functionName: FunctionName;
  /** The function's own region (AWS_REGION): SNS, the table, the bus and SSM live here. */
  readonly region: string;
  /** Null only for the Slack notifier, which reads no policy. */
  readonly policySource: PolicySource | null;
  readonly policyCacheSeconds: number;
  readonly findingsTable: string | null;
  readonly topicArn: string | null;
  readonly eventBusName: string;
  readonly securityHub: boolean;
  readonly mode: 'standalone' | 'hub';
  /** The member role assumed in each account in hub mode (`arn:<partition>:iam::<account>:role/<name>`). */
  readonly memberRoleName: string;
  /** SSM parameter holding the external id the member role's trust policy requires (hub mode). */
  readonly externalIdParameter: string | null;
  readonly memberAccounts: MemberAccounts;
  /**
   * With `memberAccounts` `organization`: only accounts under these OUs (or the root) are in scope.
   * Empty: every active account of the organization.
   */
  readonly targetOrganizationalUnits: readonly string[];
  /**
   * Accounts out of scope whatever `memberAccounts` says (the deployment's exclusion list and the
   * management account): never swept, their events ignored. Empty in standalone mode.
   */
  readonly excludedAccounts: readonly string[];
  /** How long the hub keeps the organization's in-scope accounts before listing them again. */
  readonly scopeCacheSeconds: number;
  /** SSM parameter that stops every remediation write when its value is "on". */
  readonly killSwitchParameter: string | null;
  /**
   * The KMS HMAC key that signs remediation records. Without it the functions do not remediate: a
   * write that cannot be recorded tamper-evidently is not made.
   */
  readonly recordKeyArn: string | null;
  readonly slackSecretArn: string | null;
  /** Regions the sweep covers; the function's own region when REGIONS is not set. */
  readonly regions: RegionSelection;
  /** Role ARN patterns of vpc-guard itself (`*` wildcard); their API calls are ignored. */
  readonly ownRoleArns: readonly string[];
  /** When set, compliance changes of other rules are ignored. */
  readonly configRuleName: string | null;
  /** PutEvaluations with TestMode: Config checks the call and stores nothing (local replays). */
  readonly configTestMode: boolean;
  readonly sweepConcurrency: number;
  /**
   * Where the Step Functions sweep keeps a run's targets and reads the Map's results (its task
   * functions only): a large organization's lists would not fit the state payload's 256 KB.
   * Null: the lists pass inline.
   */
  readonly sweepBucket: string | null;
  /** Endpoint override for the S3 policy fetch (AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL). */
  readonly s3EndpointUrl: string | null;
  readonly observability: ObservabilitySettings;
}

/** Environment variables as the process has them. */
export type EnvironmentVariables = Readonly<Record<string, string | undefined>>;

/** Empty values count as unset: CloudFormation cannot remove a variable, only blank it. */
function withoutBlanks(env: EnvironmentVariables): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') result[name] = value;
  }
  return result;
}

/**
 * Validates the environment of `functionName` and returns its configuration.
 *
 * @throws InputValidationError (source `environment`) naming every bad or missing variable and what
 *   it must hold, e.g. `environment: POLICY_SOURCE: required by the api-event function (...)`.
 */
export function loadRuntimeConfig(
  functionName: FunctionName,
  env: EnvironmentVariables = process.env,
): RuntimeConfig {
  const present = withoutBlanks(env);
  const result = EnvironmentSchema.safeParse(present, { reportInput: true });
  // Every problem at once: a deploy that fixes one variable at a time is a slow way to learn.
  const problems: InputProblem[] = result.success
    ? []
    : result.error.issues.map((issue) => ({
        path: formatIssuePath(issue.path),
        message: describeIssue(issue),
      }));
  const hub = present['MODE'] === 'hub';
  for (const [name, why] of Object.entries(REQUIRED[functionName])) {
    // In hub mode the member role makes every change, and its pattern is added below.
    if (name === 'OWN_ROLE_ARNS' && hub) continue;
    if (present[name] === undefined) {
      problems.push({ path: name, message: `required by the ${functionName} function: ${why}` });
    }
  }
  if (hub && functionName !== 'slack-notifier' && present['EXTERNAL_ID_PARAMETER'] === undefined) {
    problems.push({
      path: 'EXTERNAL_ID_PARAMETER',
      message: 'required in hub mode: the external id the member role trusts',
    });
  }
  if (
    present['TARGET_OUS'] !== undefined &&
    (!hub ||
      (present['MEMBER_ACCOUNTS'] !== undefined &&
        present['MEMBER_ACCOUNTS'].trim() !== 'organization'))
  ) {
    problems.push({
      path: 'TARGET_OUS',
      message:
        'only meaningful in hub mode with MEMBER_ACCOUNTS "organization" (a listed account is in scope as listed)',
    });
  }
  if (present['EXCLUDED_ACCOUNTS'] !== undefined && !hub) {
    problems.push({
      path: 'EXCLUDED_ACCOUNTS',
      message: 'only meaningful in hub mode (standalone acts on its own account only)',
    });
  }
  if (!result.success || problems.length > 0) {
    throw new InputValidationError('environment', problems, { cause: result.error });
  }
  const parsed = result.data;

  // In hub mode the member role makes vpc-guard's changes in every account: always guard against it.
  const memberRolePattern = `arn:*:iam::*:role/${parsed.MEMBER_ROLE_NAME}`;
  const ownRoleArns = [
    ...(parsed.OWN_ROLE_ARNS ?? []),
    ...(parsed.MODE === 'hub' ? [memberRolePattern] : []),
  ];
  return {
    functionName,
    region: parsed.AWS_REGION,
    policySource: parsed.POLICY_SOURCE ?? null,
    policyCacheSeconds: parsed.POLICY_CACHE_SECONDS,
    findingsTable: parsed.FINDINGS_TABLE ?? null,
    topicArn: parsed.TOPIC_ARN ?? null,
    eventBusName: parsed.EVENT_BUS_NAME,
    securityHub: parsed.SECURITY_HUB,
    mode: parsed.MODE,
    memberRoleName: parsed.MEMBER_ROLE_NAME,
    externalIdParameter: parsed.EXTERNAL_ID_PARAMETER ?? null,
    memberAccounts: parsed.MEMBER_ACCOUNTS,
    targetOrganizationalUnits: parsed.TARGET_OUS ?? [],
    excludedAccounts: parsed.EXCLUDED_ACCOUNTS ?? [],
    scopeCacheSeconds: parsed.SCOPE_CACHE_SECONDS,
    killSwitchParameter: parsed.KILL_SWITCH_PARAMETER ?? null,
    recordKeyArn: parsed.RECORD_KEY_ARN ?? null,
    slackSecretArn: parsed.SLACK_SECRET_ARN ?? null,
    regions: parsed.REGIONS ?? { kind: 'list', regions: [parsed.AWS_REGION] },
    ownRoleArns: [...new Set(ownRoleArns)],
    configRuleName: parsed.CONFIG_RULE_NAME ?? null,
    configTestMode: parsed.CONFIG_TEST_MODE,
    sweepConcurrency: parsed.SWEEP_CONCURRENCY,
    sweepBucket: parsed.SWEEP_BUCKET ?? null,
    s3EndpointUrl: parsed.AWS_ENDPOINT_URL_S3 ?? parsed.AWS_ENDPOINT_URL ?? null,
    observability: observabilityOf(parsed),
  };
}

function observabilityOf(
  parsed: Pick<
    Environment,
    'POWERTOOLS_SERVICE_NAME' | 'POWERTOOLS_METRICS_NAMESPACE' | 'POWERTOOLS_LOG_LEVEL'
  >,
): ObservabilitySettings {
  return {
    serviceName: parsed.POWERTOOLS_SERVICE_NAME,
    namespace: parsed.POWERTOOLS_METRICS_NAMESPACE,
    ...(parsed.POWERTOOLS_LOG_LEVEL ? { logLevel: parsed.POWERTOOLS_LOG_LEVEL } : {}),
  };
}

const ObservabilitySchema = EnvironmentSchema.pick({
  POWERTOOLS_SERVICE_NAME: true,
  POWERTOOLS_METRICS_NAMESPACE: true,
  POWERTOOLS_LOG_LEVEL: true,
});

/**
 * The logger, metrics and tracer settings alone. Never throws: a bad value falls back to the default,
 * so the logger exists to report the configuration error that {@link loadRuntimeConfig} then raises.
 */
export function observabilitySettings(
  env: EnvironmentVariables = process.env,
): ObservabilitySettings {
  const result = ObservabilitySchema.safeParse(withoutBlanks(env));
  return observabilityOf(
    result.success
      ? result.data
      : { POWERTOOLS_SERVICE_NAME: 'vpc-guard', POWERTOOLS_METRICS_NAMESPACE: 'VpcGuard' },
  );
}
