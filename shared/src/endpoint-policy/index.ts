/**
 * Endpoint-policy breadth: parse an endpoint policy as IAM does, judge how far it reaches against the
 * organization's data perimeter, decide which verdicts a profile forbids, and render the policies
 * vpc-guard writes.
 */
export { analyzeEndpointPolicy, type AnalyzeEndpointPolicyOptions } from './analyze';
export { isAwsOwnedResource } from './aws-owned';
export {
  isEndpointPolicyViolation,
  judgeEndpointPolicy,
  type EndpointPolicyJudgeSettings,
  type EndpointPolicyJudgement,
  type EndpointPolicyViolation,
} from './judge';
export {
  MAX_ENDPOINT_POLICY_LENGTH,
  parseEndpointPolicy,
  type ParseResult,
  type ParsedPolicy,
  type ParsedStatement,
} from './parse';
export {
  EndpointPolicyTemplateError,
  renderEndpointPolicy,
  type EndpointPolicyTemplateOptions,
} from './templates';
export {
  ENDPOINT_POLICY_VERDICTS,
  STATEMENT_VERDICTS,
  compareStatementVerdicts,
  type EndpointPolicyAnalysis,
  type EndpointPolicyVerdict,
  type EndpointPolicyViolationVerdict,
  type ScopeEvidence,
  type ScopeSource,
  type StatementAnalysis,
  type StatementIssue,
  type StatementVerdict,
} from './verdicts';
