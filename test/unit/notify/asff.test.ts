import 'aws-sdk-client-mock-vitest/extend';
import {
  BatchImportFindingsCommand,
  SecurityHubClient,
  type AwsSecurityFinding,
} from '@aws-sdk/client-securityhub';
import {
  InputValidationError,
  SECURITY_HUB_BATCH_SIZE,
  asffFindingId,
  diffFindings,
  importToSecurityHub,
  renderAsffFindings,
  type Evaluation,
  type FindingTransitions,
} from '@vpc-guard/shared';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ACCOUNT,
  NOW,
  REGION,
  REGION_SCOPE,
  allEvaluations,
  compliant,
  mixedTransitions,
  nonCompliant,
  storedOpen,
} from '../findings/sample-findings';

const OPTIONS = { accountId: ACCOUNT, region: REGION };
const securityHub = mockClient(SecurityHubClient);
const client = new SecurityHubClient({ region: REGION });

afterEach(() => {
  securityHub.reset();
});

const ISO = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);

/** The ASFF attributes BatchImportFindings requires, with their documented limits. */
const AsffRequiredSchema = z.object({
  SchemaVersion: z.literal('2018-10-08'),
  Id: z.string().min(1).max(512),
  ProductArn: z
    .string()
    .regex(/^arn:aws(-cn|-us-gov)?:securityhub:[a-z0-9-]+:\d{12}:product\/\d{12}\/default$/),
  GeneratorId: z.string().min(1).max(512),
  AwsAccountId: z.string().regex(/^\d{12}$/),
  Types: z
    .array(
      z
        .string()
        .regex(
          /^(Software and Configuration Checks|TTPs|Effects|Unusual Behaviors|Sensitive Data Identifications)(\/[^/]+){0,2}$/,
        ),
    )
    .min(1)
    .max(50),
  CreatedAt: ISO,
  UpdatedAt: ISO,
  Severity: z.object({ Label: z.enum(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']) }),
  Title: z.string().min(1).max(256),
  Description: z.string().min(1).max(1024),
  Resources: z
    .array(z.object({ Type: z.string().min(1), Id: z.string().min(1) }))
    .min(1)
    .max(32),
});

function openedFor(evaluations: readonly Evaluation[]): FindingTransitions {
  return diffFindings([], evaluations, REGION_SCOPE, NOW);
}

function asffDocuments(count: number): AwsSecurityFinding[] {
  const [first] = renderAsffFindings(openedFor([nonCompliant]), [nonCompliant], OPTIONS);
  return Array.from({ length: count }, (_, index) => ({
    ...first!,
    Id: `vpc-guard/test/${index}`,
  }));
}

describe('renderAsffFindings', () => {
  it('renders every required ASFF attribute within its limits', () => {
    // Prepare
    const transitions = mixedTransitions();

    // Act
    const findings = renderAsffFindings(transitions, allEvaluations, OPTIONS);

    // Assess
    expect(findings).toHaveLength(4);
    for (const finding of findings) expect(() => AsffRequiredSchema.parse(finding)).not.toThrow();
  });

  it('renders an open NAT finding as FAILED, NEW and ACTIVE, with the VPC and the NAT as resources', () => {
    // Prepare
    const transitions = openedFor([nonCompliant]);
    const nat = nonCompliant.findings[0]!;

    // Act
    const [finding] = renderAsffFindings(transitions, [nonCompliant], OPTIONS);

    // Assess
    expect(finding).toMatchObject({
      Id: `vpc-guard/${nat.key}`,
      ProductArn: 'arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default',
      GeneratorId: 'vpc-guard/nat-gateway-forbidden',
      AwsAccountId: ACCOUNT,
      Region: REGION,
      Types: [
        'Software and Configuration Checks/AWS Security Best Practices/Network Reachability',
        'Effects/Data Exfiltration',
      ],
      CreatedAt: NOW.toISOString(),
      UpdatedAt: NOW.toISOString(),
      FirstObservedAt: NOW.toISOString(),
      Severity: { Label: 'HIGH', Original: 'high' },
      Title: 'NAT gateway where the profile forbids egress: nat-0a000000000000d1 in payments-prod',
      Compliance: { Status: 'FAILED' },
      Workflow: { Status: 'NEW' },
      RecordState: 'ACTIVE',
      Remediation: {
        Recommendation: {
          Text: 'remove-nat: Delete the 1 route that target nat-0a000000000000d1, then delete the NAT gateway',
        },
      },
      ProductFields: {
        'vpc-guard/FindingKey': nat.key,
        'vpc-guard/RuleId': 'nat-gateway-forbidden',
        'vpc-guard/Profile': 'regulated',
        'vpc-guard/Transition': 'opened',
      },
    });
    expect(finding!.Resources).toEqual([
      {
        Type: 'AwsEc2Vpc',
        Id: `arn:aws:ec2:us-east-1:111111111111:vpc/${nonCompliant.vpcId}`,
        Partition: 'aws',
        Region: REGION,
        Tags: { Name: 'payments-prod' },
      },
      {
        Type: 'Other',
        Id: 'arn:aws:ec2:us-east-1:111111111111:natgateway/nat-0a000000000000d1',
        Partition: 'aws',
        Region: REGION,
        Details: { Other: { VpcId: nonCompliant.vpcId, ResourceId: 'nat-0a000000000000d1' } },
      },
    ]);
    expect(finding!.Description).toMatch(/^Public NAT gateway nat-0a000000000000d1/);
  });

  it('archives a resolved finding as PASSED under the same id', () => {
    // Prepare
    const nat = nonCompliant.findings[0]!;
    const openedId = renderAsffFindings(openedFor([nonCompliant]), [nonCompliant], OPTIONS)[0]!.Id;
    const transitions = diffFindings(
      [storedOpen(nat, nonCompliant)],
      [compliant],
      REGION_SCOPE,
      NOW,
    );

    // Act
    const [finding] = renderAsffFindings(transitions, [compliant], OPTIONS);

    // Assess
    expect(finding!.Id).toBe(openedId);
    expect(finding).toMatchObject({
      Compliance: { Status: 'PASSED' },
      RecordState: 'ARCHIVED',
      UpdatedAt: NOW.toISOString(),
      ProductFields: { 'vpc-guard/Transition': 'resolved' },
    });
    expect(finding).not.toHaveProperty('Workflow');
    expect(finding!.Description).toMatch(/^Resolved \(vpc-gone\): /);
  });

  it.each([
    ['rtb-0a000000000000c9', 'AwsEc2RouteTable', 'route-table/rtb-0a000000000000c9'],
    ['vpce-0a000000000000f1', 'Other', 'vpc-endpoint/vpce-0a000000000000f1'],
    ['sg-0a000000000000e1', 'AwsEc2SecurityGroup', 'security-group/sg-0a000000000000e1'],
  ])('describes %s as an ASFF %s resource', (resourceId, type, arnResource) => {
    // Prepare
    const evaluation: Evaluation = {
      ...nonCompliant,
      findings: [{ ...nonCompliant.findings[0]!, resourceId }],
    };

    // Act
    const [finding] = renderAsffFindings(openedFor([evaluation]), [evaluation], OPTIONS);

    // Assess
    expect(finding!.Resources![1]).toMatchObject({
      Type: type,
      Id: `arn:aws:ec2:us-east-1:111111111111:${arnResource}`,
    });
  });

  it('lists only the VPC when the VPC itself is at fault', () => {
    // Prepare
    const transitions = openedFor([nonCompliant]);

    // Act
    const findings = renderAsffFindings(transitions, [nonCompliant], OPTIONS);

    // Assess
    const sts = findings.find((f) => f.GeneratorId === 'vpc-guard/endpoint-missing')!;
    expect(sts.Resources!.map((r) => r.Type)).toEqual(['AwsEc2Vpc']);
  });

  it('refreshes unchanged findings only when asked to', () => {
    // Prepare
    const transitions = mixedTransitions();

    // Act
    const quiet = renderAsffFindings(transitions, allEvaluations, OPTIONS);
    const refreshed = renderAsffFindings(transitions, allEvaluations, {
      ...OPTIONS,
      includeUnchanged: true,
    });

    // Assess
    expect(refreshed.length - quiet.length).toBe(transitions.unchanged.length);
  });

  it('uses the product ARN it is given, and the partition of China regions', () => {
    // Prepare
    const transitions = openedFor([nonCompliant]);

    // Act
    const [custom] = renderAsffFindings(transitions, [nonCompliant], {
      ...OPTIONS,
      productArn: 'arn:aws:securityhub:us-east-1::product/example/vpc-guard',
    });
    const [china] = renderAsffFindings(transitions, [nonCompliant], {
      ...OPTIONS,
      region: 'cn-north-1',
    });

    // Assess
    expect(custom!.ProductArn).toBe('arn:aws:securityhub:us-east-1::product/example/vpc-guard');
    expect(china!.ProductArn).toBe(
      'arn:aws-cn:securityhub:cn-north-1:111111111111:product/111111111111/default',
    );
  });

  it('keeps the title within 256 and the description within 1,024 characters', () => {
    // Prepare
    const evaluation: Evaluation = {
      ...nonCompliant,
      vpcName: 'n'.repeat(400),
      findings: [{ ...nonCompliant.findings[0]!, message: 'm'.repeat(2000) }],
    };

    // Act
    const [finding] = renderAsffFindings(openedFor([evaluation]), [evaluation], OPTIONS);

    // Assess
    expect(finding!.Title!.length).toBeLessThanOrEqual(256);
    expect(finding!.Description!.length).toBeLessThanOrEqual(1024);
  });

  it('throws when a finding belongs to another account than the importing one', () => {
    // Prepare
    const transitions = openedFor([nonCompliant]);

    // Act
    const act = () =>
      renderAsffFindings(transitions, [nonCompliant], { ...OPTIONS, accountId: '222222222222' });

    // Assess
    expect(act).toThrow(InputValidationError);
    expect(act).toThrow(/belongs to account 111111111111, not 222222222222/);
  });
});

describe('asffFindingId', () => {
  it.each([
    [
      'a usual key',
      '111111111111/us-east-1/vpc-1/endpoint-missing/sts',
      /^vpc-guard\/111111111111\//,
    ],
    [
      'a key too long for ASFF',
      `111111111111/us-east-1/vpc-1/x/${'s'.repeat(600)}`,
      /^vpc-guard\/sha256\/[0-9a-f]{64}$/,
    ],
  ])('derives a stable id of at most 512 characters from %s', (_what, key, pattern) => {
    // Prepare
    const input = key;

    // Act
    const [first, second] = [asffFindingId(input), asffFindingId(input)];

    // Assess
    expect(first).toBe(second);
    expect(first).toMatch(pattern);
    expect(first.length).toBeLessThanOrEqual(512);
  });
});

describe('importToSecurityHub', () => {
  it('imports in batches of at most 100 findings', async () => {
    // Prepare
    securityHub.on(BatchImportFindingsCommand).callsFake((input: { Findings: unknown[] }) => ({
      SuccessCount: input.Findings.length,
      FailedCount: 0,
      FailedFindings: [],
    }));
    const findings = asffDocuments(250);

    // Act
    const result = await importToSecurityHub(client, findings);

    // Assess
    const sizes = securityHub
      .commandCalls(BatchImportFindingsCommand)
      .map((call) => call.args[0].input.Findings!.length);
    expect(sizes).toEqual([SECURITY_HUB_BATCH_SIZE, SECURITY_HUB_BATCH_SIZE, 50]);
    expect(result).toEqual({ imported: 250, failed: [] });
  });

  it('reports the findings Security Hub rejected and the batches that failed, importing the rest', async () => {
    // Prepare
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'TooManyRequestsException',
      $metadata: {},
    });
    securityHub
      .on(BatchImportFindingsCommand)
      .resolvesOnce({
        SuccessCount: 99,
        FailedCount: 1,
        FailedFindings: [
          { Id: 'vpc-guard/test/7', ErrorCode: 'InvalidInput', ErrorMessage: 'Title too long' },
        ],
      })
      .rejectsOnce(throttled);
    const findings = asffDocuments(150);

    // Act
    const result = await importToSecurityHub(client, findings);

    // Assess
    expect(result.imported).toBe(99);
    expect(result.failed).toHaveLength(51);
    expect(result.failed[0]).toEqual({
      id: 'vpc-guard/test/7',
      errorCode: 'InvalidInput',
      errorMessage: 'Title too long',
    });
    expect(result.failed[1]).toEqual({
      id: 'vpc-guard/test/100',
      errorCode: 'TooManyRequestsException',
      errorMessage: 'TooManyRequestsException: Rate exceeded',
    });
  });
});
