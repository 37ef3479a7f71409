import {
  PutEvaluationsCommand,
  type ConfigServiceClient,
  type Evaluation as ConfigEvaluation,
} from '@aws-sdk/client-config-service';
import { awsErrorCode, describeAwsError } from '../aws/errors';
import type { Evaluation } from '../evaluate';
import type { Compliance } from '../rules/types';
import { chunk } from './batches';

/**
 * AWS Config: one evaluation per VPC for a custom Lambda rule. The VPC is the unit Config reports on,
 * whichever resource's change triggered the rule (AWS-FACTS: map an endpoint or NAT change to its VPC).
 */

/** PutEvaluations takes at most 100 evaluations per call (AWS Config API reference). */
export const CONFIG_BATCH_SIZE = 100;
/** `Annotation` must be 1 to 256 characters (AWS Config API reference, Evaluation). */
export const CONFIG_ANNOTATION_MAX = 256;
/** The resource type vpc-guard evaluates. */
export const VPC_RESOURCE_TYPE = 'AWS::EC2::VPC';

/** Options of {@link renderConfigEvaluations}. */
export interface ConfigEvaluationOptions {
  /**
   * When the evaluated state was observed; Config keeps the latest by this time. Use the
   * configuration item's capture time for change-triggered runs, the notification time for periodic.
   */
  readonly orderingTimestamp: Date;
}

const FALLBACK_ANNOTATION: Readonly<Record<Compliance, string>> = {
  COMPLIANT: 'All vpc-guard rules pass.',
  NON_COMPLIANT: 'Non-compliant with the vpc-guard policy.',
  NOT_APPLICABLE: 'Not applicable to vpc-guard.',
};

/** An annotation Config accepts: one line, 1 to 256 characters (a fallback replaces an empty one). */
export function configAnnotation(text: string, compliance: Compliance): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const chosen = line === '' ? FALLBACK_ANNOTATION[compliance] : line;
  // Counting UTF-16 units never undercounts characters, so the result is within Config's limit.
  return chosen.length <= CONFIG_ANNOTATION_MAX
    ? chosen
    : `${chosen.slice(0, CONFIG_ANNOTATION_MAX - 1)}…`;
}

/** One PutEvaluations entry per VPC evaluation, with the evaluation's annotation. Pure. */
export function renderConfigEvaluations(
  evaluations: readonly Evaluation[],
  options: ConfigEvaluationOptions,
): ConfigEvaluation[] {
  return evaluations.map((evaluation) => ({
    ComplianceResourceType: VPC_RESOURCE_TYPE,
    ComplianceResourceId: evaluation.vpcId,
    ComplianceType: evaluation.compliance,
    Annotation: configAnnotation(evaluation.annotation, evaluation.compliance),
    OrderingTimestamp: options.orderingTimestamp,
  }));
}

/** Options of {@link renderNotApplicableEvaluations}. */
export interface NotApplicableOptions extends ConfigEvaluationOptions {
  /** @default 'The VPC no longer exists or left the rule's scope.' */
  readonly annotation?: string;
}

/**
 * `NOT_APPLICABLE` for VPCs Config knows but vpc-guard no longer evaluates: deleted VPCs, an event
 * that left the rule's scope, VPCs the rule reported earlier that a periodic run did not find.
 */
export function renderNotApplicableEvaluations(
  vpcIds: readonly string[],
  options: NotApplicableOptions,
): ConfigEvaluation[] {
  const annotation = configAnnotation(
    options.annotation ?? "The VPC no longer exists or left the rule's scope.",
    'NOT_APPLICABLE',
  );
  return [...new Set(vpcIds)].map((vpcId) => ({
    ComplianceResourceType: VPC_RESOURCE_TYPE,
    ComplianceResourceId: vpcId,
    ComplianceType: 'NOT_APPLICABLE',
    Annotation: annotation,
    OrderingTimestamp: options.orderingTimestamp,
  }));
}

/** Options of {@link putConfigEvaluations}. */
export interface PutConfigEvaluationsOptions {
  /** Config validates the call but stores nothing, and accepts any result token. @default false */
  readonly testMode?: boolean;
}

/** An evaluation Config did not store, and why. */
export interface FailedConfigEvaluation {
  readonly evaluation: ConfigEvaluation;
  /** The error code of a failed call, or `Rejected` when Config listed it in `FailedEvaluations`. */
  readonly code: string;
  readonly error: string;
}

/** What {@link putConfigEvaluations} did. */
export interface PutConfigEvaluationsResult {
  readonly sent: number;
  readonly failed: readonly FailedConfigEvaluation[];
}

/**
 * Sends evaluations with PutEvaluations, at most 100 per call, all with the rule invocation's result
 * token. Config's `FailedEvaluations` and calls that fail as a whole are reported per evaluation and
 * the remaining batches still go. Never throws for an AWS error.
 */
export async function putConfigEvaluations(
  client: ConfigServiceClient,
  resultToken: string,
  entries: readonly ConfigEvaluation[],
  options: PutConfigEvaluationsOptions = {},
): Promise<PutConfigEvaluationsResult> {
  let sent = 0;
  const failed: FailedConfigEvaluation[] = [];
  for (const batch of chunk(entries, CONFIG_BATCH_SIZE)) {
    try {
      const output = await client.send(
        new PutEvaluationsCommand({
          ResultToken: resultToken,
          Evaluations: batch,
          ...(options.testMode ? { TestMode: true } : {}),
        }),
      );
      const rejected = output.FailedEvaluations ?? [];
      for (const evaluation of rejected) {
        failed.push({ evaluation, code: 'Rejected', error: 'listed in FailedEvaluations' });
      }
      sent += batch.length - rejected.length;
    } catch (error) {
      const code = awsErrorCode(error) ?? 'Error';
      const text = describeAwsError(error);
      for (const evaluation of batch) failed.push({ evaluation, code, error: text });
    }
  }
  return { sent, failed };
}
