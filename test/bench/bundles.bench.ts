import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { parseOrThrow } from '@vpc-guard/shared';
import { build } from 'esbuild';
import { handleApiEvent } from '../../functions/api-event/event';
import { ApiEventSchema } from '../../functions/api-event/schema';
import { FUNCTION_ENTRIES, GUARD_FUNCTION_BUNDLING } from '../../functions/runtime/bundling';
import type { FunctionName } from '../../functions/runtime/function-names';
import { FunctionHarness, captureOutput, loadEvent } from '../functions/support/harness';
import {
  bestAndMedian,
  markdownTable,
  reportBenchResult,
  runBenchProcess,
  runPinned,
  type BenchRunOptions,
  type BenchSuite,
} from './suite';

/**
 * Benchmark of the Lambda functions as they ship: each bundled with the same esbuild options as the
 * CDK construct (functions/runtime/bundling.ts), its size minified and gzipped, and its cold import
 * time in a fresh Node process (the part of a cold start the code controls). Then the event path:
 * from an EventBridge event to the decision (evaluation and plan) for one VPC, every AWS call taking
 * 50 ms, counting the sequential round trips. Run by `npm run bench`; the latency part alone:
 *
 *   node --import tsx test/bench/bundles.bench.ts --latency
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FUNCTIONS = Object.keys(FUNCTION_ENTRIES) as FunctionName[];
const TARGET_BYTES = 1_500_000;
const TARGET_IMPORT_MS = 150;
const TARGET_ROUND_TRIPS = 2;
const LATENCY_MS = 50;
const IMPORT_SAMPLES = 7;
const LATENCY_RUNS = 5;

/** What the cold start of each function reads (dummy values: nothing is called at import). */
const FUNCTION_ENVIRONMENT: Readonly<Record<string, string>> = {
  AWS_REGION: 'us-east-1',
  POLICY_SOURCE: 'ssm:/vpc-guard/policy',
  FINDINGS_TABLE: 'vpc-guard-findings',
  TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:vpc-guard-findings',
  OWN_ROLE_ARNS: 'arn:aws:iam::111111111111:role/vpc-guard-*',
  SLACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:vpc-guard/slack',
  AWS_EC2_METADATA_DISABLED: 'true',
};

interface BundleResult {
  readonly name: FunctionName;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly mapBytes: number;
  /** The largest contributors (npm packages, or `shared` / `functions`), bytes in the output. */
  readonly parts: readonly (readonly [string, number])[];
  readonly importMs: { readonly best: number; readonly median: number };
  /** With NODE_OPTIONS=--enable-source-maps, which GuardFunction does not set (the cost of setting it). */
  readonly importWithSourceMapsMs: { readonly best: number; readonly median: number };
}

function partOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (match) return match[1]!;
  return input.startsWith('shared/')
    ? 'shared'
    : input.startsWith('functions/')
      ? 'functions'
      : input;
}

/** Bundles one function into `outdir`; the metafile stays in memory (never beside the bundle). */
async function bundle(name: FunctionName, outdir: string) {
  const result = await build({
    ...GUARD_FUNCTION_BUNDLING,
    mainFields: [...GUARD_FUNCTION_BUNDLING.mainFields],
    external: [...GUARD_FUNCTION_BUNDLING.external],
    entryPoints: { [name]: join(REPO_ROOT, FUNCTION_ENTRIES[name]) },
    outdir,
    metafile: true,
    absWorkingDir: REPO_ROOT,
    logLevel: 'error',
  });
  const [file, output] = Object.entries(result.metafile.outputs).find(([path]) =>
    path.endsWith('.mjs'),
  )!;
  const parts = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const part = partOf(input);
    parts.set(part, (parts.get(part) ?? 0) + bytesInOutput);
  }
  const path = join(REPO_ROOT, file);
  return {
    path,
    bytes: output.bytes,
    gzipBytes: gzipSync(await readFile(path)).length,
    mapBytes: (await stat(`${path}.map`)).size,
    parts: [...parts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6),
  };
}

/** Imports the bundle in a fresh Node process (pinned to one core where possible); milliseconds. */
async function timeImport(
  path: string,
  nodeOptions: string | undefined,
  options: BenchRunOptions,
): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(path).href)}); process.stdout.write(String(performance.now() - t));`;
  const command = [
    process.execPath,
    '--no-warnings',
    ...options.nodeFlags,
    '--input-type=module',
    '-e',
    script,
  ];
  const { code, stdout } = await runPinned(command, {
    PATH: process.env['PATH'] ?? '',
    ...FUNCTION_ENVIRONMENT,
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
  });
  const ms = Number(stdout.trim().split('\n').pop());
  if (code !== 0 || !Number.isFinite(ms))
    throw new Error(`importing ${path} exited with ${code}: ${stdout}`);
  return ms;
}

async function importTimes(
  path: string,
  nodeOptions: string | undefined,
  options: BenchRunOptions,
) {
  const samples: number[] = [];
  for (let i = 0; i < IMPORT_SAMPLES; i += 1)
    samples.push(await timeImport(path, nodeOptions, options));
  return bestAndMedian(samples);
}

/** One event's path to the decision. */
interface LatencyCase {
  readonly event: string;
  readonly foundBy: string;
  readonly roundTrips: number;
  readonly decisionMs: number;
  readonly callsBeforeDecision: number;
}

/** Counts sequential round trips: calls that start within a fraction of a latency form one wave. */
function countWaves(starts: readonly number[]): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let waves = 0;
  let waveStart = Number.NEGATIVE_INFINITY;
  for (const at of sorted) {
    if (at - waveStart >= LATENCY_MS * 0.6) {
      waves += 1;
      waveStart = at;
    }
  }
  return waves;
}

const LATENCY_EVENTS = [
  { fixture: 'create-vpc-endpoint', foundBy: 'VPC id in the record' },
  { fixture: 'config-compliance-change', foundBy: 'VPC id in the detail' },
  { fixture: 'create-route', foundBy: 'DescribeRouteTables' },
] as const;

/**
 * The api-event path with every AWS call (EC2 in the simulated account, DynamoDB, SSM, SNS, ...)
 * taking 50 ms: time and round trips from the raw event to the decision. The kill switch is on, so
 * the decision is the same every run (nothing is fixed in between).
 */
async function measureLatency(): Promise<LatencyCase[]> {
  const harness = new FunctionHarness({
    policy: 'policy-auto.yaml',
    killSwitch: 'on',
    account: { latencyMs: LATENCY_MS },
  });
  harness.latencyMs = LATENCY_MS;
  harness.table.latencyMs = LATENCY_MS;
  const output = captureOutput();
  const cases: LatencyCase[] = [];
  try {
    let sequence = 0;
    const run = async (fixture: string) => {
      const raw = loadEvent(`api-event/${fixture}.json`) as {
        id: string;
        detail: Record<string, unknown>;
      };
      sequence += 1;
      raw.id = `bench-${sequence}-${raw.id}`;
      const started = Date.now();
      let decidedAt = Number.NaN;
      const event = parseOrThrow(ApiEventSchema, raw, 'EventBridge event');
      await handleApiEvent(event, harness.deps, {
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:111111111111:function:vpc-guard-api-event',
        onDecision: () => {
          decidedAt = Date.now();
        },
      });
      const starts = [
        ...harness.account.calls.map((call) => call.at),
        ...harness.mockedCalls.map((call) => call.at),
        ...harness.table.calls.map((call) => call.at),
      ].filter((at) => at >= started && at < decidedAt);
      return {
        decisionMs: decidedAt - started,
        roundTrips: countWaves(starts),
        calls: starts.length,
      };
    };
    // Warm: the policy is read and cached, clients and code paths initialised, as in a warm container.
    await run('create-route');
    for (const { fixture, foundBy } of LATENCY_EVENTS) {
      const samples = [];
      for (let i = 0; i < LATENCY_RUNS; i += 1) samples.push(await run(fixture));
      cases.push({
        event: fixture,
        foundBy,
        roundTrips: Math.max(...samples.map((s) => s.roundTrips)),
        decisionMs: bestAndMedian(samples.map((s) => s.decisionMs)).median,
        callsBeforeDecision: samples[0]!.calls,
      });
    }
  } finally {
    output.restore();
  }
  return cases;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const mb = (bytes: number) => `${(bytes / 1_000_000).toFixed(2)} MB`;

export const bundlesSuite: BenchSuite = {
  id: 'bundles',
  title: 'Function bundles and the event path',
  targets: [
    `each function bundle <= ${mb(TARGET_BYTES)} minified`,
    `cold import <= ${TARGET_IMPORT_MS} ms (fresh Node process, median of ${IMPORT_SAMPLES})`,
    `event to decision for one VPC, ${LATENCY_MS} ms per AWS call: <= ${TARGET_ROUND_TRIPS} sequential round trips`,
  ],
  async run(options) {
    const outdir = await mkdtemp(join(tmpdir(), 'vpc-guard-bundles-'));
    const bundles: BundleResult[] = [];
    try {
      for (const name of FUNCTIONS) {
        options.log(`bundles: ${name}`);
        const built = await bundle(name, outdir);
        bundles.push({
          name,
          bytes: built.bytes,
          gzipBytes: built.gzipBytes,
          mapBytes: built.mapBytes,
          parts: built.parts,
          importMs: await importTimes(built.path, undefined, options),
          importWithSourceMapsMs: await importTimes(built.path, '--enable-source-maps', options),
        });
      }
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
    options.log('bundles: event path with 50 ms per AWS call');
    const latency = (await runBenchProcess(
      import.meta.url,
      ['--latency'],
      options,
    )) as LatencyCase[];

    const bundleTable = markdownTable(
      [
        'Function',
        'Minified',
        'Gzipped',
        'Source map',
        'Cold import, median (best)',
        'With --enable-source-maps',
        'Largest parts (KB)',
      ],
      bundles.map((b) => [
        b.name,
        `${mb(b.bytes)}${b.bytes <= TARGET_BYTES ? '' : ' (over)'}`,
        kb(b.gzipBytes),
        mb(b.mapBytes),
        `${b.importMs.median.toFixed(0)} ms (${b.importMs.best.toFixed(0)})${b.importMs.median <= TARGET_IMPORT_MS ? '' : ' (over)'}`,
        `${b.importWithSourceMapsMs.median.toFixed(0)} ms`,
        b.parts.map(([part, bytes]) => `${part} ${(bytes / 1024).toFixed(0)}`).join(', '),
      ]),
    );
    const latencyTable = markdownTable(
      ['Event', 'VPC found by', 'Round trips to decision', 'Time to decision, median', 'AWS calls'],
      latency.map((c) => [
        c.event,
        c.foundBy,
        `${c.roundTrips}${c.roundTrips <= TARGET_ROUND_TRIPS ? '' : ' (over)'}`,
        `${c.decisionMs.toFixed(0)} ms`,
        String(c.callsBeforeDecision),
      ]),
    );
    const markdown = [
      'Bundled with `GUARD_FUNCTION_BUNDLING` (functions/runtime/bundling.ts), the options the CDK',
      'construct uses; sizes from the in-memory metafile. Cold import: `await import()` of the bundle',
      'in a fresh Node process with the function environment set (the configuration is validated, the',
      'clients built, nothing called), as GuardFunction deploys it. "With --enable-source-maps": the',
      'same with NODE_OPTIONS=--enable-source-maps, which GuardFunction does not set (Node then reads',
      'and parses the source map at load): the cost of turning it on to debug a function.',
      '',
      bundleTable,
      '',
      `Event to decision (evaluation and remediation plan) in the api-event function, every AWS call`,
      `(simulated EC2, DynamoDB, SSM) taking ${LATENCY_MS} ms; a round trip is a wave of calls in flight`,
      'together. The policy is cached (as in a warm container). The replay claim, the stored findings,',
      "the kill switch, the DNS attributes and every describe call, the VPC's security groups included",
      '(a scoped collection reads them by `vpc-id` rather than after the endpoints), go out in one wave;',
      'a record that names no VPC costs one lookup wave before them.',
      '',
      latencyTable,
    ].join('\n');
    return {
      markdown,
      targetsMet:
        bundles.every((b) => b.bytes <= TARGET_BYTES && b.importMs.median <= TARGET_IMPORT_MS) &&
        latency.every((c) => c.roundTrips <= TARGET_ROUND_TRIPS),
    };
  },
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { latency: { type: 'boolean', default: false } } });
  if (!values.latency) throw new Error('run through `npm run bench`, or with --latency');
  reportBenchResult(await measureLatency());
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
