import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUNCTION_ENTRIES } from '@vpc-guard/functions/runtime/bundling';
import type { FunctionName } from '@vpc-guard/functions/runtime/function-names';

/** The repository root: the npm workspace root, where package-lock.json lives. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The infra workspace: cdk.json, the example deployment configurations. */
export const INFRA_DIR = resolve(REPO_ROOT, 'infra');

/** The lock file NodejsFunction hashes and installs from; its directory is the project root. */
export const LOCK_FILE = resolve(REPO_ROOT, 'package-lock.json');

/** The handler module of a function (functions/runtime/bundling.ts), exporting `handler`. */
export function functionEntry(name: FunctionName): string {
  return resolve(REPO_ROOT, FUNCTION_ENTRIES[name]);
}

/**
 * The sweep state machine's task handlers. Not in FUNCTION_ENTRIES: they run only as Step Functions
 * tasks (no `vpc-guard invoke`), with the sweep function's runtime configuration.
 */
export const SWEEP_TASK_ENTRIES = {
  listTargets: 'functions/sweep/list-targets-handler.ts',
  child: 'functions/sweep/child-handler.ts',
  summary: 'functions/sweep/summary-handler.ts',
} as const;

/** The handler module of a sweep task. */
export function sweepTaskEntry(task: keyof typeof SWEEP_TASK_ENTRIES): string {
  return resolve(REPO_ROOT, SWEEP_TASK_ENTRIES[task]);
}

/**
 * The `context` of infra/cdk.json (the feature flags). The CLI passes it to the app; an App built
 * anywhere else (tests, a direct run) gets it from here, so every synth sees the same flags.
 */
export function loadCdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(resolve(INFRA_DIR, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return { ...(cdkJson.context ?? {}) };
}
