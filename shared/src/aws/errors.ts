/** How an AWS error should be treated: the SDK already retried throttles; this is what is left. */
export type AwsErrorKind =
  'throttled' | 'access-denied' | 'not-found' | 'dry-run-ok' | 'conflict' | 'invalid' | 'other';

const ACCESS_DENIED = new Set([
  'UnauthorizedOperation',
  'AccessDenied',
  'AccessDeniedException',
  'AuthFailure',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
]);
const THROTTLED = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestThrottled',
]);
const CONFLICT = new Set([
  'DependencyViolation',
  'IdempotentParameterMismatch',
  'RouteAlreadyExists',
  'InvalidGroup.Duplicate',
  'InvalidPermission.Duplicate',
  'Resource.AlreadyAssociated',
  'IncorrectState',
]);

/** The error code of an AWS SDK error (its `name`), or undefined for anything else. */
export function awsErrorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'name' in error && '$metadata' in error) {
    return String((error as { name: unknown }).name);
  }
  return undefined;
}

/** Classifies an AWS error for logs, records and the decision to go on or stop. */
export function classifyAwsError(error: unknown): AwsErrorKind {
  const code = awsErrorCode(error);
  if (code === undefined) return 'other';
  if (code === 'DryRunOperation') return 'dry-run-ok';
  if (ACCESS_DENIED.has(code)) return 'access-denied';
  if (THROTTLED.has(code)) return 'throttled';
  if (code.endsWith('NotFound') || code.endsWith('.NotFound') || code === 'NatGatewayNotFound')
    return 'not-found';
  if (CONFLICT.has(code)) return 'conflict';
  if (code.startsWith('Invalid') || code === 'MissingParameter') return 'invalid';
  return 'other';
}

/** "Code: message" for an AWS error; the message alone for anything else. */
export function describeAwsError(error: unknown): string {
  const code = awsErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
}
