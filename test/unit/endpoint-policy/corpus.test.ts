import { describe, expect, it } from 'vitest';
import { analyzeEndpointPolicy } from '../../../shared/src/endpoint-policy';
import {
  CORPUS_ORGANIZATION_ID,
  CORPUS_REGION,
  ENDPOINT_POLICY_CORPUS,
} from '../../fixtures/endpoint-policies/corpus';

describe('the endpoint policy corpus', () => {
  it('holds at least thirty real-looking policies', () => {
    // Prepare
    const names = new Set(ENDPOINT_POLICY_CORPUS.map((entry) => entry.name));
    // Act
    const count = ENDPOINT_POLICY_CORPUS.length;
    // Assess
    expect(count).toBeGreaterThanOrEqual(30);
    expect(names.size).toBe(count);
  });

  it.each(ENDPOINT_POLICY_CORPUS.map((entry) => [entry.name, entry] as const))(
    'judges %s, statement by statement',
    (_name, entry) => {
      // Prepare
      const options = { organizationId: CORPUS_ORGANIZATION_ID, region: CORPUS_REGION };
      // Act
      const analysis = analyzeEndpointPolicy(entry.document, options);
      // Assess: every verdict of every statement, so a right worst verdict reached for the wrong
      // reason still fails.
      const why = analysis.parseError ?? analysis.statements.flatMap((s) => s.reasons).join('\n');
      expect(
        { verdict: analysis.verdict, statements: analysis.statements.map((s) => s.verdicts) },
        why,
      ).toEqual({ verdict: entry.expected, statements: entry.statements });
    },
  );
});
