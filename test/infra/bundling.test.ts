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

/** What importing one bundle gave: its handler's type, or the error it threw. */
interface ImportResult {
  readonly handler?: string;
  readonly error?: string;
}

/**
 * The script of the child process: imports each bundle in turn, with only the base environment and
 * that function's variables set, and writes what each import gave as JSON. Every bundle carries its
 * own copy of its dependencies (the SDK included), so one process loads each as cold as Lambda does;
 * only the environment is shared, and it is reset before each import.
 */
const IMPORT_EACH_SCRIPT = `
import { writeFileSync } from 'node:fs';
const [resultsFile, bundlesJson] = process.argv.slice(1);
const base = { ...process.env };
const results = {};
for (const { id, url, env } of JSON.parse(bundlesJson)) {
  for (const name of Object.keys(process.env)) if (!(name in base)) delete process.env[name];
  Object.assign(process.env, base, env);
  try {
    const module = await import(url);
    results[id] = { handler: typeof module.handler };
  } catch (error) {
    results[id] = { error: error instanceof Error ? error.stack ?? error.message : String(error) };
  }
}
writeFileSync(resultsFile, JSON.stringify(results));
`;

/**
 * Imports every bundle in one new Node process, each with the environment the stack gives it;
 * resolves with the process's exit code, its error output and what each import gave.
 */
function importInFreshProcess(
  bundles: readonly { id: string; file: string; env: Record<string, string> }[],
): Promise<{ code: number | null; stderr: string; results: Record<string, ImportResult> }> {
  const resultsFile = join(mkdtempSync(join(tmpdir(), 'vpc-guard-imports-')), 'results.json');
  const spec = bundles.map(({ id, file, env }) => ({ id, url: pathToFileURL(file).href, env }));
  return new Promise((resolveRun, reject) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', IMPORT_EACH_SCRIPT, resultsFile, JSON.stringify(spec)],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          AWS_REGION: 'us-east-1',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const results = existsSync(resultsFile)
        ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, ImportResult>)
        : {};
      resolveRun({ code, stderr, results });
    });
  });
}

describe('GuardFunction bundling (esbuild, no Docker)', () => {
  it('writes one ESM bundle per function, with the require banner and a linked source map', () => {
    // The four pipeline functions and the sweep state machine's three tasks.
    expect(functions).toHaveLength(7);
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
    const run = await importInFreshProcess(
      functions.map((fn) => ({
        id: fn.logicalId,
        file: join(fn.directory, 'index.mjs'),
        env: resolveEnvironmentForTest(fn.variables),
      })),
    );

    // Assess
    expect(run, run.stderr).toMatchObject({ code: 0 });
    for (const fn of functions) {
      const result = run.results[fn.logicalId];
      expect(result, `${fn.logicalId} failed to load: ${result?.error ?? run.stderr}`).toEqual({
        handler: 'function',
      });
    }
  }, 60_000);
});
