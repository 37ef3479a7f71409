import { renderJsonReport, summarizeEvaluations } from '@vpc-guard/shared';
import { describe, expect, it } from 'vitest';
import { GENERATED_AT, allEvaluations } from './sample-evaluations';

describe('renderJsonReport', () => {
  it('writes the evaluations and their summary under schema version 1', () => {
    // Prepare
    const evaluations = allEvaluations;

    // Act
    const report = JSON.parse(renderJsonReport(evaluations, { generatedAt: GENERATED_AT }));

    // Assess
    expect(report.schemaVersion).toBe(1);
    expect(report.generatedAt).toBe('2026-11-20T10:00:00.000Z');
    expect(report.tool).toEqual({ name: 'vpc-guard' });
    expect(report.evaluations).toEqual(JSON.parse(JSON.stringify(evaluations)));
    expect(report.summary).toEqual({ ...summarizeEvaluations(evaluations), exempt: 1 });
    expect(report.summary).toMatchObject({
      vpcs: 3,
      compliant: 1,
      nonCompliant: 1,
      notApplicable: 1,
      monthlyCostUsd: { forbidden: 36.5, fixes: 14.6 },
    });
  });

  it('records the tool version when given one', () => {
    // Prepare
    const options = { generatedAt: GENERATED_AT, toolVersion: '1.2.3' };

    // Act
    const report = JSON.parse(renderJsonReport([], options));

    // Assess
    expect(report.tool).toEqual({ name: 'vpc-guard', version: '1.2.3' });
    expect(report.summary.vpcs).toBe(0);
  });

  it('gives the same pretty-printed text for the same input', () => {
    // Prepare
    const options = { generatedAt: GENERATED_AT };

    // Act
    const first = renderJsonReport(allEvaluations, options);
    const second = renderJsonReport(allEvaluations, options);

    // Assess
    expect(first).toBe(second);
    expect(first.startsWith('{\n  "schemaVersion": 1,\n  "generatedAt"')).toBe(true);
    expect(first.endsWith('}\n')).toBe(true);
  });
});
