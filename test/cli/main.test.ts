import { describe, expect, it } from 'vitest';
import { main } from '../../functions/cli/main';
import { recordingContext } from './support';

const FIXTURES = 'test/fixtures/cli';
const SCAN = [
  'scan',
  '--snapshot',
  `${FIXTURES}/non-compliant.json`,
  '--policy',
  `${FIXTURES}/policy.yaml`,
];
const ESC = String.fromCharCode(27);

// The subprocess tests (scan.test.ts) cover the launcher; these run main() in-process for what a
// child process cannot easily show: a terminal, and an internal failure.
describe('main', () => {
  it.each([
    ['a terminal', true, { terminal: true }, []],
    ['a terminal with NO_COLOR set', false, { terminal: true, env: { NO_COLOR: '1' } }, []],
    ['a terminal with --no-color', false, { terminal: true }, ['--no-color']],
    ['a pipe', false, { terminal: false }, []],
  ])('on %s, colours the table: %s', async (_case, coloured, overrides, flags) => {
    // Prepare
    const context = recordingContext(overrides);

    // Act
    const code = await main([...SCAN, ...flags], context);

    // Assess
    expect(code).toBe(1);
    expect(context.stdout.join('').includes(ESC)).toBe(coloured);
  });

  it('exits 3 with the message and a hint, without a stack, on an unexpected error', async () => {
    // Prepare
    const context = recordingContext({
      now: () => {
        throw new Error('the clock is broken');
      },
    });

    // Act
    const code = await main(SCAN, context);

    // Assess
    expect(code).toBe(3);
    expect(context.stdout).toEqual([]);
    expect(context.stderr.join('')).toBe(
      'vpc-guard: internal error: the clock is broken\n(set VPC_GUARD_DEBUG=1 for the stack trace)\n',
    );
  });

  it('adds the stack trace to an unexpected error when VPC_GUARD_DEBUG=1', async () => {
    // Prepare
    const context = recordingContext({
      env: { VPC_GUARD_DEBUG: '1' },
      now: () => {
        throw new Error('the clock is broken');
      },
    });

    // Act
    const code = await main(SCAN, context);

    // Assess
    expect(code).toBe(3);
    expect(context.stderr.join('')).toMatch(
      /^vpc-guard: internal error: the clock is broken\nError: the clock is broken\n\s+at /,
    );
  });
});
