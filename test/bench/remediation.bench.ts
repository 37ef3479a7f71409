import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { EC2Client } from '@aws-sdk/client-ec2';
import { StandardRetryStrategy } from '@smithy/core/retry';
import { ENDPOINT_MUTATION_BUCKET } from '../../shared/src/aws/rate-limiter';
import { GuardPolicySchema } from '../../shared/src/policy/schema';
import type { NetworkSnapshotInput } from '../../shared/src/snapshot/schema';
import { Scenario, type SimulatedClock } from '../scenarios/harness';
import type { BucketSpec, SimulatedAccount } from '../support/simulated-ec2';
import { createRandom } from './estate';
import { markdownTable, reportBenchResult, runBenchProcess, type BenchSuite } from './suite';

/**
 * Benchmark of `applyRemediation()` throughput under EC2's endpoint bucket (CreateVpcEndpoint,
 * ModifyVpcEndpoint and DeleteVpcEndpoints share 4 burst / 0.3 per second per account and region).
 * N endpoint actions (per VPC: two missing interface endpoints to create, two default policies to
 * replace) run on the simulated EC2 account with its token buckets on, in simulated time: every API
 * call takes 50 ms of it, the writer's bucket waits in it, and the SDK's retry backoff (standard
 * strategy, 8 attempts, as vpc-guard's clients) waits in it too. So hours of throttled work run in
 * seconds. One fresh process per size and variant:
 *
 *   node --import tsx test/bench/remediation.bench.ts --actions 100 --variant ec2
 */

const SIZES = [20, 100, 400] as const;
const CALL_MS = 50;
const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const ORG = 'o-a1b2c3d4e5';
/** Endpoint actions per VPC: create sts and kms, replace the policies of logs and ecr.api. */
const ACTIONS_PER_VPC = 4;
const ENDPOINT_OPERATIONS = ['CreateVpcEndpoint', 'ModifyVpcEndpoint', 'DeleteVpcEndpoints'];
/** Sustaining the bucket: the run's endpoint rate is at least this share of the bucket's. */
const TARGET_EFFICIENCY = 0.9;

/**
 * `ec2`: EC2's buckets as documented. `contended`: another caller spends half of the endpoint
 * bucket, so EC2 refills it at 0.15/s for vpc-guard while vpc-guard's own bucket still allows 0.3/s:
 * EC2 throttles, and the SDK's retries must carry the run.
 */
const VARIANTS: Readonly<
  Record<string, { readonly label: string; readonly endpoint: BucketSpec }>
> = {
  ec2: { label: "EC2's buckets", endpoint: { capacity: 4, refillPerSecond: 0.3 } },
  contended: {
    label: 'endpoint bucket half taken by another caller',
    endpoint: { capacity: 4, refillPerSecond: 0.15 },
  },
};

/** What one process measures for one size and variant. */
export interface RemediationBenchResult {
  readonly variant: string;
  readonly vpcs: number;
  readonly endpointActions: number;
  readonly verified: number;
  readonly failed: number;
  readonly otherOutcomes: number;
  /** Endpoint calls EC2 accepted. */
  readonly endpointCalls: number;
  readonly throttledEndpointCalls: number;
  readonly throttledOtherCalls: number;
  readonly apiCalls: number;
  /** Simulated seconds: the apply, the writer's bucket waits, the SDK's backoff waits. */
  readonly simulatedSeconds: number;
  readonly limiterWaitSeconds: number;
  readonly backoffSeconds: number;
  /** The least time EC2's endpoint bucket allows for these calls: (calls - burst) / refill rate. */
  readonly bucketBoundSeconds: number;
  /** Endpoint calls per second after the burst, and the bucket's rate. */
  readonly achievedPerSecond: number;
  readonly bucketPerSecond: number;
  readonly realMs: number;
}

/** VPCs with two interface endpoints on the default policy and two required ones missing. */
function estate(vpcs: number): NetworkSnapshotInput {
  const zones = [
    ['us-east-1a', 'use1-az1'],
    ['us-east-1b', 'use1-az2'],
    ['us-east-1c', 'use1-az4'],
  ] as const;
  const hex = (n: number, kind: number) =>
    `0${kind.toString(16).padStart(4, '0')}${n.toString(16).padStart(12, '0')}`;
  const snapshot = {
    schemaVersion: 1 as const,
    accountId: ACCOUNT,
    region: REGION,
    collectedAt: '2026-11-21T00:00:00Z',
    vpcs: [] as NonNullable<NetworkSnapshotInput['vpcs']>,
    subnets: [] as NonNullable<NetworkSnapshotInput['subnets']>,
    routeTables: [] as NonNullable<NetworkSnapshotInput['routeTables']>,
    vpcEndpoints: [] as NonNullable<NetworkSnapshotInput['vpcEndpoints']>,
    securityGroups: [] as NonNullable<NetworkSnapshotInput['securityGroups']>,
  };
  for (let n = 1; n <= vpcs; n += 1) {
    const vpcId = `vpc-${hex(n, 1)}`;
    const cidr = `10.${n % 250}.0.0/16`;
    snapshot.vpcs.push({
      vpcId,
      cidrBlocks: [cidr],
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: `workload-${n}` },
    });
    const subnetIds = zones.map(([zone, zoneId], z) => {
      const subnetId = `subnet-${hex(n, 10 + z)}`;
      snapshot.subnets.push({
        subnetId,
        vpcId,
        availabilityZone: zone,
        availabilityZoneId: zoneId,
        cidrBlock: `10.${n % 250}.${z}.0/24`,
      });
      return subnetId;
    });
    snapshot.routeTables.push({
      routeTableId: `rtb-${hex(n, 1)}`,
      vpcId,
      main: true,
      routes: [{ destination: cidr, target: { type: 'local', id: 'local' } }],
    });
    const groupId = `sg-${hex(n, 1)}`;
    snapshot.securityGroups.push({
      groupId,
      vpcId,
      groupName: `workload-${n}-endpoints`,
      ingress: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, ipv4Ranges: [cidr] }],
    });
    ['logs', 'ecr.api'].forEach((service, index) => {
      snapshot.vpcEndpoints.push({
        vpcEndpointId: `vpce-${hex(n, 20 + index)}`,
        vpcId,
        serviceName: `com.amazonaws.${REGION}.${service}`,
        type: 'Interface',
        state: 'available',
        policyDocument:
          '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}',
        privateDnsEnabled: true,
        subnetIds,
        securityGroupIds: [groupId],
      });
    });
  }
  return snapshot;
}

const policy = GuardPolicySchema.parse({
  version: 1,
  organization: { id: ORG },
  profiles: {
    regulated: {
      endpoints: {
        required: ['sts', 'kms', 'logs', 'ecr.api'].map((service) => ({ service })),
      },
      remediation: {
        mode: 'auto',
        actions: ['create-endpoint', 'replace-endpoint-policy'],
        maxChangesPerRun: 1000,
      },
    },
  },
  assign: { default: 'regulated' },
});

/**
 * An EC2 client on the simulated account whose retries are the SDK's standard strategy (8 attempts,
 * as vpc-guard's client factory sets) with the SDK's jittered exponential backoff (base 1 s for
 * throttling, capped at 20 s), waited on the simulated clock instead of a timer.
 */
function clientFactory(
  account: SimulatedAccount,
  clock: SimulatedClock,
  backoff: { ms: number },
): (accountId: string, region: string) => EC2Client {
  // Seeded, so the SDK's jittered backoff is the same on every run.
  const random = createRandom(20261121);
  return (accountId, region) => {
    let base = 50;
    const client = new EC2Client({
      region,
      credentials: { accessKeyId: 'AKIASIMULATEDBENCHXX', secretAccessKey: 'simulated' },
      retryStrategy: new StandardRetryStrategy({
        maxAttempts: 8,
        backoff: {
          setDelayBase: (delay: number) => {
            base = delay;
          },
          computeNextBackoffDelay: (retries: number) => {
            const delay = Math.floor(random() * Math.min(base * 2 ** retries, 20_000));
            clock.advance(delay);
            backoff.ms += delay;
            return 0;
          },
        },
      }),
    });
    return account.attach(client, { accountId });
  };
}

async function measure(actions: number, variant: string): Promise<RemediationBenchResult> {
  const spec = VARIANTS[variant];
  if (!spec) throw new Error(`--variant: expected ${Object.keys(VARIANTS).join(' or ')}`);
  const vpcs = Math.ceil(actions / ACTIONS_PER_VPC);
  const scenario = new Scenario([estate(vpcs)], policy, {
    account: { throttle: { kind: 'bucket', endpoint: spec.endpoint } },
    callMs: CALL_MS,
  });
  const backoff = { ms: 0 };
  const ec2For = clientFactory(scenario.account, scenario.clock, backoff);
  const planned = await scenario.plan();
  const endpointActions = planned.plan.totals.planned;
  if (endpointActions !== vpcs * ACTIONS_PER_VPC)
    throw new Error(`expected ${vpcs * ACTIONS_PER_VPC} planned actions, got ${endpointActions}`);

  const from = scenario.account.calls.length;
  const startedAt = scenario.clock.now();
  const sleptBefore = scenario.clock.slept;
  const realStart = performance.now();
  const record = await scenario.apply(planned.plan, { ec2For });
  const realMs = performance.now() - realStart;
  const simulatedSeconds = (scenario.clock.now() - startedAt) / 1000;

  const calls = scenario.account.calls.slice(from);
  const throttled = calls.filter((call) => call.outcome === 'RequestLimitExceeded');
  const endpointCalls = calls.filter(
    (call) => ENDPOINT_OPERATIONS.includes(call.operation) && call.outcome === 'ok',
  ).length;
  const rate = spec.endpoint.refillPerSecond;
  const burst = spec.endpoint.capacity;
  return {
    variant,
    vpcs,
    endpointActions,
    verified: record.summary.verified,
    failed: record.summary.failed,
    otherOutcomes: record.actions.length - record.summary.verified - record.summary.failed,
    endpointCalls,
    throttledEndpointCalls: throttled.filter((c) => ENDPOINT_OPERATIONS.includes(c.operation))
      .length,
    throttledOtherCalls: throttled.filter((c) => !ENDPOINT_OPERATIONS.includes(c.operation)).length,
    apiCalls: calls.length,
    simulatedSeconds: Math.round(simulatedSeconds * 10) / 10,
    limiterWaitSeconds: Math.round((scenario.clock.slept - sleptBefore) / 100) / 10,
    backoffSeconds: Math.round(backoff.ms / 100) / 10,
    bucketBoundSeconds: Math.round((Math.max(0, endpointCalls - burst) / rate) * 10) / 10,
    achievedPerSecond:
      Math.round((Math.max(0, endpointCalls - burst) / simulatedSeconds) * 1000) / 1000,
    bucketPerSecond: rate,
    realMs: Math.round(realMs),
  };
}

const formatInteger = (value: number) => value.toLocaleString('en-US');
const efficiency = (r: RemediationBenchResult) => r.achievedPerSecond / r.bucketPerSecond;
const sustains = (r: RemediationBenchResult) =>
  r.failed === 0 &&
  r.otherOutcomes === 0 &&
  (r.variant !== 'ec2' || (efficiency(r) >= TARGET_EFFICIENCY && r.throttledEndpointCalls === 0));

function render(results: readonly RemediationBenchResult[]): string {
  const table = markdownTable(
    [
      'EC2 endpoint bucket',
      'endpoint actions (VPCs)',
      'verified / failed',
      'EC2 throttles: endpoint / other',
      'simulated time',
      'bucket bound',
      'endpoint calls/s after the burst (bucket)',
      'waits: own bucket / SDK backoff',
      'real time',
    ],
    results.map((r) => [
      `${VARIANTS[r.variant]!.label} (4 / ${r.bucketPerSecond})`,
      `${formatInteger(r.endpointActions)} (${r.vpcs})`,
      `${r.verified} / **${r.failed}**`,
      `**${r.throttledEndpointCalls}** / ${r.throttledOtherCalls}`,
      `${formatInteger(r.simulatedSeconds)} s`,
      `${formatInteger(r.bucketBoundSeconds)} s`,
      `**${r.achievedPerSecond.toFixed(3)}** (${r.bucketPerSecond}, ${Math.round(efficiency(r) * 100)}%)`,
      `${formatInteger(r.limiterWaitSeconds)} s / ${formatInteger(r.backoffSeconds)} s`,
      `${formatInteger(r.realMs)} ms`,
    ]),
  );
  return [
    '`applyRemediation()` on the simulated EC2 account with its token buckets on (describe 100 / 20,',
    `mutate 50 / 5, endpoint 4 / 0.3 per second), the writer's own endpoint bucket (${ENDPOINT_MUTATION_BUCKET.capacity} / ${ENDPOINT_MUTATION_BUCKET.refillPerSecond}) and`,
    "the SDK's standard retries (8 attempts, jittered exponential backoff, base 1 s on throttling),",
    `all in simulated time: each call takes ${CALL_MS} ms of it, one after another (the collections`,
    "around each VPC's actions are counted as if serial, so this is an upper bound). Per VPC: two",
    'interface endpoints to create (sts, kms, private DNS) and two default policies to replace (logs,',
    'ecr.api), each one endpoint call. The bucket bound is the least time EC2 allows for the endpoint',
    'calls made: (calls - 4 burst) / refill rate. In the contended rows another caller takes half of',
    "EC2's endpoint bucket, so EC2 throttles what the writer's bucket lets through and the SDK's",
    'retries carry the run at the rate EC2 leaves.',
    '',
    table,
  ].join('\n');
}

/** The `remediation` suite for `run.ts`. */
export const remediationSuite: BenchSuite = {
  id: 'remediation',
  title: 'applyRemediation() under the endpoint bucket',
  targets: [
    `sustains EC2's 4 / 0.3 endpoint bucket: endpoint calls after the burst at >= ${TARGET_EFFICIENCY * 100}% of 0.3 per second, none throttled by EC2`,
    'no run fails on a throttle: 0 failed actions, also when EC2 leaves only half the bucket',
  ],
  async run(options) {
    const results: RemediationBenchResult[] = [];
    for (const variant of Object.keys(VARIANTS)) {
      for (const actions of SIZES) {
        options.log(`remediation: ${actions} endpoint actions, ${variant} ...`);
        const result = (await runBenchProcess(
          import.meta.url,
          ['--actions', String(actions), '--variant', variant],
          options,
        )) as RemediationBenchResult;
        options.log(
          `remediation: ${actions} endpoint actions, ${variant}: ${result.simulatedSeconds} s simulated, ${result.failed} failed, ${result.throttledEndpointCalls} endpoint throttles`,
        );
        results.push(result);
      }
    }
    return { markdown: render(results), targetsMet: results.every(sustains) };
  },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      actions: { type: 'string', default: '100' },
      variant: { type: 'string', default: 'ec2' },
    },
  });
  const actions = Number(values.actions);
  if (!Number.isInteger(actions) || actions < ACTIONS_PER_VPC)
    throw new Error(
      `--actions: expected an integer >= ${ACTIONS_PER_VPC}, got "${values.actions}"`,
    );
  reportBenchResult(await measure(actions, values.variant));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
