import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { InputValidationError, parseOrThrow } from '@vpc-guard/shared';
import fc from 'fast-check';
import type { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiEventHandler } from '../../functions/api-event/create-handler';
import { vpcReferences } from '../../functions/api-event/resolve';
import { ApiEventSchema } from '../../functions/api-event/schema';
import { createConfigRuleHandler } from '../../functions/config-rule/create-handler';
import { ConfigRuleEventSchema } from '../../functions/config-rule/schema';
import { PipelineError } from '../../functions/runtime/pipeline-report';
import { SlackWebhook } from '../../functions/runtime/slack-webhook';
import { createSlackNotifierHandler } from '../../functions/slack-notifier/create-handler';
import { SlackNotifierEventSchema } from '../../functions/slack-notifier/schema';
import { createSweepHandler } from '../../functions/sweep/create-handler';
import { SweepEventSchema } from '../../functions/sweep/schema';
import {
  FunctionHarness,
  asRaw,
  captureOutput,
  loadEvent,
  mocks,
  resetMocks,
  type CapturedOutput,
  type RawHandler,
} from './support/harness';
import { propertyRuns } from '../support/property-runs';

/**
 * Random mutations of every event fixture: each is rejected with the typed InputValidationError or
 * handled, never an unhandled exception, never an EC2 write. Most go through the handler's parse
 * step only (1,000 per fixture); a sample runs the whole handler against the simulated account with
 * an auto-remediating policy and the kill switch on.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = readonly (string | number)[];

/** How a fixture's JSON-in-a-string fields are opened for mutation, and closed again. */
interface Codec {
  readonly decode: (event: Json) => Json;
  readonly encode: (event: Json) => Json;
}

const asObject = (value: Json): { [key: string]: Json } | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;

/** Strings that hold JSON: decoded to mutate inside them, re-encoded when still objects. */
function fieldCodec(
  fieldsOf: (event: { [key: string]: Json }) => { [key: string]: Json }[],
  keys: string[],
): Codec {
  const apply = (event: Json, transform: (value: Json) => Json) => {
    const root = asObject(event);
    if (root === undefined) return event;
    for (const holder of fieldsOf(root)) {
      for (const key of keys) if (key in holder) holder[key] = transform(holder[key] ?? null);
    }
    return event;
  };
  return {
    decode: (event) =>
      apply(event, (value) => (typeof value === 'string' ? (JSON.parse(value) as Json) : value)),
    // A mutation may have made it a number or a string: those stay as they are, to test the schema.
    encode: (event) =>
      apply(event, (value) =>
        value !== null && typeof value === 'object' ? JSON.stringify(value) : value,
      ),
  };
}

const NO_CODEC: Codec = { decode: (event) => event, encode: (event) => event };
const CONFIG_CODEC = fieldCodec((event) => [event], ['invokingEvent', 'ruleParameters']);
const SNS_CODEC = fieldCodec(
  (event) =>
    (Array.isArray(event['Records']) ? event['Records'] : [])
      .map((record) => asObject(asObject(record)?.['Sns'] ?? null))
      .filter((sns): sns is { [key: string]: Json } => sns !== undefined),
  ['Message'],
);

function pathsOf(value: Json, prefix: Path = []): Path[] {
  const here = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value))
    return [...here, ...value.flatMap((item, index) => pathsOf(item, [...prefix, index]))];
  const object = asObject(value);
  if (object)
    return [
      ...here,
      ...Object.entries(object).flatMap(([key, item]) => pathsOf(item, [...prefix, key])),
    ];
  return here;
}

function parentOf(root: Json, path: Path): { parent: Json; key: string | number } | undefined {
  let node: Json = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, Json>)[key] ?? null;
  }
  return node !== null && typeof node === 'object'
    ? { parent: node, key: path[path.length - 1]! }
    : undefined;
}

const OPS = ['delete', 'replace', 'retype', 'truncate', 'add-key', 'corrupt-json'] as const;
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

const RETYPED: readonly Json[] = ['', null, 0, -1, true, [], {}, 'x'.repeat(2000), '__proto__'];

function mutate(
  decoded: Json,
  paths: readonly Path[],
  codec: Codec,
  mutations: readonly Mutation[],
): Json {
  const event = structuredClone(decoded);
  let corrupt: Mutation | undefined;
  for (const mutation of mutations) {
    if (mutation.op === 'corrupt-json') {
      corrupt = mutation;
      continue;
    }
    const path = paths[mutation.target % paths.length]!;
    const found = parentOf(event, path);
    if (!found) continue;
    const holder = found.parent as Record<string | number, Json>;
    const current = holder[found.key] ?? null;
    switch (mutation.op) {
      case 'delete':
        if (Array.isArray(holder)) holder.splice(Number(found.key), 1);
        else delete holder[found.key];
        break;
      case 'replace':
        // A copy: the same generated value may be inserted twice, and must never contain itself.
        holder[found.key] = structuredClone(mutation.value);
        break;
      case 'retype':
        // A copy too: a later mutation may write into the inserted [] or {}, and RETYPED must stay
        // as it is (an [] given itself as an element made every later run recurse forever).
        holder[found.key] = structuredClone(RETYPED[mutation.cut % RETYPED.length]!);
        break;
      case 'truncate':
        if (typeof current === 'string')
          holder[found.key] = current.slice(0, mutation.cut % (current.length + 1));
        else if (Array.isArray(current))
          holder[found.key] = current.slice(0, mutation.cut % (current.length + 1));
        break;
      case 'add-key': {
        const object = asObject(current);
        if (object) object[`unexpected${mutation.cut}`] = structuredClone(mutation.value);
        break;
      }
    }
  }
  const encoded = codec.encode(event);
  if (corrupt) {
    // Break one of the JSON strings itself (a cut-off invokingEvent or SNS message).
    const strings = pathsOf(encoded).filter((path) => {
      const found = parentOf(encoded, path);
      const value = found ? (found.parent as Record<string | number, Json>)[found.key] : undefined;
      return typeof value === 'string' && value.startsWith('{');
    });
    const path = strings[corrupt.target % Math.max(strings.length, 1)];
    const found = path ? parentOf(encoded, path) : undefined;
    if (found) {
      const holder = found.parent as Record<string | number, string>;
      const text = holder[found.key]!;
      holder[found.key] = text.slice(0, corrupt.cut % text.length);
    }
  }
  return encoded;
}

interface FuzzCase {
  readonly fixture: string;
  readonly codec: Codec;
  /** The handler's parse step, plus what the function derives from the event without AWS. */
  readonly parse: (event: unknown) => void;
  readonly handler: 'config-rule' | 'api-event' | 'sweep' | 'slack-notifier';
}

const parse = (schema: z.ZodType, source: string) => (event: unknown) => {
  parseOrThrow(schema, event, source);
};

const parseApiEvent = (event: unknown) => {
  const parsed = parseOrThrow(ApiEventSchema, event, 'EventBridge event');
  if (parsed['detail-type'] === 'AWS API Call via CloudTrail') vpcReferences(parsed.detail);
};

const CONFIG_FIXTURES = [
  'vpc-change',
  'subnet-change',
  'route-table-change',
  'nat-gateway-change',
  'internet-gateway-change',
  'vpc-endpoint-change',
  'oversized-route-table',
  'scheduled',
];
const API_FIXTURES = [
  'create-nat-gateway',
  'delete-nat-gateway',
  'create-vpc-endpoint',
  'modify-vpc-endpoint',
  'delete-vpc-endpoints',
  'create-route',
  'replace-route',
  'delete-route',
  'attach-internet-gateway',
  'associate-route-table',
  'create-subnet',
  'config-compliance-change',
];

const CASES: readonly FuzzCase[] = [
  ...CONFIG_FIXTURES.map((name) => ({
    fixture: `config-rule/${name}.json`,
    codec: CONFIG_CODEC,
    parse: parse(ConfigRuleEventSchema, 'config rule event'),
    handler: 'config-rule' as const,
  })),
  ...API_FIXTURES.map((name) => ({
    fixture: `api-event/${name}.json`,
    codec: NO_CODEC,
    parse: parseApiEvent,
    handler: 'api-event' as const,
  })),
  {
    fixture: 'sweep/scheduled-event.json',
    codec: NO_CODEC,
    parse: parse(SweepEventSchema, 'scheduled event'),
    handler: 'sweep',
  },
  {
    fixture: 'slack-notifier/sns-finding-changes.json',
    codec: SNS_CODEC,
    parse: parse(SlackNotifierEventSchema, 'SNS event'),
    handler: 'slack-notifier',
  },
];

/** Mutations per fixture through the parse step, and through the whole handler. */
const PARSE_RUNS = propertyRuns({ quick: 300, deep: 1_000 });
const HANDLER_RUNS = propertyRuns({ quick: 12, deep: 25 });

function decodedFixture(fuzzCase: FuzzCase) {
  const decoded = fuzzCase.codec.decode(loadEvent(fuzzCase.fixture) as Json);
  return { decoded, paths: pathsOf(decoded) };
}

const mutationsArbitrary = fc.array(mutationArbitrary, { minLength: 1, maxLength: 3 });

describe('fuzz: the parse step', () => {
  it.each(CASES)(
    `rejects with the typed error or accepts ${PARSE_RUNS} mutations of $fixture`,
    (fuzzCase) => {
      // Prepare
      const { decoded, paths } = decodedFixture(fuzzCase);
      let rejected = 0;
      let accepted = 0;

      // Act
      fc.assert(
        fc.property(mutationsArbitrary, (mutations) => {
          const event = mutate(decoded, paths, fuzzCase.codec, mutations);
          try {
            fuzzCase.parse(event);
            accepted += 1;
          } catch (error) {
            if (!(error instanceof InputValidationError)) throw error;
            // The message names where the problem is, and the source.
            expect(error.problems.length).toBeGreaterThan(0);
            rejected += 1;
          }
        }),
        { numRuns: PARSE_RUNS },
      );

      // Assess
      expect(rejected + accepted).toBe(PARSE_RUNS);
      expect(rejected).toBeGreaterThan(0);
      // The unmutated fixture is valid, so mutations that touch nothing required are accepted.
      expect(() => fuzzCase.parse(fuzzCase.codec.encode(structuredClone(decoded)))).not.toThrow();
    },
  );
});

describe('fuzz: the whole handler', () => {
  let output: CapturedOutput;
  beforeAll(() => {
    output = captureOutput();
  });
  afterAll(() => {
    output.restore();
    resetMocks();
  });

  function handlerFor(fuzzCase: FuzzCase, harness: FunctionHarness): RawHandler {
    switch (fuzzCase.handler) {
      case 'config-rule':
        return asRaw(createConfigRuleHandler(harness.deps));
      case 'api-event':
        return asRaw(createApiEventHandler(harness.deps));
      case 'sweep':
        return asRaw(createSweepHandler(harness.deps));
      case 'slack-notifier': {
        mocks.secrets
          .on(GetSecretValueCommand)
          .resolves({ SecretString: 'https://hooks.slack.com/services/T0/B0/fuzz' });
        return asRaw(
          createSlackNotifierHandler(
            new SlackWebhook({
              secrets: new SecretsManagerClient({ region: 'us-east-1' }),
              secretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:slack-AbCdEf',
              fetch: () => Promise.resolve(new Response('ok')),
            }),
          ),
        );
      }
    }
  }

  it.each(CASES)('never throws untyped, never writes to EC2: $fixture', async (fuzzCase) => {
    // Prepare: remediation would act, but the kill switch is on.
    resetMocks();
    const harness = new FunctionHarness({
      functionName: fuzzCase.handler,
      policy: 'policy-auto.yaml',
      killSwitch: 'on',
    });
    const handler = handlerFor(fuzzCase, harness);
    const { decoded, paths } = decodedFixture(fuzzCase);
    const outcomes = { handled: 0, rejected: 0, failedInPart: 0 };

    // Act
    await fc.assert(
      fc.asyncProperty(mutationsArbitrary, async (mutations) => {
        const event = mutate(decoded, paths, fuzzCase.codec, mutations);
        const writesBefore = harness.awsWrites();
        const callsBefore = harness.account.calls.length;
        try {
          await handler(event, harness.context());
          outcomes.handled += 1;
        } catch (error) {
          if (error instanceof InputValidationError) {
            // Rejected at the edge: not one AWS call, let alone a write.
            expect(harness.awsWrites()).toBe(writesBefore);
            expect(harness.account.calls.length).toBe(callsBefore);
            outcomes.rejected += 1;
          } else if (error instanceof PipelineError) {
            outcomes.failedInPart += 1;
          } else {
            throw error;
          }
        }
        expect(harness.ec2Writes()).toEqual([]);
      }),
      { numRuns: HANDLER_RUNS },
    );

    // Assess
    expect(outcomes.handled + outcomes.rejected + outcomes.failedInPart).toBe(HANDLER_RUNS);
    expect(harness.ec2Writes()).toEqual([]);
  });
});
