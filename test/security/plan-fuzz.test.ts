import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputValidationError } from '../../shared/src/errors';
import { loadGuardPolicy } from '../../shared/src/policy/load';
import type { GuardPolicy } from '../../shared/src/policy/schema';
import { parseRemediationPlan } from '../../shared/src/remediation/plan-file';
import type { RemediationPlan } from '../../shared/src/remediation/plan-model';
import { loadNetworkSnapshots } from '../../shared/src/snapshot/file';
import type { NetworkSnapshotInput } from '../../shared/src/snapshot/schema';
import type { SimulatedCall } from '../support/simulated-ec2';
import { Scenario, editPolicy } from '../scenarios/harness';
import { propertyRuns } from '../support/property-runs';

/**
 * Random mutations of a real saved plan, fed to the writer against the simulated demo account: each
 * is refused as a file with the typed error or applied, never an untyped error, and never a write
 * that the policy does not plan now (every write is one the unmutated plan makes too).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = readonly (string | number)[];

const RUNS = propertyRuns({ quick: 15, deep: 40 });

function pathsOf(value: Json, prefix: Path = []): Path[] {
  const here = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value))
    return [...here, ...value.flatMap((item, index) => pathsOf(item, [...prefix, index]))];
  if (value !== null && typeof value === 'object')
    return [
      ...here,
      ...Object.entries(value).flatMap(([k, item]) => pathsOf(item, [...prefix, k])),
    ];
  return here;
}

function holderOf(
  root: Json,
  path: Path,
): { holder: Record<string | number, Json>; key: string | number } | undefined {
  let node: Json = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, Json>)[key] ?? null;
  }
  return node !== null && typeof node === 'object'
    ? { holder: node as Record<string | number, Json>, key: path[path.length - 1]! }
    : undefined;
}

const OPS = ['delete', 'replace', 'swap-string', 'plan-it', 'apply-it', 'duplicate'] as const;
interface Mutation {
  readonly target: number;
  readonly other: number;
  readonly op: (typeof OPS)[number];
  readonly value: Json;
}

const mutationsArbitrary = fc.array(
  fc.record({
    target: fc.nat(),
    other: fc.nat(),
    op: fc.constantFrom(...OPS),
    value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  }),
  { minLength: 1, maxLength: 4 },
);

/** Applies the mutations to a copy: structural edits, and the edits a hand would make to a plan. */
function mutate(plan: Json, mutations: readonly Mutation[]): Json {
  const copy = structuredClone(plan);
  for (const mutation of mutations) {
    const paths = pathsOf(copy);
    // Mostly an action's parameters: what the writer would send to EC2.
    const params = paths.filter((p) => p.includes('params') && p.length > 5);
    const pool = mutation.other % 4 !== 0 && params.length > 0 ? params : paths;
    const path = pool[mutation.target % pool.length]!;
    const found = holderOf(copy, path);
    if (!found) continue;
    const { holder, key } = found;
    switch (mutation.op) {
      case 'delete':
        if (Array.isArray(holder)) holder.splice(Number(key), 1);
        else delete holder[key];
        break;
      case 'replace':
        holder[key] = structuredClone(mutation.value);
        break;
      case 'swap-string': {
        // Another string of the same plan: an id, a CIDR, a service or a policy in the wrong place.
        const strings = paths
          .map((p) => holderOf(copy, p))
          .map((h) => (h ? h.holder[h.key] : null))
          .filter((v): v is string => typeof v === 'string');
        if (strings.length > 0) holder[key] = strings[mutation.other % strings.length]!;
        break;
      }
      case 'plan-it':
        if (typeof holder === 'object' && !Array.isArray(holder) && 'status' in holder) {
          holder['status'] = 'planned';
          delete holder['blockedReason'];
        }
        break;
      case 'apply-it':
        if (!Array.isArray(holder) && 'execution' in holder) holder['execution'] = 'apply';
        break;
      case 'duplicate':
        if (Array.isArray(holder)) holder.push(structuredClone(holder[Number(key)] ?? null));
        break;
    }
  }
  return copy;
}

/** A write as a comparable text: the simulator's generated group ids and DryRun left out. */
function signature(call: SimulatedCall): string {
  const input: Record<string, unknown> = { ...call.input };
  for (const key of ['DryRun', 'GroupId', 'SecurityGroupIds']) delete input[key];
  return `${call.operation} ${JSON.stringify(input)}`;
}

describe('fuzz: saved plans given to apply', () => {
  let snapshots: NetworkSnapshotInput[];
  let policy: GuardPolicy;
  let saved: Json;
  let allowed: Set<string>;

  beforeAll(async () => {
    const examples = new URL('../../examples/', import.meta.url);
    snapshots = await loadNetworkSnapshots(fileURLToPath(new URL('demo-account.json', examples)));
    policy = editPolicy(
      await loadGuardPolicy(fileURLToPath(new URL('policy.yaml', examples))),
      (draft) => {
        draft.profiles['regulated']!.remediation.maxChangesPerRun = 100;
        draft.profiles['regulated']!.remediation.actions = [
          'remove-nat',
          'remove-internet-route',
          'create-endpoint',
          'enable-private-dns',
          'extend-endpoint-coverage',
          'replace-endpoint-policy',
        ];
      },
    );
    // What the policy plans now, and every write it makes when applied as it is.
    const baseline = new Scenario(snapshots, policy);
    const { plan } = await baseline.plan();
    saved = JSON.parse(JSON.stringify(plan)) as Json;
    await baseline.apply(plan);
    allowed = new Set(baseline.account.writes().map(signature));
    expect(allowed.size).toBeGreaterThan(0);
  });

  it(`refuses or narrows ${RUNS} mutations of a saved plan, never writing what the policy does not plan`, async () => {
    // Prepare
    const outcomes = { rejected: 0, applied: 0 };
    const foreign: string[] = [];

    // Act
    await fc.assert(
      fc.asyncProperty(mutationsArbitrary, async (mutations) => {
        const data = mutate(saved, mutations);
        let plan: RemediationPlan;
        try {
          plan = parseRemediationPlan(data, 'plan.json');
        } catch (error) {
          if (!(error instanceof InputValidationError)) throw error;
          expect(error.problems.length).toBeGreaterThan(0);
          outcomes.rejected += 1;
          return;
        }
        const scenario = new Scenario(snapshots, policy);
        await scenario.apply(plan);
        outcomes.applied += 1;
        foreign.push(
          ...scenario.account
            .writes()
            .map(signature)
            .filter((s) => !allowed.has(s)),
        );
      }),
      { numRuns: RUNS },
    );

    // Assess
    expect(outcomes.rejected + outcomes.applied).toBe(RUNS);
    expect(outcomes.applied).toBeGreaterThan(0);
    expect(foreign).toEqual([]);
  });
});
