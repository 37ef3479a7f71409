import { EC2_ID_PATTERNS } from '@vpc-guard/shared';

/**
 * EC2 resource ids inside the JSON that CloudTrail and AWS Config send. Their shapes differ per call
 * and per era of the EC2 API: `vpcId` or `VpcId`, a `CreateNatGatewayRequest` wrapper or none, lists
 * as arrays, as `{ "tag": 1, "content": "vpce-..." }` items or under `items`. Searching by key name
 * and id format copes with all of them without a schema per call.
 */

/** The EC2 resources vpc-guard maps to a VPC: their id formats and the keys that hold them. */
export const EC2_ID_KINDS = {
  vpc: { key: /^vpcid$/i, id: EC2_ID_PATTERNS.vpc },
  subnet: { key: /^subnetids?$/i, id: EC2_ID_PATTERNS.subnet },
  routeTable: { key: /^routetableids?$/i, id: EC2_ID_PATTERNS.routeTable },
  natGateway: { key: /^natgatewayids?$/i, id: EC2_ID_PATTERNS.natGateway },
  internetGateway: { key: /^internetgatewayids?$/i, id: EC2_ID_PATTERNS.internetGateway },
  vpcEndpoint: { key: /^vpcendpointids?$/i, id: EC2_ID_PATTERNS.vpcEndpoint },
} as const;
export type Ec2IdKind = keyof typeof EC2_ID_KINDS;

/** Nesting deeper than this is not something CloudTrail or Config produce: stop there. */
const MAX_DEPTH = 12;

function leaves(value: unknown, pattern: RegExp, depth: number, out: Set<string>): void {
  if (depth > MAX_DEPTH) return;
  if (typeof value === 'string') {
    if (pattern.test(value)) out.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) leaves(item, pattern, depth + 1, out);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) leaves(item, pattern, depth + 1, out);
  }
}

function search(value: unknown, kind: Ec2IdKind, depth: number, out: Set<string>): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
  const { key, id } = EC2_ID_KINDS[kind];
  if (Array.isArray(value)) {
    for (const item of value) search(item, kind, depth + 1, out);
    return;
  }
  for (const [name, item] of Object.entries(value)) {
    // Under a matching key, any string of the right format counts, however the list is wrapped.
    if (key.test(name)) leaves(item, id, depth + 1, out);
    else search(item, kind, depth + 1, out);
  }
}

/** Every id of `kind` found under its key names anywhere in `value`, in first-seen order. */
export function findIds(value: unknown, kind: Ec2IdKind): string[] {
  const found = new Set<string>();
  search(value, kind, 0, found);
  return [...found];
}
