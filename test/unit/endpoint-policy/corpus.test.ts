import { describe, expect, it } from 'vitest';
import { analyzeEndpointPolicy } from '../../../shared/src/endpoint-policy';
import {
  CORPUS_ORGANIZATION_ID,
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
    'judges %s',
    (_name, entry) => {
      // Prepare
      const options = { organizationId: CORPUS_ORGANIZATION_ID };
      // Act
      const analysis = analyzeEndpointPolicy(entry.document, options);
      // Assess
      const why = analysis.parseError ?? analysis.statements.flatMap((s) => s.reasons).join('\n');
      expect(analysis.verdict, why).toBe(entry.expected);
    },
  );
});
