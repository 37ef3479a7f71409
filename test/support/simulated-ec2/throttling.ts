/** Which of EC2's rate-limit buckets an operation draws from. */
export type BucketCategory = 'describe' | 'mutate' | 'endpoint' | 'nat';

/** A token bucket: `capacity` is the burst, `refillPerSecond` the sustained rate. */
export interface BucketSpec {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/**
 * EC2's request-rate buckets per account and region (AWS-FACTS.md, "Throttling"): describe 100 burst
 * and 20 per second, mutating 50 / 5, the VPC endpoint calls 4 / 0.3, the NAT gateway calls 10 / 1.
 */
export const EC2_REQUEST_BUCKETS: Readonly<Record<BucketCategory, BucketSpec>> = {
  describe: { capacity: 100, refillPerSecond: 20 },
  mutate: { capacity: 50, refillPerSecond: 5 },
  endpoint: { capacity: 4, refillPerSecond: 0.3 },
  nat: { capacity: 10, refillPerSecond: 1 },
};

/**
 * How the simulator throttles:
 * - `bucket`: EC2's token buckets (defaults from {@link EC2_REQUEST_BUCKETS}, any overridden), read
 *   against the account's clock. A throttled request takes no token.
 * - `rate`: every `every`-th call (per account and region, counting only `operations` when given)
 *   answers `RequestLimitExceeded`, whatever the clock says.
 */
export type ThrottleOptions =
  | ({ readonly kind: 'bucket' } & Partial<Readonly<Record<BucketCategory, BucketSpec>>>)
  | { readonly kind: 'rate'; readonly every: number; readonly operations?: readonly string[] };

class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly spec: BucketSpec,
    now: number,
  ) {
    this.tokens = spec.capacity;
    this.updatedAt = now;
  }

  tryTake(now: number): boolean {
    const elapsedSeconds = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(
      this.spec.capacity,
      this.tokens + elapsedSeconds * this.spec.refillPerSecond,
    );
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

/** The throttle of one account and region: its own buckets, its own call counter. */
export class RegionThrottle {
  private readonly buckets = new Map<BucketCategory, TokenBucket>();
  private counted = 0;

  constructor(private readonly options: ThrottleOptions | undefined) {}

  /** True when this call may proceed; false when EC2 would answer `RequestLimitExceeded`. */
  admit(operation: string, category: BucketCategory, now: number): boolean {
    const options = this.options;
    if (!options) {
      return true;
    }
    if (options.kind === 'rate') {
      if (options.operations && !options.operations.includes(operation)) {
        return true;
      }
      this.counted += 1;
      return this.counted % options.every !== 0;
    }
    let bucket = this.buckets.get(category);
    if (!bucket) {
      bucket = new TokenBucket(options[category] ?? EC2_REQUEST_BUCKETS[category], now);
      this.buckets.set(category, bucket);
    }
    return bucket.tryTake(now);
  }
}
