import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { describeAwsError } from '@vpc-guard/shared/aws/errors';
import { EXTRA_REGIONS_VARIABLE, isKnownRegion } from '@vpc-guard/shared/aws/regions';
import { REGION_PATTERN } from '@vpc-guard/shared/aws/shapes';
import {
  DEFAULT_ACCOUNT_CONCURRENCY,
  parseRegionSelection,
  type RegionSelection,
} from '@vpc-guard/shared/aws/target-selection';
import {
  getCallerIdentity,
  memberRoleArn,
  type AwsTarget,
  type CallerIdentity,
} from '@vpc-guard/shared/aws/targets';
import { InputValidationError } from '@vpc-guard/shared/errors';
import { evaluate } from '@vpc-guard/shared/evaluate';
import type { GuardPolicy } from '@vpc-guard/shared/policy/schema';
import {
  collectEstate,
  type EstateAccount,
  type EstateCollection,
  type EstateProgress,
  type TargetFailure,
} from '@vpc-guard/shared/snapshot/collect-estate';
import { CliInputError, type CliContext } from './context';
import type { LiveSourceOptions } from './definitions/options';
import { createProcessDependencies, type CliDependencies } from './dependencies';

/**
 * What every live command (`scan --live`, `collect`, `plan`, `apply`, `rollback`) does with the flags
 * it shares (definitions/options.ts): resolve the targets, collect them with progress on stderr,
 * report what failed. Only live runs load this module, and with it the EC2 and STS clients.
 */

/** Resolved targets of a live run, with one cached EC2 client per account-region. */
export interface LiveSession {
  readonly identity: CallerIdentity;
  readonly homeRegion: string;
  readonly regions: RegionSelection;
  readonly accounts: readonly EstateAccount[];
  /** The EC2 client of an account-region, with that account's credentials. */
  readonly ec2For: (accountId: string, region: string) => EC2Client;
  /** The same, for a target that carries its credentials. */
  readonly ec2ForTarget: (target: AwsTarget) => EC2Client;
}

/** The region of the environment (AWS_REGION, else AWS_DEFAULT_REGION) and the variable it came from. */
function envRegion(context: CliContext): { region: string; variable: string } | undefined {
  for (const variable of ['AWS_REGION', 'AWS_DEFAULT_REGION']) {
    const region = context.env[variable];
    if (region !== undefined && region !== '') return { region, variable };
  }
  return undefined;
}

/** The regions {@link EXTRA_REGIONS_VARIABLE} adds to the known ones, each of a region's shape. */
function extraRegions(context: CliContext): string[] {
  const value = context.env[EXTRA_REGIONS_VARIABLE];
  if (value === undefined || value.trim() === '') return [];
  const selection = parseRegionSelection(value, EXTRA_REGIONS_VARIABLE);
  return selection.kind === 'list' ? [...selection.regions] : [];
}

/**
 * Refuses, before any AWS call, a region AWS does not offer: one of the wrong shape, or of the right
 * shape that no partition lists (`us-east-9`). A region opened after this release is accepted once
 * named in {@link EXTRA_REGIONS_VARIABLE}.
 */
function checkRegions(regions: readonly string[], source: string, context: CliContext): void {
  const extra = extraRegions(context);
  const shapeless = regions.filter((region) => !REGION_PATTERN.test(region));
  if (shapeless.length > 0) {
    throw new InputValidationError(source, [
      {
        path: '',
        message: `expected an AWS region such as "us-east-1", got ${shapeless.map((r) => JSON.stringify(r)).join(', ')}`,
      },
    ]);
  }
  const unknown = regions.filter((region) => !isKnownRegion(region, extra));
  if (unknown.length > 0) {
    throw new InputValidationError(source, [
      {
        path: '',
        message:
          `${unknown.join(', ')}: not ${unknown.length === 1 ? 'a region' : 'regions'} AWS offers ` +
          '(check the spelling: `aws ec2 describe-regions --all-regions` lists them); a region AWS ' +
          `opened after this release of vpc-guard is accepted once named in ${EXTRA_REGIONS_VARIABLE} ` +
          `(comma-separated, e.g. ${EXTRA_REGIONS_VARIABLE}=${unknown[0]})`,
      },
    ]);
  }
}

/**
 * Resolves where a live command looks and as whom: the caller (STS GetCallerIdentity), the regions
 * (`--regions`, else AWS_REGION), the accounts (`--accounts`, `--org`, else the caller's, or
 * `accountIds` when a saved plan names them) and the credentials for each (the caller's own in its own
 * account, the `--role-arn` role elsewhere). Bad flags and missing credentials are bad input (exit 2).
 */
export async function resolveLiveSession(
  options: LiveSourceOptions,
  context: CliContext,
  deps: CliDependencies = createProcessDependencies(),
  accountIds?: readonly string[],
): Promise<LiveSession> {
  if (options.externalId !== undefined && options.roleArn === undefined) {
    throw new CliInputError('--external-id is sent when assuming --role-arn: give --role-arn too');
  }
  if (options.org && options.roleArn === undefined) {
    throw new CliInputError(
      "--org reads every account of the organization through a role: give --role-arn 'arn:aws:iam::{accountId}:role/VpcGuardMember'",
    );
  }
  // Every region is checked before the first AWS call: a typo is bad input, not an SDK error later.
  const fromEnvironment = envRegion(context);
  if (fromEnvironment !== undefined) {
    checkRegions([fromEnvironment.region], fromEnvironment.variable, context);
  }
  if (options.regions?.kind === 'list') checkRegions(options.regions.regions, '--regions', context);
  const fallbackRegion = fromEnvironment?.region;
  const regions: RegionSelection | undefined =
    options.regions ??
    (fallbackRegion === undefined ? undefined : { kind: 'list', regions: [fallbackRegion] });
  if (regions === undefined) {
    throw new CliInputError(
      'which regions? Give --regions us-east-1,eu-west-1 (or --regions all), or set AWS_REGION',
    );
  }
  const homeRegion =
    fallbackRegion ?? (regions.kind === 'list' ? regions.regions[0] : undefined) ?? 'us-east-1';

  let identity: CallerIdentity;
  try {
    identity = await getCallerIdentity(deps.sts(homeRegion));
  } catch (error) {
    throw new CliInputError(
      `cannot tell who is calling AWS (STS GetCallerIdentity: ${describeAwsError(error)}); ` +
        'check the credentials (AWS_PROFILE, environment variables, SSO, an instance role) and the network',
      { cause: error },
    );
  }

  let ids: readonly string[];
  if (accountIds !== undefined) ids = accountIds;
  else if (options.org) {
    try {
      // Only --org loads the Organizations client.
      const { listOrganizationAccounts } = await import('@vpc-guard/shared/aws/organizations');
      ids = (await listOrganizationAccounts(await deps.organizations(homeRegion))).map(
        (account) => account.accountId,
      );
    } catch (error) {
      throw new CliInputError(
        `cannot list the organization's accounts (Organizations ListAccounts: ${describeAwsError(error)}); ` +
          '--org runs in the management account or a delegated administrator account',
        { cause: error },
      );
    }
  } else ids = options.accounts ?? [identity.accountId];

  const others = ids.filter((id) => id !== identity.accountId);
  if (others.length > 0 && options.roleArn === undefined) {
    throw new CliInputError(
      `account${others.length === 1 ? '' : 's'} ${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} not the caller's (${identity.accountId}): ` +
        "give --role-arn 'arn:aws:iam::{accountId}:role/VpcGuardMember' to assume a role there",
    );
  }
  const credentials = new Map<string, AwsCredentialIdentityProvider>();
  for (const id of others) {
    credentials.set(
      id,
      deps.assumeRole({
        roleArn: memberRoleArn(options.roleArn!, id),
        region: homeRegion,
        ...(options.externalId === undefined ? {} : { externalId: options.externalId }),
      }),
    );
  }
  const accounts: EstateAccount[] = ids.map((accountId) => {
    const provider = credentials.get(accountId);
    return provider ? { accountId, credentials: provider } : { accountId };
  });

  const clients = new Map<string, EC2Client>();
  const ec2ForTarget = (target: AwsTarget): EC2Client => {
    const key = `${target.accountId}/${target.region}`;
    let client = clients.get(key);
    if (!client) {
      client = deps.ec2(target);
      clients.set(key, client);
    }
    return client;
  };
  const ec2For = (accountId: string, region: string): EC2Client => {
    const provider = credentials.get(accountId);
    return ec2ForTarget(
      provider ? { accountId, region, credentials: provider } : { accountId, region },
    );
  };
  return { identity, homeRegion, regions, accounts, ec2For, ec2ForTarget };
}

function progressLine(progress: EstateProgress): string {
  const where =
    progress.region === null ? progress.accountId : `${progress.accountId}/${progress.region}`;
  const what = progress.ok ? `${progress.vpcs} VPC${progress.vpcs === 1 ? '' : 's'}` : 'failed';
  const total = `${progress.targetsKnown}${progress.targetsFinal ? '' : '+'}`;
  const findings = progress.findings === undefined ? '' : `, ${progress.findings} findings`;
  return (
    `vpc-guard: [${progress.targetsDone}/${total}] ${where}: ${what} ` +
    `(accounts ${progress.accountsDone}/${progress.accountsTotal}, ${progress.vpcsSeen} VPCs${findings} so far)\n`
  );
}

/**
 * Collects every target of the session, printing progress on stderr (stdout stays clean for JSON).
 * With a policy, each snapshot is evaluated as it arrives so progress can count findings.
 */
export async function collectLive(
  session: LiveSession,
  options: LiveSourceOptions,
  context: CliContext,
  policy?: GuardPolicy,
): Promise<EstateCollection> {
  const now = context.now();
  return collectEstate({
    accounts: session.accounts,
    regions: session.regions,
    ec2For: session.ec2ForTarget,
    discoveryRegion: session.homeRegion,
    accountConcurrency: options.concurrency ?? DEFAULT_ACCOUNT_CONCURRENCY,
    // Each snapshot's collectedAt is when it was read; findings so far are counted as of the start.
    now: () => context.now(),
    ...(policy
      ? {
          countFindings: (snapshot) =>
            evaluate([snapshot], policy, { now }).reduce((n, e) => n + e.findings.length, 0),
        }
      : {}),
    onProgress: (progress) => context.printer.err(progressLine(progress)),
  });
}

const STAGE: Readonly<Record<TargetFailure['stage'], string>> = {
  credentials: 'assuming the role',
  regions: 'listing the enabled regions',
  collect: 'collecting',
  'dns-attributes': 'reading VPC DNS attributes',
};

/**
 * Tells on stderr which accounts and regions could not be read, and why; nothing when all were. The
 * result stands without them, so the message says so.
 */
export function reportFailures(
  failures: readonly TargetFailure[],
  context: CliContext,
  covers: string,
): void {
  if (failures.length === 0) return;
  const lines = failures.map(
    (f) =>
      `  ${f.accountId}${f.region === null ? ' (whole account)' : `/${f.region}`}: ${f.kind} while ${STAGE[f.stage]}: ${f.message}`,
  );
  context.printer.err(
    `vpc-guard: ${failures.length} target${failures.length === 1 ? '' : 's'} could not be read; ${covers}:\n${lines.join('\n')}\n`,
  );
}
