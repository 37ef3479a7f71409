import { describe, expect, it } from 'vitest';
import { exemptionExpired } from '../../../shared/src/rules/exemption-expired';
import { contextOf, snapshotWith } from '../../fixtures/network';

function withExemption(value: string | undefined) {
  return contextOf(
    snapshotWith((s) => {
      if (value !== undefined)
        s.vpcs![0]!.tags = { ...s.vpcs![0]!.tags, 'vpc-guard:exempt': value };
    }),
  );
}

describe('exemption-expired', () => {
  it.each([
    ['no exemption tag', undefined, 'NOT_APPLICABLE'],
    ['a current exemption', 'until=2027-01-31; reason=CHG-1 vendor appliance', 'COMPLIANT'],
    ['an exemption that ends today', 'until=2026-11-21; reason=CHG-2', 'COMPLIANT'],
  ])('passes %s', (_name, value, compliance) => {
    // Act
    const result = exemptionExpired.evaluate(withExemption(value));
    // Assess
    expect(result).toMatchObject({ compliance, findings: [] });
  });

  it.each([
    [
      'an exemption that ended yesterday',
      'until=2026-11-20; reason=CHG-3',
      'expired on 2026-11-20',
    ],
    ['a value without until', 'reason=forever', 'missing "until=YYYY-MM-DD"'],
    [
      'an impossible date',
      'until=2027-02-30; reason=x',
      'expected a date YYYY-MM-DD, got "2027-02-30"',
    ],
    ['a value without a reason', 'until=2027-01-31', 'missing "reason=..."'],
    ['an unknown key', 'until=2027-01-31; reason=x; owner=me', 'unknown key "owner"'],
    ['free text', 'yes please', 'expected "key=value"'],
    [
      'an exemption beyond the longest allowed',
      'until=2030-01-01; reason=x',
      'more than 366 days ahead',
    ],
  ])('flags %s', (_name, value, text) => {
    // Act
    const result = exemptionExpired.evaluate(withExemption(value));
    // Assess
    expect(result.compliance).toBe('NON_COMPLIANT');
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]!.message).toContain(text);
    expect(result.findings[0]!.evidence).toMatchObject({ value });
  });
});
