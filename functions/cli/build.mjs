#!/usr/bin/env node
// Compiles the vpc-guard CLI (functions/cli/main.ts) into functions/cli/dist/ with esbuild: one ESM
// entry, main.mjs, and chunks split along the dynamic imports, so a command loads only its own
// dependencies. Every dependency is bundled: the command starts without resolving node_modules.
//
// Plain JavaScript on purpose: the root `prepare` script runs it during `npm ci`, before anything
// could compile TypeScript, and the bin imports it to rebuild a stale build.
//
//   node functions/cli/build.mjs            build (npm run build)
//   node functions/cli/build.mjs --prepare  the same, but a no-op when esbuild is not installed
//                                           (an install without dev dependencies)
//
// Next to the outputs it writes build-info.json: the build's own input files (from esbuild's
// metafile, which is not shipped) with their size, mtime and SHA-256, so the bin can tell, with a
// stat per file, that the build is older than its sources.
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root (this file is functions/cli/build.mjs). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where the compiled CLI goes; git-ignored. */
export const DIST_DIR = fileURLToPath(new URL('./dist/', import.meta.url));
/** The manifest the bin checks; its format is read by bin/vpc-guard.mjs. */
export const BUILD_INFO_FILE = 'build-info.json';
const BUILD_INFO_VERSION = 1;

/**
 * Files that decide the output without being bundled: this script, the compiler options, and npm's
 * record of what is installed (rewritten by every install, so a changed dependency is noticed
 * without a stat per file under node_modules).
 */
const EXTRA_INPUTS = [
  'functions/cli/build.mjs',
  'tsconfig.json',
  'node_modules/.package-lock.json',
];

/** The esbuild options; see functions/runtime/bundling.ts for why the Lambda bundles use the same. */
export function buildOptions() {
  return {
    absWorkingDir: REPO_ROOT,
    entryPoints: { main: 'functions/cli/main.ts' },
    outdir: DIST_DIR,
    // Chunks next to main.mjs: every output file sits at the same depth, so a module's own URL
    // (createProcessContext reads it) means the same wherever esbuild put the code.
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Every dependency inside the build.
    packages: 'bundle',
    // Without `module` first the SDK's CommonJS build is picked: bigger and slower to import.
    mainFields: ['module', 'main'],
    // The core, from source, whether or not the workspace link exists; `@vpc-guard/shared/<module>`
    // (the CLI imports the defining modules, see shared/src/index.ts) maps to shared/src/<module>.ts.
    alias: { '@vpc-guard/shared': './shared/src' },
    // CommonJS dependencies (and Powertools Tracer, for `invoke`) call require(); ESM has none.
    banner: {
      js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
    },
    minify: true,
    // A map file per output, linked, without the sources (they are in the repository): stack traces
    // map back to files and lines with VPC_GUARD_DEBUG=1.
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    // In memory: the files are written by this script, each atomically (see writeOutputs).
    metafile: true,
    write: false,
    logLevel: 'warning',
  };
}

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * File timestamps come from a coarser clock than Date.now(): a file written this long before the
 * build started may carry a later time than the file written just after it.
 */
const CLOCK_SLACK_MS = 50;

/**
 * The build's inputs outside node_modules, plus EXTRA_INPUTS, as the manifest lists them. An input
 * modified while the build ran may not be what esbuild read: it is listed as never matching, so the
 * next command rebuilds.
 */
function describeInputs(metafile, startedAt) {
  const paths = new Set(EXTRA_INPUTS);
  for (const input of Object.keys(metafile.inputs)) {
    // esbuild names inputs relative to absWorkingDir; a `ns:` prefix marks a virtual one.
    if (/^[a-z-]+:/.test(input) || input.split('/').includes('node_modules')) continue;
    paths.add(input);
  }
  const inputs = [];
  for (const path of [...paths].sort()) {
    const absolute = join(REPO_ROOT, path);
    let stats;
    try {
      stats = statSync(absolute);
    } catch {
      // node_modules/.package-lock.json is absent when npm did not install (a copied tree).
      continue;
    }
    const changedMeanwhile = stats.mtimeMs > startedAt - CLOCK_SLACK_MS;
    inputs.push(
      changedMeanwhile
        ? { path, size: stats.size, mtimeMs: -1, sha256: '' }
        : { path, size: stats.size, mtimeMs: stats.mtimeMs, sha256: sha256(absolute) },
    );
  }
  return inputs;
}

/** Writes `contents` to `path` through a temporary file and a rename: readers never see half a file. */
function writeAtomically(path, contents) {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

/**
 * Writes the outputs so that a vpc-guard started meanwhile finds either the old build or the new one:
 * chunks and maps first, then the entry that imports them, then the manifest that declares the build
 * fresh. Files of earlier builds are removed last, those older than `startedAt` only: what is newer
 * belongs to a build running at the same time (two commands that found the same stale build).
 */
function writeOutputs(outputFiles, buildInfo, startedAt) {
  mkdirSync(DIST_DIR, { recursive: true });
  const entries = outputFiles.filter((file) => file.path.endsWith(`${sep}main.mjs`));
  const rest = outputFiles.filter((file) => !entries.includes(file));
  for (const file of [...rest, ...entries]) writeAtomically(file.path, file.contents);
  writeAtomically(join(DIST_DIR, BUILD_INFO_FILE), `${JSON.stringify(buildInfo, null, 1)}\n`);
  const written = new Set([
    ...outputFiles.map((file) => file.path),
    join(DIST_DIR, BUILD_INFO_FILE),
  ]);
  for (const name of readdirSync(DIST_DIR)) {
    const path = join(DIST_DIR, name);
    if (written.has(path)) continue;
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats !== undefined && stats.mtimeMs < startedAt - CLOCK_SLACK_MS)
      rmSync(path, { recursive: true, force: true });
  }
}

/**
 * Builds the CLI into functions/cli/dist/ and writes its manifest. Throws when esbuild is not
 * installed (the error's code is ERR_MODULE_NOT_FOUND) or the build fails.
 * @returns the number of output files and the build's wall time in milliseconds
 */
export async function buildCli() {
  const started = performance.now();
  const startedAt = Date.now();
  const { build, version } = await import('esbuild');
  const result = await build(buildOptions());
  const buildInfo = {
    version: BUILD_INFO_VERSION,
    esbuild: version,
    inputs: describeInputs(result.metafile, startedAt),
  };
  writeOutputs(result.outputFiles, buildInfo, startedAt);
  return { files: result.outputFiles.length, ms: Math.round(performance.now() - started) };
}

function isEsbuildMissing(error) {
  return error?.code === 'ERR_MODULE_NOT_FOUND' && /'esbuild'/.test(String(error.message));
}

async function runAsScript(args) {
  const prepare = args.includes('--prepare');
  try {
    const { files, ms } = await buildCli();
    const where = relative(process.cwd(), DIST_DIR) || '.';
    process.stderr.write(`vpc-guard: built ${where}${sep} (${files} files) in ${ms} ms\n`);
  } catch (error) {
    if (prepare && isEsbuildMissing(error)) {
      // An install without dev dependencies: the package ships its build, or the bin says how to make one.
      process.stderr.write('vpc-guard: esbuild is not installed; the CLI was not built\n');
      return;
    }
    // esbuild has printed the errors of a failed build already.
    if (!Array.isArray(error?.errors))
      process.stderr.write(`vpc-guard: build failed: ${error?.message ?? error}\n`);
    process.exitCode = 1;
  }
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href
) {
  await runAsScript(process.argv.slice(2));
}
