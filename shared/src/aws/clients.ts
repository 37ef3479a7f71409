import { EC2Client } from '@aws-sdk/client-ec2';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

/** What every AWS client of vpc-guard is built from. */
export interface AwsClientOptions {
  readonly region: string;
  /** Credentials of an assumed role; the standard credential chain when left out. */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** @default 8 - EC2 throttles per account and region; adaptive retries back off and wait for tokens */
  readonly maxAttempts?: number;
}

/**
 * An EC2 client with adaptive retries (client-side rate limiting on top of the SDK's backoff, so a
 * throttle storm slows a run down instead of failing it). The SDK itself honours `AWS_ENDPOINT_URL`
 * / `AWS_ENDPOINT_URL_EC2` and the standard credential chain, so the same code runs against any
 * AWS-compatible endpoint.
 */
export function createEc2Client(options: AwsClientOptions): EC2Client {
  return new EC2Client({
    region: options.region,
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 8,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}
