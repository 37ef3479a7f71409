import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import {
  AccountIdSchema,
  ExternalIdSchema,
  IamRoleNameSchema,
  InputValidationError,
  OrganizationIdSchema,
  OrganizationalUnitIdSchema,
  RegionSchema,
  S3BucketNameSchema,
  SsmParameterNameSchema,
  guardPolicyAsJson,
  parseGuardPolicyJson,
  parseOrThrow,
} from '@vpc-guard/shared';
import { z } from 'zod';
import { REPO_ROOT } from './paths';

/**
 * The deployment configuration: which topology (one account standalone, or the organization's hub and
 * spokes), where, and with which settings. A JSON file validated here; every stack is built from the
 * {@link DeploymentConfig} this module returns, never from raw context or environment values. A bad
 * file fails synth with the field, what was received and what was expected.
 */

/** AWS Config periodic frequencies (AWS-FACTS.md, "AWS Config custom Lambda rules"). */
export const PERIODIC_FREQUENCIES = [
  'One_Hour',
  'Three_Hours',
  'Six_Hours',
  'Twelve_Hours',
  'TwentyFour_Hours',
] as const;
export type PeriodicFrequency = (typeof PERIODIC_FREQUENCIES)[number];

/** CloudWatch Logs retention periods, in days (the values `AWS::Logs::LogGroup` accepts). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/**
 * The policy the example deployments name, and the one published when a configuration names no
 * file: notify-only, under an example organization that synth refuses (see
 * {@link EXAMPLE_ORGANIZATION_IDS}), so it must be copied and made one's own before any deploy.
 */
export const BUNDLED_POLICY_FILE = resolve(REPO_ROOT, 'examples', 'deployment-policy.yaml');

/**
 * Organization ids the examples and the documentation use (and AWS's own documentation's). A
 * deployment naming one would judge and rewrite endpoint policies for an organization that is not
 * the operator's, so synth refuses it, in the policy and in `organizationId`.
 */
export const EXAMPLE_ORGANIZATION_IDS: ReadonlySet<string> = new Set([
  'o-a1b2c3d4e5',
  'o-zzzzzzzzzz',
  'o-exampleorgid',
]);

/** Why an example organization id is refused, and what to do instead. */
function exampleOrganizationMessage(id: string): string {
  return (
    `expected your own AWS Organizations id (aws organizations describe-organization --query ` +
    `Organization.Id), got the example id ${JSON.stringify(id)}: endpoint policies would be judged ` +
    `and rewritten for an organization that is not yours`
  );
}

/** SSM parameter value limits: Standard tier 4 KB, Advanced tier 8 KB. */
export const SSM_STANDARD_MAX_BYTES = 4096;
export const SSM_ADVANCED_MAX_BYTES = 8192;

// Account ids, regions, Organizations ids, role names, SSM names: the shapes the CLI and the
// functions accept (shared/src/aws/shapes.ts). What follows is what only a deployment names.
const SECRET_NAME = /^[\w/+=.@-]{1,512}$/;
const EVENT_BUS_NAME = /^[\w.-]{1,256}$/;
const STACK_SET_NAME = /^[a-zA-Z][a-zA-Z0-9-]{0,127}$/;
const RATE = /^rate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\(\S+( \S+){5}\)$/;

// The parameters the stacks create are hierarchical (their IAM grants name the path); SSM counts
// the full ARN in its 1011-character limit on a name, so 1011 is an upper bound.
const SsmNameSchema = SsmParameterNameSchema.regex(
  /^\/.{1,1010}$/s,
  'expected an SSM parameter name starting with "/", such as "/vpc-guard/x"',
);

/** A refinement's message: what was expected, and what was received. */
function expected(what: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => `expected ${what}, got ${JSON.stringify(issue.input)}` };
}

const ScheduleSchema = z.string().refine((text) => {
  const rate = RATE.exec(text);
  // EventBridge wants the singular unit for 1 and the plural otherwise: rate(1 hour), rate(2 hours).
  if (rate) return (rate[1] === '1') === !rate[2]!.endsWith('s');
  return CRON.test(text);
}, expected('an EventBridge schedule such as "rate(6 hours)", "rate(1 day)" or "cron(0 3 * * ? *)"'));

const PolicyConfigSchema = z.discriminatedUnion('source', [
  z.strictObject({
    /** Published by the stack to an SSM parameter (Advanced tier above 4 KB). */
    source: z.literal('ssm'),
    /** YAML or JSON, relative to the configuration file. Default: the bundled examples/policy.yaml. */
    file: z.string().min(1).optional(),
    parameterName: SsmNameSchema.default('/vpc-guard/policy'),
  }),
  z.strictObject({
    /** An object the operator uploads; the functions read it with s3:GetObject. */
    source: z.literal('s3'),
    bucket: S3BucketNameSchema,
    key: z.string().min(1).max(1024),
  }),
]);

const RolloutConfigSchema = z.strictObject({
  /** The account that holds the StackSet: the management account or a delegated administrator. */
  account: AccountIdSchema.optional(),
  region: RegionSchema.optional(),
  callAs: z.enum(['SELF', 'DELEGATED_ADMIN']).default('DELEGATED_ADMIN'),
  stackSetName: z
    .string()
    .regex(STACK_SET_NAME, 'expected a StackSet name: a letter, then letters, digits and -')
    .default('vpc-guard-member'),
  failureTolerancePercentage: z.int().min(0).max(100).default(10),
  maxConcurrentPercentage: z.int().min(1).max(100).default(25),
});

const DeploymentConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    mode: z.enum(['standalone', 'hub']),
    /** Standalone: the account to deploy to. Default: the account of the deploying credentials. */
    account: AccountIdSchema.optional(),
    /** Standalone: one GuardStack per region. Hub: the member StackSet's regions and the sweep's. */
    regions: z
      .array(RegionSchema)
      .min(1, 'expected at least one region')
      .refine((regions) => new Set(regions).size === regions.length, expected('each region once')),
    policy: PolicyConfigSchema.default({ source: 'ssm', parameterName: '/vpc-guard/policy' }),
    /** A Secrets Manager secret holding the Slack webhook URL. Default: no Slack notifier. */
    slackSecretName: z
      .string()
      .regex(SECRET_NAME, 'expected a Secrets Manager secret name')
      .optional(),
    notificationEmails: z.array(z.email('expected an e-mail address')).default([]),
    /**
     * Operators subscribed by e-mail to the alarm topic (vpc-guard itself failing: dead-letter
     * messages, function errors and throttles, missed sweep targets). Default: none.
     */
    alarmEmails: z.array(z.email('expected an e-mail address')).default([]),
    periodicFrequency: z.enum(PERIODIC_FREQUENCIES).default('TwentyFour_Hours'),
    killSwitchParameterName: SsmNameSchema.default('/vpc-guard/kill-switch'),
    sweepSchedule: ScheduleSchema.default('rate(1 day)'),
    /**
     * At most this many sweep children (account batches) at once: bounds the parallel EC2 and STS
     * calls of a run. Default: 40.
     */
    sweepMaxConcurrency: z.int().min(1).max(10000).default(40),
    /** The share of sweep children that may fail before the run fails. Default: 10. */
    sweepToleratedFailurePercentage: z.number().min(0).max(100).default(10),
    /**
     * Account-regions per sweep child; consecutive targets of one account share its member role.
     * Default: the number of regions (one account per child).
     */
    sweepMaxItemsPerBatch: z.int().min(1).max(1000).optional(),
    securityHub: z.boolean().default(true),
    /**
     * Grant the remediating role `ec2:ReleaseAddress` on the Elastic IPs `remove-nat` marked. IAM
     * cannot bind the mark to a NAT gateway vpc-guard deleted (the same role writes it), so this is
     * off unless asked for; a policy that enables `release-elastic-ip` needs it.
     */
    releaseElasticIps: z.boolean().default(false),
    /** Reserved concurrency of the remediating function (api-event): its blast radius per burst. */
    remediationConcurrency: z.int().min(1).max(1000).default(2),
    logRetentionDays: z
      .number()
      .refine(
        (days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days),
        expected(`a CloudWatch Logs retention in days: ${LOG_RETENTION_DAYS.join(', ')}`),
      )
      .default(90),
    // Hub mode.
    hubAccount: AccountIdSchema.optional(),
    hubRegion: RegionSchema.optional(),
    organizationId: OrganizationIdSchema.optional(),
    targetOrganizationalUnits: z.array(OrganizationalUnitIdSchema).min(1).optional(),
    memberRoleName: IamRoleNameSchema.default('VpcGuardMember'),
    externalId: ExternalIdSchema.optional(),
    externalIdParameterName: SsmNameSchema.default('/vpc-guard/external-id'),
    eventBusName: z
      .string()
      .regex(EVENT_BUS_NAME, 'expected an event bus name (letters, digits, . - _)')
      .refine((name) => name !== 'default', expected('a bus of its own, not "default"'))
      .default('vpc-guard'),
    organizationConfigRule: z.boolean().default(true),
    /**
     * Accounts out of scope: no organization Config rule in them, and the functions (sweep and
     * events) skip them. The management account belongs here unless `rollout.callAs` is `SELF`
     * (then it is `rollout.account` and excluded without being named): AWS Config deploys an
     * organization rule to every account the list does not name, and a service-managed StackSet
     * never deploys the member role to the management account.
     */
    excludedAccounts: z
      .array(AccountIdSchema)
      // PutOrganizationConfigRule's ExcludedAccounts takes at most 1000 accounts.
      .max(1000, 'expected at most 1000 accounts (the organization Config rule limit)')
      .refine((ids) => new Set(ids).size === ids.length, expected('each account once'))
      .default([]),
    sweepAccounts: z
      .union([z.literal('organization'), z.array(AccountIdSchema).min(1)])
      .default('organization'),
    rollout: RolloutConfigSchema.default({
      callAs: 'DELEGATED_ADMIN',
      stackSetName: 'vpc-guard-member',
      failureTolerancePercentage: 10,
      maxConcurrentPercentage: 25,
    }),
  })
  .superRefine((config, ctx) => {
    const missing = (path: string, why: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message: `${why}, got nothing` });
    if (config.mode === 'hub') {
      if (!config.hubAccount) missing('hubAccount', 'required in hub mode: the hub account id');
      if (!config.hubRegion) missing('hubRegion', 'required in hub mode: the hub region');
      if (!config.organizationId)
        missing('organizationId', 'required in hub mode: the organization the bus admits');
      if (!config.targetOrganizationalUnits)
        missing('targetOrganizationalUnits', 'required in hub mode: the OUs the StackSet targets');
      const rolloutAccount = config.rollout.account ?? config.hubAccount;
      const rolloutRegion = config.rollout.region ?? config.hubRegion;
      if (
        config.externalId === undefined &&
        (rolloutAccount !== config.hubAccount || rolloutRegion !== config.hubRegion)
      ) {
        missing(
          'externalId',
          'required when the rollout stack is not in the hub account and region (the StackSet ' +
            'can read the external id parameter only where it lives)',
        );
      }
    } else {
      const hubOnly = [
        'hubAccount',
        'hubRegion',
        'organizationId',
        'targetOrganizationalUnits',
        'externalId',
      ] as const;
      if (config.excludedAccounts.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['excludedAccounts'],
          message: `only meaningful in hub mode, got ${JSON.stringify(config.excludedAccounts)} with mode "standalone"`,
        });
      }
      for (const key of hubOnly) {
        if (config[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `only meaningful in hub mode, got ${JSON.stringify(config[key])} with mode "standalone"`,
          });
        }
      }
    }
  });

/** The configuration file as written (before defaults). */
export type DeploymentConfigInput = z.input<typeof DeploymentConfigSchema>;

/** Where the functions read the policy, with the policy itself when the stack publishes it. */
export type ResolvedPolicySource =
  | {
      readonly source: 'ssm';
      readonly parameterName: string;
      /** The validated policy as compact JSON: the parameter's value. */
      readonly value: string;
      /** The file it came from, for messages and the parameter's description. */
      readonly file: string;
      readonly tier: 'Standard' | 'Advanced';
    }
  | { readonly source: 's3'; readonly bucket: string; readonly key: string };

/** The StackSet settings of hub mode. */
export interface RolloutConfig {
  readonly account: string;
  readonly region: string;
  readonly callAs: 'SELF' | 'DELEGATED_ADMIN';
  readonly stackSetName: string;
  readonly failureTolerancePercentage: number;
  readonly maxConcurrentPercentage: number;
}

/** Hub-and-spoke settings, present exactly when `mode` is `hub`. */
export interface HubConfig {
  readonly account: string;
  readonly region: string;
  readonly organizationId: string;
  readonly targetOrganizationalUnits: readonly string[];
  readonly memberRoleName: string;
  /** The external id the member role requires; absent when the parameter already holds it. */
  readonly externalId: string | undefined;
  /** The SSM parameter (hub account and region) the functions read the external id from. */
  readonly externalIdParameterName: string;
  readonly eventBusName: string;
  readonly organizationConfigRule: boolean;
  /**
   * Accounts the organization Config rule and the functions leave out, sorted: the configured
   * `excludedAccounts`, and the management account (`rollout.account`) when `rollout.callAs` is
   * `SELF`.
   */
  readonly excludedAccounts: readonly string[];
  readonly sweepAccounts: 'organization' | readonly string[];
  /** The region where the member template creates the (global) member role: `regions[0]`. */
  readonly memberRoleRegion: string;
  readonly rollout: RolloutConfig;
}

/** A validated deployment configuration, with its policy read and checked. */
export interface DeploymentConfig {
  readonly mode: 'standalone' | 'hub';
  /** The file it came from (or the name given to an in-memory configuration). */
  readonly source: string;
  readonly account: string | undefined;
  readonly regions: readonly string[];
  readonly policy: ResolvedPolicySource;
  readonly slackSecretName: string | undefined;
  readonly notificationEmails: readonly string[];
  /**
   * E-mail subscriptions of the operator alarm topic.
   * @default [] - none: operators subscribe to the topic themselves
   */
  readonly alarmEmails: readonly string[];
  readonly periodicFrequency: PeriodicFrequency;
  readonly killSwitchParameterName: string;
  readonly sweepSchedule: string;
  /** Sweep children (account batches) running at once. @default 40 */
  readonly sweepMaxConcurrency: number;
  /** Percentage of sweep children that may fail before the run fails. @default 10 */
  readonly sweepToleratedFailurePercentage: number;
  /** Account-regions per sweep child. @default - the number of regions */
  readonly sweepMaxItemsPerBatch: number;
  readonly securityHub: boolean;
  readonly remediationConcurrency: number;
  readonly logRetentionDays: number;
  /** Whether the remediating role may release the Elastic IPs `remove-nat` marked. */
  readonly releaseElasticIps: boolean;
  readonly hub: HubConfig | undefined;
}

/** Options of {@link parseDeploymentConfig}. */
export interface ParseDeploymentConfigOptions {
  /** Names the configuration in error messages, usually its file name. */
  readonly source: string;
  /** Relative paths in the configuration (the policy file) are resolved from here. */
  readonly baseDir: string;
}

function problem(source: string, path: string, message: string): InputValidationError {
  return new InputValidationError(source, [{ path, message }]);
}

function resolvePolicy(
  policy: z.output<typeof PolicyConfigSchema>,
  options: ParseDeploymentConfigOptions,
): {
  resolved: ResolvedPolicySource;
  organizationId: string | undefined;
  releasesElasticIps: boolean;
} {
  if (policy.source === 's3') {
    return { resolved: policy, organizationId: undefined, releasesElasticIps: false };
  }
  const file = policy.file
    ? isAbsolute(policy.file)
      ? policy.file
      : resolve(options.baseDir, policy.file)
    : BUNDLED_POLICY_FILE;
  const shown = relative(REPO_ROOT, file) || file;
  if (!existsSync(file)) {
    throw problem(
      options.source,
      'policy.file',
      `expected a readable policy file, got ${JSON.stringify(policy.file ?? shown)} (${file} does not exist)`,
    );
  }
  const text = readFileSync(file, 'utf8');
  // Validated with the same schema the functions use, so a bad policy fails synth, not a cold start.
  // Comments and layout are for people; the parameter holds the data as compact JSON, the one form
  // the functions read (they bundle no YAML parser).
  let value: string;
  let organizationId: string;
  let releasesElasticIps: boolean;
  try {
    value = guardPolicyAsJson(text, shown);
    const parsed = parseGuardPolicyJson(value, shown);
    organizationId = parsed.organization.id;
    releasesElasticIps = Object.values(parsed.profiles).some(
      (profile) =>
        (profile.remediation.mode === 'auto' || profile.remediation.mode === 'dry-run') &&
        profile.remediation.actions.includes('release-elastic-ip'),
    );
  } catch (error) {
    if (error instanceof InputValidationError) {
      throw new InputValidationError(
        options.source,
        error.problems.map((p) => ({
          path: `policy.file (${shown})${p.path ? ` ${p.path}` : ''}`,
          message: p.message,
        })),
        { cause: error },
      );
    }
    throw error;
  }
  if (EXAMPLE_ORGANIZATION_IDS.has(organizationId)) {
    throw problem(
      options.source,
      `policy.file (${shown}) organization.id`,
      `${exampleOrganizationMessage(organizationId)}. Copy the policy, set organization.id, and name ` +
        `the copy in policy.file`,
    );
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > SSM_ADVANCED_MAX_BYTES) {
    throw problem(
      options.source,
      'policy.file',
      `expected a policy of at most ${SSM_ADVANCED_MAX_BYTES} bytes as compact JSON (an Advanced ` +
        `SSM parameter), got ${bytes} bytes from ${shown}: publish it to S3 with "source": "s3"`,
    );
  }
  return {
    resolved: {
      source: 'ssm',
      parameterName: policy.parameterName,
      value,
      file: shown,
      tier: bytes > SSM_STANDARD_MAX_BYTES ? 'Advanced' : 'Standard',
    },
    organizationId,
    releasesElasticIps,
  };
}

/**
 * Validates a deployment configuration already parsed from JSON, reads and validates its policy.
 *
 * @throws InputValidationError naming `options.source`, each bad field, what was received and what
 *   was expected, e.g. `deployment.json: hubAccount: expected a 12-digit AWS account id, got "12"`.
 */
export function parseDeploymentConfig(
  data: unknown,
  options: ParseDeploymentConfigOptions,
): DeploymentConfig {
  const parsed = parseOrThrow(DeploymentConfigSchema, data, options.source);
  if (parsed.organizationId !== undefined && EXAMPLE_ORGANIZATION_IDS.has(parsed.organizationId)) {
    throw problem(
      options.source,
      'organizationId',
      exampleOrganizationMessage(parsed.organizationId),
    );
  }
  const {
    resolved,
    organizationId: policyOrganization,
    releasesElasticIps,
  } = resolvePolicy(parsed.policy, options);
  if (releasesElasticIps && !parsed.releaseElasticIps) {
    throw problem(
      options.source,
      'releaseElasticIps',
      `expected true when the policy enables release-elastic-ip (in ${resolved.source === 'ssm' ? resolved.file : 'the policy'}), got false: ` +
        `without it the role may not release addresses; read "Who may do what" in docs/DEPLOY.md first`,
    );
  }
  let hub: HubConfig | undefined;
  if (parsed.mode === 'hub') {
    // superRefine has checked these are present in hub mode.
    const account = parsed.hubAccount!;
    const region = parsed.hubRegion!;
    const organizationId = parsed.organizationId!;
    if (policyOrganization !== undefined && policyOrganization !== organizationId) {
      throw problem(
        options.source,
        'organizationId',
        `expected the organization the policy names (${policyOrganization}, in ${resolved.source === 'ssm' ? resolved.file : 'the policy'}), got ${JSON.stringify(organizationId)}: endpoint policies would be judged against another organization`,
      );
    }
    const rolloutAccount = parsed.rollout.account ?? account;
    // With callAs SELF the StackSet lives in the management account (only it may call as SELF on
    // a service-managed StackSet), which gets no member role: it is out of scope.
    const excludedAccounts = [
      ...new Set([
        ...parsed.excludedAccounts,
        ...(parsed.rollout.callAs === 'SELF' ? [rolloutAccount] : []),
      ]),
    ].sort();
    hub = {
      account,
      region,
      organizationId,
      targetOrganizationalUnits: parsed.targetOrganizationalUnits!,
      memberRoleName: parsed.memberRoleName,
      externalId: parsed.externalId,
      externalIdParameterName: parsed.externalIdParameterName,
      eventBusName: parsed.eventBusName,
      organizationConfigRule: parsed.organizationConfigRule,
      excludedAccounts,
      sweepAccounts: parsed.sweepAccounts,
      memberRoleRegion: parsed.regions[0]!,
      rollout: {
        account: rolloutAccount,
        region: parsed.rollout.region ?? region,
        callAs: parsed.rollout.callAs,
        stackSetName: parsed.rollout.stackSetName,
        failureTolerancePercentage: parsed.rollout.failureTolerancePercentage,
        maxConcurrentPercentage: parsed.rollout.maxConcurrentPercentage,
      },
    };
  }
  return {
    mode: parsed.mode,
    source: options.source,
    account: parsed.account,
    regions: parsed.regions,
    policy: resolved,
    slackSecretName: parsed.slackSecretName,
    notificationEmails: parsed.notificationEmails,
    alarmEmails: parsed.alarmEmails,
    periodicFrequency: parsed.periodicFrequency,
    killSwitchParameterName: parsed.killSwitchParameterName,
    sweepSchedule: parsed.sweepSchedule,
    sweepMaxConcurrency: parsed.sweepMaxConcurrency,
    sweepToleratedFailurePercentage: parsed.sweepToleratedFailurePercentage,
    sweepMaxItemsPerBatch: parsed.sweepMaxItemsPerBatch ?? parsed.regions.length,
    securityHub: parsed.securityHub,
    remediationConcurrency: parsed.remediationConcurrency,
    logRetentionDays: parsed.logRetentionDays,
    releaseElasticIps: parsed.releaseElasticIps,
    hub,
  };
}

/**
 * Reads, parses and validates a deployment configuration file (JSON).
 *
 * @throws InputValidationError when the file is missing, is not JSON, or does not match the schema.
 */
export function loadDeploymentConfig(file: string): DeploymentConfig {
  const shown = relative(process.cwd(), file) || file;
  if (!existsSync(file)) {
    throw problem(
      shown,
      '',
      `expected a deployment configuration file, but ${file} does not exist`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw problem(shown, '', `not valid JSON: ${(error as Error).message}`);
  }
  return parseDeploymentConfig(data, { source: shown, baseDir: dirname(file) });
}
