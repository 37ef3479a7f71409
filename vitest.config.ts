import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * Folders whose test files share their worker's module cache (`isolate: false`): a worker imports
 * zod, the SDK, aws-cdk-lib and the core once instead of once per file (imports are most of a
 * file's cost). Files run one after another in a worker, so a file here must leave nothing
 * process-wide behind. Environment variables and globals stubbed with `vi` are restored after each
 * test (`unstubEnvs`, `unstubGlobals`); what `vi` cannot restore is a client class mocked with
 * aws-sdk-client-mock (`mockClient(EC2Client)` patches the class for the whole process, and a later
 * file's real client, dynalite's or the simulated account's, would meet the stub).
 */
const SHARED_FOLDERS = [
  'test/unit/',
  'test/security/',
  'test/scenarios/',
  'test/property/',
  'test/cli/',
  'test/infra/',
];

/**
 * Files and folders under {@link SHARED_FOLDERS} that still get a process of their own: they mock
 * client classes, or run the functions' handlers (their configuration and clients are cold-start
 * module state). Every other test file (test/functions/) is isolated too.
 */
const ISOLATED = [
  'test/unit/notify/',
  'test/unit/aws/',
  'test/unit/findings/store.test.ts',
  'test/security/events.test.ts',
  'test/security/function-records.test.ts',
  'test/security/inputs.test.ts',
];

/** A class-level client mock, or the function harness, whose mocks are class-level. */
const CLASS_MOCK = /mockClient\(\s*[A-Z]|support\/harness'/;

/** The test files that share a worker: listed once here, so the two projects never overlap. */
function sharedTestFiles(): string[] {
  const files = readdirSync('test', { recursive: true, encoding: 'utf8' })
    .map((file) => `test/${file.split('\\').join('/')}`)
    .filter((file) => file.endsWith('.test.ts') && !file.startsWith('test/bench/'))
    .filter((file) => SHARED_FOLDERS.some((folder) => file.startsWith(folder)))
    .filter((file) => !ISOLATED.some((isolated) => file.startsWith(isolated)));
  // A class mock in a shared file would break later files at random: refuse it here, by name.
  const offenders = files.filter((file) => CLASS_MOCK.test(readFileSync(file, 'utf8')));
  if (offenders.length > 0) {
    throw new Error(
      `vitest.config.ts: ${offenders.join(', ')} mock an SDK client class: add them to ISOLATED`,
    );
  }
  return files.sort();
}

const SHARED = sharedTestFiles();
const EXCLUDE = ['**/node_modules/**', 'test/bench/**'];

export const config = defineConfig({
  test: {
    environment: 'node',
    testTimeout: 30_000,
    setupFiles: ['test/support/fast-check-setup.ts'],
    unstubEnvs: true,
    unstubGlobals: true,
    // Processes, as before: several files spawn child processes or capture process.stdout.
    pool: 'forks',
    // Both cores (vitest's default leaves one free): several files wait on child processes.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'shared', include: SHARED, exclude: EXCLUDE, isolate: false },
      },
      {
        extends: true,
        test: {
          name: 'isolated',
          include: ['test/**/*.test.ts'],
          exclude: [...EXCLUDE, ...SHARED],
        },
      },
    ],
  },
});

export default config;
