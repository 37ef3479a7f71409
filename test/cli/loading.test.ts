import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitWarningIfUnsupportedVersion, state } from '@aws-sdk/core/client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SDK_NODE_VERSION_WARNING_SWITCH, main } from '../../functions/cli/main';
import { REPO_ROOT, recordingContext } from './support';

/*
 * What each command loads, measured on the compiled CLI (the build `npm ci` makes, rebuilt by the bin
 * when stale): every module a process resolves is logged (loading/record-modules.mjs), and each
 * chunk of the build is traced to the packages in it through its source map. Two processes: the bin
 * with `--version`, and a drive of `--help`, the offline scan and two live scans against a stand-in
 * endpoint (loading/drive-compiled-cli.mjs).
 */

const DIST = join(REPO_ROOT, 'functions', 'cli', 'dist');
const LOADING = fileURLToPath(new URL('./loading/', import.meta.url));

/** An environment with static credentials and no inherited AWS settings, so the SDK looks nowhere else. */
function childEnvironment(log: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('AWS_') && !name.startsWith('VPC_GUARD_')) env[name] = value;
  }
  return {
    ...env,
    VPC_GUARD_MODULE_LOG: log,
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** The AWS SDK client packages (and the SDK's internal STS/SSO clients) bundled into a chunk. */
function sdkClientsIn(chunk: string): string[] {
  const map = JSON.parse(readFileSync(`${chunk}.map`, 'utf8')) as { sources: string[] };
  return map.sources.flatMap((source) => {
    const match = /node_modules\/(@aws-sdk\/(?:client-[\w-]+|nested-clients))\//.exec(source);
    return match?.[1] ? [match[1]] : [];
  });
}

/**
 * Per step of a module log, the SDK clients in the chunks of the build loaded so far. A step ends at
 * its `# name` line; `end` names what comes after the last one.
 */
function clientsByStep(log: string, end: string): Map<string, string[]> {
  const steps = new Map<string, string[]>();
  const loaded = new Set<string>();
  const lines = readFileSync(log, 'utf8').split('\n');
  for (const line of [...lines, `# ${end}`]) {
    if (line.startsWith('# ')) {
      const clients = new Set([...loaded].flatMap((chunk) => sdkClientsIn(chunk)));
      steps.set(line.slice(2), [...clients].sort());
      continue;
    }
    const url = line.split(' ')[1];
    if (url?.startsWith('file:') && url.endsWith('.mjs')) {
      const path = fileURLToPath(url);
      if (path.startsWith(DIST)) loaded.add(path);
    }
  }
  return steps;
}

interface DriveResult {
  readonly code: number;
  readonly stderr: string;
}

describe('what each command of the compiled CLI loads', () => {
  let work: string;
  let version: { stdout: string; stderr: string; status: number | null };
  let versionClients: Map<string, string[]>;
  let drive: { results: Record<string, DriveResult>; stderr: string; status: number | null };
  let driveClients: Map<string, string[]>;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'vpc-guard-loading-'));
    const record = join(LOADING, 'record-modules.mjs');
    // The bin first: it rebuilds a stale build, so the drive below imports a current one.
    const versionLog = join(work, 'version.log');
    const bin = spawnSync(
      process.execPath,
      [
        '--import',
        record,
        join(REPO_ROOT, 'functions', 'cli', 'bin', 'vpc-guard.mjs'),
        '--version',
      ],
      { cwd: work, env: childEnvironment(versionLog), encoding: 'utf8' },
    );
    version = { stdout: bin.stdout, stderr: bin.stderr, status: bin.status };
    versionClients = clientsByStep(versionLog, 'version');

    const driveLog = join(work, 'drive.log');
    const child = spawnSync(
      process.execPath,
      ['--import', record, join(LOADING, 'drive-compiled-cli.mjs')],
      { cwd: REPO_ROOT, env: childEnvironment(driveLog), encoding: 'utf8' },
    );
    drive = {
      results: child.status === 0 ? (JSON.parse(child.stdout) as Record<string, DriveResult>) : {},
      stderr: child.stderr,
      status: child.status,
    };
    driveClients = clientsByStep(driveLog, 'after');
  }, 120_000);

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('--version loads no AWS SDK client', () => {
    // Assess
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(versionClients.get('version')).toEqual([]);
  });

  it('runs every command of the drive to its usual exit code', () => {
    // Assess
    expect(drive.status, drive.stderr).toBe(0);
    expect(Object.fromEntries(Object.entries(drive.results).map(([k, v]) => [k, v.code]))).toEqual({
      help: 0,
      'offline scan': 1,
      'live scan': 0,
      'live scan --org': 0,
    });
    expect(drive.results['live scan']?.stderr).toContain('111111111111/us-east-1: 0 VPCs');
  });

  it('--help loads no AWS SDK client', () => {
    expect(driveClients.get('help')).toEqual([]);
  });

  it('the offline scan loads no AWS SDK client', () => {
    expect(driveClients.get('offline scan')).toEqual([]);
  });

  it('a live scan loads the EC2 and STS clients only', () => {
    expect(driveClients.get('live scan')).toEqual(['@aws-sdk/client-ec2', '@aws-sdk/client-sts']);
  });

  it('a live scan with --org loads the Organizations client as well', () => {
    expect(driveClients.get('live scan --org')).toEqual([
      '@aws-sdk/client-ec2',
      '@aws-sdk/client-organizations',
      '@aws-sdk/client-sts',
    ]);
  });

  it("keeps the SDK's Node version warning off the live commands' stderr", () => {
    // Assess: the drive's clients were made with no switch in the environment it was given.
    expect(drive.stderr).not.toContain('NodeVersionSupportWarning');
  });
});

describe("the SDK's Node version warning", () => {
  const given = process.env[SDK_NODE_VERSION_WARNING_SWITCH];

  afterEach(() => {
    vi.restoreAllMocks();
    if (given === undefined) delete process.env[SDK_NODE_VERSION_WARNING_SWITCH];
    else process.env[SDK_NODE_VERSION_WARNING_SWITCH] = given;
  });

  /** What the SDK emits when a client is constructed on Node 20, as if no client had been made yet. */
  function warningsOfAClientOnNode20(): string[] {
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    state.warningEmitted = false;
    emitWarningIfUnsupportedVersion('v20.20.0');
    return emitted.mock.calls.map(([warning]) => String(warning));
  }

  it('is emitted by the SDK when nothing turns it off', () => {
    // Prepare
    delete process.env[SDK_NODE_VERSION_WARNING_SWITCH];

    // Act
    const warnings = warningsOfAClientOnNode20();

    // Assess
    expect(warnings).toEqual([expect.stringMatching(/^NodeVersionSupportWarning: /)]);
  });

  it('is turned off by every CLI run', async () => {
    // Prepare
    delete process.env[SDK_NODE_VERSION_WARNING_SWITCH];

    // Act
    const code = await main(['--version'], recordingContext());
    const warnings = warningsOfAClientOnNode20();

    // Assess
    expect(code).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('stays on when the environment says so', async () => {
    // Prepare
    process.env[SDK_NODE_VERSION_WARNING_SWITCH] = 'false';

    // Act
    await main(['--version'], recordingContext());
    const warnings = warningsOfAClientOnNode20();

    // Assess
    expect(warnings).toHaveLength(1);
  });
});
