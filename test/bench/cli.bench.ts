import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimulatedAccount } from '../support/simulated-ec2';
import { generateEstate } from './estate';
import { serveSimulatedAccount } from './simulated-ec2-endpoint';
import { bestAndMedian, markdownTable, pinnedToOneCore, type BenchSuite } from './suite';

/**
 * Benchmark of the `vpc-guard` command as a user runs it: each run a fresh process of the compiled
 * command (`node functions/cli/bin/vpc-guard.mjs ...`), timed from spawn to exit, its CPU time and
 * peak RSS read by GNU time (`/usr/bin/time`), next to a bare `node -e 0` started the same way in the
 * same run, so the ratios do not depend on how fast or busy the machine is. Runs of the commands
 * being compared alternate, so a load change touches them all alike.
 *
 * The live scans read a generated estate (test/bench/estate.ts) from the simulated EC2 account
 * served over HTTP on 127.0.0.1 by this process (simulated-ec2-endpoint.ts), with 50 ms added to
 * every call; the command reaches it through `AWS_ENDPOINT_URL`, with its own SDK clients, retries
 * and XML parsing. The simulator's CPU time is this process's, so it is not in the command's figures;
 * it is reported beside them.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = 'functions/cli/bin/vpc-guard.mjs';
const COMPILED_MAIN = 'functions/cli/dist/main.mjs';
const GNU_TIME = '/usr/bin/time';
const STARTUP_RUNS = 9;
const LIVE_RUNS = 3;
const LIVE_SIZES = [200, 2_000] as const;
const LATENCY_MS = 50;
const LIVE_REGION = 'us-east-1';
/** The line the bin writes before it rebuilds a missing or stale build. */
const REBUILD_NOTICE = /^vpc-guard: .*\(npm run build\)$/m;

const HELP_TARGET = { ratio: 3, rssMiB: 80 };
const DEMO_SCAN_TARGET = { ratio: 5, rssMiB: 120 };

/** One process run. */
interface ProcessRun {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMiB: number;
  readonly exitCode: number;
  readonly stdout: string;
  /** The bin rebuilt the command first (its sources changed): the run measured the build too. */
  readonly rebuilt: boolean;
}

/** Medians over the runs of one command. */
interface Figures {
  readonly runs: number;
  readonly wallMs: number;
  readonly bestWallMs: number;
  readonly cpuMs: number;
  readonly peakRssMiB: number;
}

interface StartupCase {
  readonly label: string;
  /** The command line as the docs show it. */
  readonly command: string;
  readonly args: readonly string[];
  readonly target?: { readonly ratio: number; readonly rssMiB: number };
}

interface LiveResult {
  readonly vpcs: number;
  readonly figures: Figures;
  /** HTTP requests the endpoint answered per scan (EC2 and STS). */
  readonly requests: number;
  /** CPU time this process spent serving one scan (the simulator, its SDK client, HTTP, XML). */
  readonly simulatorCpuMs: number;
}

const STARTUP_CASES: readonly StartupCase[] = [
  { label: 'bare Node start', command: 'node -e 0', args: ['-e', '0'] },
  {
    label: '`vpc-guard --help`',
    command: `node ${BIN} --help`,
    args: [BIN, '--help'],
    target: HELP_TARGET,
  },
  {
    label: 'offline demo scan',
    command: `node ${BIN} scan`,
    args: [BIN, 'scan'],
    target: DEMO_SCAN_TARGET,
  },
];

/** The environment of a live scan: dummy credentials, the endpoint, no credential probes. */
function liveEnvironment(endpointUrl: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('AWS_')) env[name] = value;
  }
  return {
    ...env,
    AWS_ACCESS_KEY_ID: 'AKIAVPCGUARDBENCHXXX',
    AWS_SECRET_ACCESS_KEY: 'vpc-guard-bench-secret',
    AWS_REGION: LIVE_REGION,
    AWS_ENDPOINT_URL: endpointUrl,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/**
 * Runs `node <args>` once in a fresh process (pinned to one core where `taskset` exists) under GNU
 * time, and returns its wall time (spawn to exit, as seen from here), CPU time and peak RSS.
 */
async function runNode(
  args: readonly string[],
  nodeFlags: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProcessRun> {
  const directory = await mkdtemp(join(tmpdir(), 'vpc-guard-bench-cli-'));
  const usageFile = join(directory, 'usage');
  const command = [
    ...(pinnedToOneCore() ? ['taskset', '-c', '0'] : []),
    GNU_TIME,
    '-o',
    usageFile,
    '-f',
    '%U %S %M',
    process.execPath,
    ...nodeFlags,
    ...args,
  ];
  try {
    const started = performance.now();
    const child = spawn(command[0]!, command.slice(1), {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    const wallMs = performance.now() - started;
    // GNU time writes "Command exited with non-zero status N" before the figures when N > 0.
    const usage = (await readFile(usageFile, 'utf8')).trim().split('\n').at(-1) ?? '';
    const [user, system, maxRssKiB] = usage.split(' ').map(Number);
    if (exitCode === null || [user, system, maxRssKiB].some((n) => n === undefined || isNaN(n))) {
      throw new Error(`node ${args.join(' ')}: no figures (exit ${exitCode}, time: "${usage}")`);
    }
    // 0 and 1 (a non-compliant VPC found) are a scan's normal outcomes; anything else is a failure.
    if (exitCode > 1) {
      throw new Error(`node ${args.join(' ')} exited with ${exitCode}:\n${stderr.slice(-2000)}`);
    }
    return {
      wallMs,
      cpuMs: (user! + system!) * 1000,
      peakRssMiB: maxRssKiB! / 1024,
      exitCode,
      stdout,
      rebuilt: REBUILD_NOTICE.test(stderr),
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Runs once more when the bin had to rebuild first: a measurement is of the command, not its build. */
async function runMeasured(
  args: readonly string[],
  nodeFlags: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<ProcessRun> {
  for (let attempt = 1; ; attempt += 1) {
    const run = await runNode(args, nodeFlags, env);
    if (!run.rebuilt) return run;
    if (attempt === 3) throw new Error(`node ${args.join(' ')}: rebuilt at every run`);
  }
}

function summarize(runs: readonly ProcessRun[]): Figures {
  const wall = bestAndMedian(runs.map((run) => run.wallMs));
  return {
    runs: runs.length,
    wallMs: wall.median,
    bestWallMs: wall.best,
    cpuMs: bestAndMedian(runs.map((run) => run.cpuMs)).median,
    peakRssMiB: bestAndMedian(runs.map((run) => run.peakRssMiB)).median,
  };
}

/** `npm run build` when the project has one, so the figures are of the compiled command. */
function buildCommand(log: (line: string) => void): void {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const scripts = manifest.scripts ?? {};
  if (!('build' in scripts)) {
    log('cli: no build script, measuring the command as its bin runs it');
    return;
  }
  log('cli: npm run build ...');
  const build = spawnSync('npm', ['run', '--silent', 'build'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (build.status !== 0) throw new Error(`npm run build exited with ${build.status}`);
}

async function measureStartup(
  nodeFlags: readonly string[],
  log: (line: string) => void,
): Promise<Map<StartupCase, Figures>> {
  // One unmeasured run of each: a stale build is rebuilt by the bin here, and the disk cache is warm.
  for (const startupCase of STARTUP_CASES) await runNode(startupCase.args, nodeFlags);
  const runs = new Map<StartupCase, ProcessRun[]>(STARTUP_CASES.map((c) => [c, []]));
  for (let round = 0; round < STARTUP_RUNS; round += 1) {
    for (const startupCase of STARTUP_CASES) {
      runs.get(startupCase)!.push(await runMeasured(startupCase.args, nodeFlags));
    }
  }
  const figures = new Map([...runs].map(([c, list]) => [c, summarize(list)]));
  for (const [startupCase, f] of figures) {
    log(
      `cli: ${startupCase.command}: median ${f.wallMs.toFixed(0)} ms, ${f.peakRssMiB.toFixed(0)} MiB`,
    );
  }
  return figures;
}

async function measureLive(
  vpcs: number,
  nodeFlags: readonly string[],
  log: (line: string) => void,
): Promise<LiveResult> {
  const [estate] = generateEstate({ vpcs, vpcsPerSnapshot: vpcs });
  const { accountId, region } = estate!;
  if (region !== LIVE_REGION) throw new Error(`estate in ${region}, expected ${LIVE_REGION}`);
  const account = SimulatedAccount.fromSnapshots([estate!], { latencyMs: LATENCY_MS });
  const endpoint = await serveSimulatedAccount(account, accountId);
  const args = [BIN, 'scan', '--live', '--regions', LIVE_REGION, '--format', 'json'];
  try {
    const env = liveEnvironment(endpoint.url);
    await runNode(args, nodeFlags, env);
    const runs: ProcessRun[] = [];
    const simulatorCpu: number[] = [];
    const requests: number[] = [];
    for (let attempt = 1; runs.length < LIVE_RUNS; attempt += 1) {
      if (attempt > LIVE_RUNS + 2) throw new Error(`live scan of ${vpcs} VPCs: rebuilt too often`);
      const cpuBefore = process.cpuUsage();
      const requestsBefore = endpoint.requests();
      const result = await runNode(args, nodeFlags, env);
      const cpu = process.cpuUsage(cpuBefore);
      // A run that rebuilt the command first measured the build too.
      if (result.rebuilt) continue;
      // A scan that read nothing would be fast and wrong: it must have evaluated every VPC.
      const report = JSON.parse(result.stdout) as { evaluations?: unknown[] };
      if (report.evaluations?.length !== vpcs) {
        throw new Error(
          `live scan of ${vpcs} VPCs evaluated ${report.evaluations?.length ?? 'no'} VPCs`,
        );
      }
      runs.push(result);
      simulatorCpu.push((cpu.user + cpu.system) / 1000);
      requests.push(endpoint.requests() - requestsBefore);
    }
    const figures = summarize(runs);
    const result: LiveResult = {
      vpcs,
      figures,
      requests: bestAndMedian(requests).median,
      simulatorCpuMs: bestAndMedian(simulatorCpu).median,
    };
    log(
      `cli: live scan of ${vpcs} VPCs: CPU ${figures.cpuMs.toFixed(0)} ms, ${figures.peakRssMiB.toFixed(0)} MiB, wall ${figures.wallMs.toFixed(0)} ms`,
    );
    return result;
  } finally {
    await endpoint.close();
  }
}

const ms = (value: number) => `${Math.round(value).toLocaleString('en-US')} ms`;
const mib = (value: number) => `${value.toFixed(0)} MiB`;

function meetsTarget(startupCase: StartupCase, figures: Figures, baseline: Figures): boolean {
  const { target } = startupCase;
  return (
    target === undefined ||
    (figures.wallMs / baseline.wallMs <= target.ratio && figures.peakRssMiB <= target.rssMiB)
  );
}

function render(
  startup: ReadonlyMap<StartupCase, Figures>,
  live: readonly LiveResult[],
  compiled: boolean,
): string {
  const baseline = startup.get(STARTUP_CASES[0]!)!;
  const startupTable = markdownTable(
    [
      'command',
      'wall: best / median',
      'median wall / `node -e 0`',
      'CPU (median)',
      'peak RSS (median)',
      'target',
    ],
    [...startup].map(([startupCase, f]) => [
      `${startupCase.label}: \`${startupCase.command}\``,
      `${ms(f.bestWallMs)} / ${ms(f.wallMs)}`,
      startupCase === STARTUP_CASES[0] ? '1' : `**${(f.wallMs / baseline.wallMs).toFixed(2)}x**`,
      ms(f.cpuMs),
      `**${mib(f.peakRssMiB)}**`,
      startupCase.target
        ? `<= ${startupCase.target.ratio}x, <= ${startupCase.target.rssMiB} MiB: ${meetsTarget(startupCase, f, baseline) ? 'met' : '**not met**'}`
        : '',
    ]),
  );
  const liveTable = markdownTable(
    [
      'VPCs',
      "the command's CPU (user + sys, median)",
      'its peak RSS (median)',
      'wall (median)',
      'requests per scan',
      'simulator CPU per scan (not in the command)',
    ],
    live.map((r) => [
      r.vpcs.toLocaleString('en-US'),
      `**${ms(r.figures.cpuMs)}**`,
      `**${mib(r.figures.peakRssMiB)}**`,
      ms(r.figures.wallMs),
      String(Math.round(r.requests)),
      ms(r.simulatorCpuMs),
    ]),
  );
  return [
    `Each command runs in a fresh process ${STARTUP_RUNS} times, alternating with a bare \`node -e 0\``,
    'started the same way (under GNU time, pinned to one core where `taskset` exists), after one',
    'unmeasured run of each. Wall time is from spawn to exit as the benchmark sees it, so both sides',
    'of a ratio carry the same few milliseconds of `taskset` and `time`; CPU time (user + sys) and',
    `peak RSS are GNU time's. The command is ${compiled ? `the compiled one (\`npm run build\` first; \`${BIN}\` runs \`${COMPILED_MAIN}\`)` : `**not compiled**: \`${COMPILED_MAIN}\` was missing, so these are figures of the bin as it stands`}.`,
    '',
    startupTable,
    '',
    `Live scans: \`node ${BIN} scan --live --regions ${LIVE_REGION} --format json\`, ${LIVE_RUNS} runs per`,
    'size after one unmeasured run, against the generated estate (`test/bench/estate.ts`, one',
    'account and region) in the simulated EC2 account, served over HTTP on 127.0.0.1 by the benchmark',
    `process with ${LATENCY_MS} ms added to every call and reached through \`AWS_ENDPOINT_URL\` with`,
    "dummy credentials: the command's own SDK clients sign, send and parse the XML as against AWS. The",
    "simulator runs outside the measured process, so the command's CPU time and peak RSS are its own;",
    "what the simulator spends serving a scan (its client, HTTP and XML) is the benchmark process's",
    'CPU time during the scan, shown in the last column. The wall time includes the waits (pages of',
    'one type follow each other) and the simulator answering, one request at a time: it is the',
    "setup's, not a figure to compare. Each scan must report every VPC of the estate, or the run fails.",
    '',
    liveTable,
    '',
    "Goal for the live scan: <= 0.7x Cloud Custodian's wall time and no more memory than it, side",
    'by side on the same emulated account. **That comparison is not measured here**: Cloud Custodian',
    "is not installed where these figures come from; the figures above are vpc-guard's own.",
  ].join('\n');
}

/** The `cli` suite for `run.ts`. */
export const cliSuite: BenchSuite = {
  id: 'cli',
  title: 'The vpc-guard command',
  targets: [
    `\`vpc-guard --help\`: <= ${HELP_TARGET.ratio}x the wall time of \`node -e 0\`, peak RSS <= ${HELP_TARGET.rssMiB} MiB`,
    `offline demo scan (\`vpc-guard scan\`): <= ${DEMO_SCAN_TARGET.ratio}x, peak RSS <= ${DEMO_SCAN_TARGET.rssMiB} MiB`,
    `live region scan with ${LATENCY_MS} ms per call, ${LIVE_SIZES.map((n) => n.toLocaleString('en-US')).join(' and ')} VPCs: the command's own CPU time and peak RSS, reported (no bound)`,
  ],
  async run(options) {
    if (!existsSync(GNU_TIME)) {
      throw new Error(
        `the cli benchmark reads CPU time and peak RSS with GNU time: ${GNU_TIME} is missing`,
      );
    }
    buildCommand(options.log);
    const startup = await measureStartup(options.nodeFlags, options.log);
    // After the first runs: the bin rebuilds a missing build itself when it can.
    const compiled = existsSync(join(REPO_ROOT, COMPILED_MAIN));
    const live: LiveResult[] = [];
    for (const vpcs of LIVE_SIZES)
      live.push(await measureLive(vpcs, options.nodeFlags, options.log));
    const baseline = startup.get(STARTUP_CASES[0]!)!;
    return {
      markdown: render(startup, live, compiled),
      targetsMet: [...startup].every(([startupCase, f]) => meetsTarget(startupCase, f, baseline)),
    };
  },
};
