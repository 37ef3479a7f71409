import 'aws-sdk-client-mock-vitest/extend';
import {
  ConfigServiceClient,
  PutEvaluationsCommand,
  type Evaluation as ConfigEvaluation,
} from '@aws-sdk/client-config-service';
import {
  CONFIG_ANNOTATION_MAX,
  CONFIG_BATCH_SIZE,
  putConfigEvaluations,
  renderConfigEvaluations,
  renderNotApplicableEvaluations,
} from '@vpc-guard/shared';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { allEvaluations, compliant, exempt, nonCompliant } from '../findings/sample-findings';

const CAPTURED = new Date('2026-11-20T09:00:00.000Z');
const config = mockClient(ConfigServiceClient);
const client = new ConfigServiceClient({ region: 'us-east-1' });

afterEach(() => {
  config.reset();
});

function entries(count: number): ConfigEvaluation[] {
  return Array.from({ length: count }, (_, index) => ({
    ComplianceResourceType: 'AWS::EC2::VPC',
    ComplianceResourceId: `vpc-${String(index).padStart(17, '0')}`,
    ComplianceType: 'COMPLIANT',
    Annotation: 'All vpc-guard rules pass.',
    OrderingTimestamp: CAPTURED,
  }));
}

describe('renderConfigEvaluations', () => {
  it('renders one AWS::EC2::VPC evaluation per VPC with its compliance and annotation', () => {
    // Prepare
    const evaluations = allEvaluations;

    // Act
    const rendered = renderConfigEvaluations(evaluations, { orderingTimestamp: CAPTURED });

    // Assess
    expect(rendered).toEqual([
      {
        ComplianceResourceType: 'AWS::EC2::VPC',
        ComplianceResourceId: nonCompliant.vpcId,
        ComplianceType: 'NON_COMPLIANT',
        Annotation: nonCompliant.annotation,
        OrderingTimestamp: CAPTURED,
      },
      {
        ComplianceResourceType: 'AWS::EC2::VPC',
        ComplianceResourceId: compliant.vpcId,
        ComplianceType: 'COMPLIANT',
        Annotation: 'All vpc-guard rules pass.',
        OrderingTimestamp: CAPTURED,
      },
      {
        ComplianceResourceType: 'AWS::EC2::VPC',
        ComplianceResourceId: exempt.vpcId,
        ComplianceType: 'NOT_APPLICABLE',
        Annotation: exempt.annotation,
        OrderingTimestamp: CAPTURED,
      },
    ]);
  });

  it.each([
    ['an empty annotation', '', 'Non-compliant with the vpc-guard policy.'],
    ['a blank annotation', ' \n\t ', 'Non-compliant with the vpc-guard policy.'],
    ['a multi-line annotation', 'NAT nat-1\nis forbidden', 'NAT nat-1 is forbidden'],
    ['a 1,000-character annotation', 'a'.repeat(1000), `${'a'.repeat(255)}…`],
  ])('keeps the annotation within 1 to 256 characters for %s', (_what, annotation, expected) => {
    // Prepare
    const evaluation = { ...nonCompliant, annotation };

    // Act
    const [rendered] = renderConfigEvaluations([evaluation], { orderingTimestamp: CAPTURED });

    // Assess
    expect(rendered!.Annotation).toBe(expected);
    expect(rendered!.Annotation!.length).toBeGreaterThanOrEqual(1);
    expect(rendered!.Annotation!.length).toBeLessThanOrEqual(CONFIG_ANNOTATION_MAX);
  });
});

describe('renderNotApplicableEvaluations', () => {
  it('marks each VPC that is gone NOT_APPLICABLE once', () => {
    // Prepare
    const gone = ['vpc-0dead', 'vpc-0dead', 'vpc-0gone'];

    // Act
    const rendered = renderNotApplicableEvaluations(gone, { orderingTimestamp: CAPTURED });

    // Assess
    expect(rendered).toEqual(
      ['vpc-0dead', 'vpc-0gone'].map((id) => ({
        ComplianceResourceType: 'AWS::EC2::VPC',
        ComplianceResourceId: id,
        ComplianceType: 'NOT_APPLICABLE',
        Annotation: "The VPC no longer exists or left the rule's scope.",
        OrderingTimestamp: CAPTURED,
      })),
    );
  });
});

describe('putConfigEvaluations', () => {
  it('sends at most 100 evaluations per call with the result token', async () => {
    // Prepare
    config.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    const all = entries(250);

    // Act
    const result = await putConfigEvaluations(client, 'token-1', all);

    // Assess
    const calls = config.commandCalls(PutEvaluationsCommand);
    expect(calls.map((c) => c.args[0].input.Evaluations!.length)).toEqual([
      CONFIG_BATCH_SIZE,
      CONFIG_BATCH_SIZE,
      50,
    ]);
    expect(config).toHaveReceivedCommandWith(PutEvaluationsCommand, {
      ResultToken: 'token-1',
      Evaluations: all.slice(200),
    });
    expect(calls.every((c) => c.args[0].input.TestMode === undefined)).toBe(true);
    expect(result).toEqual({ sent: 250, failed: [] });
  });

  it('sets TestMode only in test mode', async () => {
    // Prepare
    config.on(PutEvaluationsCommand).resolves({});

    // Act
    await putConfigEvaluations(client, 'any-token', entries(1), { testMode: true });

    // Assess
    expect(config).toHaveReceivedCommandWith(PutEvaluationsCommand, {
      ResultToken: 'any-token',
      TestMode: true,
    });
  });

  it('reports the evaluations Config rejected and the batches that failed, sending the rest', async () => {
    // Prepare
    const all = entries(150);
    const denied = Object.assign(new Error('not authorized to perform config:PutEvaluations'), {
      name: 'AccessDeniedException',
      $metadata: {},
    });
    config
      .on(PutEvaluationsCommand)
      .resolvesOnce({ FailedEvaluations: [all[3]!] })
      .rejectsOnce(denied);

    // Act
    const result = await putConfigEvaluations(client, 'token-1', all);

    // Assess
    expect(result.sent).toBe(99);
    expect(result.failed).toHaveLength(51);
    expect(result.failed[0]).toEqual({
      evaluation: all[3],
      code: 'Rejected',
      error: 'listed in FailedEvaluations',
    });
    expect(result.failed[1]).toMatchObject({ evaluation: all[100], code: 'AccessDeniedException' });
  });
});
