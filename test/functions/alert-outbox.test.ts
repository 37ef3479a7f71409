import 'aws-sdk-client-mock-vitest/extend';
import { BatchImportFindingsCommand, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { PublishBatchCommand, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { asffFindingId } from '@vpc-guard/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApiEventHandler } from '../../functions/api-event/create-handler';
import type { ApiEventResult } from '../../functions/api-event/event';
import { metrics } from '../../functions/runtime/observability';
import { PipelineError, type TargetReport } from '../../functions/runtime/pipeline-report';
import {
  ACCOUNT,
  REGION,
  VPC,
  FunctionHarness,
  asRaw,
  captureOutput,
  loadEvent,
  mocks,
  resetMocks,
} from './support/harness';

/**
 * The alert outbox end to end: a sink that fails after the transition was recorded fails the
 * invocation, and the next run (the retry, or the next event) delivers the alert to that sink alone,
 * once; two runs at the same time still alert once.
 */

afterEach(() => {
  resetMocks();
  vi.restoreAllMocks();
});

const ROUTE_EVENT = 'api-event/create-route.json';
const NAT_EVENT = 'api-event/create-nat-gateway.json';
const NAT_KEY = `${ACCOUNT}/${REGION}/${VPC}/nat-gateway-forbidden/nat-0aa00000000000001`;

function throttling(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: {} });
}

/** Runs the api-event handler; a failed invocation's error is returned, not thrown. */
async function run(harness: FunctionHarness, fixture: string): Promise<ApiEventResult | Error> {
  try {
    return (await asRaw(createApiEventHandler(harness.deps))(
      loadEvent(fixture),
      harness.context(),
    )) as ApiEventResult;
  } catch (error) {
    return error as Error;
  }
}

/** Runs the handler on each fixture at the same time, with the logger's output muted. */
async function invoke(
  harness: FunctionHarness,
  ...fixtures: string[]
): Promise<(ApiEventResult | Error)[]> {
  const output = captureOutput();
  try {
    return await Promise.all(fixtures.map((fixture) => run(harness, fixture)));
  } finally {
    output.restore();
  }
}

/** The target report of a run, handled or failed. */
function targetOf(outcome: ApiEventResult | Error | undefined): TargetReport | undefined {
  if (outcome instanceof PipelineError) return outcome.report.targets[0];
  if (outcome instanceof Error || outcome === undefined) {
    throw new Error('the run failed unexpectedly', { cause: outcome });
  }
  return outcome.report?.targets[0];
}

/** Every sink answers again (SNS and Security Hub back), the table as it was left. */
function sinksRecover(harness: FunctionHarness): void {
  mocks.sns.reset();
  mocks.securityHub.reset();
  harness.installMocks();
}

function snsEntries(): PublishBatchRequestEntry[] {
  return mocks.sns
    .commandCalls(PublishBatchCommand)
    .flatMap((call) => call.args[0].input.PublishBatchRequestEntries ?? []);
}

function asffImported(): AwsSecurityFinding[] {
  return mocks.securityHub
    .commandCalls(BatchImportFindingsCommand)
    .flatMap((call) => call.args[0].input.Findings ?? []);
}

function stateOf(entry: PublishBatchRequestEntry): string | undefined {
  return entry.MessageAttributes?.['state']?.StringValue;
}

/** The sinks each finding item still owes its alert to, by key; items owing nothing left out. */
function owed(harness: FunctionHarness): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const item of harness.table.findings()) {
    const sinks = item['pendingSinks'];
    if (sinks instanceof Set) result[String(item['pk'])] = [...(sinks as Set<string>)].sort();
  }
  return result;
}

/** Items that carry any outbox attribute (the alert, its sinks, its lease). */
function withOutbox(harness: FunctionHarness) {
  return harness.table
    .findings()
    .filter((item) => ['pendingAlert', 'pendingSinks', 'alertLeaseUntil'].some((a) => a in item));
}

describe('alerts a sink failed to take', () => {
  it('fails the invocation when SNS fails, and its retry publishes each opened alert once, to SNS only', async () => {
    // Prepare
    const harness = new FunctionHarness();
    const addMetric = vi.spyOn(metrics, 'addMetric');
    mocks.sns.on(PublishBatchCommand).rejects(throttling());
    const [failed] = await invoke(harness, ROUTE_EVENT);
    sinksRecover(harness);

    // Act
    const [retry] = await invoke(harness, ROUTE_EVENT);

    // Assess
    expect(failed).toBeInstanceOf(PipelineError);
    expect((failed as PipelineError).report.failures).toEqual([
      expect.objectContaining({ stage: 'sns', kind: 'throttled', vpcIds: [VPC], items: 6 }),
    ]);
    expect(targetOf(failed)?.transitions).toMatchObject({ opened: 6, pendingAlerts: 6 });
    expect(addMetric).toHaveBeenCalledWith('PendingAlerts', 'Count', 6);
    expect(targetOf(retry)?.transitions).toMatchObject({
      opened: 0,
      redelivered: 6,
      pendingAlerts: 0,
    });
    const entries = snsEntries();
    expect(entries).toHaveLength(6);
    expect(entries.every((entry) => stateOf(entry) === 'opened')).toBe(true);
    expect(new Set(entries.map((entry) => entry.Message)).size).toBe(6);
    expect(mocks.securityHub).not.toHaveReceivedCommand(BatchImportFindingsCommand);
    expect(addMetric).toHaveBeenCalledWith('AlertsRedelivered', 'Count', 6);
    expect(withOutbox(harness)).toEqual([]);
  });

  it('leaves each alert owed to SNS alone while SNS fails, released for the next run', async () => {
    // Prepare
    const harness = new FunctionHarness();
    mocks.sns.on(PublishBatchCommand).rejects(throttling());

    // Act
    await invoke(harness, ROUTE_EVENT);

    // Assess
    const owedNow = owed(harness);
    expect(Object.keys(owedNow)).toHaveLength(6);
    expect(Object.values(owedNow).every((sinks) => sinks.join() === 'sns')).toBe(true);
    // The lease is released, so the retry needs not wait for it.
    expect(harness.table.findings().some((item) => 'alertLeaseUntil' in item)).toBe(false);
  });

  it('sends nothing again once delivered: the next event finds the findings unchanged', async () => {
    // Prepare
    const harness = new FunctionHarness();
    mocks.sns.on(PublishBatchCommand).rejects(throttling());
    await invoke(harness, ROUTE_EVENT);
    sinksRecover(harness);
    await invoke(harness, ROUTE_EVENT);
    const delivered = snsEntries().length;

    // Act
    const [next] = await invoke(harness, NAT_EVENT);

    // Assess
    expect(delivered).toBe(6);
    expect(targetOf(next)?.transitions).toMatchObject({ opened: 0, redelivered: 0 });
    expect(snsEntries()).toHaveLength(6);
  });

  it('keeps retrying an alert on every run while its sink keeps failing, and counts it', async () => {
    // Prepare
    const harness = new FunctionHarness();
    mocks.sns.on(PublishBatchCommand).rejects(throttling());
    await invoke(harness, ROUTE_EVENT);
    const addMetric = vi.spyOn(metrics, 'addMetric');

    // Act
    const [again] = await invoke(harness, NAT_EVENT);

    // Assess
    expect(again).toBeInstanceOf(PipelineError);
    expect(targetOf(again)?.transitions).toMatchObject({ redelivered: 6, pendingAlerts: 6 });
    expect(addMetric).toHaveBeenCalledWith('PendingAlerts', 'Count', 6);
    expect(mocks.sns.commandCalls(PublishBatchCommand)).toHaveLength(2);
    expect(Object.keys(owed(harness))).toHaveLength(6);
  });

  it('sends again to Security Hub only when it failed and SNS did not', async () => {
    // Prepare
    const harness = new FunctionHarness();
    mocks.securityHub.on(BatchImportFindingsCommand).rejects(throttling());
    const [failed] = await invoke(harness, ROUTE_EVENT);
    const owedAfterFailure = owed(harness);
    sinksRecover(harness);

    // Act
    const [next] = await invoke(harness, NAT_EVENT);

    // Assess
    expect((failed as PipelineError).report.failures).toEqual([
      expect.objectContaining({ stage: 'security-hub', items: 6 }),
    ]);
    expect(Object.values(owedAfterFailure)).toEqual(Array(6).fill(['securityhub']));
    expect(targetOf(next)?.published).toEqual({ sns: 0, securityHub: 6 });
    expect(mocks.sns).not.toHaveReceivedCommand(PublishBatchCommand);
    const imported = asffImported();
    expect(imported).toHaveLength(6);
    expect(imported.every((finding) => finding.Compliance?.Status === 'FAILED')).toBe(true);
    expect(imported.map((finding) => finding.ProductFields?.['vpc-guard/Transition'])).toEqual(
      Array(6).fill('opened'),
    );
    expect(withOutbox(harness)).toEqual([]);
  });

  it('owes Security Hub only the findings it rejected', async () => {
    // Prepare
    const harness = new FunctionHarness();
    mocks.securityHub.on(BatchImportFindingsCommand).resolves({
      SuccessCount: 5,
      FailedCount: 1,
      FailedFindings: [
        { Id: asffFindingId(NAT_KEY), ErrorCode: 'InvalidInput', ErrorMessage: 'bad finding' },
      ],
    });

    // Act
    const [failed] = await invoke(harness, ROUTE_EVENT);

    // Assess
    expect(failed).toBeInstanceOf(PipelineError);
    expect(owed(harness)).toEqual({ [NAT_KEY]: ['securityhub'] });
  });

  it('delivers on the next run a resolved alert SNS failed to take, and then lets the finding go', async () => {
    // Prepare: remediation fixes the VPC; SNS takes the opened alerts, then fails the follow-up.
    const harness = new FunctionHarness({ policy: 'policy-auto.yaml', killSwitch: 'off' });
    let publishes = 0;
    mocks.sns.on(PublishBatchCommand).callsFake((input: { PublishBatchRequestEntries: [] }) => {
      publishes += 1;
      if (publishes > 1) throw throttling();
      return { Successful: input.PublishBatchRequestEntries.map((_, i) => ({ Id: String(i) })) };
    });
    const [failed] = await invoke(harness, NAT_EVENT);
    const owedAfterFailure = owed(harness);
    const resolvedInIndex = harness.table
      .findings()
      .filter((item) => item['state'] === 'resolved' && 'scope' in item).length;
    sinksRecover(harness);

    // Act
    const [retry] = await invoke(harness, NAT_EVENT);

    // Assess
    expect((failed as PipelineError).report.failures).toEqual([
      expect.objectContaining({ stage: 'sns', items: 6 }),
    ]);
    expect(Object.values(owedAfterFailure)).toEqual(Array(6).fill(['sns']));
    expect(resolvedInIndex).toBe(6);
    expect(targetOf(retry)?.transitions).toMatchObject({ resolved: 0, redelivered: 6 });
    const entries = snsEntries();
    expect(entries).toHaveLength(6);
    expect(entries.every((entry) => stateOf(entry) === 'resolved')).toBe(true);
    expect(mocks.securityHub).not.toHaveReceivedCommand(BatchImportFindingsCommand);
    // Delivered: out of the outbox and out of the index, left to its TTL.
    expect(withOutbox(harness)).toEqual([]);
    expect(harness.table.findings().filter((item) => 'scope' in item)).toEqual([]);
  });
});

describe('two runs at the same time', () => {
  function slowHarness(): FunctionHarness {
    const harness = new FunctionHarness();
    harness.latencyMs = 5;
    harness.table.latencyMs = 5;
    return harness;
  }

  it('alert once on the findings they both open', async () => {
    // Prepare
    const harness = slowHarness();

    // Act
    const runs = await invoke(harness, ROUTE_EVENT, NAT_EVENT);

    // Assess
    const reports = runs.map(targetOf);
    expect(reports.reduce((n, r) => n + (r?.transitions?.opened ?? 0), 0)).toBe(6);
    expect(snsEntries()).toHaveLength(6);
    expect(asffImported()).toHaveLength(6);
    expect(withOutbox(harness)).toEqual([]);
  });

  it('send an owed alert once between them: one takes it over, the other leaves it', async () => {
    // Prepare
    const harness = slowHarness();
    mocks.sns.on(PublishBatchCommand).rejects(throttling());
    await invoke(harness, ROUTE_EVENT);
    sinksRecover(harness);
    const modify = 'api-event/modify-vpc-endpoint.json';

    // Act
    const runs = await invoke(harness, NAT_EVENT, modify);

    // Assess
    const reports = runs.map(targetOf);
    expect(reports.reduce((n, r) => n + (r?.transitions?.redelivered ?? 0), 0)).toBe(6);
    expect(reports.reduce((n, r) => n + (r?.transitions?.superseded ?? 0), 0)).toBe(6);
    expect(snsEntries()).toHaveLength(6);
    expect(withOutbox(harness)).toEqual([]);
  });
});
