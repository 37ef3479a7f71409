import 'aws-sdk-client-mock-vitest/extend';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  FindingChangeMessageSchema,
  SNS_MAX_BYTES,
  diffFindings,
  indexEvaluationsByVpc,
  publishToSns,
  renderSnsMessages,
  snsMessageBytes,
  snsSubject,
  type Evaluation,
  type FindingChangeMessage,
  type SnsMessage,
} from '@vpc-guard/shared';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  NOW,
  REGION_SCOPE,
  allEvaluations,
  mixedTransitions,
  nonCompliant,
} from '../findings/sample-findings';
import { PLAN, RECORD } from './sample-remediation';

const TOPIC = 'arn:aws:sns:us-east-1:111111111111:vpc-guard-findings';
const sns = mockClient(SNSClient);
const client = new SNSClient({ region: 'us-east-1' });

afterEach(() => {
  sns.reset();
});

function opened(evaluations: readonly Evaluation[] = [nonCompliant], options = {}): SnsMessage[] {
  const transitions = diffFindings([], evaluations, REGION_SCOPE, NOW);
  return renderSnsMessages(transitions, indexEvaluationsByVpc(evaluations), options);
}

/** `count` messages, each a copy of the first rendered one with its own key. */
function manyMessages(count: number): SnsMessage[] {
  const [first] = opened();
  return Array.from({ length: count }, (_, index) => ({
    ...first!,
    change: { ...first!.change, finding: { ...first!.change.finding, key: `k${index}` } },
  }));
}

describe('renderSnsMessages', () => {
  it('renders one message per opened, changed or resolved finding and none for unchanged ones', () => {
    // Prepare
    const transitions = mixedTransitions();

    // Act
    const messages = renderSnsMessages(transitions, indexEvaluationsByVpc(allEvaluations));

    // Assess
    expect(transitions.unchanged).toHaveLength(1);
    expect(messages.map((m) => m.change.transition)).toEqual([
      'opened',
      'changed',
      'resolved',
      'resolved',
    ]);
    expect(messages.map((m) => m.change.reason)).toEqual([null, null, 'fixed', 'exempt']);
  });

  it.each([
    [
      0,
      { severity: 'high', state: 'opened', ruleId: 'nat-gateway-forbidden', profile: 'regulated' },
    ],
    [1, { severity: 'medium', state: 'changed', ruleId: 'endpoint-missing', profile: 'regulated' }],
    [
      2,
      {
        severity: 'high',
        state: 'resolved',
        ruleId: 'internet-route-forbidden',
        profile: 'isolated',
      },
    ],
  ])('gives message %i the String attributes subscription filters match on', (index, expected) => {
    // Prepare
    const messages = renderSnsMessages(mixedTransitions(), indexEvaluationsByVpc(allEvaluations));

    // Act
    const { attributes } = messages[index]!;

    // Assess
    expect(attributes).toEqual({
      severity: { DataType: 'String', StringValue: expected.severity },
      accountId: { DataType: 'String', StringValue: '111111111111' },
      region: { DataType: 'String', StringValue: 'us-east-1' },
      ruleId: { DataType: 'String', StringValue: expected.ruleId },
      profile: { DataType: 'String', StringValue: expected.profile },
      state: { DataType: 'String', StringValue: expected.state },
    });
  });

  it('writes a subject a human can read', () => {
    // Prepare
    const [message] = opened();

    // Act
    const subject = message!.subject;

    // Assess
    expect(subject).toBe(
      '[vpc-guard] OPENED high nat-gateway-forbidden payments-prod (111111111111/us-east-1)',
    );
  });

  it.each([
    ['a long name', 'payments-'.repeat(30)],
    ['non-ASCII characters', 'zahlungen-prüfung-💶'],
    ['line breaks and tabs', 'payments\nprod\tblue'],
    ['an empty name', ''],
  ])('keeps the subject printable ASCII under 100 characters for %s', (_what, vpcName) => {
    // Prepare
    const [message] = opened([{ ...nonCompliant, vpcName }]);

    // Act
    const subject = snsSubject(message!.change);

    // Assess
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject).toMatch(/^\[vpc-guard\] OPENED high nat-gateway-forbidden /);
    expect(subject).toMatch(/\(111111111111\/us-east-1\)$/);
  });

  it('carries the finding, the transition and the VPC summary as JSON that parses back', () => {
    // Prepare
    const [message] = opened();

    // Act
    const body = FindingChangeMessageSchema.parse(JSON.parse(message!.body));

    // Assess
    expect(body).toMatchObject({
      schemaVersion: 1,
      source: 'vpc-guard',
      type: 'finding-change',
      transition: 'opened',
      at: NOW.toISOString(),
      finding: {
        key: nonCompliant.findings[0]!.key,
        severity: 'high',
        resourceId: 'nat-0a000000000000d1',
        evidence: nonCompliant.findings[0]!.evidence,
        fix: { action: 'remove-nat' },
        cost: { kind: 'current', monthlyUsd: 36.5 },
      },
      vpc: {
        vpcName: 'payments-prod',
        compliance: 'NON_COMPLIANT',
        openFindings: 3,
        monthlyCost: { currentUsd: 36.5, fixUsd: 14.6 },
      },
      remediation: { state: 'suggested', action: 'remove-nat' },
      evidenceOmitted: false,
    });
  });

  it.each([
    ['a record', { record: RECORD }, ['applied', 'blocked', 'planned']],
    ['a plan', { plan: PLAN }, ['planned', 'blocked', 'planned']],
    ['nothing', {}, ['suggested', 'suggested', 'suggested']],
  ])('says what the fix is when given %s', (_what, options, states) => {
    // Prepare
    const evaluations = [nonCompliant];

    // Act
    const messages = opened(evaluations, options);

    // Assess
    expect(messages.map((m) => m.change.remediation.state)).toEqual(states);
  });

  it('reports a blocked fix with its reason and an applied one with its outcome', () => {
    // Prepare
    const messages = opened([nonCompliant], { record: RECORD });

    // Act
    const [nat, sts] = messages.map((m) => m.change.remediation);

    // Assess
    expect(nat).toMatchObject({ state: 'applied', outcome: 'verified', action: 'remove-nat' });
    expect(sts).toMatchObject({
      state: 'blocked',
      action: 'create-endpoint',
      detail: 'the VPC has enableDnsHostnames off',
    });
  });

  it('leaves the evidence out, and says so, when a message would pass 256 KB', () => {
    // Prepare
    const huge: Evaluation = {
      ...nonCompliant,
      findings: [
        { ...nonCompliant.findings[0]!, evidence: { statements: 'x'.repeat(SNS_MAX_BYTES) } },
      ],
    };

    // Act
    const [message] = opened([huge]);

    // Assess
    expect(snsMessageBytes(message!)).toBeLessThanOrEqual(SNS_MAX_BYTES);
    expect(message!.change.evidenceOmitted).toBe(true);
    expect(JSON.parse(message!.body)).toMatchObject({
      evidenceOmitted: true,
      finding: { evidence: null },
    });
  });
});

describe('publishToSns', () => {
  it('publishes in batches of at most 10 entries', async () => {
    // Prepare
    sns
      .on(PublishBatchCommand)
      .callsFake((input: { PublishBatchRequestEntries: { Id: string }[] }) => ({
        Successful: input.PublishBatchRequestEntries.map((e) => ({
          Id: e.Id,
          MessageId: `m-${e.Id}`,
        })),
        Failed: [],
      }));
    const messages = manyMessages(23);

    // Act
    const result = await publishToSns(client, TOPIC, messages);

    // Assess
    const sizes = sns
      .commandCalls(PublishBatchCommand)
      .map((c) => c.args[0].input.PublishBatchRequestEntries!.length);
    expect(sizes).toEqual([10, 10, 3]);
    expect(result.published).toHaveLength(23);
    expect(result.failed).toEqual([]);
    const [first] = sns.commandCalls(PublishBatchCommand);
    expect(first!.args[0].input.TopicArn).toBe(TOPIC);
    expect(first!.args[0].input.PublishBatchRequestEntries![0]).toEqual({
      Id: '0',
      Message: messages[0]!.body,
      Subject: messages[0]!.subject,
      MessageAttributes: messages[0]!.attributes,
    });
  });

  it('keeps every batch within 256 KB in all', async () => {
    // Prepare
    sns.on(PublishBatchCommand).resolves({ Successful: [], Failed: [] });
    const [first] = opened();
    const big = { ...first!, body: 'x'.repeat(100_000) };
    const messages = [big, big, big, big, big];

    // Act
    await publishToSns(client, TOPIC, messages);

    // Assess
    const calls = sns.commandCalls(PublishBatchCommand);
    expect(calls.map((c) => c.args[0].input.PublishBatchRequestEntries!.length)).toEqual([2, 2, 1]);
  });

  it('reports each entry SNS rejected and every entry it published', async () => {
    // Prepare
    sns.on(PublishBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'mid-0' }],
      Failed: [
        { Id: '1', Code: 'InvalidParameter', Message: 'Subject too long', SenderFault: true },
      ],
    });
    const messages = manyMessages(3);

    // Act
    const result = await publishToSns(client, TOPIC, messages);

    // Assess
    expect(result.published).toEqual([{ message: messages[0], messageId: 'mid-0' }]);
    expect(result.failed).toEqual([
      {
        message: messages[1],
        code: 'InvalidParameter',
        error: 'Subject too long',
        senderFault: true,
      },
      {
        message: messages[2],
        code: 'NoResult',
        error: 'PublishBatch reported no result for this entry',
        senderFault: false,
      },
    ]);
  });

  it('marks the entries of a failed call and still sends the next batches', async () => {
    // Prepare
    const denied = Object.assign(new Error('not authorized to perform SNS:Publish'), {
      name: 'AuthorizationErrorException',
      $metadata: {},
    });
    sns
      .on(PublishBatchCommand)
      .rejectsOnce(denied)
      .callsFake((input: { PublishBatchRequestEntries: { Id: string }[] }) => ({
        Successful: input.PublishBatchRequestEntries.map((e) => ({ Id: e.Id, MessageId: e.Id })),
      }));
    const messages = manyMessages(12);

    // Act
    const result = await publishToSns(client, TOPIC, messages);

    // Assess
    expect(result.failed).toHaveLength(10);
    expect(result.failed[0]).toMatchObject({
      code: 'AuthorizationErrorException',
      error: 'AuthorizationErrorException: not authorized to perform SNS:Publish',
    });
    expect(result.published.map((p) => p.message)).toEqual(messages.slice(10));
  });

  it('adds a message group per VPC and a deduplication id on a FIFO topic', async () => {
    // Prepare
    sns.on(PublishBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'a' }] });
    const [message] = opened();

    // Act
    await publishToSns(client, `${TOPIC}.fifo`, [message!]);

    // Assess
    const entry =
      sns.commandCalls(PublishBatchCommand)[0]!.args[0].input.PublishBatchRequestEntries![0]!;
    expect(entry.MessageGroupId).toBe(`111111111111/us-east-1/${nonCompliant.vpcId}`);
    expect(entry.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('FindingChangeMessageSchema', () => {
  it('rejects a message with a field of the wrong kind, naming the field', () => {
    // Prepare
    const [message] = opened();
    const body = JSON.parse(message!.body) as FindingChangeMessage;
    const broken = { ...body, finding: { ...body.finding, severity: 'severe' } };

    // Act
    const result = FindingChangeMessageSchema.safeParse(broken);

    // Assess
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['finding', 'severity']);
  });
});
