/**
 * A client-side token bucket. EC2 throttles per account and region with token buckets of its own
 * (AWS-FACTS: CreateVpcEndpoint, ModifyVpcEndpoint and DeleteVpcEndpoints share 4 burst / 0.3 per
 * second); spending from a bucket of the same size before each call keeps a run under EC2's limit, so
 * it slows down instead of being throttled.
 */
export interface TokenBucketOptions {
  readonly capacity: number;
  readonly refillPerSecond: number;
  /** Milliseconds since some epoch; injectable for tests and benchmarks. */
  readonly clock?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private queue: Promise<void> = Promise.resolve();
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: TokenBucketOptions) {
    this.clock = options.clock ?? (() => Date.now());
    this.sleep = options.sleep ?? realSleep;
    this.tokens = options.capacity;
    this.updatedAt = this.clock();
  }

  private refill(): void {
    const now = this.clock();
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(
      this.options.capacity,
      this.tokens + elapsed * this.options.refillPerSecond,
    );
    this.updatedAt = now;
  }

  /** Waits until a token is available and spends it. Callers are served in arrival order. */
  take(): Promise<void> {
    const turn = this.queue.then(async () => {
      this.refill();
      while (this.tokens < 1) {
        await this.sleep(Math.ceil(((1 - this.tokens) / this.options.refillPerSecond) * 1000));
        this.refill();
      }
      this.tokens -= 1;
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }
}

/** EC2's bucket for endpoint mutations (AWS-FACTS: 4 burst, 0.3 per second). */
export const ENDPOINT_MUTATION_BUCKET = { capacity: 4, refillPerSecond: 0.3 } as const;

/** One bucket per account and region, created on first use. */
export class RateLimiterRegistry {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly spec: { capacity: number; refillPerSecond: number },
    private readonly overrides: Pick<TokenBucketOptions, 'clock' | 'sleep'> = {},
  ) {}

  for(accountId: string, region: string): TokenBucket {
    const key = `${accountId}/${region}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket({ ...this.spec, ...this.overrides });
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}
