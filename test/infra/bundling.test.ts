import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ESM_REQUIRE_BANNER } from '../../infra/lib/constructs/guard-function';
import { addDeployment } from '../../infra/lib/deployment';
import {
  createTestApp,
  exampleConfig,
  resolveEnvironmentForTest,
  type CfnResourceJson,
  type TemplateJson,
} from './support';

/**
 * The one test that runs the real bundling: esbuild on this machine (no Docker), the options of the
 * GuardFunction construct, then each bundle imported in a fresh Node process with the environment
 * the stack gives it, the way Lambda loads it at cold start.
 */

interface BundledFunction {
  readonly logicalId: string;
  readonly directory: string;
  readonly variables: Record<string, unknown>;
}

let functions: BundledFunction[];

beforeAll(() => {
  // Prepare / Act: one standalone region, bundled for real into a scratch cloud assembly.
  const outdir = mkdtempSync(join(tmpdir(), 'vpc-guard-bundling-'));
  const app = createTestApp({ bundle: true, outdir });
  const deployment = addDeployment(app, exampleConfig('standalone', { regions: ['us-east-1'] }));
  const stack = deployment.guardStacks[0]!;
  const template = app.synth().getStackArtifact(stack.artifactId).template as TemplateJson;
  functions = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]: [string, CfnResourceJson]) => {
      const code = resource.Properties!['Code'] as { S3Key: string };
      return {
        logicalId,
        directory: join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`),
        variables: (resource.Properties!['Environment'] as { Variables: Record<string, unknown> })
          .Variables,
      };
    });
}, 180_000);

/** Imports a bundle in a new Node process; resolves with its exit code and error output. */
function importInFreshProcess(
  file: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const script = [
    `const module = await import(${JSON.stringify(pathToFileURL(file).href)});`,
    `if (typeof module.handler !== 'function') { process.stderr.write('no handler export'); process.exit(3); }`,
  ].join('\n');
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env['PATH'] ?? '',
        AWS_REGION: 'us-east-1',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stderr }));
  });
}

describe('GuardFunction bundling (esbuild, no Docker)', () => {
  it('writes one ESM bundle per function, with the require banner and a linked source map', () => {
    expect(functions).toHaveLength(4);
    for (const fn of functions) {
      const bundle = join(fn.directory, 'index.mjs');
      expect(existsSync(bundle), `${fn.logicalId}: ${bundle}`).toBe(true);
      expect(existsSync(`${bundle}.map`), `${fn.logicalId}: source map`).toBe(true);
      // A metafile would be zipped and deployed with the code.
      expect(existsSync(join(fn.directory, 'index.meta.json'))).toBe(false);
      const code = readFileSync(bundle, 'utf8');
      expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
      // The SDK is bundled: no import is left for the runtime's copy.
      expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
    }
  });

  it('loads every bundle in a fresh Node process with the environment the stack sets', async () => {
    // Act
    const results = await Promise.all(
      functions.map(async (fn) => ({
        fn: fn.logicalId,
        ...(await importInFreshProcess(
          join(fn.directory, 'index.mjs'),
          resolveEnvironmentForTest(fn.variables),
        )),
      })),
    );
    // Assess
    for (const result of results) {
      expect(result, `${result.fn} failed to load: ${result.stderr}`).toMatchObject({ code: 0 });
    }
  }, 60_000);
});
