import { RULES, renderSarifReport, type Evaluation, type Severity } from '@vpc-guard/shared';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GENERATED_AT, allEvaluations, exempt, nonCompliant } from './sample-evaluations';

/**
 * The properties SARIF 2.1.0 requires (sarif-schema-2.1.0.json: `version`, `runs`, `tool.driver.name`,
 * `result.message`, `reportingDescriptor.id`, `multiformatMessageString.text`, `suppression.kind`,
 * `invocation.executionSuccessful`), plus what GitHub code scanning relies on: a physical location with
 * a URI, a rule index that points at the rule, a numeric security-severity.
 */
const LevelSchema = z.enum(['none', 'note', 'warning', 'error']);
const TextSchema = z.object({ text: z.string().min(1), markdown: z.string().optional() });
const LogicalLocationSchema = z.object({
  name: z.string().min(1),
  fullyQualifiedName: z.string().min(1),
  kind: z.string().optional(),
});
const LocationSchema = z.object({
  physicalLocation: z
    .object({
      artifactLocation: z.object({ uri: z.string().min(1) }),
      region: z.object({ startLine: z.number().int().min(1) }).optional(),
    })
    .optional(),
  logicalLocations: z.array(LogicalLocationSchema).min(1),
});
const ReportingDescriptorSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  shortDescription: TextSchema,
  fullDescription: TextSchema,
  help: TextSchema,
  defaultConfiguration: z.object({ level: LevelSchema }),
  properties: z.object({
    tags: z.array(z.string()).min(1),
    'security-severity': z.string().regex(/^(10(\.0)?|\d(\.\d)?)$/),
  }),
});
const ResultSchema = z.object({
  ruleId: z.string().min(1),
  ruleIndex: z.number().int().min(0),
  level: LevelSchema,
  message: z.object({ text: z.string().min(1) }),
  locations: z.array(LocationSchema).min(1),
  partialFingerprints: z.record(z.string(), z.string()),
  suppressions: z
    .array(
      z.object({
        kind: z.enum(['inSource', 'external']),
        status: z.enum(['accepted', 'underReview', 'rejected']).optional(),
        justification: z.string().optional(),
      }),
    )
    .optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});
const SarifLogSchema = z
  .object({
    $schema: z.literal('https://json.schemastore.org/sarif-2.1.0.json'),
    version: z.literal('2.1.0'),
    runs: z
      .array(
        z.object({
          tool: z.object({
            driver: z.object({
              name: z.string().min(1),
              informationUri: z.url().optional(),
              semanticVersion: z.string().optional(),
              rules: z.array(ReportingDescriptorSchema),
            }),
          }),
          invocations: z.array(z.object({ executionSuccessful: z.boolean() })).optional(),
          results: z.array(ResultSchema),
        }),
      )
      .length(1),
  })
  .superRefine((log, ctx) => {
    for (const run of log.runs) {
      run.results.forEach((result, index) => {
        if (run.tool.driver.rules[result.ruleIndex]?.id !== result.ruleId) {
          ctx.addIssue({ code: 'custom', path: ['results', index], message: 'ruleIndex mismatch' });
        }
      });
    }
  });

const SOURCES = [
  { path: 'examples/demo-account.json', accountId: '111111111111', region: 'us-east-1' },
];

function render(evaluations: readonly Evaluation[], withSources = true) {
  const text = renderSarifReport(evaluations, {
    generatedAt: GENERATED_AT,
    toolVersion: '0.1.0',
    ...(withSources ? { sources: SOURCES } : {}),
  });
  return SarifLogSchema.parse(JSON.parse(text));
}

describe('renderSarifReport', () => {
  it('writes a log with every property SARIF 2.1.0 and code scanning require', () => {
    // Prepare
    const evaluations = allEvaluations;

    // Act
    const text = renderSarifReport(evaluations, {
      generatedAt: GENERATED_AT,
      toolVersion: '0.1.0',
      sources: SOURCES,
    });

    // Assess
    const parsed = SarifLogSchema.safeParse(JSON.parse(text));
    expect(parsed.error?.issues ?? []).toEqual([]);
    const [run] = parsed.data!.runs;
    expect(run!.tool.driver).toMatchObject({ name: 'vpc-guard', semanticVersion: '0.1.0' });
    expect(run!.results).toHaveLength(4);
  });

  it('describes every rule once, in registry order, with its title and description', () => {
    // Prepare
    const evaluations: Evaluation[] = [];

    // Act
    const [run] = render(evaluations).runs;

    // Assess
    const rules = run!.tool.driver.rules;
    expect(rules.map((rule) => rule.id)).toEqual(RULES.map((rule) => rule.id));
    expect(rules[0]).toMatchObject({
      id: 'nat-gateway-forbidden',
      name: 'NatGatewayForbidden',
      shortDescription: { text: RULES[0]!.title },
      fullDescription: { text: RULES[0]!.description },
      defaultConfiguration: { level: 'error' },
      properties: { 'security-severity': '8.0' },
    });
    expect(rules.every((rule) => rule.properties.tags.includes('security'))).toBe(true);
  });

  it.each<[Severity, string]>([
    ['critical', 'error'],
    ['high', 'error'],
    ['medium', 'warning'],
    ['low', 'note'],
    ['informational', 'note'],
  ])('reports a %s finding at level %s', (severity, level) => {
    // Prepare
    const [first] = nonCompliant.findings;
    const evaluation = { ...nonCompliant, findings: [{ ...first!, severity }] };

    // Act
    const [run] = render([evaluation]).runs;

    // Assess
    expect(run!.results[0]!.level).toBe(level);
    expect(run!.results[0]!.properties).toMatchObject({ severity });
  });

  it('points each result at its snapshot file, its VPC and its resource', () => {
    // Prepare
    const evaluations = [nonCompliant];

    // Act
    const [run] = render(evaluations).runs;

    // Assess
    const [nat, endpoint] = run!.results;
    expect(nat!.locations[0]).toEqual({
      physicalLocation: {
        artifactLocation: { uri: 'examples/demo-account.json' },
        region: { startLine: 1 },
      },
      logicalLocations: [
        {
          name: 'vpc-0a0000000000000a1',
          fullyQualifiedName: '111111111111/us-east-1/vpc-0a0000000000000a1',
          kind: 'namespace',
        },
        {
          name: 'nat-0a000000000000d1',
          fullyQualifiedName: '111111111111/us-east-1/vpc-0a0000000000000a1/nat-0a000000000000d1',
          kind: 'resource',
        },
      ],
    });
    // A finding about an absence is located at the VPC itself.
    expect(endpoint!.locations[0]!.logicalLocations).toHaveLength(1);
    expect(nat!.message.text).toContain(
      '(111111111111/us-east-1/vpc-0a0000000000000a1 "payments-prod")',
    );
  });

  it('falls back to logical locations when no snapshot file is known', () => {
    // Prepare
    const evaluations = [nonCompliant];

    // Act
    const [run] = render(evaluations, false).runs;

    // Assess
    expect(run!.results[0]!.locations[0]!.physicalLocation).toBeUndefined();
    expect(run!.results[0]!.locations[0]!.logicalLocations[0]!.fullyQualifiedName).toBe(
      '111111111111/us-east-1/vpc-0a0000000000000a1',
    );
  });

  it('fingerprints each result with its finding key and carries evidence, fix and cost', () => {
    // Prepare
    const evaluations = [nonCompliant];

    // Act
    const [run] = render(evaluations).runs;

    // Assess
    const [nat] = run!.results;
    expect(nat!.partialFingerprints).toEqual({
      'vpcGuardFindingKey/v1':
        '111111111111/us-east-1/vpc-0a0000000000000a1/nat-gateway-forbidden/nat-0a000000000000d1',
    });
    expect(nat!.properties).toMatchObject({
      evidence: { natGatewayId: 'nat-0a000000000000d1' },
      fix: { action: 'remove-nat' },
      cost: { kind: 'current', monthlyUsd: 36.5 },
    });
    expect(nat!.suppressions).toBeUndefined();
  });

  it('emits the findings an exemption suppresses with an external suppression and its reason', () => {
    // Prepare
    const evaluations = [exempt];

    // Act
    const [run] = render(evaluations).runs;

    // Assess
    expect(run!.results).toHaveLength(1);
    expect(run!.results[0]!.suppressions).toEqual([
      {
        kind: 'external',
        status: 'accepted',
        justification: 'exempt until 2027-01-31: moving to the shared egress VPC',
      },
    ]);
  });

  it.each([
    ['examples/demo account.json', 'examples/demo%20account.json'],
    ['./snapshots/a.json', 'snapshots/a.json'],
    ['/tmp/x y.json', 'file:///tmp/x%20y.json'],
    ['C:\\data\\a.json', 'file:///C:/data/a.json'],
  ])('writes the snapshot path %j as the URI %j', (path, uri) => {
    // Prepare
    const sources = [{ path, accountId: '111111111111', region: 'us-east-1' }];

    // Act
    const log = JSON.parse(
      renderSarifReport([nonCompliant], { generatedAt: GENERATED_AT, sources }),
    );

    // Assess
    expect(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe(uri);
  });
});
