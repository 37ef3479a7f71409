import { readFileSync } from 'node:fs';
import { parseGuardPolicy, parseGuardPolicyJson } from '@vpc-guard/shared';
import { describe, expect, it } from 'vitest';
import { main } from '../../functions/cli/main';
import { REPO_ROOT, recordingContext } from './support';

describe('vpc-guard policy-json', () => {
  it('prints a YAML policy as one line of JSON that the functions read as the same policy', async () => {
    // Prepare
    const context = recordingContext();

    // Act
    const code = await main(['policy-json', 'examples/policy.yaml'], context);

    // Assess
    expect(code).toBe(0);
    const output = context.stdout.join('');
    expect(output.trimEnd().split('\n')).toHaveLength(1);
    expect(parseGuardPolicyJson(output, 'policy.json')).toEqual(
      parseGuardPolicy(readFileSync(`${REPO_ROOT}examples/policy.yaml`, 'utf8')),
    );
    expect(context.stderr).toEqual([]);
  });

  it.each([
    [['policy-json', 'no/such/policy.yaml'], /no\/such\/policy\.yaml: cannot read the policy file/],
    [
      ['policy-json', 'test/fixtures/events/api-event/create-route.json'],
      /create-route\.json: \d+ problems/,
    ],
    [['policy-json'], /missing required argument 'file'/],
  ])('exits 2 on bad input, printing nothing on stdout: %j', async (argv, message) => {
    // Prepare
    const context = recordingContext();

    // Act
    const code = await main(argv, context);

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toMatch(message);
    expect(context.stdout).toEqual([]);
  });
});
