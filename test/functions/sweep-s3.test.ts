import 'aws-sdk-client-mock-vitest/extend';
import {
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSweepListTargetsHandler,
  createSweepSummaryHandler,
} from '../../functions/sweep/create-task-handlers';
import {
  ACCOUNT,
  REGION,
  FunctionHarness,
  asRaw,
  captureOutput,
  resetMocks,
} from './support/harness';

const s3 = mockClient(S3Client);

afterEach(() => {
  resetMocks();
  s3.reset();
});

const BUCKET = 'vpc-guard-sweep-runs';
const MEMBER = '222222222222';
const LOCKED = '333333333333';
const OTHER_REGION = 'eu-west-1';
const RUN = 'sweep-2026-12-03T08-00';
const TARGETS_KEY = `runs/${RUN}/targets.json`;
const MANIFEST_KEY = 'results/map-run-1/manifest.json';

/** A hub sweep over three accounts in two regions, its run files in BUCKET. */
function hubHarness(env: Readonly<Record<string, string | undefined>> = {}): FunctionHarness {
  return new FunctionHarness({
    functionName: 'sweep',
    env: {
      MODE: 'hub',
      MEMBER_ACCOUNTS: `${MEMBER},${ACCOUNT},${LOCKED}`,
      EXTERNAL_ID_PARAMETER: '/vpc-guard/external-id',
      REGIONS: `${OTHER_REGION},${REGION}`,
      SECURITY_HUB: 'off',
      SWEEP_BUCKET: BUCKET,
      ...env,
    },
  });
}

/** Runs `fn` with the logger's and metrics' output muted. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const output = captureOutput();
  try {
    return await fn();
  } finally {
    output.restore();
  }
}

/** An S3 object body as the SDK returns it (only what the functions read of it). */
function body(value: unknown): GetObjectCommandOutput['Body'] {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return { transformToString: () => Promise.resolve(text) } as GetObjectCommandOutput['Body'];
}

/** Serves `objects` (key to content) from BUCKET. */
function serve(objects: Readonly<Record<string, unknown>>): void {
  for (const [key, value] of Object.entries(objects)) {
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: key }).resolves({ Body: body(value) });
  }
}

const target = (accountId: string, region: string) => ({ runId: RUN, accountId, region });
const ok = (accountId: string, region: string, vpcs = 1, findings = 0) => ({
  ...target(accountId, region),
  status: 'ok',
  vpcs,
  findings,
});
const TARGETS = [ACCOUNT, MEMBER, LOCKED].flatMap((a) => [
  target(a, OTHER_REGION),
  target(a, REGION),
]);

describe('sweep run files in S3 (SWEEP_BUCKET)', () => {
  it('writes the targets to runs/<runId>/targets.json and returns a reference to them', async () => {
    // Prepare
    const harness = hubHarness();
    s3.on(PutObjectCommand).resolves({});

    // Act
    const output = await quietly(() =>
      asRaw(createSweepListTargetsHandler(harness.deps))(
        { runId: RUN },
        harness.context('vpc-guard-sweep-list'),
      ),
    );

    // Assess
    expect(output).toEqual({
      runId: RUN,
      accounts: 3,
      count: 6,
      targets: { bucket: BUCKET, key: TARGETS_KEY },
    });
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ Bucket: BUCKET, Key: TARGETS_KEY });
    expect(typeof put?.Body).toBe('string');
    expect(JSON.parse(put?.Body as string)).toEqual(
      [...TARGETS].sort((a, b) =>
        a.accountId === b.accountId
          ? a.region.localeCompare(b.region)
          : a.accountId.localeCompare(b.accountId),
      ),
    );
  });

  it('returns the targets inline without SWEEP_BUCKET, and writes nothing', async () => {
    // Prepare
    const harness = hubHarness({ SWEEP_BUCKET: undefined });

    // Act
    const output = (await quietly(() =>
      asRaw(createSweepListTargetsHandler(harness.deps))(
        { runId: RUN },
        harness.context('vpc-guard-sweep-list'),
      ),
    )) as { targets: unknown[] };

    // Assess
    expect(output.targets).toHaveLength(6);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('refuses a SWEEP_BUCKET that is not a bucket name', () => {
    expect(() => hubHarness({ SWEEP_BUCKET: 'Not_A_Bucket' })).toThrow(
      /SWEEP_BUCKET: expected an S3 bucket name/,
    );
  });

  it("summarizes from the manifest: a failed child's targets are missed with its error", async () => {
    // Prepare: one SUCCEEDED file (a batch and a single target, outputs as JSON strings), one
    // FAILED file (a batch whose Lambda timed out), and no result at all for LOCKED/REGION.
    const harness = hubHarness();
    serve({
      [TARGETS_KEY]: TARGETS,
      [MANIFEST_KEY]: {
        DestinationBucket: BUCKET,
        MapRunArn: 'arn:aws:states:us-east-1:111111111111:mapRun:sweep/map:run-1',
        ResultFiles: {
          SUCCEEDED: [{ Key: 'results/map-run-1/SUCCEEDED_0.json', Size: 900 }],
          FAILED: [{ Key: 'results/map-run-1/FAILED_0.json', Size: 700 }],
          PENDING: [],
        },
      },
      'results/map-run-1/SUCCEEDED_0.json': [
        {
          ExecutionArn: 'arn:aws:states:us-east-1:111111111111:execution:sweep/map:1',
          Status: 'SUCCEEDED',
          Input: JSON.stringify({
            Items: [target(ACCOUNT, OTHER_REGION), target(ACCOUNT, REGION)],
          }),
          Output: JSON.stringify([ok(ACCOUNT, OTHER_REGION, 2, 1), ok(ACCOUNT, REGION, 1, 3)]),
        },
        {
          ExecutionArn: 'arn:aws:states:us-east-1:111111111111:execution:sweep/map:3',
          Status: 'SUCCEEDED',
          Input: JSON.stringify(target(LOCKED, OTHER_REGION)),
          Output: JSON.stringify(ok(LOCKED, OTHER_REGION)),
        },
      ],
      'results/map-run-1/FAILED_0.json': [
        {
          ExecutionArn: 'arn:aws:states:us-east-1:111111111111:execution:sweep/map:2',
          Status: 'FAILED',
          Error: 'Sandbox.Timedout',
          Cause: 'Task timed out after 900.00 seconds',
          Input: JSON.stringify({
            Items: [target(MEMBER, OTHER_REGION), target(MEMBER, REGION)],
            BatchInput: { runId: RUN },
          }),
        },
      ],
    });

    // Act
    const summary = await quietly(() =>
      asRaw(createSweepSummaryHandler(harness.deps))(
        {
          runId: RUN,
          targets: { bucket: BUCKET, key: TARGETS_KEY },
          results: { Bucket: BUCKET, Key: MANIFEST_KEY },
        },
        harness.context('vpc-guard-sweep-summary'),
      ),
    );

    // Assess
    const timedOut =
      'the child execution failed: Sandbox.Timedout: Task timed out after 900.00 seconds';
    expect(summary).toEqual({
      runId: RUN,
      targets: 5,
      read: 3,
      failed: [
        { accountId: MEMBER, region: OTHER_REGION, reason: timedOut },
        { accountId: MEMBER, region: REGION, reason: timedOut },
      ],
      duplicates: [],
      vpcs: 4,
      findings: 4,
      missed: [
        { accountId: MEMBER, region: OTHER_REGION, reason: timedOut },
        { accountId: MEMBER, region: REGION, reason: timedOut },
        { accountId: LOCKED, region: REGION, reason: 'no result: the child did not finish' },
      ],
    });
  });

  it('names the object and the field of a malformed result file', async () => {
    // Prepare: the second execution's output says "maybe" where a status belongs.
    const harness = hubHarness();
    serve({
      [TARGETS_KEY]: TARGETS,
      [MANIFEST_KEY]: {
        ResultFiles: { SUCCEEDED: [{ Key: 'results/map-run-1/SUCCEEDED_0.json', Size: 10 }] },
      },
      'results/map-run-1/SUCCEEDED_0.json': [
        { Output: JSON.stringify(ok(ACCOUNT, REGION)) },
        { Output: JSON.stringify({ ...ok(MEMBER, REGION), status: 'maybe' }) },
      ],
    });
    const summarize = (manifestKey: string) =>
      quietly(() =>
        asRaw(createSweepSummaryHandler(harness.deps))(
          {
            runId: RUN,
            targets: { bucket: BUCKET, key: TARGETS_KEY },
            results: { Bucket: BUCKET, Key: manifestKey },
          },
          harness.context('vpc-guard-sweep-summary'),
        ),
      );

    // Act & Assess
    await expect(summarize(MANIFEST_KEY)).rejects.toThrow(
      `s3://${BUCKET}/results/map-run-1/SUCCEEDED_0.json: [1].Output.status: expected "ok", "failed" or "duplicate", got "maybe"`,
    );
    serve({ 'results/other/manifest.json': '{"ResultFiles": ' });
    await expect(summarize('results/other/manifest.json')).rejects.toThrow(
      `s3://${BUCKET}/results/other/manifest.json is not JSON`,
    );
  });

  it('still summarizes the inline form', async () => {
    // Act
    const summary = await quietly(() =>
      asRaw(createSweepSummaryHandler())(
        { runId: RUN, results: [[ok(ACCOUNT, REGION)]], targets: [target(ACCOUNT, REGION)] },
        hubHarness().context('vpc-guard-sweep-summary'),
      ),
    );

    // Assess
    expect(summary).toMatchObject({ runId: RUN, targets: 1, read: 1, missed: [] });
    expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
  });
});
