import { createHash } from 'node:crypto';
import { fault } from './errors';
import { requestFingerprint } from './fingerprint';

/** EC2's `MaxResults` bounds for one operation. */
export interface PageLimits {
  readonly min: number;
  readonly max: number;
  /** What EC2 does above `max`: reject the request, or quietly return `max` items. */
  readonly aboveMax: 'reject' | 'cap';
}

/**
 * `MaxResults` bounds of the paginated Describe operations, from the EC2 API reference (botocore's
 * `Describe...MaxResults` shapes). DescribeVpcEndpoints documents "if the value is greater than
 * 1,000, we return only 1,000 items".
 */
export const PAGE_LIMITS: Readonly<Record<string, PageLimits>> = {
  DescribeVpcs: { min: 5, max: 1000, aboveMax: 'reject' },
  DescribeSubnets: { min: 5, max: 1000, aboveMax: 'reject' },
  DescribeRouteTables: { min: 5, max: 100, aboveMax: 'reject' },
  DescribeNatGateways: { min: 5, max: 1000, aboveMax: 'reject' },
  DescribeInternetGateways: { min: 5, max: 1000, aboveMax: 'reject' },
  DescribeEgressOnlyInternetGateways: { min: 5, max: 255, aboveMax: 'reject' },
  DescribeVpcEndpoints: { min: 5, max: 1000, aboveMax: 'cap' },
  DescribeSecurityGroups: { min: 5, max: 1000, aboveMax: 'reject' },
};

interface PageRequest {
  readonly MaxResults?: number | undefined;
  readonly NextToken?: string | undefined;
}

interface TokenBody {
  readonly operation: string;
  readonly query: string;
  readonly offset: number;
}

/** Identifies the query a token belongs to, so a token cannot be replayed on another query. */
function queryKey(input: object): string {
  const query = requestFingerprint(input, ['NextToken', 'MaxResults', 'DryRun']);
  return createHash('sha256').update(query).digest('hex').slice(0, 16);
}

function decodeToken(token: string): TokenBody | undefined {
  try {
    const body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<TokenBody>;
    if (
      typeof body.operation === 'string' &&
      typeof body.query === 'string' &&
      typeof body.offset === 'number'
    ) {
      return body as TokenBody;
    }
  } catch {
    // Falls through: any token we did not issue is invalid.
  }
  return undefined;
}

/**
 * Cuts one page out of the (already filtered) items. The page size is `MaxResults` when given,
 * checked against EC2's bounds, else the simulator's small default so that callers which forget to
 * follow `NextToken` lose items in tests, as they would against a big account.
 */
export function paginate<T>(
  operation: string,
  items: readonly T[],
  input: PageRequest,
  defaultPageSize: number,
): { page: T[]; nextToken: string | undefined } {
  const limits = PAGE_LIMITS[operation];
  let pageSize = defaultPageSize;
  if (input.MaxResults !== undefined && limits) {
    const max = input.MaxResults;
    if (max < limits.min || (max > limits.max && limits.aboveMax === 'reject')) {
      throw fault(
        'InvalidParameterValue',
        `Value ( ${max} ) for parameter maxResults is invalid. Parameter must be between ${limits.min} and ${limits.max}.`,
      );
    }
    pageSize = Math.min(max, limits.max);
  }
  const query = queryKey(input);
  let offset = 0;
  if (input.NextToken !== undefined) {
    const body = decodeToken(input.NextToken);
    if (
      !body ||
      body.operation !== operation ||
      body.query !== query ||
      !Number.isInteger(body.offset) ||
      body.offset < 0
    ) {
      throw fault('InvalidPaginationToken', `Invalid pagination token: ${input.NextToken}`);
    }
    offset = body.offset;
  }
  const page = items.slice(offset, offset + pageSize);
  const nextOffset = offset + page.length;
  const nextToken =
    nextOffset < items.length
      ? Buffer.from(JSON.stringify({ operation, query, offset: nextOffset })).toString('base64url')
      : undefined;
  return { page, nextToken };
}
