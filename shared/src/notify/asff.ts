import { createHash } from 'node:crypto';
import {
  BatchImportFindingsCommand,
  type AwsSecurityFinding,
  type Partition as AsffPartition,
  type Resource,
  type SecurityHubClient,
  type SeverityLabel,
} from '@aws-sdk/client-securityhub';
import { awsErrorCode, describeAwsError } from '../aws/errors';
import { partitionOf } from '../aws/shapes';
import { InputValidationError, type InputProblem } from '../errors';
import type { Evaluation, Finding } from '../evaluate';
import type { FindingTransition, FindingTransitions } from '../findings/state';
import { evidencePhrases } from '../report/phrasing';
import { ruleById } from '../rules/registry';
import type { RuleId, Severity } from '../rules/types';
import { chunk } from './batches';
import { ec2ResourceArn, ec2ResourceKind } from './ec2-arns';

/**
 * Security Hub: findings in the AWS Security Finding Format (ASFF), imported with
 * BatchImportFindings under the account's default product. The ASFF id comes from the finding key, so
 * every run updates the same Security Hub finding; a resolved finding is sent once more as `PASSED`
 * and `ARCHIVED`.
 */

export const ASFF_SCHEMA_VERSION = '2018-10-08';
/** BatchImportFindings takes at most 100 findings per call (Security Hub API reference). */
export const SECURITY_HUB_BATCH_SIZE = 100;
/** ASFF `Title` is limited to 256 characters and `Description` to 1,024. */
export const ASFF_TITLE_MAX = 256;
export const ASFF_DESCRIPTION_MAX = 1024;
/** ASFF `Id` is at most 512 characters. */
const ASFF_ID_MAX = 512;
/** `Remediation.Recommendation.Text` is at most 512 characters. */
const RECOMMENDATION_MAX = 512;

/** Options of {@link renderAsffFindings}. */
export interface AsffOptions {
  /**
   * The account that imports: with the default product ARN, BatchImportFindings only accepts findings
   * whose `AwsAccountId` is the caller's account (Security Hub API reference, BatchImportFindings).
   */
  readonly accountId: string;
  /** The region the findings are imported into (the product ARN's region). */
  readonly region: string;
  /** @default `arn:<partition>:securityhub:<region>:<accountId>:product/<accountId>/default` */
  readonly productArn?: string;
  /**
   * Also render unchanged open findings, to refresh them: Security Hub deletes findings that have not
   * been updated for 90 days. @default false
   */
  readonly includeUnchanged?: boolean;
}

const SEVERITY_LABEL: Readonly<Record<Severity, SeverityLabel>> = {
  critical: 'CRITICAL',
  high: 'HIGH',
  medium: 'MEDIUM',
  low: 'LOW',
  informational: 'INFORMATIONAL',
};

const NETWORK_REACHABILITY =
  'Software and Configuration Checks/AWS Security Best Practices/Network Reachability';
const DATA_EXFILTRATION = 'Effects/Data Exfiltration';

/** ASFF types (`namespace/category/classifier`) per rule. */
const RULE_TYPES: Readonly<Record<RuleId, readonly string[]>> = {
  // A path to the internet where the policy forbids one is a way out for data.
  'nat-gateway-forbidden': [NETWORK_REACHABILITY, DATA_EXFILTRATION],
  'internet-route-forbidden': [NETWORK_REACHABILITY, DATA_EXFILTRATION],
  'endpoint-missing': [NETWORK_REACHABILITY],
  'endpoint-misconfigured': [NETWORK_REACHABILITY],
  // An endpoint policy without a perimeter lets data leave to resources outside the organization.
  'endpoint-policy-too-broad': [
    'Software and Configuration Checks/AWS Security Best Practices/Data Perimeter',
    DATA_EXFILTRATION,
  ],
  'exemption-expired': ['Software and Configuration Checks/AWS Security Best Practices/Governance'],
};

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** The ASFF id of a finding key: `vpc-guard/<key>`, or a digest of it when that would pass 512. */
export function asffFindingId(findingKey: string): string {
  const id = `vpc-guard/${findingKey}`;
  return id.length <= ASFF_ID_MAX
    ? id
    : `vpc-guard/sha256/${createHash('sha256').update(findingKey).digest('hex')}`;
}

/** The default product ARN of an account, which any account with Security Hub may import into. */
function defaultProductArn(accountId: string, region: string): string {
  return `arn:${partitionOf(region)}:securityhub:${region}:${accountId}:product/${accountId}/default`;
}

interface RenderInput {
  readonly key: string;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly ruleId: RuleId;
  readonly resourceId: string;
  readonly severity: Severity;
  readonly message: string;
  readonly profile: string;
  readonly vpcName: string | null;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly updatedAt: string;
  readonly finding: Finding | null;
  readonly resolved: string | null;
}

/** ASFF's name of a region's partition (it spells the ISO ones its own way); `aws` where it has none. */
function asffPartition(region: string): AsffPartition {
  const partition = partitionOf(region);
  switch (partition) {
    case 'aws-cn':
    case 'aws-us-gov':
      return partition;
    case 'aws-iso':
      return 'aws-us-iso';
    case 'aws-iso-b':
      return 'aws-us-iso-b';
    default:
      return 'aws';
  }
}

function resources(input: RenderInput): Resource[] {
  const partition = asffPartition(input.region);
  const vpc: Resource = {
    Type: 'AwsEc2Vpc',
    Id: ec2ResourceArn(input.accountId, input.region, input.vpcId),
    Partition: partition,
    Region: input.region,
    ...(input.vpcName ? { Tags: { Name: clip(input.vpcName, 256) } } : {}),
  };
  if (input.resourceId === input.vpcId) return [vpc];
  const kind = ec2ResourceKind(input.resourceId);
  const atFault: Resource = {
    Type: kind?.asffType ?? 'Other',
    Id: ec2ResourceArn(input.accountId, input.region, input.resourceId),
    Partition: partition,
    Region: input.region,
    // ASFF `Details.Other`: at most 50 pairs, keys under 128 and values under 1,024 characters.
    Details: { Other: { VpcId: input.vpcId, ResourceId: input.resourceId } },
  };
  return [vpc, atFault];
}

function description(input: RenderInput): string {
  const where = `VPC ${input.accountId}/${input.region}/${input.vpcId}${input.vpcName ? ` (${input.vpcName})` : ''}, profile ${input.profile}.`;
  const evidence = input.finding ? evidencePhrases(input.finding).slice(0, 6).join('; ') : '';
  const lead = input.resolved ? `Resolved (${input.resolved}): ${input.message}` : input.message;
  return clip(
    [lead, where, evidence ? `Evidence: ${evidence}.` : ''].filter(Boolean).join(' '),
    ASFF_DESCRIPTION_MAX,
  );
}

function render(input: RenderInput, productArn: string, transition: string): AwsSecurityFinding {
  const rule = ruleById(input.ruleId);
  const label = SEVERITY_LABEL[input.severity];
  const types = [...RULE_TYPES[input.ruleId]];
  const fix = input.finding?.fix ?? null;
  const where = input.vpcName ?? input.vpcId;
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: asffFindingId(input.key),
    ProductArn: productArn,
    ProductName: 'vpc-guard',
    CompanyName: 'vpc-guard',
    GeneratorId: `vpc-guard/${input.ruleId}`,
    AwsAccountId: input.accountId,
    Region: input.region,
    Types: types,
    CreatedAt: input.firstSeen,
    UpdatedAt: input.updatedAt,
    FirstObservedAt: input.firstSeen,
    LastObservedAt: input.lastSeen,
    Severity: { Label: label, Original: input.severity },
    // Providers update severity and types through FindingProviderFields once a finding exists
    // (BatchImportFindings reference: Severity and Types are for the first import).
    FindingProviderFields: { Severity: { Label: label, Original: input.severity }, Types: types },
    Title: clip(`${rule.title}: ${input.resourceId} in ${where}`, ASFF_TITLE_MAX),
    Description: description(input),
    Resources: resources(input),
    Compliance: { Status: input.resolved ? 'PASSED' : 'FAILED' },
    // Workflow can only be set when the finding is created; Security Hub keeps the user's after that.
    ...(input.resolved ? {} : { Workflow: { Status: 'NEW' } }),
    RecordState: input.resolved ? 'ARCHIVED' : 'ACTIVE',
    ...(fix
      ? {
          Remediation: {
            Recommendation: { Text: clip(`${fix.action}: ${fix.summary}`, RECOMMENDATION_MAX) },
          },
        }
      : {}),
    // ProductFields: at most 50 pairs, keys up to 128 and values up to 2,048 characters.
    ProductFields: {
      'vpc-guard/FindingKey': clip(input.key, 2048),
      'vpc-guard/RuleId': input.ruleId,
      'vpc-guard/Profile': clip(input.profile || '-', 2048),
      'vpc-guard/ResourceId': input.resourceId,
      'vpc-guard/Transition': transition,
    },
  };
}

function toInput(
  transition: FindingTransition,
  evaluations: ReadonlyMap<string, Evaluation>,
): RenderInput {
  const { record } = transition;
  const evaluation = evaluations.get(`${record.accountId}/${record.region}/${record.vpcId}`);
  return {
    key: record.key,
    accountId: record.accountId,
    region: record.region,
    vpcId: record.vpcId,
    ruleId: record.ruleId,
    resourceId: record.resourceId,
    severity: record.severity,
    message: record.message,
    profile: evaluation?.profile ?? record.profile,
    vpcName: evaluation?.vpcName ?? record.vpcName,
    firstSeen: record.firstSeen,
    lastSeen: record.lastSeen,
    updatedAt:
      transition.kind === 'resolved' ? (record.resolvedAt ?? record.lastSeen) : record.lastSeen,
    finding: transition.finding,
    resolved: transition.kind === 'resolved' ? transition.reason : null,
  };
}

/**
 * ASFF documents for the opened, changed and resolved findings (and unchanged ones with
 * `includeUnchanged`): stable `Id` from the finding key, `GeneratorId` `vpc-guard/<ruleId>`, severity
 * label, title and description within ASFF's limits, the VPC and the resource at fault as resources,
 * `Compliance.Status` FAILED / `RecordState` ACTIVE while open and PASSED / ARCHIVED once resolved,
 * the fix as the recommendation, and the key, rule and profile in `ProductFields`. Pure.
 *
 * @throws InputValidationError when a finding belongs to another account than `options.accountId`:
 *   import each account's findings with that account's credentials.
 */
export function renderAsffFindings(
  transitions: FindingTransitions,
  evaluations: readonly Evaluation[],
  options: AsffOptions,
): AwsSecurityFinding[] {
  const all: FindingTransition[] = [
    ...transitions.opened,
    ...transitions.changed,
    ...transitions.resolved,
    ...(options.includeUnchanged ? transitions.unchanged : []),
  ];
  const problems: InputProblem[] = all
    .filter((transition) => transition.record.accountId !== options.accountId)
    .map((transition) => ({
      path: transition.key,
      message: `belongs to account ${transition.record.accountId}, not ${options.accountId}: the default product only imports the caller's own findings`,
    }));
  if (problems.length > 0) throw new InputValidationError('renderAsffFindings', problems);
  const productArn = options.productArn ?? defaultProductArn(options.accountId, options.region);
  const byVpc = new Map(evaluations.map((e) => [`${e.accountId}/${e.region}/${e.vpcId}`, e]));
  return all.map((transition) => render(toInput(transition, byVpc), productArn, transition.kind));
}

/** A finding Security Hub did not import. */
export interface FailedAsffImport {
  readonly id: string;
  readonly errorCode: string;
  readonly errorMessage: string;
}

/** What {@link importToSecurityHub} did. */
export interface SecurityHubImportResult {
  readonly imported: number;
  readonly failed: readonly FailedAsffImport[];
}

/**
 * Imports with BatchImportFindings, at most 100 findings per call. Findings Security Hub rejects
 * (`FailedFindings`) and whole calls that fail are reported per finding id; the other batches still
 * go. Never throws for an AWS error.
 */
export async function importToSecurityHub(
  client: SecurityHubClient,
  findings: readonly AwsSecurityFinding[],
): Promise<SecurityHubImportResult> {
  let imported = 0;
  const failed: FailedAsffImport[] = [];
  for (const batch of chunk(findings, SECURITY_HUB_BATCH_SIZE)) {
    try {
      const output = await client.send(new BatchImportFindingsCommand({ Findings: batch }));
      const rejected = output.FailedFindings ?? [];
      for (const item of rejected) {
        failed.push({
          id: item.Id ?? '?',
          errorCode: item.ErrorCode ?? 'Unknown',
          errorMessage: item.ErrorMessage ?? '',
        });
      }
      imported += output.SuccessCount ?? batch.length - rejected.length;
    } catch (error) {
      const errorCode = awsErrorCode(error) ?? 'Error';
      const errorMessage = describeAwsError(error);
      for (const finding of batch) failed.push({ id: finding.Id ?? '?', errorCode, errorMessage });
    }
  }
  return { imported, failed };
}
