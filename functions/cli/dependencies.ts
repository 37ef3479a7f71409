import { createInterface } from 'node:readline';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { createEc2Client } from '@vpc-guard/shared/aws/clients';
import type { RateLimiterRegistry } from '@vpc-guard/shared/aws/rate-limiter';
import {
  assumeRoleCredentials,
  createStsClient,
  type AssumeRoleOptions,
  type AwsTarget,
} from '@vpc-guard/shared/aws/targets';

/**
 * What the live commands (`scan --live`, `collect`, `plan`, `apply`) need from outside the process
 * besides the {@link CliContext}: AWS clients and the terminal. `main` takes them as an argument, so
 * tests run the commands in-process against the simulated account; {@link createProcessDependencies}
 * builds the real ones.
 */

/** The terminal `apply` asks for confirmation on. */
export interface Terminal {
  /** True when a person can answer: stdin is a terminal. */
  readonly interactive: boolean;
  /** Reads one line from stdin; undefined when stdin ends first. */
  readLine(): Promise<string | undefined>;
}

export interface CliDependencies {
  /** The EC2 client of one account and region; `credentials` are an assumed role's, when given. */
  readonly ec2: (target: AwsTarget) => EC2Client;
  /** An STS client (GetCallerIdentity) in a region. */
  readonly sts: (region: string) => STSClient;
  /**
   * An Organizations client (ListAccounts, for `--org`). A promise: the real one is loaded on first
   * use, since only `--org` runs need it.
   */
  readonly organizations: (region: string) => Promise<OrganizationsClient>;
  /** Credentials of a member role (STS AssumeRole). */
  readonly assumeRole: (options: AssumeRoleOptions) => AwsCredentialIdentityProvider;
  readonly terminal: Terminal;
  /**
   * The limiter of endpoint mutations for `apply`. @default - EC2's own bucket (4 burst, 0.3 per
   * second) per account-region
   */
  readonly endpointLimiter?: () => RateLimiterRegistry;
  /**
   * The KMS client for a record key (`--record-key`). @default - one in the key ARN's region, else
   * the SDK's default region, created by the command that signs or verifies
   */
  readonly kms?: (keyId: string) => KMSClient;
}

/** Stdin of this process as a {@link Terminal}; it is only read when a command asks. */
function createProcessTerminal(): Terminal {
  return {
    interactive: process.stdin.isTTY === true,
    readLine: () =>
      new Promise((resolve) => {
        const lines = createInterface({ input: process.stdin, terminal: false });
        lines.once('line', (line) => {
          resolve(line);
          lines.close();
        });
        lines.once('close', () => resolve(undefined));
      }),
  };
}

/**
 * The real dependencies: SDK clients on the standard credential chain (environment, profile, SSO,
 * instance or container role) that honour `AWS_ENDPOINT_URL`; EC2 clients with adaptive retries.
 * Every live run needs EC2 and STS, so they are imported here; Organizations only when `--org` asks.
 */
export function createProcessDependencies(): CliDependencies {
  return {
    ec2: (target) =>
      createEc2Client({
        region: target.region,
        ...(target.credentials ? { credentials: target.credentials } : {}),
      }),
    sts: createStsClient,
    organizations: async (region) => {
      const { createOrganizationsClient } = await import('@vpc-guard/shared/aws/organizations');
      return createOrganizationsClient(region);
    },
    assumeRole: assumeRoleCredentials,
    terminal: createProcessTerminal(),
  };
}
