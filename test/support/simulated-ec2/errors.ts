import { EC2ServiceException } from '@aws-sdk/client-ec2';

/**
 * An EC2 error raised inside the simulator. Operations throw it; the client middleware turns it into
 * the `EC2ServiceException` the real SDK would raise, so callers cannot tell the two apart.
 */
export class Ec2Fault extends Error {
  readonly code: string;
  readonly httpStatusCode: number;

  constructor(code: string, message: string, httpStatusCode = statusForCode(code)) {
    super(message);
    this.name = 'Ec2Fault';
    this.code = code;
    this.httpStatusCode = httpStatusCode;
  }
}

/** Shorthand for the most common throw in the operations. */
export function fault(code: string, message: string): Ec2Fault {
  return new Ec2Fault(code, message);
}

// HTTP status codes EC2 answers with; the SDK's retry classification reads them (5xx is transient).
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  DryRunOperation: 412,
  UnauthorizedOperation: 403,
  AuthFailure: 401,
  RequestLimitExceeded: 503,
  InternalError: 500,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  Unavailable: 503,
};

/** The HTTP status EC2 uses for an error code (400 for validation errors). */
function statusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? 400;
}

/** The message EC2 sends with `DryRunOperation`. */
export const DRY_RUN_MESSAGE = 'Request would have succeeded, but DryRun flag is set.';

/**
 * Builds the exception the SDK's EC2 query protocol would throw for this error: an
 * `EC2ServiceException` named after the EC2 code, with `$fault`, `$metadata`, and the parsed error
 * body (`Errors`, `RequestID`) mixed in, plus `Code` for convenience.
 */
export function toServiceException(error: Ec2Fault, requestId: string): EC2ServiceException {
  const exception = new EC2ServiceException({
    name: error.code,
    $fault: error.httpStatusCode < 500 ? 'client' : 'server',
    $metadata: { httpStatusCode: error.httpStatusCode, requestId },
    message: error.message,
  });
  return Object.assign(exception, {
    Code: error.code,
    Errors: { Error: { Code: error.code, Message: error.message } },
    RequestID: requestId,
  });
}
