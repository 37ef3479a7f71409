import type { FunctionName } from './function-names';

/**
 * How every vpc-guard function is bundled: the one place the CDK construct (GuardFunction) and the
 * bundle benchmark read it from, so the benchmark measures what ships (STACK.md, "Bundling").
 */

/** Entry points, relative to the repository root. */
export const FUNCTION_ENTRIES: Readonly<Record<FunctionName, string>> = {
  'config-rule': 'functions/config-rule/handler.ts',
  'api-event': 'functions/api-event/handler.ts',
  sweep: 'functions/sweep/handler.ts',
  'slack-notifier': 'functions/slack-notifier/handler.ts',
};

/**
 * The esbuild settings, in esbuild's own option names (NodejsFunction's `bundling` props map onto
 * them one to one: `format: OutputFormat.ESM`, `sourceMap: true`, `externalModules: []`).
 */
export const GUARD_FUNCTION_BUNDLING = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  minify: true,
  // Lambda's nodejs24.x runtime. esbuild 0.28 knows node24.
  target: 'node24',
  // Without `module` first the SDK's CommonJS build is picked: +47% size, twice the import time.
  mainFields: ['module', 'main'],
  // Powertools Tracer (aws-xray-sdk-core) calls require() at import; ESM has none without this.
  banner: {
    js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  },
  // The SDK is bundled, not taken from the runtime: imports twice as fast, and the version is pinned.
  external: [] as string[],
  // A linked map with names and positions but not the sources: stack traces can be mapped back to
  // files and lines (offline, or with --enable-source-maps) and the zip stays small.
  sourcemap: true,
  sourcesContent: false,
  // Never `metafile`: NodejsFunction would put it in the zip. Measure from an in-memory build instead.
  metafile: false,
  legalComments: 'none',
  outExtension: { '.js': '.mjs' },
} as const;
