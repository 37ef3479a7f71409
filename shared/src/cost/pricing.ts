/**
 * Prices used for cost impact. Kept as dated data, one entry per region, so an out-of-date figure is
 * visible and easy to correct. Sources: the Amazon VPC pricing page (NAT gateway) and the AWS
 * PrivateLink pricing page (interface endpoints). Gateway endpoints are free.
 */

export interface RegionPricing {
  readonly region: string;
  /** The day these figures were read. */
  readonly asOf: string;
  readonly natGatewayHourUsd: number;
  readonly natGatewayGbUsd: number;
  /** Public IPv4 address, per hour. */
  readonly publicIpv4HourUsd: number;
  /** Interface endpoint, per AZ (one ENI) per hour. */
  readonly interfaceEndpointAzHourUsd: number;
  readonly interfaceEndpointGbUsd: number;
}

/** Hours in an average month (365 * 24 / 12), the figure AWS pricing pages use. */
export const HOURS_PER_MONTH = 730;

const US_EAST_1: RegionPricing = {
  region: 'us-east-1',
  asOf: '2026-11-01',
  natGatewayHourUsd: 0.045,
  natGatewayGbUsd: 0.045,
  publicIpv4HourUsd: 0.005,
  interfaceEndpointAzHourUsd: 0.01,
  interfaceEndpointGbUsd: 0.01,
};

// Only figures that were checked are recorded; other regions use us-east-1's, flagged `estimated`.
const PRICING: Readonly<Record<string, RegionPricing>> = {
  'us-east-1': US_EAST_1,
  'us-east-2': { ...US_EAST_1, region: 'us-east-2' },
  'us-west-2': { ...US_EAST_1, region: 'us-west-2' },
};

/** Pricing for a region, falling back to us-east-1 figures (flagged) where none are recorded. */
export function pricingFor(region: string): { pricing: RegionPricing; estimated: boolean } {
  const pricing = Object.hasOwn(PRICING, region) ? PRICING[region] : undefined;
  return pricing
    ? { pricing, estimated: false }
    : { pricing: { ...US_EAST_1, region }, estimated: true };
}

/**
 * The monthly cost effect of a finding or of its fix. Positive `monthlyUsd` is money spent each month;
 * `kind` says whether it is the cost of what is wrong now (a forbidden NAT) or of the fix (a new
 * interface endpoint).
 */
export interface CostImpact {
  readonly kind: 'current' | 'fix';
  readonly monthlyUsd: number;
  /** How the figure was reached, e.g. "730 h x $0.045 + 1 public IPv4 x 730 h x $0.005". */
  readonly basis: string;
  /** What the figure leaves out, e.g. data processing, which depends on traffic. */
  readonly excludes: readonly string[];
  readonly pricingRegion: string;
  readonly pricingAsOf: string;
  /** True when the region has no recorded prices and us-east-1 figures were used. */
  readonly estimated: boolean;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/**
 * Cost figures repeat across an estate (same region, same count): one frozen object serves every
 * finding that has it, which keeps large evaluations small.
 */
const costCache = new Map<string, CostImpact>();

function cachedCost(key: string, compute: () => CostImpact): CostImpact {
  let cost = costCache.get(key);
  if (cost === undefined) {
    const computed = compute();
    cost = Object.freeze({ ...computed, excludes: Object.freeze([...computed.excludes]) });
    if (costCache.size < 10_000) costCache.set(key, cost);
  }
  return cost;
}

/** What a NAT gateway costs each month before data processing. */
export function natGatewayMonthlyCost(region: string, publicIpCount: number): CostImpact {
  return cachedCost(`nat|${region}|${publicIpCount}`, () => computeNatCost(region, publicIpCount));
}

function computeNatCost(region: string, publicIpCount: number): CostImpact {
  const { pricing, estimated } = pricingFor(region);
  const hours = HOURS_PER_MONTH * pricing.natGatewayHourUsd;
  const ips = publicIpCount * HOURS_PER_MONTH * pricing.publicIpv4HourUsd;
  return {
    kind: 'current',
    monthlyUsd: round2(hours + ips),
    basis:
      `${HOURS_PER_MONTH} h x $${pricing.natGatewayHourUsd}/h` +
      (publicIpCount > 0
        ? ` + ${publicIpCount} public IPv4 x ${HOURS_PER_MONTH} h x $${pricing.publicIpv4HourUsd}/h`
        : ''),
    excludes: [`data processing ($${pricing.natGatewayGbUsd}/GB, depends on traffic)`],
    pricingRegion: pricing.region,
    pricingAsOf: pricing.asOf,
    estimated,
  };
}

/** What adding interface endpoint ENIs in `azCount` AZs costs each month before data processing. */
export function interfaceEndpointMonthlyCost(region: string, azCount: number): CostImpact {
  return cachedCost(`vpce|${region}|${azCount}`, () => computeInterfaceCost(region, azCount));
}

function computeInterfaceCost(region: string, azCount: number): CostImpact {
  const { pricing, estimated } = pricingFor(region);
  return {
    kind: 'fix',
    monthlyUsd: round2(azCount * HOURS_PER_MONTH * pricing.interfaceEndpointAzHourUsd),
    basis: `${azCount} AZ x ${HOURS_PER_MONTH} h x $${pricing.interfaceEndpointAzHourUsd}/AZ-h`,
    excludes: [`data processing ($${pricing.interfaceEndpointGbUsd}/GB, depends on traffic)`],
    pricingRegion: pricing.region,
    pricingAsOf: pricing.asOf,
    estimated,
  };
}

/** A gateway endpoint (s3, dynamodb) is free. */
export function gatewayEndpointMonthlyCost(region: string): CostImpact {
  return cachedCost(`gateway|${region}`, () => computeGatewayCost(region));
}

function computeGatewayCost(region: string): CostImpact {
  const { pricing, estimated } = pricingFor(region);
  return {
    kind: 'fix',
    monthlyUsd: 0,
    basis: 'gateway endpoints have no hourly or data charge',
    excludes: [],
    pricingRegion: pricing.region,
    pricingAsOf: pricing.asOf,
    estimated,
  };
}
