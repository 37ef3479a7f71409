import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import {
  configFiles,
  createVpcGuardApp,
  DEFAULT_CONFIG_FILE,
  EXAMPLE_CONFIG_FILES,
} from '../../infra/lib/app';
import { REPO_ROOT } from '../../infra/lib/paths';
import { createTestApp, exampleInput } from './support';

/** Runs infra/bin/app.ts the way the CDK CLI does: context and output directory from the environment. */
function runApp(
  context: Record<string, unknown>,
): Promise<{ code: number | null; stderr: string; outdir: string }> {
  const outdir = mkdtempSync(join(tmpdir(), 'vpc-guard-app-'));
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/bin/app.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify(context),
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stderr, outdir }));
  });
}

describe('the vpc-guard app', () => {
  it('synthesizes every stack the named configurations ask for into the output directory', () => {
    // Prepare: both examples, made the operator's (their organization), bundling skipped (the
    // bundling test runs it).
    const outdir = mkdtempSync(join(tmpdir(), 'vpc-guard-app-'));
    const configs = (['standalone', 'hub'] as const).map((kind) => {
      const file = join(outdir, `${kind}.deployment.json`);
      writeFileSync(file, JSON.stringify(exampleInput(kind)));
      return file;
    });
    // Act
    const { app, deployments } = createVpcGuardApp({
      outdir,
      env: {},
      context: {
        config: configs.join(','),
        'aws:cdk:bundling-stacks': [],
        'aws:cdk:disable-stack-trace': true,
      },
    });
    app.synth();
    // Assess
    expect(deployments.flatMap((d) => d.stacks.map((stack) => stack.stackName))).toEqual([
      'VpcGuard-us-east-1',
      'VpcGuard-eu-west-1',
      'VpcGuardHub',
      'VpcGuardOrgRollout',
    ]);
    const written = readdirSync(outdir).filter((file) => file.endsWith('.template.json'));
    expect(written.sort()).toEqual([
      'VpcGuard-eu-west-1.template.json',
      'VpcGuard-us-east-1.template.json',
      'VpcGuardHub.template.json',
      'VpcGuardOrgRollout.template.json',
    ]);
    const member = readdirSync(join(outdir, 'assembly-VpcGuardMemberTemplate'));
    expect(member.some((file) => file.endsWith('.template.json'))).toBe(true);
  }, 120_000);

  it('refuses the shipped examples as they are, before anything is synthesized', () => {
    // Prepare
    const outdir = mkdtempSync(join(tmpdir(), 'vpc-guard-app-'));
    // Act / Assess
    expect(() =>
      createVpcGuardApp({
        outdir,
        env: {},
        context: { config: EXAMPLE_CONFIG_FILES.join(','), 'aws:cdk:bundling-stacks': [] },
      }),
    ).toThrow(/organization\.id: expected your own AWS Organizations id/);
    expect(existsSync(join(outdir, 'manifest.json'))).toBe(false);
  });

  it('deploys infra/deployment.json by default, else both examples', () => {
    const expected = existsSync(DEFAULT_CONFIG_FILE)
      ? [DEFAULT_CONFIG_FILE]
      : [...EXAMPLE_CONFIG_FILES];
    expect(configFiles(undefined)).toEqual(expected);
    expect(configFiles('a.json, b.json', '/x')).toEqual(['/x/a.json', '/x/b.json']);
  });

  it('exits 1 naming the field, what it got and what it expects when the configuration is bad', async () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'vpc-guard-bad-')), 'deployment.json');
    writeFileSync(file, JSON.stringify(exampleInput('hub', { hubAccount: '123' })));
    // Act
    const run = await runApp({ config: file });
    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('vpc-guard deployment configuration rejected');
    expect(run.stderr).toContain('hubAccount: expected a 12-digit AWS account id, got "123"');
    expect(existsSync(join(run.outdir, 'manifest.json'))).toBe(false);
  }, 60_000);
});

describe('cdk-nag on synth', () => {
  it('fails the synth on a finding nobody acknowledged', () => {
    // Prepare: a queue without TLS enforcement or dead-letter queue.
    const app = createTestApp();
    new Queue(new Stack(app, 'Probe'), 'Plain');
    // Act / Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('lets the synth pass once each finding is acknowledged on its construct', () => {
    // Prepare
    const app = createTestApp();
    const queue = new Queue(new Stack(app, 'Probe'), 'Plain', { enforceSSL: true });
    for (const id of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
      Validations.of(queue).acknowledge({ id, reason: 'test: a queue nothing sends to' });
    }
    // Act / Assess
    expect(() => app.synth()).not.toThrow();
  });
});
