import {
  GenerateMacCommand,
  KMSClient,
  VerifyMacCommand,
  type MacAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { awsErrorCode, describeAwsError } from '../aws/errors';
import { RECORD_MAC_ALGORITHM, RecordSigningError, type RecordSigner } from './record-integrity';

/*
 * Record MACs made by a KMS HMAC key, apart from the rest of record integrity: only a run that names a
 * KMS key loads the KMS client.
 */

const KMS_MAC_ALGORITHM: MacAlgorithmSpec = RECORD_MAC_ALGORITHM;

/**
 * HMAC with a KMS key (key spec HMAC_256, usage GENERATE_VERIFY_MAC): the key never leaves KMS, and
 * who may make or check a MAC is decided by the key policy and IAM.
 */
export class KmsRecordSigner implements RecordSigner {
  constructor(
    private readonly kms: KMSClient,
    /** Key id, ARN, alias name (`alias/vpc-guard-records`) or alias ARN. */
    readonly keyId: string,
  ) {}

  async sign(message: Uint8Array): Promise<Uint8Array> {
    try {
      const output = await this.kms.send(
        new GenerateMacCommand({
          KeyId: this.keyId,
          Message: message,
          MacAlgorithm: KMS_MAC_ALGORITHM,
        }),
      );
      if (!output.Mac) throw new Error('GenerateMac returned no MAC');
      return output.Mac;
    } catch (error) {
      throw new RecordSigningError(
        `cannot sign the record with KMS key ${this.keyId}: ${describeAwsError(error)}`,
        { cause: error },
      );
    }
  }

  async verify(message: Uint8Array, mac: Uint8Array): Promise<boolean> {
    try {
      const output = await this.kms.send(
        new VerifyMacCommand({
          KeyId: this.keyId,
          Message: message,
          Mac: mac,
          MacAlgorithm: KMS_MAC_ALGORITHM,
        }),
      );
      return output.MacValid === true;
    } catch (error) {
      // KMS answers a wrong MAC with an error, not with MacValid false.
      if (awsErrorCode(error) === 'KMSInvalidMacException') return false;
      throw new RecordSigningError(
        `cannot verify the record with KMS key ${this.keyId}: ${describeAwsError(error)}`,
        { cause: error },
      );
    }
  }
}

/** A KMS client for a record key: in the key's own region when it is an ARN, else the SDK's default. */
export function createRecordKmsClient(keyId: string, region?: string): KMSClient {
  const fromArn = /^arn:aws[\w-]*:kms:([a-z0-9-]+):/.exec(keyId)?.[1];
  const chosen = fromArn ?? region;
  return new KMSClient({ ...(chosen ? { region: chosen } : {}), retryMode: 'adaptive' });
}
