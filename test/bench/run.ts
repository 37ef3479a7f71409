import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { bundlesSuite } from './bundles.bench';
import { cliSuite } from './cli.bench';
import { collectSuite } from './collect.bench';
import { evaluateSuite } from './evaluate.bench';
import { remediationSuite } from './remediation.bench';
import { describeMachine, replaceMarkedSection, type BenchSuite } from './suite';

/**
 * Runs the benchmarks (`npm run bench`), prints each suite's figures as markdown, and with `--write`
 * puts them in docs/PERFORMANCE.md, each suite in its own marked section so suites run alone
 * (`--only evaluate`) leave the others' figures untouched.
 *
 *   npm run bench                     print
 *   npm run bench -- --write          print and update docs/PERFORMANCE.md
 *   npm run bench -- --only evaluate  one suite
 *   npm run bench -- --cpu-prof       write V8 CPU profiles (.cpuprofile) to <tmpdir>/vpc-guard-bench
 *
 * A new benchmark (bundles, ...) is a `<name>.bench.ts` exporting a BenchSuite, added to SUITES
 * below.
 */

const SUITES: readonly BenchSuite[] = [
  evaluateSuite,
  collectSuite,
  remediationSuite,
  bundlesSuite,
  cliSuite,
];

const PERFORMANCE_DOC = new URL('../../docs/PERFORMANCE.md', import.meta.url);

const DOC_HEADER = `# Performance

Figures from the benchmarks in \`test/bench/\` (benchmarks, not tests: no timed assertions in the test
suite). Each measurement runs in a fresh Node process pinned to one core where \`taskset\` exists, so
its peak RSS is its own. Reproduce, and update this page, with:

\`\`\`sh
npm run bench -- --write
\`\`\`

Each section below is rewritten by its benchmark; write prose outside the marked sections.
`;

function section(
  suite: BenchSuite,
  markdown: string,
  targetsMet: boolean,
  measuredOn: string,
  machine: string,
): string {
  return [
    `## ${suite.title}`,
    '',
    `Targets (${targetsMet ? 'met' : '**not met**'}):`,
    '',
    ...suite.targets.map((target) => `- ${target}`),
    '',
    `Measured ${measuredOn} on:`,
    '',
    machine,
    '',
    markdown,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      write: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      'cpu-prof': { type: 'boolean', default: false },
    },
  });
  const only = values.only ?? [];
  const unknown = only.filter((id) => !SUITES.some((suite) => suite.id === id));
  if (unknown.length > 0) {
    throw new Error(
      `--only: unknown suite ${unknown.join(', ')} (expected ${SUITES.map((suite) => suite.id).join(', ')})`,
    );
  }
  const selected = SUITES.filter((suite) => only.length === 0 || only.includes(suite.id));
  const profileDir = join(tmpdir(), 'vpc-guard-bench');
  const nodeFlags = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  if (values['cpu-prof']) console.error(`CPU profiles go to ${profileDir}`);
  const measuredOn = new Date().toISOString().slice(0, 10);
  const machine = describeMachine();

  const sections = new Map<string, string>();
  let allMet = true;
  for (const suite of selected) {
    const report = await suite.run({ nodeFlags, log: (line) => console.error(line) });
    allMet &&= report.targetsMet;
    const text = section(suite, report.markdown, report.targetsMet, measuredOn, machine);
    sections.set(suite.id, text);
    console.log(`${text}\n`);
  }

  if (values.write) {
    let document: string;
    try {
      document = await readFile(PERFORMANCE_DOC, 'utf8');
    } catch {
      document = DOC_HEADER;
    }
    for (const [id, text] of sections) document = replaceMarkedSection(document, id, text);
    // Formatted as `npm run lint` expects (prettier aligns the table columns).
    const path = fileURLToPath(PERFORMANCE_DOC);
    const formatted = await format(document, { ...(await resolveConfig(path)), filepath: path });
    await writeFile(PERFORMANCE_DOC, formatted, 'utf8');
    console.error(`updated docs/PERFORMANCE.md (${[...sections.keys()].join(', ')})`);
  }
  if (!allMet) console.error('some targets were not met');
}

await main();
