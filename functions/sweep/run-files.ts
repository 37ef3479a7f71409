import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { VpcGuardError, describeAwsError, parseOrThrow } from '@vpc-guard/shared';
import type * as z from 'zod';
import { logger } from '../runtime/observability';
import {
  FailedResultFileSchema,
  ResultManifestSchema,
  SucceededResultFileSchema,
  SweepTargetsFileSchema,
  type ResultWriterDetails,
  type SweepTarget,
  type SweepTargetsFileReference,
} from './schema';
import type { SweepTargetListing, SweepTargetResult } from './targets';

/**
 * A sweep run's files in SWEEP_BUCKET: the list task writes the targets there and hands the state
 * machine a reference (the Distributed Map reads its items from it), and the summary task reads them
 * back with the Map's ResultWriter output. A large organization's 34,000 account-regions would not
 * fit Step Functions' 256 KB state payload; a reference always does. Everything read back is
 * validated: the bucket is writable by more than this code, so its content is input like any event.
 */

/** The list task's output with SWEEP_BUCKET: the run's targets are in S3, not in the payload. */
export interface SweepTargetsReference {
  readonly runId: string;
  /** Accounts in scope. */
  readonly accounts: number;
  /** Targets in the file. */
  readonly count: number;
  readonly targets: SweepTargetsFileReference;
}

/** A run file could not be read or written (an S3 error, or a body that is not JSON). */
export class SweepRunFileError extends VpcGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SweepRunFileError';
  }
}

/** Where a run's targets go: one file per run, so runs never overwrite each other. */
export function sweepTargetsKey(runId: string): string {
  return `runs/${runId}/targets.json`;
}

/** Writes a listing's targets as a JSON array and returns the reference the state machine passes on. */
export async function writeSweepTargets(
  s3: S3Client,
  bucket: string,
  listing: SweepTargetListing,
): Promise<SweepTargetsReference> {
  const key = sweepTargetsKey(listing.runId);
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: JSON.stringify(listing.targets),
        ContentType: 'application/json',
      }),
    );
  } catch (error) {
    throw new SweepRunFileError(
      `could not write the sweep targets to s3://${bucket}/${key}: ${describeAwsError(error)}`,
      { cause: error },
    );
  }
  return {
    runId: listing.runId,
    accounts: listing.accounts,
    count: listing.targets.length,
    targets: { bucket, key },
  };
}

/** Reads one JSON object and validates it; a bad field is named with its object's location. */
async function readJson<Schema extends z.ZodType>(
  s3: S3Client,
  bucket: string,
  key: string,
  schema: Schema,
): Promise<z.output<Schema>> {
  const location = `s3://${bucket}/${key}`;
  let text: string | undefined;
  try {
    const output = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = await output.Body?.transformToString('utf-8');
  } catch (error) {
    throw new SweepRunFileError(`could not read ${location}: ${describeAwsError(error)}`, {
      cause: error,
    });
  }
  if (text === undefined) throw new SweepRunFileError(`${location} has no body`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new SweepRunFileError(`${location} is not JSON: ${describeAwsError(error)}`, {
      cause: error,
    });
  }
  return parseOrThrow(schema, data, location);
}

/** The targets the list task wrote. */
export function readSweepTargets(
  s3: S3Client,
  reference: SweepTargetsFileReference,
): Promise<readonly SweepTarget[]> {
  return readJson(s3, reference.bucket, reference.key, SweepTargetsFileSchema);
}

// A child's Cause can be a whole stack trace; the summary keeps the start of it (Step Functions
// keeps the rest in the result file).
const MAX_CAUSE_LENGTH = 300;

/**
 * The children's results from the ResultWriter's manifest: each SUCCEEDED file's outputs, and for
 * each child in a FAILED file (failed, timed out or aborted), a `failed` result per target of its
 * input, with its error as the reason, so the summary names those targets as missed. PENDING
 * children left no result; the targets listing names their targets as missed.
 */
export async function readSweepResults(
  s3: S3Client,
  details: ResultWriterDetails,
): Promise<(SweepTargetResult | readonly SweepTargetResult[])[]> {
  const bucket = details.Bucket;
  const manifest = await readJson(s3, bucket, details.Key, ResultManifestSchema);
  const files = manifest.ResultFiles;
  const results: (SweepTargetResult | readonly SweepTargetResult[])[] = [];
  for (const file of files.SUCCEEDED) {
    const executions = await readJson(s3, bucket, file.Key, SucceededResultFileSchema);
    for (const execution of executions) results.push(execution.Output);
  }
  for (const file of files.FAILED) {
    const executions = await readJson(s3, bucket, file.Key, FailedResultFileSchema);
    for (const execution of executions) {
      const cause = execution.Cause ?? '';
      const shortCause =
        cause.length > MAX_CAUSE_LENGTH ? `${cause.slice(0, MAX_CAUSE_LENGTH)}...` : cause;
      const reason = `the child execution failed: ${execution.Error ?? 'no error given'}${shortCause === '' ? '' : `: ${shortCause}`}`;
      const items = 'Items' in execution.Input ? execution.Input.Items : [execution.Input];
      results.push(
        items.map((item) => ({ ...item, status: 'failed' as const, vpcs: 0, findings: 0, reason })),
      );
    }
  }
  logger.info('sweep results read', {
    manifest: `s3://${bucket}/${details.Key}`,
    succeededFiles: files.SUCCEEDED.length,
    failedFiles: files.FAILED.length,
    pendingFiles: files.PENDING.length,
  });
  return results;
}
