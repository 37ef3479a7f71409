import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { spawn, spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * What every benchmark module provides to `run.ts`. A suite measures in fresh child processes (so
 * peak RSS belongs to one measurement) and renders its figures as the markdown of its own section of
 * docs/PERFORMANCE.md, between `<!-- bench:<id>:start -->` and `<!-- bench:<id>:end -->`.
 */
export interface BenchSuite {
  /** Names the suite on the command line (`--only <id>`) and its marked section. */
  readonly id: string;
  readonly title: string;
  /** One line each, e.g. "10,000 VPCs in <= 1 s on one core". */
  readonly targets: readonly string[];
  run(options: BenchRunOptions): Promise<BenchReport>;
}

/** Options `run.ts` passes to every suite. */
export interface BenchRunOptions {
  /** Extra node flags for the child processes, e.g. `--cpu-prof`. */
  readonly nodeFlags: readonly string[];
  /** Write progress lines here (stderr), so stdout stays the table. */
  readonly log: (line: string) => void;
}

/** A suite's result: a markdown body for its section, and whether every target was met. */
export interface BenchReport {
  readonly markdown: string;
  readonly targetsMet: boolean;
}

/** The line a child process prints its result on, as JSON after the prefix. */
export const RESULT_PREFIX = 'bench-result: ';

let tasksetAvailable: boolean | undefined;

/** `taskset -c 0` pins a child to one core, where the machine has taskset (Linux). */
function pinToOneCore(): string[] {
  if (tasksetAvailable === undefined) {
    tasksetAvailable =
      process.platform === 'linux' && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  }
  return tasksetAvailable ? ['taskset', '-c', '0'] : [];
}

/** Whether child processes are pinned to one core on this machine. */
export function pinnedToOneCore(): boolean {
  return pinToOneCore().length > 0;
}

/**
 * Runs `command` pinned to one core where possible, passing its stderr through, and returns its exit
 * code and everything it wrote to stdout.
 */
export async function runPinned(
  command: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string }> {
  const [program, ...args] = [...pinToOneCore(), ...command];
  const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  return { code, stdout };
}

/**
 * Runs a bench module (`node --import tsx <module> ...args`) in a fresh process pinned to one core
 * and returns what it printed after {@link RESULT_PREFIX}.
 */
export async function runBenchProcess(
  moduleUrl: string,
  args: readonly string[],
  options: BenchRunOptions,
  how: { bundled?: boolean } = {},
): Promise<unknown> {
  const source = fileURLToPath(moduleUrl);
  // Bundled like a deployed function (plain node, no TypeScript loader in the process), so memory
  // figures are the product's, not the dev loader's. Written next to the source so relative URLs
  // inside the module still resolve; removed afterwards.
  const bundle = how.bundled ? source.replace(/\.ts$/, '.bundle.mjs') : undefined;
  if (bundle) {
    await build({
      entryPoints: [source],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      mainFields: ['module', 'main'],
      banner: {
        js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'error',
    });
  }
  const { code, stdout } = await runPinned([
    process.execPath,
    ...options.nodeFlags,
    ...(bundle ? [bundle] : ['--import', 'tsx', source]),
    ...args,
  ]).finally(() => (bundle ? rm(bundle, { force: true }) : undefined));
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_PREFIX));
  if (code !== 0 || line === undefined) {
    throw new Error(
      `bench process ${fileURLToPath(moduleUrl)} ${args.join(' ')} exited with ${code}`,
    );
  }
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as unknown;
}

/** Prints a child's result for {@link runBenchProcess}. */
export function reportBenchResult(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  // resourceUsage().maxRSS is in kilobytes.
  return process.resourceUsage().maxRSS / 1024;
}

/** Best and median of a list of durations. */
export function bestAndMedian(samples: readonly number[]): { best: number; median: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { best: sorted[0]!, median };
}

/** The machine the figures come from, as markdown. */
export function describeMachine(): string {
  const processors = cpus();
  const model = processors[0]?.model.trim() ?? 'unknown CPU';
  return [
    `- Node ${process.version} on ${process.platform}/${process.arch}`,
    `- CPU: ${model}, ${processors.length} core${processors.length === 1 ? '' : 's'} visible` +
      (pinnedToOneCore()
        ? ' (each measurement pinned to one core with `taskset -c 0`)'
        : ' (not pinned: no taskset)'),
    // Figures from a busy machine are slower and noisier: say how busy it was.
    `- Load average when the run started: ${loadavg()
      .map((load) => load.toFixed(2))
      .join(', ')} (1, 5, 15 min)`,
  ].join('\n');
}

/** A markdown table. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * Replaces the body between `<!-- bench:<id>:start -->` and `<!-- bench:<id>:end -->`, appending the
 * marked section at the end when the document does not have it yet.
 */
export function replaceMarkedSection(document: string, id: string, body: string): string {
  const start = `<!-- bench:${id}:start -->`;
  const end = `<!-- bench:${id}:end -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from >= 0 && to > from) {
    return document.slice(0, from) + section + document.slice(to + end.length);
  }
  return `${document.trimEnd()}\n\n${section}\n`;
}
