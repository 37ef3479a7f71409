import { DescribeRegionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { InputValidationError, VpcGuardError } from '../errors';
import { EXTERNAL_ID_PATTERN, IAM_ROLE_ARN_PATTERN } from './shapes';

/**
 * Where a live run looks: which accounts, which regions, and as whom. Small functions over injected
 * SDK clients, so the CLI, the sweep and the tests share them.
 */

/** One account and region to collect, with the credentials to use there (the caller's when absent). */
export interface AwsTarget {
  readonly accountId: string;
  readonly region: string;
  readonly credentials?: AwsCredentialIdentityProvider;
}

/** Who is calling AWS: the account for the default single-account run, the ARN for records. */
export interface CallerIdentity {
  readonly accountId: string;
  readonly arn: string;
}

/** The role session name vpc-guard uses everywhere, so CloudTrail shows who made a change. */
export const ROLE_SESSION_NAME = 'vpc-guard';

/** The placeholder of `--role-arn` templates, e.g. `arn:aws:iam::{accountId}:role/VpcGuardMember`. */
export const ACCOUNT_ID_PLACEHOLDER = '{accountId}';

/** Attempts of the STS and Organizations clients: few calls, but they must survive a throttle. */
export const CONTROL_PLANE_ATTEMPTS = 5;

/** An STS client on the standard credential chain (honours `AWS_ENDPOINT_URL`), adaptive retries. */
export function createStsClient(region: string): STSClient {
  return new STSClient({ region, retryMode: 'adaptive', maxAttempts: CONTROL_PLANE_ATTEMPTS });
}

/** The identity behind the credentials in use (STS GetCallerIdentity). */
export async function getCallerIdentity(sts: STSClient): Promise<CallerIdentity> {
  const output = await sts.send(new GetCallerIdentityCommand({}));
  if (!output.Account || !output.Arn) {
    throw new VpcGuardError('STS GetCallerIdentity returned no account or ARN');
  }
  return { accountId: output.Account, arn: output.Arn };
}

/**
 * The regions enabled for the account of `ec2`'s credentials (EC2 DescribeRegions with `AllRegions:
 * false`: opt-in regions the account has not enabled are left out, since every call there would fail),
 * sorted.
 */
export async function listEnabledRegions(ec2: EC2Client): Promise<string[]> {
  // DescribeRegions is not paginated: one call returns every region.
  const output = await ec2.send(new DescribeRegionsCommand({ AllRegions: false }));
  const regions = (output.Regions ?? []).flatMap((region) =>
    region.RegionName ? [region.RegionName] : [],
  );
  return [...new Set(regions)].sort();
}

/**
 * The member role's ARN in one account: `{accountId}` in the template is replaced by the account id.
 * Throws an {@link InputValidationError} when the result is not an IAM role ARN of that very account
 * (a template without the placeholder would otherwise assume one account's role for every account).
 */
export function memberRoleArn(template: string, accountId: string): string {
  const arn = template.split(ACCOUNT_ID_PLACEHOLDER).join(accountId);
  const match = IAM_ROLE_ARN_PATTERN.exec(arn);
  if (!match) {
    throw new InputValidationError('--role-arn', [
      {
        path: '',
        message: `expected an IAM role ARN template such as "arn:aws:iam::${ACCOUNT_ID_PLACEHOLDER}:role/VpcGuardMember", got ${JSON.stringify(template)}`,
      },
    ]);
  }
  if (match[1] !== accountId) {
    throw new InputValidationError('--role-arn', [
      {
        path: '',
        message: `${arn} is a role of account ${match[1]}, not ${accountId}: put ${ACCOUNT_ID_PLACEHOLDER} where the account id goes`,
      },
    ]);
  }
  return arn;
}

/** Options of {@link assumeRoleCredentials}. */
export interface AssumeRoleOptions {
  readonly roleArn: string;
  /** The external id the member role's trust policy requires. @default - none sent */
  readonly externalId?: string;
  /** The region of the STS endpoint to call. */
  readonly region: string;
  /** The credentials that assume the role. @default - the standard credential chain */
  readonly masterCredentials?: AwsCredentialIdentityProvider;
}

/** Credentials are refreshed this long before they expire, so no call starts with stale ones. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/**
 * Shares one set of temporary credentials between every client of an account until shortly before
 * they expire: without it each region's client would call AssumeRole on its own. A failure is not
 * kept, so the next call tries again.
 */
function shareCredentials(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let current: Promise<AwsCredentialIdentity> | undefined;
  return async (properties) => {
    if (current) {
      const held = await current.catch(() => undefined);
      const expiresAt = held?.expiration?.getTime();
      if (held && (expiresAt === undefined || expiresAt - Date.now() > REFRESH_MARGIN_MS))
        return held;
    }
    const next = provider(properties);
    current = next;
    return next;
  };
}

/**
 * Credentials of a member role, obtained with STS AssumeRole (`fromTemporaryCredentials`, session name
 * `vpc-guard`, the external id when given), resolved lazily and shared by every client of the account.
 */
export function assumeRoleCredentials(options: AssumeRoleOptions): AwsCredentialIdentityProvider {
  if (options.externalId !== undefined && !EXTERNAL_ID_PATTERN.test(options.externalId)) {
    throw new InputValidationError('--external-id', [
      { path: '', message: 'expected 2 to 1224 characters of letters, digits and +=,.@:/-_' },
    ]);
  }
  return shareCredentials(
    fromTemporaryCredentials({
      params: {
        RoleArn: options.roleArn,
        RoleSessionName: ROLE_SESSION_NAME,
        ...(options.externalId === undefined ? {} : { ExternalId: options.externalId }),
      },
      ...(options.masterCredentials ? { masterCredentials: options.masterCredentials } : {}),
      clientConfig: { region: options.region },
    }),
  );
}
