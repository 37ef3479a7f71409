#!/usr/bin/env node
// The `vpc-guard` command: runs the compiled CLI, functions/cli/dist/main.mjs (npm run build, which
// `npm ci` runs as the `prepare` step). A build older than its sources is never run: the manifest
// the build writes (dist/build-info.json) lists every source file with its size, mtime and SHA-256,
// and is checked here with one stat per file. A stale or missing build is rebuilt first when esbuild
// is installed; without it (an install without dev dependencies) the command says how and exits 3.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIST = new URL('../dist/', import.meta.url);
const BUILD_INFO = new URL('build-info.json', DIST);
const ENTRY = new URL('main.mjs', DIST);
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const INTERNAL_ERROR = 3;

/** The manifest, or undefined when there is no build (or a build this bin cannot read). */
function readBuildInfo() {
  try {
    const info = JSON.parse(readFileSync(BUILD_INFO, 'utf8'));
    const readable = info.version === 1 && Array.isArray(info.inputs);
    // A manifest without its entry (a half-removed dist/) is no build either.
    return readable && statSync(ENTRY, { throwIfNoEntry: false }) ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether every input is as it was built. A file whose size matches but whose mtime does not (a
 * checkout, a copy, a cache restore) is compared by content, and when it is unchanged the manifest
 * takes the new mtime, so the next start is back to one stat per file.
 */
async function isFresh(info) {
  const retouched = [];
  for (const input of info.inputs) {
    const stats = statSync(REPO_ROOT + input.path, { throwIfNoEntry: false });
    if (stats === undefined || stats.size !== input.size) return false;
    if (stats.mtimeMs !== input.mtimeMs) retouched.push([input, stats.mtimeMs]);
  }
  if (retouched.length === 0) return true;
  // Loaded only here: node:crypto costs more to load than all the stats above.
  const { createHash } = await import('node:crypto');
  for (const [input, mtimeMs] of retouched) {
    const contents = readFileSync(REPO_ROOT + input.path);
    if (createHash('sha256').update(contents).digest('hex') !== input.sha256) return false;
    input.mtimeMs = mtimeMs;
  }
  try {
    // Through a rename: a vpc-guard started meanwhile reads the old manifest or the new one.
    const temporary = new URL(`build-info.json.${process.pid}.tmp`, DIST);
    writeFileSync(temporary, `${JSON.stringify(info, null, 1)}\n`);
    renameSync(temporary, BUILD_INFO);
  } catch {
    // A read-only install: still fresh, only the next start compares contents again.
  }
  return true;
}

/** Builds; returns false (having said why) when it cannot. */
async function rebuild(reason, action) {
  let buildCli;
  try {
    ({ buildCli } = await import('../build.mjs'));
    await import('esbuild');
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    process.stderr.write(
      `vpc-guard: ${reason}, and esbuild, which builds it, is not installed: ` +
        'install the dev dependencies and run `npm run build` (`npm ci` does both)\n',
    );
    return false;
  }
  process.stderr.write(`vpc-guard: ${reason}, ${action} (npm run build)\n`);
  try {
    await buildCli();
    return true;
  } catch (error) {
    // esbuild has printed a failed build's errors already.
    const detail = Array.isArray(error?.errors)
      ? 'see the errors above'
      : (error?.message ?? error);
    process.stderr.write(`vpc-guard: the build failed (${detail}); nothing was run\n`);
    return false;
  }
}

async function run() {
  const info = readBuildInfo();
  if (info === undefined || !(await isFresh(info))) {
    const built =
      info === undefined
        ? await rebuild('the CLI is not built yet', 'building')
        : await rebuild('sources changed since the last build', 'rebuilding');
    if (!built) return INTERNAL_ERROR;
  }
  if (process.env.VPC_GUARD_DEBUG === '1') process.setSourceMapsEnabled(true);
  const { main } = await import(ENTRY.href);
  return main(process.argv.slice(2));
}

try {
  // exitCode rather than process.exit(): a report piped to another program is flushed first.
  process.exitCode = await run();
} catch (error) {
  // Only reached when the build cannot be loaded at all (main's own errors become exit codes there).
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`vpc-guard: internal error: ${message}\n`);
  if (process.env.VPC_GUARD_DEBUG === '1' && error instanceof Error) {
    process.stderr.write(`${error.stack}\n`);
  }
  process.exitCode = INTERNAL_ERROR;
}
