import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { collectNetworkSnapshot } from '../../shared/src/snapshot/collect';
import { PAGE_LIMITS, SimulatedAccount, type SimulatedCall } from '../support/simulated-ec2';
import { generateEstate } from './estate';
import {
  bestAndMedian,
  markdownTable,
  reportBenchResult,
  runBenchProcess,
  type BenchSuite,
} from './suite';

/**
 * Benchmark of a region-wide `collectNetworkSnapshot()`: how many EC2 calls it makes, per resource
 * type, for 10, 100 and 1,000 VPCs of the generated estate (test/bench/estate.ts) loaded into the
 * simulated EC2 account, and how long it takes when every call costs 50 ms. Run by `npm run bench`;
 * one fresh process per size:
 *
 *   node --import tsx test/bench/collect.bench.ts --vpcs 1000
 */

const SIZES = [10, 100, 1_000] as const;
const LATENCY_MS = 50;
/** The collector asks for EC2's largest pages; the SG lookup of endpoint groups is batched by 200 ids. */
const SECURITY_GROUP_BATCH = 200;

/** One row per call kind: the operation, and for security groups which of the two lookups. */
const CALL_KINDS = [
  'DescribeVpcs',
  'DescribeSubnets',
  'DescribeRouteTables',
  'DescribeNatGateways',
  'DescribeInternetGateways',
  'DescribeEgressOnlyInternetGateways',
  'DescribeVpcEndpoints',
  'DescribeSecurityGroups (vpc-guard managed)',
  'DescribeSecurityGroups (endpoint groups by id)',
] as const;
type CallKind = (typeof CALL_KINDS)[number];

/** What one process measures for one estate size. */
export interface CollectBenchResult {
  readonly vpcs: number;
  /** Items of each kind in the region. */
  readonly items: Readonly<Record<CallKind, number>>;
  readonly calls: Readonly<Record<CallKind, number>>;
  /** One call per page: what the calls should be, from the items and EC2's page limits. */
  readonly expectedCalls: Readonly<Record<CallKind, number>>;
  /** Round trips on the longest chain: the most pages of any type, then the group lookup. */
  readonly criticalPath: number;
  readonly latencyMs: number;
  readonly runs: number;
  readonly bestMs: number;
  readonly medianMs: number;
  /** A warm collection without latency: the SDK's, the simulator's and the collector's CPU time. */
  readonly cpuMs: number;
}

function callKind(call: SimulatedCall): CallKind | undefined {
  if (call.operation !== 'DescribeSecurityGroups')
    return (CALL_KINDS as readonly string[]).includes(call.operation)
      ? (call.operation as CallKind)
      : undefined;
  const filters = (call.input['Filters'] ?? []) as { Name?: string }[];
  return filters.some((filter) => filter.Name === 'group-id')
    ? 'DescribeSecurityGroups (endpoint groups by id)'
    : 'DescribeSecurityGroups (vpc-guard managed)';
}

const pages = (items: number, pageSize: number) => Math.max(1, Math.ceil(items / pageSize));
/** The page size the collector asks for: EC2's maximum for the operation (at most 1,000). */
const pageSizeOf = (operation: string) => Math.min(1000, PAGE_LIMITS[operation]?.max ?? 1000);

async function measure(vpcs: number, runs: number): Promise<CollectBenchResult> {
  const [estate] = generateEstate({ vpcs, vpcsPerSnapshot: vpcs });
  const { accountId, region } = estate!;

  // Calls, without latency.
  const account = SimulatedAccount.fromSnapshots([estate!]);
  const state = account.toSnapshot(accountId, region);
  const ec2 = account.client({ accountId, region, retryBackoff: 'none' });
  await collectNetworkSnapshot({ ec2, accountId, region });
  const counted = [...account.calls];
  const cpuSamples: number[] = [];
  for (let run = 0; run < 3; run += 1) {
    const started = performance.now();
    await collectNetworkSnapshot({ ec2, accountId, region });
    cpuSamples.push(performance.now() - started);
  }
  const calls = Object.fromEntries(CALL_KINDS.map((kind) => [kind, 0])) as Record<CallKind, number>;
  for (const call of counted) {
    const kind = callKind(call);
    if (kind) calls[kind] += 1;
  }

  const endpointGroups = new Set(state.vpcEndpoints.flatMap((e) => e.securityGroupIds)).size;
  const items: Record<CallKind, number> = {
    DescribeVpcs: state.vpcs.length,
    DescribeSubnets: state.subnets.length,
    DescribeRouteTables: state.routeTables.length,
    DescribeNatGateways: state.natGateways.filter((n) => n.state !== 'deleted').length,
    DescribeInternetGateways: state.internetGateways.length,
    DescribeEgressOnlyInternetGateways: state.egressOnlyInternetGateways.length,
    DescribeVpcEndpoints: state.vpcEndpoints.length,
    'DescribeSecurityGroups (vpc-guard managed)': 0,
    'DescribeSecurityGroups (endpoint groups by id)': endpointGroups,
  };
  const expectedCalls = Object.fromEntries(
    CALL_KINDS.map((kind) => [
      kind,
      kind === 'DescribeSecurityGroups (endpoint groups by id)'
        ? Math.ceil(items[kind] / SECURITY_GROUP_BATCH)
        : pages(items[kind], pageSizeOf(kind.split(' ')[0]!)),
    ]),
  ) as Record<CallKind, number>;
  const longestChain = Math.max(
    ...CALL_KINDS.filter((kind) => !kind.endsWith('by id)')).map((kind) => expectedCalls[kind]),
  );
  const criticalPath = longestChain + (endpointGroups > 0 ? 1 : 0);

  // Wall time, every call 50 ms (a real timer); the calls of one collection run concurrently.
  const slow = SimulatedAccount.fromSnapshots([estate!], { latencyMs: LATENCY_MS });
  const slowEc2 = slow.client({ accountId, region, retryBackoff: 'none' });
  const samples: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const begin = performance.now();
    await collectNetworkSnapshot({ ec2: slowEc2, accountId, region });
    samples.push(performance.now() - begin);
  }
  const { best, median } = bestAndMedian(samples);
  return {
    vpcs,
    items,
    calls,
    expectedCalls,
    criticalPath,
    latencyMs: LATENCY_MS,
    runs,
    bestMs: Math.round(best),
    medianMs: Math.round(median),
    cpuMs: Math.round(bestAndMedian(cpuSamples).median),
  };
}

const formatInteger = (value: number) => value.toLocaleString('en-US');
const totalCalls = (result: CollectBenchResult) =>
  CALL_KINDS.reduce((total, kind) => total + result.calls[kind], 0);
const callsMatch = (result: CollectBenchResult) =>
  CALL_KINDS.every((kind) => result.calls[kind] === result.expectedCalls[kind]);
/** Round trips the collection waited for: its wall time less its own CPU time, in latencies. */
const roundTrips = (result: CollectBenchResult) =>
  (result.medianMs - result.cpuMs) / result.latencyMs;
/** About one round trip per page of the longest chain: at most one more, for timer and scheduling noise. */
const wallWithinTarget = (result: CollectBenchResult) =>
  roundTrips(result) <= result.criticalPath + 1;

function render(results: readonly CollectBenchResult[]): string {
  const callTable = markdownTable(
    ['call', ...results.map((r) => `${formatInteger(r.vpcs)} VPCs: calls (items)`)],
    [
      ...CALL_KINDS.map((kind) => [
        `\`${kind}\``,
        ...results.map(
          (r) =>
            `${r.calls[kind]}${r.calls[kind] === r.expectedCalls[kind] ? '' : ` (**expected ${r.expectedCalls[kind]}**)`} (${formatInteger(r.items[kind])})`,
        ),
      ]),
      ['**total**', ...results.map((r) => `**${totalCalls(r)}**`)],
    ],
  );
  const wallTable = markdownTable(
    [
      'VPCs',
      'calls (one after another would take)',
      'longest chain',
      'CPU, no latency (median)',
      `wall, ${LATENCY_MS} ms per call: best / median`,
      '(median - CPU) in round trips',
    ],
    results.map((r) => [
      formatInteger(r.vpcs),
      `${totalCalls(r)} (${formatInteger(totalCalls(r) * r.latencyMs)} ms)`,
      `${r.criticalPath} round trips (${formatInteger(r.criticalPath * r.latencyMs)} ms)`,
      `${formatInteger(r.cpuMs)} ms`,
      `${formatInteger(r.bestMs)} / ${formatInteger(r.medianMs)} ms`,
      `**${roundTrips(r).toFixed(1)}**`,
    ]),
  );
  return [
    'A region-wide `collectNetworkSnapshot()` (no DNS attributes: a scan reads none) of the generated',
    'estate (`test/bench/estate.ts`: ~7 subnets, ~5 route tables, ~10 endpoints and one endpoint',
    'security group per VPC) in one account and region of the simulated EC2 account. Pages are',
    "EC2's largest: `MaxResults` 1,000, 100 for route tables, 255 for egress-only gateways; the",
    'security groups of endpoints are looked up by `group-id` in batches of 200 ids. A call count in',
    'bold differs from one call per page.',
    '',
    callTable,
    '',
    `Wall time with ${LATENCY_MS} ms added to every call (a real timer), ${results[0]?.runs ?? 0} runs per size. Pages`,
    'of one type follow each other (each needs the previous `NextToken`), types run concurrently, and the',
    'security-group lookup waits for the endpoints: the longest chain is the most pages of any type',
    'plus one round trip for the group batches (which run concurrently). The CPU column is the same',
    "collection without latency (the SDK's middleware, the simulator answering, the collector mapping",
    'and validating); what the wall time adds to it is waiting, counted in round trips in the last',
    'column: about the longest chain, far below one round trip per call.',
    '',
    wallTable,
  ].join('\n');
}

/** The `collect` suite for `run.ts`. */
export const collectSuite: BenchSuite = {
  id: 'collect',
  title: 'collectNetworkSnapshot()',
  targets: [
    'calls constant in the number of VPCs except for pages: one call per resource type per page',
    `with ${LATENCY_MS} ms per call, the wall time less the collection's own CPU time is about one round trip per page of the longest chain (at most one more), not one per call: calls run concurrently`,
  ],
  async run(options) {
    const results: CollectBenchResult[] = [];
    for (const vpcs of SIZES) {
      options.log(`collect: ${formatInteger(vpcs)} VPCs ...`);
      const result = (await runBenchProcess(
        import.meta.url,
        ['--vpcs', String(vpcs)],
        options,
      )) as CollectBenchResult;
      options.log(
        `collect: ${formatInteger(vpcs)} VPCs: ${totalCalls(result)} calls, median ${result.medianMs} ms (longest chain ${result.criticalPath})`,
      );
      results.push(result);
    }
    return {
      markdown: render(results),
      targetsMet: results.every((result) => callsMatch(result) && wallWithinTarget(result)),
    };
  },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { vpcs: { type: 'string', default: '100' }, runs: { type: 'string', default: '3' } },
  });
  const vpcs = Number(values.vpcs);
  const runs = Number(values.runs);
  if (!Number.isInteger(vpcs) || vpcs < 1)
    throw new Error(`--vpcs: expected a positive integer, got "${values.vpcs}"`);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs: expected a positive integer, got "${values.runs}"`);
  reportBenchResult(await measure(vpcs, runs));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
