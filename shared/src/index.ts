/*
 * The boundary of the vpc-guard core: the names the functions, the infrastructure and the tests use,
 * each from the module that defines it. Named, not `export *`: a bundle keeps only the modules whose
 * names it imports.
 *
 * The CLI imports the defining modules instead (`@vpc-guard/shared/report/formats`, see the `exports`
 * of package.json): it is compiled with code splitting, and esbuild puts every module reached through
 * one barrel into a chunk that each command would load, `--help` included. Importing the modules
 * themselves keeps the AWS clients of one command out of the others.
 */

export {
  ConfigurationError,
  describeIssue,
  formatIssuePath,
  InputValidationError,
  parseOrThrow,
  VpcGuardError,
} from './errors';
export type { InputProblem } from './errors';
export { NetworkSnapshotSchema, SNAPSHOT_SCHEMA_VERSION } from './snapshot/schema';
export type {
  NetworkSnapshot,
  NetworkSnapshotInput,
  Route,
  RouteTarget,
  SecurityGroupRule,
  Tags,
  VpcEndpoint,
} from './snapshot/schema';
export { parseNetworkSnapshots } from './snapshot/file';
export type { GuardPolicy } from './policy/schema';
export { parseGuardPolicyJson } from './policy/json';
export { guardPolicyAsJson, parseGuardPolicy } from './policy/load';
export { profileNamed, resolveProfile } from './policy/resolve';
export { parseExemption } from './policy/exemption';
export type { RuleFinding, RuleId, Severity, VpcContext } from './rules/types';
export { RULES } from './rules/registry';
export { interfaceEndpointMonthlyCost, natGatewayMonthlyCost } from './cost/pricing';
export { buildVpcContexts, evaluate, summarizeEvaluations } from './evaluate';
export type { Evaluation, Finding } from './evaluate';
export {
  escapeMarkdownCell,
  renderJsonReport,
  renderMarkdownReport,
  renderSarifReport,
  renderTableReport,
} from './report';
export { analyzeEndpointPolicy } from './endpoint-policy';
export { createEc2Client } from './aws/clients';
export { awsErrorCode, classifyAwsError, describeAwsError } from './aws/errors';
export type { AwsErrorKind } from './aws/errors';
export { ENDPOINT_MUTATION_BUCKET, RateLimiterRegistry } from './aws/rate-limiter';
export { parseRegionSelection } from './aws/target-selection';
export type { RegionSelection } from './aws/target-selection';
export { assumeRoleCredentials, getCallerIdentity } from './aws/targets';
export type { AssumeRoleOptions, AwsTarget, CallerIdentity } from './aws/targets';
export { createOrganizationsClient, listOrganizationAccounts } from './aws/organizations';
export {
  ACCOUNT_ID_PATTERN,
  ARN_PATTERN,
  ASSUMED_ROLE_ARN_PATTERN,
  AccountIdSchema,
  ArnSchema,
  AssumedRoleArnSchema,
  CONFIG_RULE_ARN_PATTERN,
  ConfigRuleArnSchema,
  ConfigRuleNameSchema,
  EC2_ID_PATTERNS,
  EC2_ID_PREFIXES,
  EXTERNAL_ID_PATTERN,
  EgressOnlyInternetGatewayIdSchema,
  ElasticIpAllocationIdSchema,
  EventBusNameOrArnSchema,
  ExternalIdSchema,
  IAM_ROLE_ARN_PATTERN,
  IamRoleArnSchema,
  IamRoleNameSchema,
  InternetGatewayIdSchema,
  KmsAliasNameSchema,
  KmsKeyArnSchema,
  KmsKeyIdSchema,
  KmsKeyReferenceSchema,
  NatGatewayIdSchema,
  ORGANIZATIONAL_UNIT_ID_PATTERN,
  ORGANIZATION_ID_PATTERN,
  OrganizationIdSchema,
  OrganizationalUnitIdSchema,
  PARTITIONS,
  PartitionSchema,
  REGION_PATTERN,
  ROLE_ARN_WILDCARD_PATTERN,
  RegionSchema,
  RouteTableIdSchema,
  S3_BUCKET_NAME_PATTERN,
  S3BucketNameSchema,
  SSM_PARAMETER_NAME_PATTERN,
  SecretArnSchema,
  SecurityGroupIdSchema,
  SnsTopicArnSchema,
  SsmParameterNameSchema,
  SubnetIdSchema,
  VpcEndpointIdSchema,
  VpcIdSchema,
  ec2IdSchema,
  isPartition,
  parseArn,
  partitionOf,
  roleArnOfAssumedRole,
} from './aws/shapes';
export type { ArnParts, Ec2ResourceIdKind, Partition } from './aws/shapes';
export { AccountMismatchError, collectNetworkSnapshot, collectPages } from './snapshot/collect';
export { addDnsAttributes, collectEstate, mapWithConcurrency } from './snapshot/collect-estate';
export type { EstateAccount } from './snapshot/collect-estate';
export type { PlannedAction, RemediationPlan, VpcPlan } from './remediation/plan-model';
export { planRemediation, policyDigest } from './remediation/plan';
export { endpointClientToken } from './remediation/actions/create-endpoint';
export {
  MANAGED_TAG,
  NAME_TAG,
  PROTECTED_TAG,
  RELEASED_FROM_TAG,
  RELEASED_FROM_VPC_TAG,
} from './remediation/tags';
export { parseRemediationPlan } from './remediation/plan-file';
export { blockPlan } from './remediation/block-plan';
export { applyRemediation } from './remediation/apply';
export { summarizeOutcomes } from './remediation/record';
export type {
  ActionOutcome,
  ActionRecord,
  RecordJournal,
  RemediationRecord,
} from './remediation/record';
export { signRecord, verifyRecordIntegrity } from './remediation/record-integrity';
export type { RecordSigner } from './remediation/record-integrity';
export { KmsRecordSigner } from './remediation/record-kms';
export { renderPlanDiff } from './report/plan';
export { renderRecordSummary } from './report/record';
export { countTransitions, diffFindings, findingDigest } from './findings/state';
export type {
  AlertingTransition,
  AlertSink,
  FindingScope,
  FindingTransitions,
  PendingAlert,
  StoredFinding,
} from './findings/state';
export { FindingsStore } from './findings/store';
export { FINDINGS_TABLE_SCHEMA } from './findings/table-item';
export type { MalformedFindingItem } from './findings/store';
export {
  asffFindingId,
  importToSecurityHub,
  renderAsffFindings,
  SECURITY_HUB_BATCH_SIZE,
} from './notify/asff';
export {
  CONFIG_ANNOTATION_MAX,
  CONFIG_BATCH_SIZE,
  configAnnotation,
  putConfigEvaluations,
  renderConfigEvaluations,
  renderNotApplicableEvaluations,
  VPC_RESOURCE_TYPE,
} from './notify/config-evaluations';
export type { PutConfigEvaluationsResult } from './notify/config-evaluations';
export {
  buildFindingChanges,
  FindingChangeMessageSchema,
  indexEvaluationsByVpc,
} from './notify/finding-change';
export type { FindingChangeMessage, FindingChangeOptions } from './notify/finding-change';
export {
  EVENTBRIDGE_MAX_ENTRY_BYTES,
  putEventsEntryBytes,
  putRecordEvents,
  renderRecordEvents,
} from './notify/record-events';
export type { RecordEventDetail } from './notify/record-events';
export {
  escapeSlackText,
  groupChangesByVpc,
  renderSlackMessage,
  SLACK_LIMITS,
} from './notify/slack';
export type { SlackBlock, SlackMessage, VpcNotification } from './notify/slack';
export {
  publishToSns,
  renderSnsMessages,
  SNS_MAX_BYTES,
  snsMessageBytes,
  snsSubject,
} from './notify/sns';
export type { SnsMessage } from './notify/sns';
export { EC2_API_CALL_EVENT_NAMES } from './ec2-api-events';
export type { Ec2ApiCallEventName } from './ec2-api-events';
export { CONFIG_RESOURCE_TYPES } from './config-resource-types';
export type { ConfigResourceType } from './config-resource-types';
