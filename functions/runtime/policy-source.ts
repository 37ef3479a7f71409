import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, Checksum, SourceData } from '@smithy/types';
import {
  VpcGuardError,
  describeAwsError,
  parseGuardPolicyJson,
  partitionOf,
  type GuardPolicy,
} from '@vpc-guard/shared';
import { describePolicySource, type PolicySource } from './config';

/**
 * The policy of a running function: read from an SSM parameter, an S3 object or a bundled file, and
 * kept for a while, so that editing the policy takes effect within minutes without a deploy. The text
 * is JSON (the stack publishes the parameter as JSON; `vpc-guard invoke --policy` converts a YAML
 * file): the functions bundle no YAML parser.
 */

/** A policy larger than this is refused: the schema caps what is useful far below it. */
const MAX_POLICY_BYTES = 1_048_576;

/** The policy text could not be read (the parse and validation errors are InputValidationErrors). */
export class PolicyReadError extends VpcGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PolicyReadError';
  }
}

/** SHA-256 for the SigV4 signer, on node:crypto (the signer asks for a smithy `Checksum`). */
class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = NodeSha256.create(secret);
  }

  private static create(secret?: SourceData): Hash | Hmac {
    return secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', NodeSha256.bytes(secret));
  }

  private static bytes(data: SourceData): Uint8Array {
    if (typeof data === 'string') return Buffer.from(data, 'utf8');
    if (ArrayBuffer.isView(data))
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return new Uint8Array(data);
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    this.hash = NodeSha256.create(this.secret);
  }
}

/** What an S3 object read needs. */
export interface S3ReadOptions {
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  /** An endpoint override (path-style requests), e.g. a local S3-compatible service. */
  readonly endpointUrl: string | null;
  readonly fetch: typeof fetch;
}

function encodeKey(key: string): string {
  return key
    .split('/')
    .map((part) =>
      encodeURIComponent(part).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

/**
 * Reads one S3 object with a SigV4-signed GET. The functions read a single small object, so this
 * saves bundling the S3 client (hundreds of KB in every function) for one call.
 */
export async function readS3Object(options: S3ReadOptions): Promise<string> {
  const path = encodeKey(options.key);
  // Virtual-hosted style, except where a dotted bucket name would break TLS, or an override is set.
  let url: URL;
  if (options.endpointUrl !== null) {
    url = new URL(`${options.endpointUrl.replace(/\/+$/, '')}/${options.bucket}/${path}`);
  } else {
    const suffix = partitionOf(options.region) === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
    url = options.bucket.includes('.')
      ? new URL(`https://s3.${options.region}.${suffix}/${options.bucket}/${path}`)
      : new URL(`https://${options.bucket}.s3.${options.region}.${suffix}/${path}`);
  }
  const signer = new SignatureV4({
    service: 's3',
    region: options.region,
    credentials: options.credentials,
    sha256: NodeSha256,
    // S3 signs the path as sent: no second round of escaping.
    uriEscapePath: false,
  });
  const signed = await signer.sign({
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: {},
    headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  });
  const response = await options.fetch(url, { method: 'GET', headers: signed.headers });
  const body = await response.text();
  if (!response.ok) {
    const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? response.statusText;
    throw new PolicyReadError(
      `s3://${options.bucket}/${options.key}: S3 answered HTTP ${response.status} (${code})`,
    );
  }
  return body;
}

/** How policy text is read from each kind of source. */
export interface PolicyReaders {
  readonly ssm: () => SSMClient;
  readonly region: string;
  readonly s3EndpointUrl: string | null;
  readonly fetch?: typeof fetch;
  /** Relative `file:` paths resolve here: the function's code directory in Lambda. */
  readonly cwd?: string;
}

/** Reads the text of a policy from its source. */
export async function readPolicyText(
  source: PolicySource,
  readers: PolicyReaders,
): Promise<string> {
  const name = describePolicySource(source);
  let text: string;
  try {
    switch (source.kind) {
      case 'ssm': {
        const output = await readers
          .ssm()
          .send(new GetParameterCommand({ Name: source.name, WithDecryption: true }));
        text = output.Parameter?.Value ?? '';
        break;
      }
      case 's3': {
        const ssm = readers.ssm();
        text = await readS3Object({
          bucket: source.bucket,
          key: source.key,
          region: readers.region,
          // The standard credential chain, as the SDK clients resolve it.
          credentials: ssm.config.credentials,
          endpointUrl: readers.s3EndpointUrl,
          fetch: readers.fetch ?? fetch,
        });
        break;
      }
      case 'file':
        text = await readFile(resolve(readers.cwd ?? process.cwd(), source.path), 'utf8');
        break;
    }
  } catch (error) {
    if (error instanceof PolicyReadError) throw error;
    throw new PolicyReadError(`${name}: cannot read the policy (${describeAwsError(error)})`, {
      cause: error,
    });
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) {
    throw new PolicyReadError(`${name}: the policy is larger than ${MAX_POLICY_BYTES} bytes`);
  }
  return text;
}

/** Options of {@link PolicyCache}. */
export interface PolicyCacheOptions {
  readonly read: (source: PolicySource) => Promise<string>;
  /** How long a policy is used before it is read again; 0 reads it on every call. */
  readonly ttlSeconds: number;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
}

interface CachedPolicy {
  readonly loadedAt: number;
  readonly policy: Promise<GuardPolicy>;
}

/**
 * Policies by source, each kept for `ttlSeconds`. Concurrent callers share one read. A failed read or
 * an invalid policy is not kept: the error reaches the caller (the event goes to the DLQ, nothing is
 * decided on a policy nobody wrote) and the next call reads again.
 */
export class PolicyCache {
  private readonly entries = new Map<string, CachedPolicy>();

  constructor(private readonly options: PolicyCacheOptions) {}

  /** The policy of `source`, read and validated at most once per TTL. */
  get(source: PolicySource): Promise<GuardPolicy> {
    const key = describePolicySource(source);
    const now = this.options.clock();
    const cached = this.entries.get(key);
    if (cached && now - cached.loadedAt < this.options.ttlSeconds * 1000) return cached.policy;
    const policy = this.options.read(source).then((text) => parseGuardPolicyJson(text, key));
    const entry = { loadedAt: now, policy };
    this.entries.set(key, entry);
    policy.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return policy;
  }
}
