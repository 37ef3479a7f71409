import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InputValidationError,
  evaluate,
  parseGuardPolicy,
  parseNetworkSnapshots,
  resolveProfile,
} from '@vpc-guard/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { withProfileOverride } from '../../functions/config-rule/rule';
import { main } from '../../functions/cli/main';
import { REPO_ROOT, recordingContext } from '../cli/support';

/**
 * Tag values, rule parameters and profile names are data, never object keys: a value that happens to
 * be the name of an Object.prototype member is an unknown profile like any other.
 */

const FIXTURES = `${REPO_ROOT}test/fixtures/cli`;
const POLICY_PATH = `${FIXTURES}/policy.yaml`;
const POLICY_TEXT = readFileSync(POLICY_PATH, 'utf8');
const PROTOTYPE_NAMES = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'];

let scratch: string | undefined;
afterEach(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

/** The CLI's non-compliant snapshot with the first VPC's profile tag set to `value`. */
function snapshotTagged(value: string): Record<string, unknown> {
  const data = JSON.parse(readFileSync(`${FIXTURES}/non-compliant.json`, 'utf8')) as {
    vpcs: { tags: Record<string, string> }[];
  };
  data.vpcs[0]!.tags['vpc-guard:profile'] = value;
  return data;
}

function writeScratch(name: string, text: string): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'vpc-guard-tags-'));
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

describe('a profile tag naming an Object.prototype member', () => {
  it.each(PROTOTYPE_NAMES)(
    'scan reports the VPC tagged %s as an unknown profile instead of crashing',
    async (value) => {
      // Prepare
      const snapshot = writeScratch('snapshot.json', JSON.stringify(snapshotTagged(value)));
      const context = recordingContext();

      // Act
      const code = await main(
        ['scan', '--snapshot', snapshot, '--policy', POLICY_PATH, '--format', 'json'],
        context,
      );

      // Assess
      expect(context.stderr.join('')).toBe('');
      expect(code).toBe(1);
      const report = JSON.parse(context.stdout.join('')) as {
        evaluations: {
          vpcId: string;
          profile: string;
          profileSource: string;
          profileProblem?: string;
        }[];
      };
      expect(report.evaluations).toHaveLength(2);
      expect(report.evaluations[0]).toMatchObject({
        vpcId: 'vpc-0a0000000000000a1',
        profile: 'regulated',
        profileSource: 'unknown-tag',
        profileProblem: expect.stringContaining(JSON.stringify(value).slice(1, -1)),
      });
    },
  );

  it.each(PROTOTYPE_NAMES)('resolves a VPC tagged %s as uncertain, never as a profile', (value) => {
    // Prepare
    const policy = parseGuardPolicy(POLICY_TEXT, 'policy.yaml');
    const [snapshot] = parseNetworkSnapshots(snapshotTagged(value), 'snapshot.json');
    const vpc = snapshot!.vpcs[0]!;

    // Act
    const resolved = resolveProfile(policy, snapshot!.accountId, vpc);
    const [evaluation] = evaluate([snapshot!], policy, { now: new Date('2026-11-20T10:00:00Z') });

    // Assess
    expect(resolved.source).toBe('unknown-tag');
    expect(resolved.name).toBe('regulated');
    expect(resolved.problem).toBeDefined();
    expect(evaluation).toMatchObject({ profile: 'regulated', profileSource: 'unknown-tag' });
  });
});

describe('a policy naming a profile after an Object.prototype member', () => {
  it.each(['toString', 'constructor', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'])(
    'is rejected naming the field when a profile is called %s',
    (name) => {
      // Prepare
      const text = POLICY_TEXT.replace('  isolated:', `  ${name}:`);

      // Act
      const act = () => parseGuardPolicy(text, 'policy.yaml');

      // Assess
      expect(act).toThrow(InputValidationError);
      expect(act).toThrow(`profiles.${name}`);
    },
  );
});

describe("the Config rule's profile parameter", () => {
  it.each(['toString', 'constructor', 'hasOwnProperty', 'valueOf'])(
    'rejects %s as a profile the policy does not define',
    (profile) => {
      // Prepare
      const policy = parseGuardPolicy(POLICY_TEXT, 'policy.yaml');

      // Act
      const act = () => withProfileOverride(policy, profile);

      // Assess
      expect(act).toThrow(InputValidationError);
      expect(act).toThrow(/profile: expected one of the policy's profiles \(regulated, isolated\)/);
    },
  );
});
