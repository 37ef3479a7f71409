import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../functions/cli/main';
import { recordingContext, REPO_ROOT, type RecordingContextOptions } from './support';

const FIXTURES = 'test/fixtures/cli';
const NOW = ['--now', '2026-11-20T10:00:00Z'];
const COMPLIANT = [
  '--snapshot',
  `${FIXTURES}/compliant.json`,
  '--policy',
  `${FIXTURES}/policy.yaml`,
];
const NON_COMPLIANT = [
  '--snapshot',
  `${FIXTURES}/non-compliant.json`,
  '--policy',
  `${FIXTURES}/policy.yaml`,
];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `main()` in this process, as the command does, and keeps what it printed. */
async function vpcGuard(
  args: readonly string[],
  options: RecordingContextOptions = {},
): Promise<Run> {
  const context = recordingContext(options);
  const code = await main(args, context);
  return { code, stdout: context.stdout.join(''), stderr: context.stderr.join('') };
}

describe('vpc-guard scan', () => {
  let outputDir: string;

  beforeAll(async () => {
    outputDir = await mkdtemp(join(tmpdir(), 'vpc-guard-cli-'));
  });

  afterAll(async () => {
    await rm(outputDir, { recursive: true, force: true });
  });

  it('exits 0 and lists each VPC when every VPC is compliant or exempt', async () => {
    // Prepare
    const args = ['scan', ...COMPLIANT, ...NOW];

    // Act
    const run = await vpcGuard(args);

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^COMPLIANT {2}222222222222\/us-east-1\/vpc-0c0000000000000a1 /m);
    expect(run.stdout).toMatch(
      /^EXEMPT \(NOT_APPLICABLE\) {2}222222222222\/us-east-1\/vpc-0c0000000000000a2 /m,
    );
    expect(run.stdout).toContain(
      'exempt until 2027-01-31: moving to the shared egress VPC (NET-142)',
    );
    expect(run.stdout).toContain('2 VPCs: 1 compliant, 0 non-compliant, 1 exempt');
  });

  it('exits 1 and shows the findings when a VPC is non-compliant', async () => {
    // Prepare
    const args = ['scan', ...NON_COMPLIANT, ...NOW];

    // Act
    const run = await vpcGuard(args);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^NON_COMPLIANT {2}111111111111\/us-east-1\/vpc-0a0000000000000a1 /m,
    );
    expect(run.stdout).toMatch(/^COMPLIANT {2}111111111111\/us-east-1\/vpc-0a0000000000000a2 /m);
    expect(run.stdout).toMatch(
      /HIGH +nat-gateway-forbidden +Public NAT gateway nat-0a000000000000d1/,
    );
    expect(run.stdout).toMatch(/endpoint-missing +Required Interface endpoint for sts/);
    expect(run.stdout).toContain('$36.50/mo now');
  });

  it('prints nothing but the JSON report on stdout with --format json', async () => {
    // Prepare
    const args = ['scan', ...NON_COMPLIANT, '--format', 'json', ...NOW];

    // Act
    const run = await vpcGuard(args);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      schemaVersion: 1,
      generatedAt: '2026-11-20T10:00:00.000Z',
      summary: { vpcs: 2, compliant: 1, nonCompliant: 1, notApplicable: 0 },
    });
    expect(report.evaluations).toHaveLength(2);
  });

  it('prints SARIF whose results point at the snapshot file as given', async () => {
    // Prepare
    const args = ['scan', ...NON_COMPLIANT, '--format', 'sarif', ...NOW];

    // Act
    const run = await vpcGuard(args);

    // Assess
    expect(run.code).toBe(1);
    const log = JSON.parse(run.stdout);
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0].tool.driver.name).toBe('vpc-guard');
    expect(log.runs[0].results.length).toBeGreaterThan(0);
    expect(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe(
      `${FIXTURES}/non-compliant.json`,
    );
  });

  it('prints a markdown report that starts with the summary table', async () => {
    // Prepare
    const args = ['scan', ...COMPLIANT, '--format', 'markdown', ...NOW];

    // Act
    const run = await vpcGuard(args);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('| Status | VPCs |');
    expect(run.stdout).toContain('| **Total** | **2** |');
    expect(run.stdout).toContain('### Exempt VPCs');
  });

  it('writes the report to --output, keeps stdout empty and notes the file on stderr', async () => {
    // Prepare
    const output = join(outputDir, 'report.sarif');
    const args = ['scan', ...NON_COMPLIANT, '--format', 'sarif', '--output', output, ...NOW];

    // Act
    const run = await vpcGuard(args);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `vpc-guard: wrote the sarif report to ${output} (2 VPCs: 1 compliant, 1 non-compliant, 0 exempt)\n`,
    );
    expect(JSON.parse(await readFile(output, 'utf8')).version).toBe('2.1.0');
  });

  it('scans the demo account by default, from any working directory', async () => {
    // Prepare
    const args = ['scan', '--format', 'json', ...NOW];

    // Act
    const run = await vpcGuard(args, { cwd: outputDir });

    // Assess
    expect(run.stderr).toBe('');
    expect([0, 1]).toContain(run.code);
    expect(JSON.parse(run.stdout).summary.vpcs).toBeGreaterThan(0);
  });

  it.each([
    [['scan', '--bogus'], "vpc-guard: error: unknown option '--bogus'"],
    [['scan', '--format', 'xml'], 'Allowed choices are table, json, markdown, sarif.'],
    [
      ['scan', '--now', 'yesterday'],
      "vpc-guard: error: option '--now <iso>' argument 'yesterday' is invalid",
    ],
  ])('exits 2 with a usage error for %j', async (args, message) => {
    // Prepare, Act
    const run = await vpcGuard([...args, ...COMPLIANT]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
  });

  it.each([
    [
      'a missing snapshot file',
      ['--snapshot', `${FIXTURES}/nowhere.json`],
      `vpc-guard: error: ${FIXTURES}/nowhere.json: cannot read the snapshot file`,
    ],
    [
      'a snapshot that is not JSON',
      ['--snapshot', `${FIXTURES}/malformed.json`],
      `vpc-guard: error: ${FIXTURES}/malformed.json: not valid JSON`,
    ],
    [
      'a snapshot that fails its schema',
      ['--snapshot', `${FIXTURES}/invalid-snapshot.json`],
      `vpc-guard: error: ${FIXTURES}/invalid-snapshot.json: natGateways[0].state: expected "pending"`,
    ],
    [
      'a policy that fails its schema',
      ['--snapshot', `${FIXTURES}/compliant.json`, '--policy', `${FIXTURES}/bad-policy.yaml`],
      `${FIXTURES}/bad-policy.yaml: profiles.regulated.endpoints.required[1].type: expected "Gateway" or "Interface", got "gateway"`,
    ],
  ])('exits 2 and names the file and field for %s', async (_case, files, message) => {
    // Prepare
    const args = ['scan', '--policy', `${FIXTURES}/policy.yaml`, ...files, ...NOW];

    // Act
    const run = await vpcGuard(args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 0 for --help and --version', async () => {
    // Prepare, Act
    const help = await vpcGuard(['scan', '--help']);
    const version = await vpcGuard(['--version']);

    // Assess
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: vpc-guard scan [options]');
    expect(help.stdout).toContain('$ vpc-guard scan --format sarif --output vpc-guard.sarif');
    expect(help.stdout).not.toContain('--now');
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

/** The installed command, the compiled CLI behind the package bin. */
const BIN = join(REPO_ROOT, 'functions', 'cli', 'bin', 'vpc-guard.mjs');

/**
 * Runs the command in a child process, as a shell or CI step does: stdout to a file when `stdoutFile`
 * is given (a report redirected with `>`), else to a pipe.
 */
function spawnVpcGuard(
  args: readonly string[],
  options: { cwd?: string; stdoutFile?: string } = {},
): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env['VPC_GUARD_DEBUG'];
  const stdoutFd = options.stdoutFile === undefined ? undefined : openSync(options.stdoutFile, 'w');
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env,
      stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'],
    });
    if (stdoutFd !== undefined) closeSync(stdoutFd);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
  });
}

// The process boundary itself: exit codes, and which stream carries what. Everything else about the
// command's behaviour is tested in-process above.
describe('the vpc-guard command', () => {
  let outputDir: string;

  beforeAll(async () => {
    outputDir = await mkdtemp(join(tmpdir(), 'vpc-guard-bin-'));
    // The command rebuilds a missing or stale build first and says so on stderr: let that happen
    // here, so the tests below see only what the command itself prints.
    await spawnVpcGuard(['--version']);
  }, 120_000);

  afterAll(async () => {
    await rm(outputDir, { recursive: true, force: true });
  });

  it('exits 1 and writes the whole report to a redirected stdout, nothing to stderr', async () => {
    // Prepare
    const file = join(outputDir, 'report.json');
    const args = ['scan', ...NON_COMPLIANT, '--format', 'json', ...NOW];

    // Act
    const run = await spawnVpcGuard(args, { stdoutFile: file });

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    const report = JSON.parse(await readFile(file, 'utf8'));
    expect(report.summary).toMatchObject({ vpcs: 2, compliant: 1, nonCompliant: 1 });
    expect(report.evaluations).toHaveLength(2);
  });

  it('exits 2 with the usage error on stderr only, and 0 with the version on stdout', async () => {
    // Prepare, Act
    const [usage, version] = await Promise.all([
      spawnVpcGuard(['scan', '--bogus', ...COMPLIANT], { cwd: outputDir }),
      spawnVpcGuard(['--version'], { cwd: outputDir }),
    ]);

    // Assess
    expect(usage.code).toBe(2);
    expect(usage.stdout).toBe('');
    expect(usage.stderr).toContain("vpc-guard: error: unknown option '--bogus'");
    expect(version).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/),
      stderr: '',
    });
  });
});
