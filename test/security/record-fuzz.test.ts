import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENDPOINT_MUTATION_BUCKET, RateLimiterRegistry } from '../../shared/src/aws/rate-limiter';
import { VpcGuardError } from '../../shared/src/errors';
import {
  parseRemediationRecord,
  type RemediationRecord,
} from '../../shared/src/remediation/record';
import {
  canonicalJson,
  signRecord,
  verifyRecordIntegrity,
} from '../../shared/src/remediation/record-integrity';
import { applyRollback, planRollback } from '../../shared/src/remediation/rollback';
import type { NetworkSnapshot } from '../../shared/src/snapshot/schema';
import { TEST_RECORD_SIGNER, TEST_RECORD_TRUST } from '../support/record-key';
import { SimulatedAccount } from '../support/simulated-ec2';
import { DEMO_NOW, Scenario, resourceIdsOf } from '../scenarios/harness';
import { propertyRuns } from '../support/property-runs';

/*
 * Random mutations of a real, signed apply record fed to rollback against the simulated account.
 * Not signed again (anyone with write access to the records directory): refused with a typed error,
 * never an AWS call. Signed again (the worst case: a record the key vouches for, but odd): never an
 * untyped error, and every write stays inside a VPC the record names.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = readonly (string | number)[];

function pathsOf(value: Json, prefix: Path = []): Path[] {
  const here = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value))
    return [...here, ...value.flatMap((item, index) => pathsOf(item, [...prefix, index]))];
  if (value !== null && typeof value === 'object')
    return [
      ...here,
      ...Object.entries(value).flatMap(([key, item]) => pathsOf(item, [...prefix, key])),
    ];
  return here;
}

const OPS = ['delete', 'replace', 'retype', 'truncate', 'add-key', 'swap-id'] as const;
interface Mutation {
  readonly target: number;
  readonly op: (typeof OPS)[number];
  readonly value: Json;
  readonly cut: number;
}

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.record({
  target: fc.nat(),
  op: fc.constantFrom(...OPS),
  value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  cut: fc.nat({ max: 400 }),
});

const RETYPED: readonly Json[] = ['', null, 0, -1, true, [], {}, '__proto__', 'pending', 'ok'];

function mutate(original: Json, ids: readonly string[], mutations: readonly Mutation[]): Json {
  const data = structuredClone(original);
  for (const mutation of mutations) {
    const paths = pathsOf(data);
    if (paths.length === 0) break;
    const path = paths[mutation.target % paths.length]!;
    let holder = data as Record<string | number, Json>;
    for (const key of path.slice(0, -1)) holder = holder[key] as Record<string | number, Json>;
    const key = path[path.length - 1]!;
    const current = holder[key] ?? null;
    switch (mutation.op) {
      case 'delete':
        if (Array.isArray(holder)) holder.splice(Number(key), 1);
        else delete holder[key];
        break;
      case 'replace':
        holder[key] = structuredClone(mutation.value);
        break;
      case 'retype':
        holder[key] = structuredClone(RETYPED[mutation.cut % RETYPED.length]!);
        break;
      case 'truncate':
        if (typeof current === 'string' || Array.isArray(current))
          holder[key] = current.slice(0, mutation.cut % (current.length + 1));
        break;
      case 'add-key':
        if (current !== null && typeof current === 'object' && !Array.isArray(current))
          current[`unexpected${mutation.cut}`] = structuredClone(mutation.value);
        break;
      case 'swap-id':
        // The forger's favourite: another real resource id of the estate, in any VPC.
        if (typeof current === 'string') holder[key] = ids[mutation.cut % ids.length]!;
        break;
    }
  }
  return data;
}

let signed: Json;
let after: NetworkSnapshot[];
let vpcIds: Map<string, Set<string>>;
let estateIds: string[];

beforeAll(async () => {
  const scenario = await Scenario.demo();
  const run = await scenario.run();
  signed = (await signRecord(run.record, TEST_RECORD_SIGNER)) as unknown as Json;
  after = scenario
    .targets()
    .map(({ accountId, region }) => scenario.account.toSnapshot(accountId, region));
  vpcIds = new Map(
    after
      .flatMap((s) => s.vpcs)
      .map((v) => [v.vpcId, resourceIdsOf({ snapshots: after, evaluations: [] }, v.vpcId)]),
  );
  estateIds = [...vpcIds.values()].flatMap((ids) => [...ids]);
}, 60_000);

function virtualLimiter(): RateLimiterRegistry {
  let now = 0;
  return new RateLimiterRegistry(ENDPOINT_MUTATION_BUCKET, {
    clock: () => now,
    sleep: (ms) => {
      now += ms;
      return Promise.resolve();
    },
  });
}

/** The record data without `integrity.keyId` (informative: verification uses the operator's key). */
function withoutKeyId(data: Json): Json {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const integrity = data['integrity'];
  if (integrity === null || typeof integrity !== 'object' || Array.isArray(integrity)) return data;
  return {
    ...data,
    integrity: Object.fromEntries(Object.entries(integrity).filter(([key]) => key !== 'keyId')),
  };
}

/** Plans and applies the rollback of `data` on a copy of the post-apply estate. */
async function rollBack(record: RemediationRecord) {
  const account = SimulatedAccount.fromSnapshots(after, { clock: () => DEMO_NOW.getTime() });
  const plan = planRollback(record, { recreateNat: true });
  await applyRollback(plan, {
    ec2For: (accountId, region) => account.client({ accountId, region, retryBackoff: 'none' }),
    identity: 'fuzz',
    clock: () => DEMO_NOW,
    sleep: () => Promise.resolve(account.advance()),
    waitAttempts: 3,
    // EC2's endpoint bucket on a virtual clock: waiting for a token costs no real time.
    endpointLimiter: virtualLimiter(),
  });
  return account;
}

/** Ids of VPC resources a call's input names (addresses and services are not per VPC). */
function namedIds(input: unknown): string[] {
  return [
    ...JSON.stringify(input).matchAll(/\b(?:vpc|subnet|rtb|vpce|sg|nat|igw)-[0-9a-f]{8,17}\b/g),
  ].map((m) => m[0]);
}

describe('rollback given a mutated record', () => {
  it('refuses every mutated record that was not signed again, with a typed error and no AWS call', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArbitrary, { minLength: 1, maxLength: 4 }), async (ms) => {
        // Prepare
        const data = mutate(signed, estateIds, ms);
        // The integrity field's keyId only says which key signed: it is not covered by the MAC.
        const unchanged = canonicalJson(withoutKeyId(data)) === canonicalJson(withoutKeyId(signed));

        // Act
        let account: SimulatedAccount | undefined;
        let error: unknown;
        try {
          await verifyRecordIntegrity(data, TEST_RECORD_TRUST, 'record.json');
          // Accepted: only the genuine record may get here (rolled back in the other property).
          if (!unchanged) account = await rollBack(parseRemediationRecord(data, 'record.json'));
        } catch (caught) {
          error = caught;
        }

        // Assess
        if (unchanged) return;
        expect(error).toBeInstanceOf(VpcGuardError);
        expect(error).not.toBeInstanceOf(TypeError);
        expect(account).toBeUndefined();
      }),
      {
        numRuns: propertyRuns({ quick: 100, deep: 300 }),
        examples: [[[{ target: 86535663, op: 'swap-id', value: {}, cut: 0 }]]],
      },
    );
  }, 120_000);

  it('never fails untyped and never writes outside a VPC the record names, even when signed again', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArbitrary, { minLength: 1, maxLength: 3 }), async (ms) => {
        // Prepare
        const data = await signRecord(
          mutate(signed, estateIds, ms) as object,
          TEST_RECORD_SIGNER,
        ).catch(() => undefined);
        if (!data) return;

        // Act
        let account: SimulatedAccount | undefined;
        let record: RemediationRecord | undefined;
        try {
          await verifyRecordIntegrity(data, TEST_RECORD_TRUST, 'record.json');
          record = parseRemediationRecord(data, 'record.json');
          account = await rollBack(record);
        } catch (error) {
          // Assess: refused, typed.
          expect(error).toBeInstanceOf(VpcGuardError);
          return;
        }

        // Assess: each write names resources of a single VPC, one the record's actions name
        // (resources as they were after the apply, or as the rollback left them: a recreated NAT).
        const named = new Set(record.actions.map((a) => a.vpcId));
        const final = after.map((s) => account.toSnapshot(s.accountId, s.region));
        const owners = [...vpcIds].map(([vpcId, owned]): [string, Set<string>] => [
          vpcId,
          new Set([...owned, ...resourceIdsOf({ snapshots: final, evaluations: [] }, vpcId)]),
        ]);
        for (const call of account.writes()) {
          const ids = namedIds(call.input);
          const home = owners.filter(([, owned]) => ids.every((id) => owned.has(id)));
          const inside = ids.length === 0 || home.some(([vpcId]) => named.has(vpcId));
          expect(inside, `${call.operation} ${JSON.stringify(call.input)}`).toBe(true);
        }
      }),
      { numRuns: propertyRuns({ quick: 15, deep: 40 }) },
    );
  }, 120_000);
});
