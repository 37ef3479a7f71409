import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support';

const BIN = join(REPO_ROOT, 'functions', 'cli', 'bin', 'vpc-guard.mjs');
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

/** Runs the real launcher in a child process, as a user would. */
function vpcGuard(args: readonly string[], cwd = REPO_ROOT): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env['VPC_GUARD_DEBUG'];
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
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
    const run = await vpcGuard(args, outputDir);

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
    const [help, version] = await Promise.all([
      vpcGuard(['scan', '--help']),
      vpcGuard(['--version']),
    ]);

    // Assess
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: vpc-guard scan [options]');
    expect(help.stdout).toContain('$ vpc-guard scan --format sarif --output vpc-guard.sarif');
    expect(help.stdout).not.toContain('--now');
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
